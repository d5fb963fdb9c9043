"""Reading Rally's task report (``rally task report --json``): a row per scenario and per SLA criterion.

The real report was written by Rally 5.1.1 (rally-openstack 4.1.0) for rdoflow's shipped Heat and Ironic tasks
against the lab's Keystone, Heat 27 and Ironic 39 (tests/fixtures/SOURCES.md, rally/); the other inputs are
that report changed, as a hostile or broken file would be."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rdoflow.tasks.results.model import ResultFileError, RunMeta
from rdoflow.tasks.results.readers import read_run

REAL = Path(__file__).parent / "fixtures" / "rally" / "heat-ironic-sla.rally.json"
META = RunMeta(run_id="r1", label="pre", suite="rally-task")
HEAT = "rally.HeatStacks.create_and_delete_stack"
IRONIC = "rally.IronicNodes.create_and_list_node"


def rows(table) -> dict[str, tuple[str, float, str]]:
    return {row.test_id: (row.status, row.duration, row.reason) for row in table.itertuples()}


def test_a_real_rally_report_is_a_row_per_scenario_and_per_sla_criterion():
    found = rows(read_run(REAL, META))
    assert set(found) == {HEAT, f"{HEAT}.sla.failure_rate", f"{HEAT}.sla.max_seconds_per_iteration",
                          IRONIC, f"{IRONIC}.sla.failure_rate", f"{IRONIC}.sla.max_seconds_per_iteration"}
    report = json.loads(REAL.read_text())
    heat = report["tasks"][0]["subtasks"][0]["workloads"][0]
    mean = sum(i["duration"] for i in heat["data"]) / len(heat["data"])
    assert found[HEAT][:2] == ("pass", pytest.approx(mean)) and found[IRONIC][0] == "pass"
    assert found[f"{HEAT}.sla.failure_rate"][0] == "pass"
    # The fixture's tasks ran with max_seconds_per_iteration 0.01: a failed SLA, with Rally's detail.
    status, duration, reason = found[f"{HEAT}.sla.max_seconds_per_iteration"]
    assert status == "fail" and reason.startswith("Maximum seconds per iteration") and reason.endswith("Failed")
    assert duration != duration  # NaN: a criterion has no duration of its own


def _report(**workload) -> dict:
    base = {"scenario": {"HeatStacks.create_and_delete_stack": {}},
            "data": [{"duration": 1.5, "error": []}, {"duration": 2.5, "error": []}],
            "sla_results": {"sla": [{"criterion": "failure_rate", "success": True, "detail": "ok"}]}}
    return {"info": {"format_version": "1.2"},
            "tasks": [{"subtasks": [{"workloads": [base | workload]}]}]}


def _read(tmp_path: Path, report: object) -> dict:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report) if not isinstance(report, str) else report)
    return rows(read_run(path, META))


def test_failed_iterations_fail_the_scenario_with_their_errors_and_a_repeated_scenario_is_told_apart(tmp_path):
    failed = [{"duration": 0.5, "error": ["HTTPInternalServerError", "'NoneType' object has no attribute 'get'",
                                          "Traceback ..."]}, {"duration": 1.0, "error": []}]
    report = _report(data=failed)
    report["tasks"][0]["subtasks"].append({"workloads": [_report()["tasks"][0]["subtasks"][0]["workloads"][0]]})
    found = _read(tmp_path, report)
    status, duration, reason = found[HEAT]
    assert (status, duration) == ("fail", 1.0)  # the mean of the iterations that passed
    assert reason == "1 of 2 iterations failed: HTTPInternalServerError: 'NoneType' object has no attribute 'get'"
    assert found[f"{HEAT}.2"][:2] == ("pass", 2.0) and f"{HEAT}.2.sla.failure_rate" in found


@pytest.mark.parametrize(("report", "problem"), [
    ("{\"info\": {}, \"tasks\": [", "not a Rally JSON report: line 1"),
    ({"info": {}}, "tasks: missing"),
    (_report(data=[{"duration": "1e9", "error": []}]),
     "tasks[0].subtasks[0].workloads[0].data[0].duration: expected int or float, got str"),
    (_report(data=[{"duration": True}]), "data[0].duration: expected int or float, got bool"),
    (_report(data=[{"duration": 1, "error": "boom"}]), "data[0].error: expected a list"),
    (_report(scenario={"a": {}, "b": {}}), "workloads[0].scenario: expected one scenario name"),
    (_report(scenario={"\x1b[2J": {}}), "workloads[0].scenario: expected one scenario name"),
    (_report(sla_results={"sla": [{"criterion": "x y", "success": True}]}), "sla[0].criterion: expected a name"),
    (_report(sla_results={"sla": [{"criterion": "x", "success": "yes"}]}), "sla[0].success: expected bool"),
    (_report(sla_results=[]), "workloads[0].sla_results: expected dict, got list"),
])
def test_a_broken_or_hostile_report_names_the_file_and_the_field(tmp_path, report, problem):
    with pytest.raises(ResultFileError) as caught:
        _read(tmp_path, report)
    assert str(tmp_path / "r.json") in caught.value.problems[0] and problem in caught.value.problems[0]
    assert "\x1b" not in caught.value.problems[0]
