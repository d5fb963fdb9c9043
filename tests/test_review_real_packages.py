"""Real RDO packages as shipped in a stable release (Caracal) pass the static review, with their real upstream
sdists served on loopback: a red review must mean something is wrong with the package.

The distgits are RDO's caracal-rdo branches and the sdists PyPI's (tests/fixtures/SOURCES.md); the three
small sdists are fixtures, the two large ones are downloaded once by pip into rdoflow's cache
(tests/real_sdists.py). The spec's Source0 host is played by a loopback HTTP server (``--source-mirror``);
rpm, rpmlint and licensecheck are the real tools, in the real sandbox. The broken specs that must still
fail are in tests/test_package_review.py.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from rdoflow.tasks.review import static
from rdoflow.tasks.review.checks import SpecFacts, check_python_macros
from rdoflow.tasks.review.model import PackageReview
from rdoflow.tasks.review.run import review_packages, review_source
from rdoflow.tasks.review.sources import ReviewSettings, acquire
from tests.loopback_http import serve_directory
from tests.real_sdists import large_sdists

FIXTURES = Path(__file__).parent / "fixtures"
CARACAL, SDISTS = FIXTURES / "distgit" / "caracal", FIXTURES / "sdists"


@pytest.fixture(scope="module")
def upstream() -> str:
    """The fixtures' sdists, served by file name (what ReviewSettings.source_mirror points at)."""
    with serve_directory(SDISTS) as url:
        yield url


def _review(distgit: Path, tmp_path: Path, mirror: str) -> PackageReview:
    """The distgit as RDO keeps it (spec and its own files, no tarball): Source0 comes from the mirror."""
    return review_source(acquire(str(distgit), tmp_path / "work"), ReviewSettings(source_mirror=mirror))


def _item(review: PackageReview, check: str):
    return next(item for item in review.items if item.check == check)


def _copy(package: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(CARACAL / package, tmp_path / package))


def _assert_clean_pass(review: PackageReview, tarball: str) -> None:
    assert (review.verdict, review.error, review.lint_errors()) == ("pass", None, [])
    for check in ("CheckSpecParses", "CheckBuildSRPM", "CheckRpmlint", "CheckSourceMD5", "CheckLicensInDoc",
                  "CheckBundledBinaries", "CheckPythonMacros", "CheckLicenseTag", "CheckChangelogFormat"):
        assert _item(review, check).status == "pass", _item(review, check)
    # The checks read the served tarball (no "no Source0 tarball"), and compared it with upstream's.
    assert _item(review, "CheckBundledBinaries").evidence[-1].endswith(f" entries in {tarball}")
    assert _item(review, "CheckLicensInDoc").evidence[0] == f"license files in {tarball}: LICENSE"
    assert "fetched from upstream for this review" in _item(review, "CheckSourceMD5").evidence


SHIPPED = {"python-cliff": "cliff-4.6.0.tar.gz", "python-osc-lib": "osc-lib-3.0.1.tar.gz",
           "python-ironicclient": "python-ironicclient-5.5.0.tar.gz"}


@pytest.fixture(scope="module")
def shipped(upstream) -> dict[str, PackageReview]:
    """The three small packages, reviewed once for the module as ``rdoflow review`` does (two at a time)."""
    settings = ReviewSettings(source_mirror=upstream)
    reviews = review_packages([str(CARACAL / package) for package in SHIPPED], settings)
    return dict(zip(SHIPPED, reviews))


@pytest.mark.parametrize("package", list(SHIPPED))
def test_a_shipped_package_passes_with_its_upstream_sdist_served(package, shipped):
    _assert_clean_pass(shipped[package], SHIPPED[package])


def test_jargon_in_a_description_is_no_spelling_error(shipped):
    """python-cliff's %description says "setuptools", "subcommands", "formatters" and "readthedocs": words
    enchant's en_US dictionary lacks, which rpmlint's default configuration reports as errors."""
    review = shipped["python-cliff"]
    assert [m.render() for m in review.lint if m.id == "spelling-error"] == []
    assert re.search(r"; 0 errors, 1 warnings, [1-9]\d* filtered", _item(review, "CheckRpmlint").evidence[0])


def test_a_real_typo_is_a_warning_for_the_reviewer_not_a_red_review(tmp_path, upstream):
    distgit = _copy("python-cliff", tmp_path)
    spec = distgit / "python-cliff.spec"
    spec.write_text(spec.read_text().replace("%description\n", "%description\nA confg helpr for subcommands.\n", 1))
    review = _review(distgit, tmp_path, upstream)
    spelling = {m.details.split("'")[1]: m.level for m in review.lint if m.id == "spelling-error"}
    assert spelling == {"confg": "W", "helpr": "W"}
    assert review.verdict == "pass"


def test_an_rpmlint_that_cannot_read_its_configuration_makes_the_review_red(tmp_path, monkeypatch):
    """rpmlint exits 4 and prints no finding when its configuration does not load: that is no clean package."""
    broken = tmp_path / "rpmlint"
    broken.mkdir()
    (broken / "rdo.toml").write_text("Filters = [\n")
    monkeypatch.setattr(static, "RPMLINT_CONFIG", broken)
    spec = tmp_path / "python-plain.spec"
    spec.write_text("Name: python-plain\nVersion: 1.0\nRelease: 1%{?dist}\nSummary: Plain\nLicense: MIT\n"
                    "URL: https://example.invalid/plain\nBuildArch: noarch\n%description\nPlain.\n%files\n"
                    "%changelog\n* Mon Sep 16 2024 RDO <dev@example.invalid> 1.0-1\n- Plain\n")
    review = review_source(acquire(str(spec), tmp_path / "work"), ReviewSettings(fetch_sources=False))
    ran = _item(review, "CheckRpmlint")
    assert (review.verdict, ran.status, ran.evidence[0]) == (
        "fail", "error", "rpmlint exited 4 without checking the package")
    assert any("fatal error while parsing configuration file" in line for line in ran.evidence)


def test_source0_is_found_among_many_sources(tmp_path):
    """rpm lists a spec's Sources last declared first; Source0 must still be the tarball the checks read."""
    distgit = tmp_path / "distgit"
    distgit.mkdir()
    spec = (FIXTURES / "specs" / "python-osc-lib-3.1.0.spec").read_text()
    spec = spec.replace("\nBuildArch:", "\nSource1: osc-lib.conf\nSource2: osc-lib.service\nBuildArch:", 1)
    (distgit / "python-osc-lib.spec").write_text(spec)
    (distgit / "osc-lib.conf").write_text("[DEFAULT]\n")
    (distgit / "osc-lib.service").write_text("[Unit]\n")
    shutil.copyfile(SDISTS / "osc-lib-3.1.0.tar.gz", distgit / "osc-lib-3.1.0.tar.gz")
    review = review_source(acquire(str(distgit), tmp_path / "work"), ReviewSettings(fetch_sources=False))
    assert _item(review, "CheckBundledBinaries").evidence[-1].endswith(" entries in osc-lib-3.1.0.tar.gz")
    assert _item(review, "CheckLicensInDoc").status == "pass"
    assert _item(review, "CheckSourceMD5").evidence[0] == "upstream not fetched (no URL, or fetching disabled)"


def _facts(name: str, build_requires: list[str], build: str = "", files: list[str] = ()) -> SpecFacts:
    return SpecFacts(data={"name": name, "build_requires": build_requires, "sections": {"build": build},
                           "packages": [{"name": name, "files": list(files)}]}, text="")


def test_a_python_service_without_the_python_prefix_is_a_python_package():
    ironic = check_python_macros(_facts("openstack-ironic", ["python3-devel", "systemd"], "%pyproject_wheel\n"))
    assert (ironic.status, ironic.evidence[1]) == ("pass", "BuildRequires: python3-devel")
    legacy = check_python_macros(_facts("openstack-foo", ["systemd"], "%{py3_build}\n"))
    assert (legacy.status, legacy.evidence[1]) == ("needs_human", "%py3_build in %build/%install")
    shipped = check_python_macros(_facts("foo", [], "make\n", ["/usr/lib/python3.9/site-packages/foo"]))
    assert (shipped.status, shipped.evidence[1:]) == ("fail", ["%files: /usr/lib/python3.9/site-packages/foo"])
    plain = check_python_macros(_facts("rdo-release", ["systemd"], "make\n", ["/etc/yum.repos.d/rdo.repo"]))
    assert plain.status == "not_applicable"


@pytest.fixture(scope="module")
def large_upstream() -> str:
    with serve_directory(large_sdists()) as url:
        yield url


@pytest.mark.slow  # licensecheck reads ironic's 2,500 files: about 25 s of CPU, a minute on a busy machine
@pytest.mark.timeout(600)
def test_openstack_ironic_is_reviewed_as_a_python_package_from_its_served_tarball(tmp_path, large_upstream):
    """openstack-ironic: Python without the python- prefix, eight Sources beside the tarball, and
    ``BuildRequires: libxml2-devel``, which rpmlint's openSUSE naming check calls invalid."""
    review = _review(CARACAL / "openstack-ironic", tmp_path, large_upstream)
    _assert_clean_pass(review, "ironic-24.1.0.tar.gz")
    assert _item(review, "CheckPythonMacros").evidence[:3] == [
        "%pyproject_wheel / %pyproject_install", "BuildRequires: pyproject-rpm-macros", "BuildRequires: python3-devel"]
    assert "upstream sha256 d302f81f1e3b87ea9eb3b936a79a066226799004ed915b3054feab23655f5801" in _item(
        review, "CheckSourceMD5").evidence
    assert review.nevr == "openstack-ironic-1:24.1.0-1.el9"


@pytest.mark.slow  # its sdist is downloaded once (tests/real_sdists.py)
def test_python_stevedore_passes_with_its_upstream_sdist_served(tmp_path, large_upstream):
    _assert_clean_pass(_review(CARACAL / "python-stevedore", tmp_path, large_upstream), "stevedore-5.2.0.tar.gz")
