"""The nightly pipeline end to end against a lab of its own: every stage through the real sshd,
Ironic, Heat and stestr; a failed deploy named in the summary; the re-run after the input is
fixed reuses the undercloud and the nodes, and passes."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from rdoflow.config.site import load_site
from rdoflow.tasks.results.store import ResultsStore
from tests.conftest import fast_knobs, read_logs

pytestmark = pytest.mark.timeout(900)
LAB_KNOBS = fast_knobs(nodes=4, controllers=1)
MISSING_ENV = "/nonexistent/network-environment.yaml"


def _latest_task_run(name: str):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName
    from prefect.client.schemas.sorting import TaskRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_=name)),
                                     sort=TaskRunSort.EXPECTED_START_TIME_DESC, limit=1)
    return runs[0]


def _commands_logged_since(moment) -> str:
    """Every remote command line the Prefect server logged since ``moment``, one per line."""
    from prefect.client.schemas.filters import LogFilter, LogFilterTimestamp

    lines = read_logs(LogFilter(timestamp=LogFilterTimestamp(after_=moment)))
    return "\n".join(line for line in lines if "$ " in line)


def _inspections(lab) -> dict[str, str]:
    """When Ironic last finished inspecting each node (openstacksdk's Node does not carry the field)."""
    request = urllib.request.Request(f"{lab.ironic_url}/v1/nodes?fields=name,inspection_finished_at",
                                     headers={"X-OpenStack-Ironic-API-Version": "1.84"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return {node["name"]: node["inspection_finished_at"] for node in json.load(answer)["nodes"]}


@pytest.fixture(scope="module")
def runs(module_lab, prefect_server, tmp_path_factory):
    """The nightly with a missing environment file (its deploy fails), then again with the file fixed."""
    from rdoflow.flows.nightly import nightly

    site = load_site(Path(module_lab.dir) / "site.yaml")
    broken = site.model_copy(deep=True)
    broken.overcloud.environment_files.append(MISSING_ENV)
    reports = tmp_path_factory.mktemp("nightly-reports")
    failed = nightly(site=broken, report_dir=reports / "broken", return_state=True)
    before = {"inspections": _inspections(module_lab),
              "install": _latest_task_run("undercloud install on"), "introspect": _latest_task_run("introspect-nodes-")}
    started = datetime.now(timezone.utc)
    fixed = nightly(site=site, report_dir=reports / "fixed", return_state=True)
    after = {"inspections": _inspections(module_lab),
             "install": _latest_task_run("undercloud install on"), "introspect": _latest_task_run("introspect-nodes-")}
    return {"failed": failed, "fixed": fixed, "started": started, "before": before, "after": after, "reports": reports, "site": site}


def test_a_failed_deploy_fails_the_nightly_and_its_summary_names_the_stage_and_the_first_error(runs):
    assert runs["failed"].is_failed()
    summary = (runs["reports"] / "broken" / "nightly.md").read_text()
    assert summary.startswith("# nightly on lab: FAIL")
    assert "**Failed stage:** `overcloud-deploy`" in summary
    assert f"Could not open environment file {MISSING_ENV}" in summary
    assert "| undercloud-bootstrap | ✅ pass |" in summary and "| node-introspection | ✅ pass |" in summary
    assert "| upgrade-regression | ➖ skipped |" in summary


def test_the_rerun_with_the_input_fixed_reuses_the_undercloud_and_the_nodes(runs):
    before, after = runs["before"], runs["after"]
    assert before["install"].state_name == "Completed" and before["introspect"].state_name == "Completed"
    assert after["install"].id != before["install"].id and after["install"].state_name == "Cached"
    assert after["introspect"].id != before["introspect"].id and after["introspect"].state_name == "Cached"
    commands = _commands_logged_since(runs["started"])
    assert "openstack undercloud upgrade -y" in commands  # the upgrade stage ran on the host...
    assert "openstack undercloud install" not in commands  # ...but the install did not run again
    assert after["inspections"] == before["inspections"]  # no node inspected again


def test_the_fixed_nightly_passes_with_every_stage_and_stores_both_runs(runs):
    assert runs["fixed"].is_completed(), runs["fixed"].message
    summary = runs["fixed"].result()
    assert summary.verdict == "pass"
    assert [(s.stage, s.outcome) for s in summary.stages] == [
        ("package-review", "skip"), ("undercloud-bootstrap", "pass"), ("node-introspection", "pass"),
        ("overcloud-deploy", "pass"), ("upgrade-regression", "pass"), ("drop-review", "skip"), ("vote", "skip")]
    html = Path(summary.reports["HTML report"])
    assert html.exists() and "<title>rdoflow: PASS — pre vs post</title>" in html.read_text()
    labels = sorted(run["label"] for run in ResultsStore(runs["site"].results.location).runs())
    assert labels.count("pre") >= 1 and labels.count("post") >= 1
    report = json.loads((html.parent / "comparison.json").read_text())
    assert report["verdict"] == "pass"
    for stage in ("undercloud-bootstrap", "node-introspection", "overcloud-deploy", "upgrade-regression"):
        assert list((runs["reports"] / "fixed").glob(f"{stage}*.md")), f"no report of {stage}"
