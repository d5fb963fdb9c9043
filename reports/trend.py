"""The trend of a suite over its last drops: Markdown, a self-contained HTML page, and JSON.

Renderers take the ``Trend`` and know nothing of the store. Drops are listed newest first (what a team looks
at first); a test's statuses go left to right, oldest drop to newest. Names, reasons and drops come from the
systems under test and are escaped: Jinja2's autoescape in the page, ``cell``/``code`` in Markdown.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from rdoflow.reports.markdown import cell, code, link
from rdoflow.tasks.results.model import DropResult, TrackedTest, Trend

TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                               autoescape=True, trim_blocks=True, lstrip_blocks=True)
MARKS = {"pass": "✅ pass", "fail": "❌ fail", None: "➖ no verdict"}
LISTED = 3  # tests named per drop in the table's cell; the sections below list them all


def headline(trend: Trend) -> str:
    latest = trend.drops[-1] if trend.drops else None
    if latest is None:
        return f"{trend.suite}: no drops"
    broke = sum(drop.introduced_total for drop in trend.drops)
    verdict = latest.verdict.upper() if latest.verdict else "no verdict"
    return f"{trend.suite}, last {len(trend.drops)} drops: {broke} tests broken; latest {latest.drop}: {verdict}"


def when(drop: DropResult) -> str:
    return drop.when[:16].replace("T", " ")


def _names(tests: list, total: int) -> str:
    shown = ", ".join(code(test.test_id) for test in tests[:LISTED])
    return f"{total}: {shown}" + (f" and {total - LISTED} more" if total > LISTED else "") if total else "0"


def markdown(trend: Trend) -> str:
    lines = [f"# Trend: {cell(headline(trend))}", "",
             "| drop | when | verdict | tests | failing | broke | fixed | reports |",
             "|---|---|---|---:|---:|---|---|---|"]
    for drop in reversed(trend.drops):
        reports = " ".join(link(kind, url) for kind, url in drop.reports.items())
        lines.append(f"| {code(drop.drop)} | {cell(when(drop))} | {MARKS[drop.verdict]} | {drop.tests} | "
                     f"{drop.failing} | {_changed(drop, drop.introduced, drop.introduced_total)} | "
                     f"{_changed(drop, drop.fixed, drop.fixed_total)} | {reports} |")
    for drop in reversed(trend.drops):
        lines += _drop_section(drop)
    if trend.flaky:
        lines += ["", f"## Tests that flip ({trend.flaky_total})", "", *_matrix(trend, trend.flaky)]
    if trend.test:
        lines += ["", f"## Tests containing {code(trend.test)} ({trend.tests_matched})", "",
                  *_matrix(trend, trend.tests)]
    return "\n".join(lines) + "\n"


def _changed(drop: DropResult, tests: list, total: int) -> str:
    if drop.unreadable:
        return "unreadable"
    return "—" if drop.previous is None else _names(tests, total)


def _drop_section(drop: DropResult) -> list[str]:
    if drop.unreadable:
        return ["", f"## Drop {code(drop.drop)}: {cell(drop.unreadable)}"]
    if not (drop.introduced or drop.reasons):
        return []
    lines = ["", f"## Drop {code(drop.drop)}: {MARKS[drop.verdict]}", ""]
    lines += [f"- {cell(reason)}" for reason in drop.reasons]
    if drop.introduced:
        lines += ["", f"Broke since {code(drop.previous)} ({drop.introduced_total}):", ""]
        lines += [f"- {code(test.test_id)}" + (f": {cell(test.why)}" if test.why else "") for test in drop.introduced]
        if drop.introduced_total > len(drop.introduced):
            lines.append(f"- … and {drop.introduced_total - len(drop.introduced)} more")
    return lines


def _matrix(trend: Trend, tests: list[TrackedTest]) -> list[str]:
    drops = [drop.drop for drop in trend.drops]
    lines = ["| test | " + " | ".join(code(d) for d in drops) + " | broke in | fixed in |",
             "|---|" + "---|" * len(drops) + "---|---|"]
    for test in tests:
        statuses = " | ".join(cell(test.statuses.get(d) or "—") for d in drops)
        lines.append(f"| {code(test.test_id)} | {statuses} | {', '.join(code(d) for d in test.broken_in)} | "
                     f"{', '.join(code(d) for d in test.fixed_in)} |")
    return lines


def html(trend: Trend) -> str:
    latest = trend.drops[-1].verdict if trend.drops else None
    return TEMPLATES.get_template("trend.html.j2").render(
        trend=trend, headline=headline(trend), banner=latest or "none", drops=list(reversed(trend.drops)),
        columns=[drop.drop for drop in trend.drops], marks=MARKS, when=when)


def write_trend(trend: Trend, *, html_file: Path | None = None, md_file: Path | None = None,
                json_file: Path | None = None) -> dict[str, Path]:
    """The pages asked for; returns them by kind."""
    written = {}
    for kind, path, render in (("html", html_file, html), ("md", md_file, markdown),
                               ("json", json_file, lambda t: t.model_dump_json(indent=1) + "\n")):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(trend))
            written[kind] = path
    return written
