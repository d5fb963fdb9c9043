"""The upgrade checks' logic without a cloud: the site's sections, a workload's outages and verdict, ping's
output read as probes, the validations framework's results, and the rows both runs get."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rdoflow.config.site import ComparisonPolicy, UpgradePlan
from rdoflow.tasks.results.compare import compare
from rdoflow.tasks.results.model import RunMeta, frame
from rdoflow.tasks.workload.judge import (
    outages,
    step_windows,
    validation_rows,
    workload_rows,
)
from rdoflow.tasks.workload.model import CheckResult, Probe, WorkloadReport
from rdoflow.tasks.workload.probe_command import ping_interval, ping_timeline
from rdoflow.tasks.workload.record import check_rows
from rdoflow.tasks.workload.validations import framework_results


def _report(**changes) -> WorkloadReport:
    probes = [Probe(at=t, ok=t < 10 or t >= 22, detail="node n1 in maintenance" if 10 <= t < 22 else "up")
              for t in range(30)]
    windows = step_windows([("upgrade run Controller", 8.0), ("upgrade run Compute", 20.0)], ended=30)
    fields = dict(name="guest", kind="command", what="probe 'ping 10.0.0.5'", baseline="first probe passed",
                  seconds=30, probes=len(probes), failed=sum(not p.ok for p in probes),
                  outages=outages(probes, 30, windows), max_downtime=5.0)
    return WorkloadReport(**(fields | changes))


def test_a_command_workload_needs_its_command_and_a_cloud_one_takes_none():
    with pytest.raises(ValidationError, match="kind 'command' needs 'command'"):
        UpgradePlan.model_validate({"workload": {"kind": "command"}})
    with pytest.raises(ValidationError, match="kind 'cloud' takes no 'command'"):
        UpgradePlan.model_validate({"workload": {"kind": "cloud", "command": ["ping", "x"]}})
    with pytest.raises(ValidationError, match="repeated: nodes"):
        UpgradePlan.model_validate({"validations": {"pre": [{"name": "nodes", "command": ["true"]}] * 2}})
    with pytest.raises(ValidationError, match="it becomes a result id"):
        UpgradePlan.model_validate({"validations": {"post": [{"name": "a b", "command": ["true"]}]}})


def test_an_outage_is_timed_from_its_first_failed_probe_and_named_by_its_step():
    report = _report()
    [outage] = report.outages
    assert (outage.start, outage.seconds, outage.probes) == (10, 12, 12)
    assert outage.during == "upgrade run Compute"
    assert report.problems == ["workload guest: down 12.0 s during 'upgrade run Compute' (12 failed probes): "
                               "node n1 in maintenance (threshold 5 s)"]


def test_a_workload_within_its_thresholds_passes_and_loss_is_judged_when_asked():
    assert _report(max_downtime=12).passed
    assert _report(max_downtime=12, max_loss=10).problems == ["workload guest: 40.0% of 30 probes failed "
                                                              "(threshold 10%)"]


def test_ping_replies_become_probes_and_each_missing_sequence_a_failed_one():
    replies = [Probe(at=float(seq), ok=True, detail=f"64 bytes from 10.0.0.5: icmp_seq={seq} ttl=64 time=0.1 ms")
               for seq in (1, 2, 6, 7)]
    timeline = ping_timeline(replies, interval=1.0, sent=9)
    assert [(p.at, p.ok) for p in timeline] == [(1, True), (2, True), (3, False), (4, False), (5, False),
                                                (6, True), (7, True), (8, False), (9, False)]
    assert timeline[2].detail == "no reply to icmp_seq=3"
    assert ping_interval(["ping", "-i", "0.2", "h"]) == 0.2 and ping_interval(["ping", "h"]) == 1.0


def test_the_validations_frameworks_results_are_rows_by_validation():
    rows = framework_results([
        {"Validations": "check-ram", "Status": "PASSED", "Duration": "0:00:01.500"},
        {"Validations": "check-ntp", "Status": "FAILED", "Status_by_Host": "undercloud,FAILED",
         "Duration": "0:00:02.000"},
    ], "pre-upgrade")
    assert [(r.test_id, r.status, r.duration) for r in rows] == [("validation.check-ram", "pass", 1.5),
                                                                  ("validation.check-ntp", "fail", 2.0)]
    assert rows[1].reason == "group pre-upgrade: check-ntp FAILED on undercloud,FAILED"


def test_a_validation_run_in_one_phase_only_is_skipped_in_the_other():
    pre, post = validation_rows([CheckResult(test_id="validation.a", status="pass")],
                                [CheckResult(test_id="validation.b", status="fail")])
    assert [(r.test_id, r.status) for r in pre] == [("validation.a", "pass"), ("validation.b", "skip")]
    assert [(r.test_id, r.status) for r in post] == [("validation.b", "fail"), ("validation.a", "skip")]


def test_a_workload_down_too_long_is_a_regression_whose_evidence_is_the_outage():
    before, after = check_rows([CheckResult(test_id="validation.a", status="pass")],
                               [CheckResult(test_id="validation.a", status="pass")], _report())
    comparison = compare(frame(before, RunMeta(run_id="pre")), frame(after, RunMeta(run_id="post")),
                         ComparisonPolicy())
    assert comparison.verdict.blocking == ["1 test passed before and failed after: workload.guest"]
    row = comparison.table.set_index("test_id").loc["workload.guest"]
    assert row["reason"].splitlines()[-1].startswith("workload guest: down 12.0 s during 'upgrade run Compute'")
    assert workload_rows(_report(max_downtime=20))[1].status == "pass"
