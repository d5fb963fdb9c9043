"""A deploy or upgrade stage as Markdown: verdict, each step with its duration and outcome, then the
failure (first error, what to do, the failed resources and the events leading to them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdoflow.outcome import Outcome
from rdoflow.reports.markdown import cell, code

if TYPE_CHECKING:
    from rdoflow.tasks.overcloud.model import StageReport, StepResult

TITLES = {"overcloud-deploy": "Overcloud deploy", "upgrade": "Upgrade"}
MARK = {Outcome.PASS: "✅ succeeded", Outcome.FAIL: "❌ failed", Outcome.SKIP: "➖ not run"}


def _resources(step: StepResult) -> str:
    return f"{step.resources.complete}/{step.resources.total}" if step.resources and step.resources.total else ""


def _block(lines: list[str]) -> list[str]:
    # Four backticks: a reason or event may itself hold three.
    return ["````text", *lines, "````"]


def render_stage(report: StageReport) -> str:
    title = TITLES.get(report.stage, report.stage)
    failed = report.failed_step
    verdict = "PASS" if report.passed else f"FAIL at {failed.name}" if failed else "FAIL"
    lines = [
        f"# {title}: {verdict}",
        "",
        f"Site {code(report.site)}, stack {code(report.stack)}: "
        f"{cell(report.stack_status or 'not changed')}, {report.duration:.1f} s in all.",
        "",
        "| step | outcome | duration | attempts | stack | resources complete |",
        "|---|---|---|---|---|---|",
        *(f"| {cell(s.name)} | {MARK.get(s.outcome, s.outcome)} | {s.duration:.1f} s | {s.attempts or ''} "
          f"| {cell(s.stack_status or '')} | {_resources(s)} |" for s in report.steps),
    ]
    notes = [f"- {cell(step.name)}: {cell(note)}" for step in report.steps for note in step.notes]
    if notes:
        lines += ["", "## Retries", "", *notes]
    if failed is not None:
        lines += ["", *_failure(failed)]
    return "\n".join(lines) + "\n"


def _failure(step: StepResult) -> list[str]:
    lines = [
        f"## Failure: {cell(step.name)}",
        "",
        f"**Error:** {cell(step.error)}",
        "",
        f"**What to do:** {cell(step.hint or 'see the evidence below')}",
        "",
        f"Command: {code(step.command)}",
    ]
    if step.failures:
        lines += ["", "### Failed resources", "", "| resource | type | status | reason |", "|---|---|---|---|",
                  *(f"| {cell(f.path)} | {cell(f.type)} | {cell(f.status)} | {cell(f.reason)} |"
                    for f in step.failures)]
        for failure in step.failures:
            if failure.events:
                lines += ["", f"Events leading to {code(failure.path)}:", "",
                          *_block([event.line for event in failure.events])]
    # The failed resources and their events are shown above; the rest of the evidence is the command's.
    shown = ("  event ", *(f"{failure.path} " for failure in step.failures))
    evidence = [line for line in step.evidence if not line.startswith(shown)]
    if evidence:
        lines += ["", "### Evidence", "", *_block(evidence)]
    return lines
