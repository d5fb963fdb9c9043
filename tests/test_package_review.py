"""The built-in static review on real RDO specs and their upstream sdists, and on broken specs.

rpm, rpmbuild, rpmlint and licensecheck are the real tools, run in the real bubblewrap sandbox;
"upstream" is a loopback HTTP server serving the real sdists in place of tarballs.openstack.org.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest

from rdoflow.errors import ConfigError
from rdoflow.tasks.review.model import PackageReview
from rdoflow.tasks.review.packages import review_source
from rdoflow.tasks.review.sources import ReviewSettings, acquire
from tests.loopback_http import serve_directory

FIXTURES = Path(__file__).parent / "fixtures"
SPECS, SDISTS = FIXTURES / "specs", FIXTURES / "sdists"
OFFLINE = ReviewSettings(fetch_sources=False)


@pytest.fixture(scope="module")
def upstream(tmp_path_factory) -> str:
    """The sdists, served by file name (what ReviewSettings.source_mirror points at)."""
    root = tmp_path_factory.mktemp("upstream")
    for sdist in SDISTS.iterdir():
        shutil.copyfile(sdist, root / sdist.name)
    with serve_directory(root) as url:
        yield url


def _distgit(tmp_path: Path, spec: str, *extra: Path, name: str = "python-osc-lib.spec") -> Path:
    distgit = tmp_path / "distgit"
    distgit.mkdir()
    shutil.copyfile(SPECS / spec, distgit / name)
    for path in extra:
        shutil.copyfile(path, distgit / path.name)
    return distgit


def _review(ref: Path | str, tmp_path: Path, settings: ReviewSettings = OFFLINE) -> PackageReview:
    return review_source(acquire(str(ref), tmp_path / "work"), settings)


def _item(review: PackageReview, check: str):
    return next(item for item in review.items if item.check == check)


def _spec(tmp_path: Path, text: str, name: str = "python-broken.spec") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD_HEAD = """Name: python-broken
Version: 1.0
Release: 1%{?dist}
Summary: A spec that tests the review
License: Apache-2.0
URL: https://example.invalid/broken
BuildArch: noarch
"""
GOOD_TAIL = """
%description
Test.

%files

%changelog
* Mon Sep 16 2024 RDO <dev@example.invalid> 1.0-1
- Test
"""


def test_a_real_rdo_distgit_with_its_sdist_passes(tmp_path):
    review = _review(_distgit(tmp_path, "python-osc-lib-3.1.0.spec", SDISTS / "osc-lib-3.1.0.tar.gz"), tmp_path)
    assert (review.verdict, review.nevr, review.error) == ("pass", "python-osc-lib-3.1.0-1.el9", None)
    for check in ("CheckSpecParses", "CheckSpecName", "CheckDistTag", "CheckLicenseTag", "CheckLicensInDoc",
                  "CheckChangelogFormat", "CheckBundledBinaries", "CheckOwnOther", "CheckPythonMacros",
                  "CheckBuildSRPM", "CheckRequiresWellFormed"):
        assert _item(review, check).status == "pass", _item(review, check)
    assert _item(review, "CheckBuildSRPM").evidence == ["python-osc-lib-3.1.0-1.el9.src.rpm"]
    assert _item(review, "CheckSourceMD5").status == "needs_human"  # upstream not fetched offline
    assert _item(review, "CheckBuild").status == "not_applicable"


def test_source0_is_fetched_from_upstream_and_legacy_fields_are_flagged(tmp_path, upstream):
    settings = ReviewSettings(source_mirror=upstream)
    review = _review(SPECS / "python-stevedore-3.5.2.spec", tmp_path, settings)
    source = _item(review, "CheckSourceMD5")
    assert source.status == "pass" and "fetched from upstream for this review" in source.evidence
    assert _item(review, "CheckLicenseTag").evidence == ["License: ASL 2.0", "not SPDX: ASL 2.0"]
    assert _item(review, "CheckPythonMacros").status == "needs_human"  # %py3_build: legacy
    assert "python-setup-install" in {message.id for message in review.lint}
    assert _item(review, "CheckSpecName").status == "fail"  # python-stevedore-3.5.2.spec is not %{name}.spec
    assert review.verdict == "fail"


def test_a_packaged_tarball_that_differs_from_upstream_fails(tmp_path, upstream):
    tampered = tmp_path / "osc-lib-3.1.0.tar.gz"
    with tarfile.open(tampered, "w:gz") as archive:
        archive.add(SPECS / "python-osc-lib-3.1.0.spec", arcname="osc-lib-3.1.0/LICENSE")
    review = _review(_distgit(tmp_path, "python-osc-lib-3.1.0.spec", tampered), tmp_path,
                     ReviewSettings(source_mirror=upstream))
    source = _item(review, "CheckSourceMD5")
    assert source.status == "fail"
    assert "upstream sha256 ef085249a8764b6f29d404eda566a261a3003502aa431b39ffd54307ee103e19" in source.evidence


def test_bundled_binaries_in_the_tarball_fail(tmp_path):
    tarball = tmp_path / "osc-lib-3.1.0.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add("/bin/true", arcname="osc-lib-3.1.0/tools/helper")
        archive.add(SPECS / "python-osc-lib-3.1.0.spec", arcname="osc-lib-3.1.0/vendor/lib.jar")
    review = _review(_distgit(tmp_path, "python-osc-lib-3.1.0.spec", tarball), tmp_path)
    bundled = _item(review, "CheckBundledBinaries")
    assert bundled.status == "fail"
    assert bundled.evidence[:2] == ["osc-lib-3.1.0/tools/helper", "osc-lib-3.1.0/vendor/lib.jar"]


def test_a_dlrn_template_gets_the_tarballs_version_and_no_changelog_check(tmp_path):
    review = _review(_distgit(tmp_path, "python-osc-lib-master-dlrn.spec", SDISTS / "osc-lib-3.1.0.tar.gz"),
                     tmp_path)
    assert review.nevr == "python-osc-lib-3.1.0-0.1.el9"
    assert _item(review, "CheckChangelogFormat").status == "not_applicable"
    assert _item(review, "CheckBuildSRPM").status == "pass"


def test_an_srpm_is_reviewed_from_the_spec_and_sources_inside_it(tmp_path):
    first = _review(_distgit(tmp_path, "python-osc-lib-3.1.0.spec", SDISTS / "osc-lib-3.1.0.tar.gz"), tmp_path)
    srpm = next((tmp_path / "work" / "work" / "SRPMS").glob("*.src.rpm"))
    kept = shutil.copyfile(srpm, tmp_path / srpm.name)
    review = _review(kept, tmp_path / "again")
    assert (review.verdict, review.nevr) == ("pass", first.nevr)
    assert _item(review, "CheckLicensInDoc").status == "pass"


def test_a_spec_without_name_does_not_parse_and_says_why(tmp_path):
    review = _review(_spec(tmp_path, GOOD_HEAD.replace("Name: python-broken\n", "") + GOOD_TAIL), tmp_path)
    assert review.verdict == "fail"
    assert "Name field must be present" in review.error
    assert _item(review, "CheckSpecParses").status == "fail"


def test_an_unterminated_macro_does_not_parse(tmp_path):
    review = _review(_spec(tmp_path, GOOD_HEAD + "Source0: %{unterminated\n" + GOOD_TAIL), tmp_path)
    assert review.verdict == "fail" and review.error.startswith("the spec does not parse")
    assert any("unclosed macro" in line for line in _item(review, "CheckSpecParses").evidence)


def test_a_source0_that_does_not_exist_upstream_fails_the_source_check(tmp_path, upstream):
    spec = _spec(tmp_path, GOOD_HEAD + "Source0: https://example.invalid/broken-1.0.tar.gz\n" + GOOD_TAIL)
    review = _review(spec, tmp_path, ReviewSettings(source_mirror=upstream))
    assert _item(review, "CheckSourceUrl").evidence == [f"Source0: {upstream}/broken-1.0.tar.gz: HTTP 404"]
    assert _item(review, "CheckBuildSRPM").status == "fail"
    assert review.verdict == "fail"


def test_shell_and_lua_in_a_spec_never_run_outside_the_sandbox(tmp_path):
    marker = tmp_path / "executed"
    spec = _spec(tmp_path, GOOD_HEAD.replace("Version: 1.0", f"Version: %(touch {marker}-shell; echo 1.0)")
                 + f"%global hook %{{lua: os.execute('touch {marker}-lua')}}\n%{{hook}}\n" + GOOD_TAIL)
    review = _review(spec, tmp_path)
    assert not list(tmp_path.glob("executed*"))
    code = _item(review, "CheckParseTimeCode")
    assert code.status == "needs_human" and len(code.evidence) == 2


def test_anything_else_is_bad_input_naming_the_path(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ConfigError, match="notes.txt: not a package: expected a .spec file"):
        acquire(str(tmp_path / "notes.txt"), tmp_path / "work")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="exactly one .spec file \\(found: none\\)"):
        acquire(str(tmp_path / "empty"), tmp_path / "work")


def test_a_package_given_by_url_is_downloaded_and_reviewed(tmp_path, upstream):
    served = tmp_path / "served"
    served.mkdir()
    shutil.copyfile(SPECS / "python-osc-lib-3.1.0.spec", served / "python-osc-lib.spec")
    with serve_directory(served) as url:
        review = _review(f"{url}/python-osc-lib.spec", tmp_path, ReviewSettings(source_mirror=upstream))
        with pytest.raises(ConfigError, match=r"/gone.spec: HTTP 404"):
            acquire(f"{url}/gone.spec", tmp_path / "gone")
    assert (review.verdict, review.package) == ("pass", f"{url}/python-osc-lib.spec")
    assert _item(review, "CheckSourceMD5").status == "pass"
