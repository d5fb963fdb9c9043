"""A pipeline run's summary as Markdown: the verdict, then (when red) why in one screen, then each stage."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdoflow.outcome import Outcome
from rdoflow.reports.markdown import cell, code, fenced

if TYPE_CHECKING:
    from rdoflow.tasks.pipeline.model import PipelineSummary

MARK = {"pass": "✅ pass", "fail": "❌ fail", Outcome.SKIP: "➖ skipped", "running": "… running"}
EVIDENCE_LINES = 12


def render_summary(summary: PipelineSummary) -> str:
    drop = f", drop {code(summary.drop)}" if summary.drop else ""
    verdict = "PASS" if summary.verdict == "pass" else "FAIL" if summary.verdict == "fail" else "RUNNING"
    lines = [f"# {summary.pipeline} on {summary.site}{drop}: {verdict}", ""]
    failed = summary.failed
    if failed is not None:
        lines += [f"**Failed stage:** {code(failed.stage)}" + (f" ({cell(failed.summary)})" if failed.summary else ""),
                  "", f"**Error** `[{failed.reference}]`: {cell(failed.error)}", ""]
        if failed.evidence:
            lines += ["**Evidence:**", "", *fenced(failed.evidence[:EVIDENCE_LINES]), ""]
        if failed.hint:
            lines += [f"**Next:** {cell(failed.hint)}", ""]
    lines += ["| stage | outcome | seconds | note |", "|---|---|---:|---|"]
    lines += [f"| {cell(s.stage)} | {MARK.get(s.outcome, s.outcome)} | {s.seconds:g} | "
              f"{cell(s.summary or s.error)} |" for s in summary.stages]
    if summary.reports:
        lines += ["", *(f"- {kind}: {code(where)}" for kind, where in summary.reports.items())]
    return "\n".join(lines) + "\n"
