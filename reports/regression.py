"""A regression run as Markdown: counts, duration, where it is stored, and the failed tests with their reason.

Reasons and evidence arrive redacted (rdoflow.redaction): a renderer only lays out what it is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdoflow.reports.markdown import cell, code, fenced

if TYPE_CHECKING:
    from rdoflow.errors import ErrorRecord
    from rdoflow.tasks.regression.model import RegressionRun
    from rdoflow.tasks.results.model import AreaResults

FAILED_LISTED = 50


def render_summary(run: RegressionRun) -> str:
    counts, meta = run.counts, run.meta
    failing = counts["fail"] + counts["error"] + counts["uxsuccess"]
    verdict = "no failures" if failing == 0 else f"{failing} failing"
    lines = [
        f"# Regression run ({meta.label}, {meta.suite}): {verdict}",
        "",
        f"{counts['tests']} results in {run.duration:.1f} s on {code(meta.host)}"
        + (f", drop {code(meta.drop)}" if meta.drop else "") + f" ({run.expected} selected before the run).",
        "",
        "| pass | fail | skip | error | xfail | uxsuccess |",
        "|---|---|---|---|---|---|",
        "| " + " | ".join(str(counts[s]) for s in ("pass", "fail", "skip", "error", "xfail", "uxsuccess")) + " |",
        "",
        f"- run id: `{meta.run_id}`",
        f"- stored in: {code(run.location)} (raw results: {code(run.raw_stored)})",
        f"- local copy: {code(run.result_file)}",
    ]
    if counts["error"]:
        lines.append(f"- {counts['error']} error(s) are class or module fixtures (setUpClass...) that failed: "
                     "their tests did not run and are not counted one by one.")
    if run.areas:
        lines += ["", "## By area", "", "| area | tests | pass | fail | skip | error |", "|---|---:|---:|---:|---:|---:|"]
        lines += [_area_row(area) for area in run.areas]
    if run.failed:
        shown = run.failed[:FAILED_LISTED]
        lines += ["", f"## Failed ({failing}; {len(shown)} listed)", "", "| test | status | reason |",
                  "|---|---|---|"]
        lines += [f"| {code(t.test_id)} | {t.status} | {cell(t.reason)} |" for t in shown]
    return "\n".join(lines) + "\n"


def _area_row(area: AreaResults) -> str:
    counts = area.counts
    failed = counts.get("fail", 0) + counts.get("uxsuccess", 0)  # as the run's own count of failing tests
    return (f"| {cell(area.title)} | {area.tests} | {counts.get('pass', 0) + counts.get('xfail', 0)} | {failed} | "
            f"{counts.get('skip', 0)} | {counts.get('error', 0)} |")


def render_failure(error: ErrorRecord, kind: str, label: str) -> str:
    lines = [f"# Regression run ({label}, {kind}): FAILED, no results", "", f"**{cell(error.message)}**"]
    if error.evidence:
        lines += ["", *fenced(error.evidence)]
    if error.hint:
        lines += ["", f"**Next:** {cell(error.hint)}"]
    return "\n".join(lines) + "\n"
