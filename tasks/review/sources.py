"""A package to review, as given (a path or an http(s) URL), copied into a directory of its own; and the
review's settings, which with the package's sha256 make the review's cache key."""

from __future__ import annotations

import hashlib
import ipaddress
import shutil
import socket
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

import httpx
from pydantic import BaseModel, Field, field_validator

from rdoflow.config.ssh import SSHTarget
from rdoflow.errors import ConfigError

REVIEW_DATA = Path(__file__).resolve().parent / "data"
MACROS = REVIEW_DATA / "macros.rdo"
RPMLINT_CONFIG = REVIEW_DATA / "rpmlint"
# The modules whose code decides a static review's outcome: part of its cache key.
STATIC_REVIEW_CODE = ("checks.py", "model.py", "static.py", "specfacts.py")
Kind = Literal["spec", "srpm", "distgit"]
MAX_SOURCE_BYTES = 512 << 20
MAX_REDIRECTS = 5
# What an address is that a spec's Source may not reach, in the order a refusal names it.
NON_PUBLIC = ("loopback", "link_local", "unspecified", "multicast", "private", "reserved")


class ReviewSettings(BaseModel):
    """How packages are reviewed; part of the cache key."""

    backend: Literal["static", "fedora-review"] = Field(
        "static", description="'static': the built-in review on this machine; 'fedora-review': a review host.")
    source_mirror: str | None = Field(
        None, description="Fetch each Source by its file name from this base URL instead of the spec's URL.")
    allow_hosts: list[str] = Field(
        default_factory=list, description="Hosts a Source may be fetched from although they resolve to a loopback, "
                                          "private or link-local address (a lab mirror, a local test server).")
    max_source_bytes: int = Field(MAX_SOURCE_BYTES, gt=0, description="A Source larger than this is refused.")
    fetch_sources: bool = Field(True, description="Download Sources not given beside the spec, and the upstream "
                                                  "tarball to compare Source0 with.")
    upstream_version: str | None = Field(
        None, description="Version to put in a DLRN template spec (Version: XXX); default: from the tarball given.")
    mock_config: str = Field("centos-stream-9-x86_64", description="fedora-review backend: the mock config.")
    fedora_review_command: str = Field("fedora-review", description="fedora-review backend: the command's "
                                                                    "name or path on the review host.")
    review_host: SSHTarget | None = Field(
        None, description="fedora-review backend: the SSH review host; empty runs fedora-review on this machine.")
    review_workdir: str = Field("rdoflow-review", description="fedora-review backend: directory on the review "
                                                              "host (relative to the login's home) for the SRPMs.")
    timeout: float = Field(1800, gt=0, description="Seconds one package's review may take (fedora-review builds).")
    fetch_timeout: float = Field(60, gt=0, description="Seconds a source download may stall.")

    @field_validator("source_mirror")
    @classmethod
    def _mirror_is_http(cls, value: str | None) -> str | None:
        if value is not None and not is_url(value):
            raise ValueError(f"{value}: a source mirror is an http(s) URL")
        return value

    def fingerprint(self) -> str:
        """sha256 of the settings and of the files that decide a static review's outcome."""
        from importlib.metadata import version

        digest = hashlib.sha256(self.model_dump_json().encode())
        for path in sorted([MACROS, *RPMLINT_CONFIG.glob("*.toml"),
                           *(Path(__file__).parent / name for name in STATIC_REVIEW_CODE)]):
            digest.update(path.read_bytes())
        digest.update(version("rpmlint").encode())
        return digest.hexdigest()


class PackageSource(BaseModel):
    """A package as given, copied into a directory of its own."""

    ref: str = Field(description="The path or URL as the user gave it.")
    kind: Kind
    path: Path = Field(description="The local copy: the .spec, the .src.rpm or the distgit directory.")
    sha256: str


class SourceFetchFailed(ConfigError):
    """A package, or one of its Sources, could not be downloaded."""

    reference = "source-fetch-failed"


def is_url(ref: str) -> bool:
    return urlparse(ref).scheme in ("http", "https")


def package_kind(path: Path, ref: str) -> Kind:
    if path.is_dir():
        specs = sorted(path.glob("*.spec"))
        if len(specs) != 1:
            found = ", ".join(spec.name for spec in specs) or "none"
            raise ConfigError(ref, [f"{ref}: a distgit directory must hold exactly one .spec file (found: {found})"])
        return "distgit"
    if path.name.endswith(".src.rpm"):
        return "srpm"
    if path.suffix == ".spec":
        return "spec"
    raise ConfigError(ref, [f"{ref}: not a package: expected a .spec file, a .src.rpm or a distgit directory"])


def content_sha256(path: Path) -> str:
    """sha256 of a file, or of a directory's files (relative names and contents, .git left out)."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and ".git" not in p.parts)
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode() + b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()


class _Refused(Exception):
    """Why a URL may not be fetched for a review (the message)."""


def refusal(url: str, allow_hosts: Sequence[str], mirror: str | None = None) -> str | None:
    """Why ``url`` may not be fetched for a review, or None: only http(s), not through a proxy, and only
    public addresses unless the host is allowed or the URL is under the mirror the user named."""
    try:
        _checked_address(url, allow_hosts, mirror)
    except _Refused as exc:
        return str(exc)
    except socket.gaierror:
        return None  # not refused: the download fails, saying the name does not resolve
    return None


def _proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url`` (http_proxy, https_proxy, all_proxy; no_proxy heeded)."""
    parsed = urlparse(url)
    proxies = urllib.request.getproxies_environment()
    if not proxies or urllib.request.proxy_bypass_environment(parsed.hostname or "", proxies):
        return None
    return proxies.get(parsed.scheme) or proxies.get("all")


def _checked_address(url: str, allow_hosts: Sequence[str], mirror: str | None) -> str | None:
    """The address to connect to for ``url``, checked once (a later lookup of the name is never made, so a
    rebinding DNS server cannot move the download elsewhere); None when the user trusts the URL as given
    (under the mirror, or an allowed host). Raises _Refused, or socket.gaierror for a name that does not
    resolve.

    A proxy from the environment is refused for a checked URL: the proxy would resolve the name again, and
    may reach addresses this machine cannot, so the check would not hold for where it connects."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https"):
        raise _Refused(f"{parsed.scheme or 'schemeless'}:// URLs are not fetched, only http and https")
    host = parsed.hostname or ""
    if (mirror and url.startswith(mirror.rstrip("/") + "/")) or host.lower() in {h.lower() for h in allow_hosts}:
        return None
    if _proxy_for(url):
        raise _Refused(f"a proxy is set for {parsed.scheme} ({parsed.scheme}_proxy in the environment), and the "
                       f"proxy would resolve {host} itself, unchecked; use --source-mirror, allow the host with "
                       f"--allow-host {host}, or name it in no_proxy")
    try:
        found = socket.getaddrinfo(host, parsed.port or (443 if parsed.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except UnicodeError as exc:
        raise socket.gaierror(str(exc)) from exc
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        ip = getattr(ip, "ipv4_mapped", None) or ip
        kind = next((kind for kind in NON_PUBLIC if getattr(ip, f"is_{kind}")), None)
        if kind is None and not ip.is_global:
            kind = "non-public"
        if kind is not None:
            kind = kind.replace("_", "-")
            what = f"{host} is" if host == address else f"{host} resolves to {address},"
            raise _Refused(f"{what} {'an' if kind[0] in 'aeiou' else 'a'} {kind} address "
                           f"(allow it with --allow-host {host})")
    return addresses[0]


def _pinned_request(url: str, address: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """``url`` sent to ``address``: (the URL with the address for its host, the Host header, the TLS name),
    so that the connection goes where the check looked and TLS still verifies the name."""
    parsed = httpx.URL(url)
    return str(parsed.copy_with(host=address)), {"Host": parsed.netloc.decode("ascii")}, {"sni_hostname": parsed.host}


def download(url: str, destination: Path, *, timeout: float, allow_hosts: Sequence[str] = (),
             mirror: str | None = None, max_bytes: int = MAX_SOURCE_BYTES) -> Path:
    """GET ``url`` into ``destination`` (streamed), each redirect followed only if ``refusal`` allows it, and
    sent to the address that was checked; SourceFetchFailed names the URL and the reason (a refusal, an
    HTTP status, a network error).

    A URL the user trusts (under the mirror, or an allowed host) is fetched as the environment says,
    through its proxy if one is set; any other goes straight to the checked address."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    current = url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            hop = "" if current == url else f"redirected to {current}: "
            try:
                address = _checked_address(current, allow_hosts, mirror)
            except _Refused as exc:
                raise SourceFetchFailed(url, [f"{url}: {hop}refused: {exc}"]) from None
            except socket.gaierror as exc:
                raise SourceFetchFailed(url, [f"{url}: {hop}{urlparse(current).hostname} does not resolve: "
                                              f"{exc}"]) from None
            target, headers, extensions = current, {}, {}
            if address is not None:
                target, headers, extensions = _pinned_request(current, address)
            # A checked URL: a transport of its own, so the environment's proxy is not used.
            transport = None if address is None else httpx.HTTPTransport()
            with httpx.Client(timeout=timeout, follow_redirects=False, transport=transport) as client:
                with client.stream("GET", target, headers=headers, extensions=extensions) as response:
                    if response.is_redirect:
                        current = str(httpx.URL(current).join(response.headers["location"]))
                        continue
                    response.raise_for_status()
                    _save(response, destination, max_bytes, url)
                    return destination
    except httpx.HTTPStatusError as exc:
        raise SourceFetchFailed(url, [f"{url}: HTTP {exc.response.status_code}"]) from exc
    except httpx.HTTPError as exc:
        raise SourceFetchFailed(url, [f"{url}: {type(exc).__name__}: {exc}"]) from exc
    raise SourceFetchFailed(url, [f"{url}: refused: more than {MAX_REDIRECTS} redirects"])


def _save(response: httpx.Response, destination: Path, max_bytes: int, url: str) -> None:
    """The body into ``destination``, stopped (and the file removed) once it passes ``max_bytes``."""
    too_big = SourceFetchFailed(url, [f"{url}: refused: larger than {max_bytes} bytes (the review's "
                                      "max_source_bytes)"])
    if int(response.headers.get("content-length") or 0) > max_bytes:
        raise too_big
    written = 0
    with destination.open("wb") as out:
        for chunk in response.iter_bytes():
            written += len(chunk)
            if written > max_bytes:
                break
            out.write(chunk)
    if written > max_bytes:
        destination.unlink()
        raise too_big


def acquire(ref: str, workroot: Path, *, timeout: float = 60, allow_hosts: Sequence[str] = ()) -> PackageSource:
    """Copy (or download) the package ``ref`` into ``workroot``; ConfigError for anything not a package.

    A package URL's own host is one the user named; a redirect elsewhere is checked like a Source's."""
    workroot.mkdir(parents=True, exist_ok=True)
    if is_url(ref):
        name = Path(urlparse(ref).path).name
        if not name.endswith((".spec", ".src.rpm")):
            raise ConfigError(ref, [f"{ref}: a package URL must end in .spec or .src.rpm"])
        local = download(ref, workroot / "given" / name, timeout=timeout,
                         allow_hosts=[*allow_hosts, urlparse(ref).hostname or ""])
    else:
        given = Path(ref).expanduser()
        if not given.exists():
            raise ConfigError(ref, [f"{ref}: no such file or directory; expected a .spec file, a .src.rpm "
                                    "or a distgit directory"])
        package_kind(given, ref)
        local = workroot / "given" / given.name
        if given.is_dir():
            shutil.copytree(given, local, ignore=shutil.ignore_patterns(".git"), dirs_exist_ok=True)
        else:
            local.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(given, local)
    return PackageSource(ref=ref, kind=package_kind(local, ref), path=local, sha256=content_sha256(local))
