"""The workload watched across the upgrade, as a Markdown report."""

from __future__ import annotations

from rdoflow.tasks.workload.model import WorkloadReport


def markdown(report: WorkloadReport) -> str:
    lines = [f"# Workload {report.name}: {'PASS' if report.passed else 'FAIL'}", "", f"{report.what}.", "",
             f"Before the upgrade: {report.baseline}.", "",
             f"{report.probes} probes over {report.seconds:.0f} s, {report.failed} failed ({report.loss:.1f}%).", ""]
    lines += [f"- {outage.shown}" for outage in report.outages]
    lines += ["", *[f"**{problem}**  " for problem in report.problems]]
    return "\n".join(lines) + "\n"
