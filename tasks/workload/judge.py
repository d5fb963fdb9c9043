"""Judging what the upgrade checks saw, and the rows they add to the pre- and post-upgrade runs' tables.

A workload is one row in each run, ``workload.<name>``: before, whether it was up when the upgrade started;
after, whether it came through (no outage above the threshold, no loss above it, nothing changed). A
validation is ``validation.<name>`` in both runs; where it ran in one only, the other has it skipped (so a
validation that passed before and fails after is a regression, and one that runs only before is not missed).
"""

from __future__ import annotations

from collections.abc import Sequence

from rdoflow.tasks.workload.model import (
    VALIDATION_PREFIX,
    WORKLOAD_PREFIX,
    CheckResult,
    Outage,
    Probe,
    StepWindow,
    WorkloadReport,
)


def outages(probes: Sequence[Probe], ended: float, steps: Sequence[StepWindow] = ()) -> list[Outage]:
    """Each run of failed probes, from the first to the next that passed (or ``ended``), with its step."""
    found, first, count = [], None, 0
    for probe in probes:
        if not probe.ok:
            first, count = first or probe, count + 1
        elif first is not None:
            found.append(_outage(first, probe.at, count, steps))
            first, count = None, 0
    if first is not None:
        found.append(_outage(first, ended, count, steps))
    return found


def _outage(first: Probe, until: float, count: int, steps: Sequence[StepWindow]) -> Outage:
    during = next((step.name for step in steps if step.start <= first.at < step.end), "")
    return Outage(start=first.at, seconds=max(0.0, until - first.at), probes=count, detail=first.detail,
                  during=during)


def step_windows(steps: Sequence[tuple[str, float]], ended: float) -> list[StepWindow]:
    """The steps' windows from their names and durations, laid end to end back from ``ended`` (when the
    last of them returned, in the watch's seconds)."""
    windows, end = [], ended
    for name, duration in reversed(steps):
        windows.append(StepWindow(name=name, start=end - duration, end=end))
        end -= duration
    return windows[::-1]


def workload_rows(report: WorkloadReport) -> tuple[CheckResult, CheckResult]:
    """The workload's row in the pre-upgrade run (it was up) and in the post-upgrade run (it came through)."""
    test_id = WORKLOAD_PREFIX + report.name
    before = CheckResult(test_id=test_id, status="pass", reason=f"{report.what}: {report.baseline}")
    summary = (f"{report.probes} probes over {report.seconds:.0f} s, {report.failed} failed; longest outage "
               f"{report.longest.seconds:.1f} s" if report.longest else
               f"{report.probes} probes over {report.seconds:.0f} s, none failed")
    # The comparison's evidence is a reason's last line: the first problem goes last.
    lines = [report.what, summary, *[outage.shown for outage in report.outages[:5]], *reversed(report.problems)]
    after = CheckResult(test_id=test_id, status="pass" if report.passed else "fail", duration=report.seconds,
                        reason="\n".join(lines))
    return before, after


def validation_rows(pre: Sequence[CheckResult], post: Sequence[CheckResult]
                    ) -> tuple[list[CheckResult], list[CheckResult]]:
    """Both runs' validation rows, each validation in both: skipped in the run it did not run in."""
    pre_ids, post_ids = {row.test_id for row in pre}, {row.test_id for row in post}
    skipped_before = [CheckResult(test_id=row.test_id, status="skip", reason="not run before the upgrade "
                                  "(only in upgrade.validations.post)") for row in post if row.test_id not in pre_ids]
    skipped_after = [CheckResult(test_id=row.test_id, status="skip", reason="not run after the upgrade "
                                 "(only in upgrade.validations.pre)") for row in pre if row.test_id not in post_ids]
    return [*pre, *skipped_before], [*post, *skipped_after]


def validation_id(name: str) -> str:
    return VALIDATION_PREFIX + name
