"""Reading Rally's task report (``rally task report --json``): a row per scenario and per SLA criterion, from
reports shaped as Rally 5.1's JSON exporter writes them, changed as a hostile or broken file would be."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rdoflow.tasks.results.model import ResultFileError, RunMeta
from rdoflow.tasks.results.readers import read_run

META = RunMeta(run_id="r1", label="pre", suite="rally-task")
HEAT = "rally.HeatStacks.create_and_delete_stack"


def rows(table) -> dict[str, tuple[str, float, str]]:
    return {row.test_id: (row.status, row.duration, row.reason) for row in table.itertuples()}


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
