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
