"""The package_review flow on the Prefect test server, and ``rdoflow review`` as a user runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import task_runs_of

FIXTURES = Path(__file__).parent / "fixtures"
RDOFLOW = str(Path(sys.executable).with_name("rdoflow"))


def _distgit(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "specs" / "python-osc-lib-3.1.0.spec", root / "python-osc-lib.spec")
    shutil.copyfile(FIXTURES / "sdists" / "osc-lib-3.1.0.tar.gz", root / "osc-lib-3.1.0.tar.gz")
    return root


def _reviews_of(state) -> list:
    return [run for run in task_runs_of(state.state_details.flow_run_id) if run.name.startswith("review ")]


def test_an_unchanged_package_is_not_reviewed_twice(prefect_server, tmp_path):
    from prefect.artifacts import Artifact

    from rdoflow.flows.package_review import package_review
    from rdoflow.tasks.review.sources import ReviewSettings

    distgit, settings = _distgit(tmp_path / "osc-lib"), ReviewSettings(fetch_sources=False)
    first = package_review([str(distgit)], settings, tmp_path / "first", return_state=True)
    second = package_review([str(distgit)], settings, tmp_path / "second", return_state=True)
    assert [run.state.name for run in _reviews_of(first)] == ["Completed"]
    assert [run.state.name for run in _reviews_of(second)] == ["Cached"]
    assert second.result()[0].nevr == "python-osc-lib-3.1.0-1.el9"
    (distgit / "python-osc-lib.spec").write_text((distgit / "python-osc-lib.spec").read_text() + "\n")
    third = package_review([str(distgit)], settings, tmp_path / "third", return_state=True)
    assert [run.state.name for run in _reviews_of(third)] == ["Completed"]  # the spec changed
    table = Artifact.get("package-review")
    assert table.type == "table" and "python-osc-lib-3.1.0-1.el9" in table.data
    assert Artifact.get("package-review-python-osc-lib").data.startswith(
        "# Package review: python-osc-lib-3.1.0-1.el9: PASS")
    assert (tmp_path / "first" / "package-review-python-osc-lib.md").exists()


def test_packages_are_reviewed_concurrently_and_one_red_package_fails_the_flow(prefect_server, tmp_path):
    from rdoflow.flows.package_review import package_review
    from rdoflow.tasks.review.run import ReviewFailed
    from rdoflow.tasks.review.sources import ReviewSettings

    bad = tmp_path / "python-nameless.spec"
    bad.write_text("Version: 1\nRelease: 1\nSummary: x\nLicense: MIT\n%description\nx\n")
    state = package_review([str(_distgit(tmp_path / "osc-lib")), str(bad)], ReviewSettings(fetch_sources=False),
                           tmp_path / "reports", return_state=True)
    assert state.is_failed()
    with pytest.raises(ReviewFailed) as caught:
        state.result()
    assert caught.value.message == "1 of 2 package(s) failed review"
    assert caught.value.evidence[0].startswith(f"{bad}: the spec does not parse")
    summary = (tmp_path / "reports" / "package-review.md").read_text()
    assert "| python-osc-lib-3.1.0-1.el9 |" in summary and "| fail |" in summary


def _review_cli(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    from prefect.settings import PREFECT_API_URL

    env = (env or os.environ) | {"PREFECT_API_URL": PREFECT_API_URL.value(), "PREFECT_LOGGING_LEVEL": "ERROR"}
    return subprocess.run([RDOFLOW, "review", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_review_cli_exits_0_for_a_good_package_and_prints_the_table(prefect_server, tmp_path):
    done = _review_cli(str(_distgit(tmp_path / "osc-lib")), "--no-fetch", "--reports", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    assert "| python-osc-lib-3.1.0-1.el9 | 23 | 0 |" in done.stdout.replace(f"{tmp_path}/osc-lib ", "")


def test_review_cli_exits_1_when_a_package_fails(prefect_server, tmp_path):
    done = _review_cli(str(FIXTURES / "specs" / "python-stevedore-3.5.2.spec"), "--no-fetch",
                       "--reports", str(tmp_path))
    assert done.returncode == 1
    assert "error[package-review-failed]: 1 of 1 package(s) failed review" in done.stderr
    assert "CheckLicenseTag: License: ASL 2.0" in done.stderr


def test_review_cli_exits_2_naming_each_bad_path(prefect_server, tmp_path):
    (tmp_path / "README").write_text("not a package")
    done = _review_cli("missing.spec", "README", cwd=tmp_path)
    assert (done.returncode, done.stderr.splitlines()) == (2, [
        "missing.spec: no such file or directory; expected a .spec file, a .src.rpm or a distgit directory",
        "README: not a package: expected a .spec file, a .src.rpm or a distgit directory"])


def test_review_cli_names_a_missing_tool_and_its_package(prefect_server, tmp_path):
    env = os.environ | {"PATH": str(Path(sys.executable).parent)}  # the venv only: no rpm tools, no bwrap
    done = _review_cli(str(_distgit(tmp_path / "osc-lib")), env=env)
    assert done.returncode == 3
    assert done.stderr.startswith("error[review-tool-missing]: the package review needs bwrap, rpmbuild, rpmspec")
    assert "  | bwrap: package bubblewrap" in done.stderr
