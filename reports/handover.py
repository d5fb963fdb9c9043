"""The handover report of one run, one page in Markdown and in HTML: per area, what passed, what failed and why.

Reasons arrive redacted (``tasks.results.handover``); names and reasons are escaped here, as in every report.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from rdoflow.reports.markdown import cell, code
from rdoflow.tasks.results.model import Handover, HandoverArea

TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                               autoescape=True, trim_blocks=True, lstrip_blocks=True)
MARKS = {"pass": "✅ pass", "fail": "❌ fail", "not run": "➖ not run"}


def headline(report: Handover) -> str:
    areas = report.areas
    failed = [area for area in areas if area.outcome == "fail"]
    if not areas:
        return "no tests"
    if not failed:
        return f"all {len(areas)} areas passed"
    return f"{len(failed)} of {len(areas)} areas failed: " + ", ".join(area.results.title for area in failed)


def totals_line(report: Handover) -> str:
    totals = report.totals
    failed = totals.get("fail", 0) + totals.get("uxsuccess", 0)
    line = (f"{totals['tests']} tests: {totals.get('pass', 0) + totals.get('xfail', 0)} passed, {failed} failed, "
            f"{totals.get('skip', 0)} skipped")
    return line + (f", {totals['error']} class fixtures failed" if totals.get("error") else "")


def run_line(report: Handover) -> str:
    meta = report.meta
    parts = [f"suite {meta.suite}" if meta.suite else "", f"label {meta.label}" if meta.label else "",
             f"drop {meta.drop}" if meta.drop else "", f"on {meta.host}" if meta.host else "",
             f"started {meta.started_at:%Y-%m-%d %H:%M} UTC" if meta.started_at else ""]
    return ", ".join(part for part in parts if part)


def markdown(report: Handover) -> str:
    lines = [f"# Handover: {cell(headline(report))}", "",
             f"Run {code(report.meta.run_id)}" + (f" ({cell(run_line(report))})" if run_line(report) else "")
             + f": {totals_line(report)}.", "",
             "| area | what it means | result | passed | failed | skipped |", "|---|---|---|---:|---:|---:|"]
    for area in report.areas:
        counts = area.results.counts
        lines.append(f"| {cell(area.results.title)} | {cell(area.results.reads_as)} | {MARKS[area.outcome]} | "
                     f"{counts.get('pass', 0) + counts.get('xfail', 0)} | {area.failing} | {counts.get('skip', 0)} |")
    for area in report.areas:
        if area.outcome == "fail":
            lines += ["", *_failed_section(area)]
    return "\n".join(lines) + "\n"


def _failed_section(area: HandoverArea) -> list[str]:
    lines = [f"## {cell(area.results.title)}: {area.failing} failed of {area.results.tests}", "",
             "| test | why |", "|---|---|"]
    lines += [f"| {code(test.test_id)}{' (class fixture)' if test.status == 'error' else ''} | {cell(test.why)} |"
              for test in area.failed]
    if area.failing > len(area.failed):
        lines += ["", f"… and {area.failing - len(area.failed)} more (the run's stored results have them all)"]
    return lines


def write_markdown(path: Path, report: Handover) -> Path:
    path.write_text(markdown(report))
    return path


def html(report: Handover) -> str:
    return TEMPLATES.get_template("handover.html.j2").render(
        report=report, headline=headline(report), totals=totals_line(report), run=run_line(report))


def write_html(path: Path, report: Handover) -> Path:
    path.write_text(html(report))
    return path
