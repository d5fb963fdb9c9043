"""A red nightly as a user sees it: `rdoflow run nightly` exits 1 and its one-screen summary names the
failed stage, the regressed tests with the ends of their tracebacks, and what to do next."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rdoflow.lab import config as labconfig
from tests.conftest import fast_knobs

pytestmark = pytest.mark.timeout(900)
LAB_KNOBS = fast_knobs(nodes=3, controllers=1)
RDOFLOW = str(Path(sys.executable).with_name("rdoflow"))


@pytest.fixture(scope="module")
def red_run(module_lab, prefect_server, tmp_path_factory):
    from prefect.settings import PREFECT_API_URL

    knobs = labconfig.load(module_lab.dir)
    knobs.faults.fail_after_upgrade = [r"test_list_servers"]
    labconfig.save(module_lab.dir, knobs)
    reports = tmp_path_factory.mktemp("red-reports")
    env = os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value(), "COLUMNS": "200"}
    return subprocess.run([RDOFLOW, "run", "nightly", "--site", str(Path(module_lab.dir) / "site.yaml"),
                           "--reports", str(reports)], env=env, capture_output=True, text=True, timeout=800)


def test_a_regression_after_the_upgrade_exits_1_naming_the_stage(red_run):
    assert red_run.returncode == 1, red_run.stdout[-3000:] + red_run.stderr[-3000:]
    assert "nightly: FAIL in stage compare" in red_run.stderr


def test_the_summary_shows_the_regressed_tests_with_their_tracebacks_and_the_next_step(red_run):
    screen = red_run.stdout
    assert "Failed stage:" in screen and "upgrade-regression" in screen and "failed in compare" in screen
    assert "regression: tempest.api.compute.servers" in screen and "test_list_servers" in screen
    assert "MismatchError" in screen  # the end of the traceback, not just the test's name
    assert "policy.known_failures" in screen  # what to do next
    assert "comparison.html" in screen
    # What a team opens: the report in the results store, and the suite's trend that names what broke.
    report = screen.split("read the report: ", 1)[1].split()[0]
    assert report.startswith("file:///") and report.endswith("/comparison.html")
    store = report.removeprefix("file://").split("/reports/tempest/", 1)[0]
    assert f"(which drop broke what: file://{store}/reports/tempest/trend.html)" in screen
    assert "test_list_servers" in (Path(store) / "reports" / "tempest" / "trend.md").read_text()
    assert len(screen.split("Failed stage:", 1)[1].splitlines()) < 60  # it fits a screen
