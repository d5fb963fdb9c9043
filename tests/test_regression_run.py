"""The regression-run stage against the lab: stestr and the script suite on its host, results in the store."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from rdoflow.config.site import SiteConfig, load_site
from rdoflow.errors import ConfigError, RemoteCommandFailed, StageTimeout
from rdoflow.flows.regression_run import regression_run
from rdoflow.lab import config as labconfig
from rdoflow.lab.tripleo.hoststate import host_state
from rdoflow.outcome import CommandResult
from rdoflow.tasks.regression.stage import stored_run
from rdoflow.tasks.regression.suites import NothingRan, SuiteCrashed, check_one_stream
from rdoflow.tasks.results.runs import compare_stored
from rdoflow.tasks.results.store import ResultsStore
from tests.conftest import (
    artifact_of,
    fast_knobs,
    logs_of,
    remote_processes,
    task_runs_of,
)

API_ONLY = [r"^tempest\.api\."]  # the generated tests; the lab's real checks need an installed undercloud


def _knobs():
    knobs = fast_knobs(nodes=2, controllers=1)
    knobs.suite = labconfig.Suite(tempest="generated", generated=60, failing=3, skipped=4, scripts=12,
                                  failing_scripts=2, skipped_scripts=3, hanging_scripts=1)
    return knobs


LAB_KNOBS = _knobs()


@pytest.fixture
def site(module_lab) -> SiteConfig:
    return load_site(Path(module_lab.dir) / "site.yaml")


@pytest.fixture
def knobs(module_lab):
    """The module lab's knobs, for a test to change; put back when it ends."""
    before = labconfig.load(module_lab.dir)
    yield before.model_copy(deep=True)
    labconfig.save(module_lab.dir, before)


def with_suite(site: SiteConfig, **regression) -> SiteConfig:
    return site.model_copy(update={"regression": site.regression.model_copy(update=regression)})


def stored_statuses(site: SiteConfig, run) -> dict[str, str]:
    table = ResultsStore(site.results.location).read(run.meta.suite, run.meta.run_id)
    return dict(zip(table["test_id"], table["status"]))


def test_a_tempest_run_stores_exactly_the_lab_suites_counts(prefect_server, site, tmp_path):
    run = regression_run(site=with_suite(site, include=API_ONLY), label="pre", drop="abc123_def45678",
                         report_dir=tmp_path)
    assert {k: run.counts[k] for k in ("tests", "pass", "fail", "skip", "error")} == \
        {"tests": 60, "pass": 53, "fail": 3, "skip": 4, "error": 0}
    assert run.expected == 60
    statuses = stored_statuses(site, run)
    assert sorted(statuses.values()).count("fail") == 3 and len(statuses) == 60
    assert run.meta.label == "pre" and run.meta.suite == "tempest" and run.meta.drop == "abc123_def45678"
    assert re.fullmatch(r"pre-\d{8}T\d{6}Z-[0-9a-f]{12}", run.meta.run_id)
    assert Path(run.result_file).read_bytes()[:5] == b"time:"  # stestr's repository stream, fetched
    assert Path(run.raw_stored).read_bytes() == Path(run.result_file).read_bytes()
    assert {t.test_id for t in run.failed} == {t for t, s in statuses.items() if s == "fail"}


def test_the_summary_lists_the_failed_tests_and_where_the_run_is_stored(prefect_server, site, tmp_path):
    state = regression_run(site=with_suite(site, include=API_ONLY), label="post", report_dir=tmp_path,
                           return_state=True)
    run, flow_run_id = state.result(), state.state_details.flow_run_id
    report = (tmp_path / "regression-run-post.md").read_text()
    assert run.report == str(tmp_path / "regression-run-post.md")
    assert "| 53 | 3 | 4 | 0 | 0 | 0 |" in report
    assert run.location in report
    assert all(f"`{t.test_id}`" in report for t in run.failed)
    assert "failed to reach ACTIVE" in report
    assert "3 failing" in artifact_of(flow_run_id, "regression-run-post").data
    assert len(artifact_of(flow_run_id, "regression-failures-post").data) > 0


def test_a_catalogue_selection_runs_its_areas_and_the_run_leaves_its_handover(prefect_server, site, tmp_path):
    state = regression_run(site=with_suite(site, selection="bare-metal-and-orchestration"), label="pre",
                           report_dir=tmp_path, return_state=True)
    run, flow_run_id = state.result(), state.state_details.flow_run_id
    # the lab's generated tests cycle through 8 areas of Tempest: 7 of its 60 are baremetal, 7 orchestration
    assert run.expected == 14 and run.counts["tests"] == 14
    assert [(area.area, area.tests) for area in run.areas] == [("bare-metal", 7), ("orchestration", 7)]
    assert run.handover == {"md": str(tmp_path / "handover-pre.md"), "html": str(tmp_path / "handover-pre.html")}
    assert "| Bare metal | Nodes, ports" in (tmp_path / "handover-pre.md").read_text()
    assert "Handover: " in artifact_of(flow_run_id, "handover-pre").data
    assert "| Orchestration | 7 |" in (tmp_path / "regression-run-pre.md").read_text()


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """A temp dir of this test's own (TMPDIR, and tempfile's cached choice reset), so others' dirs don't count.

    Not a stand-in: resetting ``tempfile.tempdir`` makes tempfile read TMPDIR again, as a new process would."""
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setenv("TMPDIR", str(private))
    monkeypatch.setattr(tempfile, "tempdir", None)
    assert tempfile.gettempdir() == str(private)
    return private


def test_a_run_without_a_report_dir_leaves_no_directory_in_tmp(prefect_server, site, private_tmp):
    run = regression_run(site=with_suite(site, include=API_ONLY), label="pre")
    assert sorted(private_tmp.glob("rdoflow-regression-*")) == []
    assert Path(run.result_file).read_bytes()[:5] == b"time:"  # the raw results are kept in the store
    assert Path(run.result_file) == Path(run.raw_stored)


def test_a_failed_run_without_a_report_dir_leaves_no_directory_in_tmp(prefect_server, site, module_lab,
                                                                      private_tmp):
    scripts = with_suite(site, kind="scripts", workdir=f"{module_lab.dir}/home/scripts", include=["^0002-"],
                         script_timeout=600, timeout=3)  # 0002 is the hanging script
    state = regression_run(site=scripts, return_state=True)
    assert state.is_failed()
    assert sorted(private_tmp.glob("rdoflow-regression-*")) == []


def test_two_runs_of_the_same_label_are_two_partitions(prefect_server, site):
    first = regression_run(site=with_suite(site, include=API_ONLY), label="pre")
    second = regression_run(site=with_suite(site, include=API_ONLY), label="pre")
    assert first.meta.run_id != second.meta.run_id
    run_ids = {r["run_id"] for r in ResultsStore(site.results.location).runs("tempest")}
    assert {first.meta.run_id, second.meta.run_id} <= run_ids


def test_include_and_exclude_lists_reduce_the_run(prefect_server, site):
    # compute tests are every 8th of the 60 (0, 8, ..., 56); 0 and 32 are create_server tests
    run = regression_run(site=with_suite(site, include=[r"tempest\.api\.compute\."], exclude=["create_server"]))
    statuses = stored_statuses(site, run)
    assert run.counts["tests"] == run.expected == 6
    assert all(".compute." in test and "create_server" not in test for test in statuses)


def test_a_scripts_suite_gives_pass_skip_fail_and_the_timeouts_reason(prefect_server, site, module_lab):
    scripts = with_suite(site, kind="scripts", workdir=f"{module_lab.dir}/home/scripts", script_timeout=2,
                         concurrency=4)
    run = regression_run(site=scripts, label="pre")
    assert {k: run.counts[k] for k in ("tests", "pass", "fail", "skip")} == \
        {"tests": 12, "pass": 6, "fail": 3, "skip": 3}
    table = ResultsStore(site.results.location).read("scripts", run.meta.run_id).set_index("test_id")
    hung = [reason for reason in table["reason"] if reason.startswith("timed out after 2 s")]
    assert len(hung) == 1 and "waiting for a server that never answers" in hung[0]
    failed = table[(table["status"] == "fail") & ~table["reason"].str.startswith("timed out")]
    assert len(failed) == 2 and failed["reason"].str.startswith("exit status 1").all()
    assert (table.loc[table["status"] == "skip", "reason"].str.contains("feature not enabled")).all()


def test_script_names_are_filtered_by_the_include_and_exclude_lists(prefect_server, site, module_lab):
    scripts = with_suite(site, kind="scripts", workdir=f"{module_lab.dir}/home/scripts", script_timeout=2,
                         include=["-(compute|network)-"], exclude=["^0000-"])
    run = regression_run(site=scripts)
    names = set(stored_statuses(site, run))
    assert names == {"scripts.0001-network-create_network", "scripts.0006-compute-resize_server",
                     "scripts.0007-network-attach_port"}


def test_scripts_fail_after_the_upgrade_as_the_lab_is_told(prefect_server, site, module_lab, knobs):
    knobs.faults.fail_after_upgrade = ["volume"]
    labconfig.save(module_lab.dir, knobs)
    with host_state(Path(module_lab.dir)) as state:
        state.setdefault("overcloud", {})["overcloud"] = {"upgrade": "converge", "upgraded": True}
    try:
        scripts = with_suite(site, kind="scripts", workdir=f"{module_lab.dir}/home/scripts", include=["-volume-"],
                             script_timeout=2)
        run = regression_run(site=scripts, label="post")
    finally:
        with host_state(Path(module_lab.dir)) as state:
            state["overcloud"].pop("overcloud")
    assert run.counts["tests"] == 2 and run.counts["fail"] == 2


def test_a_pre_and_a_post_run_read_back_from_the_store_compare_to_a_regression(prefect_server, site, module_lab,
                                                                               knobs):
    scripts = with_suite(site, kind="scripts", workdir=f"{module_lab.dir}/home/scripts", script_timeout=2,
                         include=["-(identity|image)-"])
    pre = regression_run(site=scripts, label="pre")
    knobs.faults.fail_after_upgrade = ["create_project"]  # 0010 passes before (0004 is a skip)
    labconfig.save(module_lab.dir, knobs)
    with host_state(Path(module_lab.dir)) as state:
        state.setdefault("overcloud", {})["overcloud"] = {"upgrade": "converge", "upgraded": True}
    try:
        post = regression_run(site=scripts, label="post")
    finally:
        with host_state(Path(module_lab.dir)) as state:
            state["overcloud"].pop("overcloud")
    location = site.results.location
    comparison = compare_stored(stored_run(pre, location), stored_run(post, location), site.policy, location)
    assert comparison.verdict.outcome == "fail"
    assert comparison.tests("regression") == ["scripts.0010-identity-create_project"]


def test_a_suite_where_nothing_runs_fails_the_stage_with_a_clear_error(prefect_server, site, tmp_path):
    state = regression_run(site=with_suite(site, exclude=[".*"]), label="pre", report_dir=tmp_path,
                           return_state=True)
    assert state.is_failed()
    with pytest.raises(NothingRan, match="select no test of the Tempest suite"):
        state.result()
    assert "FAILED, no results" in (tmp_path / "regression-run-pre.md").read_text()


def test_a_run_that_outlives_regression_timeout_is_killed_and_fails_the_stage(prefect_server, site, module_lab,
                                                                              tmp_path):
    scripts = with_suite(site, kind="scripts", workdir=f"{module_lab.dir}/home/scripts", include=["^0002-"],
                         script_timeout=600, timeout=3)  # 0002 is the hanging script
    state = regression_run(site=scripts, report_dir=tmp_path, return_state=True)
    with pytest.raises(StageTimeout, match=r"killed after \d+ s \(regression.timeout: 3 s\)"):
        state.result()
    assert remote_processes("0002-volume-create_volume") == []
    assert "regression.timeout" in (tmp_path / "regression-run-pre.md").read_text()


def test_a_suite_that_cannot_load_fails_the_stage_with_stestrs_error(prefect_server, site, module_lab, tmp_path):
    broken = Path(module_lab.dir) / "home" / "broken-tempest"
    broken.mkdir(exist_ok=True)
    (broken / ".stestr.conf").write_text("[DEFAULT]\ntest_path=./no_such_package\ntop_dir=./\n")
    state = regression_run(site=with_suite(site, workdir=str(broken)), report_dir=tmp_path, return_state=True)
    with pytest.raises(RemoteCommandFailed, match=r"stestr list .*failed on .* with exit status") as failure:
        state.result()
    assert any("no_such_package" in line for line in failure.value.evidence)
    assert "no_such_package" in (tmp_path / "regression-run-pre.md").read_text()


CRASHING_TEST = """\
import os
import sys
import unittest

if "--list" not in sys.argv:  # listed fine; dies as soon as it runs (a segfault, the OOM killer)
    os._exit(139)


class T(unittest.TestCase):
    def test_one(self):
        pass
"""


def test_a_suite_that_crashes_without_results_fails_the_stage(prefect_server, site, module_lab, tmp_path):
    crashing = Path(module_lab.dir) / "home" / "crashing-tempest"
    (crashing / "pkg").mkdir(parents=True, exist_ok=True)
    (crashing / ".stestr.conf").write_text("[DEFAULT]\ntest_path=./pkg\ntop_dir=./\n")
    (crashing / "pkg" / "__init__.py").write_text("")
    (crashing / "pkg" / "test_crash.py").write_text(CRASHING_TEST)
    state = regression_run(site=with_suite(site, workdir=str(crashing)), report_dir=tmp_path, return_state=True)
    with pytest.raises(NothingRan, match="left no test results: .*the file is empty"):
        state.result()
    assert "FAILED, no results" in (tmp_path / "regression-run-pre.md").read_text()


@pytest.mark.parametrize("next_id, message", [
    (4, None),
    (3, "left no results .*no stream 3"),
    (None, "left no results"),
    (6, r"another stestr run wrote to the repository .* \(streams 3 to 5\)"),
])
def test_only_the_one_stream_a_run_added_is_taken_as_its_results(next_id, message):
    result = CommandResult(host="h", argv=["stestr", "run"], status="fail", exit_status=1, stdout="", stderr="",
                          duration=1.0)
    if message is None:
        check_one_stream(result, "/w", 3, next_id)
    else:
        with pytest.raises(SuiteCrashed, match=message):
            check_one_stream(result, "/w", 3, next_id)


def test_a_scripts_workdir_without_scripts_fails_the_stage(prefect_server, site, module_lab):
    state = regression_run(site=with_suite(site, kind="scripts", workdir=f"{module_lab.dir}/home/tempest"),
                           return_state=True)
    with pytest.raises(NothingRan, match="no executable script"):
        state.result()


def test_an_ssh_drop_during_the_run_is_retried(prefect_server, site, module_lab, knobs):
    knobs.suite.seconds = 0.05  # 60 tests on 2 workers: about 1.5 s, cut after 0.5 s
    knobs.faults.ssh_drop = labconfig.SSHDrop(command="stestr run", after=0.5, times=1)
    labconfig.save(module_lab.dir, knobs)
    state = regression_run(site=with_suite(site, include=API_ONLY), return_state=True)
    run = state.result()
    assert run.counts["tests"] == 60 and run.counts["fail"] == 3
    suite_task = next(t for t in task_runs_of(state.state_details.flow_run_id) if t.name.startswith("tempest-"))
    assert suite_task.run_count == 2
    assert any("dropped while running" in line or "lost during" in line
               for line in logs_of(state.state_details.flow_run_id))


def test_a_workdir_missing_on_the_host_is_bad_input_naming_the_field(prefect_server, site, tmp_path):
    with pytest.raises(ConfigError, match=r"regression.workdir: .*/nowhere is not a directory on \S+@"):
        regression_run(site=with_suite(site, workdir=str(tmp_path / "nowhere")), report_dir=tmp_path)
    assert not (tmp_path / "nowhere").exists()
    assert "is not a directory" in (tmp_path / "regression-run-pre.md").read_text()


def test_a_rally_verification_gives_the_same_counts_through_its_junit_report(prefect_server, site, tmp_path):
    run = regression_run(site=with_suite(site, kind="rally", include=API_ONLY), label="pre", report_dir=tmp_path)
    assert run.meta.suite == "rally" and run.result_file.endswith(".junit.xml")
    assert {k: run.counts[k] for k in ("tests", "pass", "fail", "skip")} == \
        {"tests": 60, "pass": 53, "fail": 3, "skip": 4}
    assert all("[" not in test for test in stored_statuses(site, run))  # tags kept apart, as from subunit


def test_rally_applies_the_include_and_exclude_lists(prefect_server, site):
    run = regression_run(site=with_suite(site, kind="rally", include=[r"tempest\.api\.compute\."],
                                         exclude=["create_server"]))
    assert run.counts["tests"] == run.expected == 6
    state = regression_run(site=with_suite(site, kind="rally", exclude=["."]), return_state=True)
    with pytest.raises(NothingRan, match="select none of the"):
        state.result()
