"""A spec's Sources are fetched only from the public internet, a named mirror or hosts the user allows.

A spec's author chooses its Source URLs: pointed at the review host's loopback (Prefect's API with its
secrets), its cloud metadata or a file, the download would carry what it reads into the report.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from rdoflow.tasks.review.packages import review_source
from rdoflow.tasks.review.sources import (
    ReviewSettings,
    SourceFetchFailed,
    acquire,
    download,
    refusal,
)
from tests.loopback_http import redirecting, serve_directory

FIXTURES = Path(__file__).parent / "fixtures"
SDIST = FIXTURES / "sdists" / "osc-lib-3.1.0.tar.gz"
SPEC = (FIXTURES / "specs" / "python-osc-lib-3.1.0.spec").read_text()


@pytest.fixture(scope="module")
def upstream(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("upstream")
    shutil.copyfile(SDIST, root / SDIST.name)
    with serve_directory(root) as url:
        yield url


def _source_check(tmp_path: Path, source0: str, settings: ReviewSettings):
    spec = tmp_path / "python-osc-lib.spec"
    spec.write_text(re.sub(r"^Source0:.*$", f"Source0: {source0}", SPEC, count=1, flags=re.MULTILINE))
    review = review_source(acquire(str(spec), tmp_path / "work"), settings)
    return next(item for item in review.items if item.check == "CheckSourceUrl"), review


def test_a_source_on_loopback_is_refused_by_default_with_its_reason(tmp_path, upstream):
    source, review = _source_check(tmp_path, f"{upstream}/osc-lib-3.1.0.tar.gz", ReviewSettings())
    assert source.status == "fail" and review.verdict == "fail"
    assert source.evidence == [f"Source0: {upstream}/osc-lib-3.1.0.tar.gz: refused: 127.0.0.1 is a loopback "
                               "address (allow it with --allow-host 127.0.0.1)"]


def test_a_source_on_an_allowed_host_is_fetched(tmp_path, upstream):
    source, _ = _source_check(tmp_path, f"{upstream}/osc-lib-3.1.0.tar.gz", ReviewSettings(allow_hosts=["127.0.0.1"]))
    assert source.status == "pass", source
    assert (tmp_path / "work" / "work" / "SOURCES" / SDIST.name).read_bytes() == SDIST.read_bytes()


def test_a_file_url_is_refused(tmp_path):
    source, _ = _source_check(tmp_path, "file:///etc/osc-lib-3.1.0.tar.gz",
                              ReviewSettings(allow_hosts=["localhost", ""]))
    assert source.status == "fail"
    assert source.evidence == ["Source0: file:///etc/osc-lib-3.1.0.tar.gz: refused: file:// URLs are not fetched, "
                               "only http and https"]


def test_a_redirect_from_an_allowed_host_to_loopback_is_refused(tmp_path, upstream):
    port = upstream.rsplit(":", 1)[1]
    refused = r"redirected to http://localhost:\d+/osc-lib-3.1.0.tar.gz: refused: localhost resolves to (127.0.0.1|::1)"
    with redirecting(f"http://localhost:{port}") as url, pytest.raises(SourceFetchFailed, match=refused):
        download(f"{url}/{SDIST.name}", tmp_path / "got", timeout=5, allow_hosts=["127.0.0.1"])
    assert not (tmp_path / "got").exists()


def test_a_body_over_the_size_limit_is_cut_and_refused(tmp_path, upstream):
    with pytest.raises(SourceFetchFailed, match=r"refused: larger than 1000 bytes"):
        download(f"{upstream}/{SDIST.name}", tmp_path / "got", timeout=5, allow_hosts=["127.0.0.1"], max_bytes=1000)
    assert not (tmp_path / "got").exists()


@pytest.mark.parametrize(("url", "reason"), [
    ("http://10.1.2.3/x.tar.gz", "10.1.2.3 is a private address"),
    ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"),
    ("http://[::1]:4200/api", "::1 is a loopback address"),
    ("http://224.0.0.1/x", "224.0.0.1 is a multicast address"),
    ("http://0.0.0.0:4200/api", "0.0.0.0 is an unspecified address"),
    ("ftp://example.org/x.tar.gz", "ftp:// URLs are not fetched, only http and https"),
])
def test_non_public_addresses_and_other_schemes_are_refused(url, reason):
    assert refusal(url, allow_hosts=()).startswith(reason)


def test_a_source_mirror_the_user_names_is_allowed(upstream):
    assert refusal(f"{upstream}/x.tar.gz", allow_hosts=(), mirror=upstream) is None
    assert refusal("http://127.0.0.1:1/elsewhere", allow_hosts=(), mirror=f"{upstream}/mirror/") is not None


@pytest.fixture
def secret_server(tmp_path):
    """A loopback server holding a secret a Source must not reach: (its port, the secret)."""
    root = tmp_path / "secret-root"
    root.mkdir()
    (root / "x.tar.gz").write_text("SECRET-BEHIND-LOOPBACK")
    with serve_directory(root) as url:
        yield int(url.rsplit(":", 1)[1]), "SECRET-BEHIND-LOOPBACK"


def test_dns_rebinding_cannot_move_a_checked_source_to_loopback(tmp_path, monkeypatch, secret_server):
    """The name resolves to a public address when checked, then to 127.0.0.1 (a rebinding DNS server):
    the download connects to the address that was checked, and never resolves the name again. Stand-in: the
    resolver and the connect are replaced, because no rebinding DNS server, and no public address serving
    the secret, can exist on this machine; the HTTP server the connection reaches is real."""
    import socket

    port, secret = secret_server
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection
    lookups, connects = [], []

    def rebinding(host, *args, **kwargs):
        if host == "rebind.example":
            lookups.append(host)
            address = "1.1.1.1" if len(lookups) == 1 else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(address, *args, **kwargs):
        connects.append(address[0])
        if address[0] == "1.1.1.1":  # the public address: not reachable from the test, refused at once
            raise ConnectionRefusedError(111, "Connection refused (test)")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(socket, "create_connection", connect)
    with pytest.raises(SourceFetchFailed, match=r"http://rebind.example:\d+/x.tar.gz: ConnectError"):
        download(f"http://rebind.example:{port}/x.tar.gz", tmp_path / "got", timeout=5)
    assert not (tmp_path / "got").exists()
    assert lookups == ["rebind.example"] and connects == ["1.1.1.1"]


@pytest.fixture
def proxy(monkeypatch):
    """An HTTP proxy named by the environment (http_proxy, https_proxy) that answers every request itself with
    a secret, as a proxy that reaches internal hosts would: yields the request lines it got."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.loopback_http import _serving

    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802  (the stdlib's name)
            seen.append(self.requestline)
            body = b"SECRET-THROUGH-THE-PROXY"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_CONNECT = do_GET  # noqa: N815

    with _serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                     "no_proxy", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("http_proxy", url)
        monkeypatch.setenv("https_proxy", url)
        yield seen


@pytest.mark.parametrize("url", ["http://internal-only.invalid/x.tar.gz", "https://example.org/x.tar.gz"])
def test_a_checked_source_is_not_handed_to_the_environments_proxy(tmp_path, proxy, url):
    """A proxy resolves the name again, and may reach addresses this machine cannot (a name that does not
    resolve here at all): the guard cannot make it connect to the address it checked, so it refuses."""
    with pytest.raises(SourceFetchFailed, match=r"refused: a proxy is set for http"):
        download(url, tmp_path / "got", timeout=5)
    assert proxy == [] and not (tmp_path / "got").exists()
    assert refusal(url, allow_hosts=()).startswith("a proxy is set for http")


def test_a_mirror_or_an_allowed_host_is_fetched_through_the_proxy(tmp_path, proxy):
    download("http://mirror.invalid/sources/x.tar.gz", tmp_path / "got", timeout=5, mirror="http://mirror.invalid/")
    download("http://lab.invalid/x.tar.gz", tmp_path / "got2", timeout=5, allow_hosts=["lab.invalid"])
    assert proxy == ["GET http://mirror.invalid/sources/x.tar.gz HTTP/1.1", "GET http://lab.invalid/x.tar.gz HTTP/1.1"]


def test_no_proxy_sends_a_source_direct_and_checked(tmp_path, proxy, secret_server, monkeypatch):
    port, _ = secret_server
    monkeypatch.setenv("no_proxy", "localhost,127.0.0.1")
    with pytest.raises(SourceFetchFailed, match="refused: 127.0.0.1 is a loopback address"):
        download(f"http://127.0.0.1:{port}/x.tar.gz", tmp_path / "got", timeout=5)
    download(f"http://127.0.0.1:{port}/x.tar.gz", tmp_path / "got", timeout=5, allow_hosts=["127.0.0.1"])
    assert proxy == [] and (tmp_path / "got").read_text() == "SECRET-BEHIND-LOOPBACK"


def test_a_checked_https_source_is_fetched_from_the_checked_address_with_its_name_verified(tmp_path, monkeypatch):
    """The connection goes to the checked address, and TLS still sends and verifies the name (SNI, the
    certificate, the Host header): here the checked 'public' address is routed to a local HTTPS server whose
    certificate names tls.example, trusted through SSL_CERT_FILE."""
    import socket
    import ssl
    import subprocess
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.loopback_http import _serving

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=tls.example",
                    "-addext", "subjectAltName=DNS:tls.example", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    seen: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802  (the stdlib's name)
            seen["host"], seen["path"] = self.headers["Host"], self.path
            body = b"the tarball"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: seen.__setitem__("sni", name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection

    def resolve(host, *args, **kwargs):
        if host == "tls.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("1.1.1.1", port))]
        return real_getaddrinfo(host, *args, **kwargs)

    def route(address, *args, **kwargs):  # the network between: the checked address reaches the test's server
        seen["connected"] = address[0]
        return real_connect(("127.0.0.1", address[1]) if address[0] == "1.1.1.1" else address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(socket, "create_connection", route)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with _serving(server):
        download(f"https://tls.example:{port}/x.tar.gz", tmp_path / "got", timeout=10)
    assert (tmp_path / "got").read_text() == "the tarball"
    assert seen == {"connected": "1.1.1.1", "sni": "tls.example", "host": f"tls.example:{port}", "path": "/x.tar.gz"}
