"""Reports of a pre/post comparison: Markdown, JSON, JUnit XML and a self-contained HTML page.

Renderers take the ``Comparison`` and the two runs' metadata, and know nothing
of how the results were obtained. HTML is autoescaped by Jinja2; its charts are
inline SVG, so the page needs no network to be read.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import jinja2
import pandas as pd

from rdoflow.reports.markdown import cell, code
from rdoflow.tasks.results.model import (
    BLOCKING,
    CATEGORIES,
    STATUSES,
    AreaResults,
    Comparison,
    RunMeta,
)

TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                               autoescape=True, trim_blocks=True, lstrip_blocks=True)
CHANGE_ROWS = 2000  # the HTML table lists at most this many changed tests; the JSON lists them all
COLOURS = {"pass": "#3a9d23", "fail": "#d1342f", "skip": "#9e9e9e", "xfail": "#7cb8e4", "uxsuccess": "#e08a00"}


def as_json(comparison: Comparison, pre: RunMeta, post: RunMeta) -> dict:
    tests = {category: comparison.tests(category) for category in CATEGORIES if category != "unchanged"}
    tests["unchanged"] = comparison.tests("unchanged")
    return {"verdict": comparison.verdict.outcome, "reasons": comparison.verdict.reasons,
            "blocking": comparison.verdict.blocking, "excused": comparison.verdict.excused, "counts": comparison.counts,
            "areas": [area.model_dump(mode="json") for area in comparison.areas],
            "tests": tests, "pre": pre.model_dump(mode="json"), "post": post.model_dump(mode="json")}


def write_json(path: Path, comparison: Comparison, pre: RunMeta, post: RunMeta) -> Path:
    # json.dump writes as it encodes: at 100,000 tests the whole text at once (json.dumps) was ~10 MiB more peak.
    with path.open("w") as out:
        json.dump(as_json(comparison, pre, post), out, indent=1)
        out.write("\n")
    return path


def markdown(comparison: Comparison, pre: RunMeta, post: RunMeta, *, limit: int = 50) -> str:
    mark = "✅ PASS" if comparison.verdict.passed else "❌ FAIL"
    lines = [f"# Regression comparison: {mark}", "",
             f"**{cell(pre.label or 'pre')}** {code(pre.run_id)} vs **{cell(post.label or 'post')}** {code(post.run_id)}"
             + (f" (drop {code(post.drop)})" if post.drop else ""), ""]
    lines += [f"- {cell(reason)}" for reason in comparison.verdict.reasons] + ["", "| category | tests |", "|---|---:|"]
    lines += [f"| {category.replace('_', ' ')} | {count} |" for category, count in comparison.counts.items()]
    lines += area_table(comparison.areas)
    for category in (*BLOCKING, "fixed", "newly_skipped", "slower"):
        rows = comparison.table[comparison.table["category"] == category]
        if rows.empty:
            continue
        lines += ["", f"## {category.replace('_', ' ').capitalize()} ({len(rows)})", ""]
        for row in rows.head(limit).itertuples():
            note = f" (known: {cell(row.known_reason)})" if row.known else " (flaky)" if row.flaky else ""
            lines.append(f"- {code(row.test_id)}{note}")
            first = _first_line(row.reason)
            if first and category in BLOCKING:
                lines.append(f"  - {cell(first)}")
        if len(rows) > limit:
            lines.append(f"- … and {len(rows) - limit} more (see the JSON or HTML report)")
    return "\n".join(lines) + "\n"


AREA_COLUMNS = ("regression", "new_failure", "removed", "fixed", "still_failing", "unchanged")


def area_table(areas: list[AreaResults]) -> list[str]:
    """The comparison by area of the inspection catalogue: its tests, what changed, and what blocks."""
    if not areas:
        return []
    head = " | ".join(column.replace("_", " ") for column in AREA_COLUMNS)
    lines = ["", "## By area", "", f"| area | tests | {head} | blocking |",
             "|---|---:|" + "---:|" * len(AREA_COLUMNS) + "---:|"]
    for area in areas:
        counts = " | ".join(str(area.counts.get(column, 0)) for column in AREA_COLUMNS)
        mark = " ❌" if area.blocking else ""
        lines.append(f"| {cell(area.title)}{mark} | {area.tests} | {counts} | {area.blocking} |")
    return lines


def _first_line(reason: str) -> str:
    """The line that says what went wrong: a traceback's last line, else the first."""
    lines = [line for line in (reason or "").strip().splitlines() if line.strip()]
    if not lines:
        return ""
    return (lines[-1] if lines[0].startswith("Traceback") else lines[0]).strip()[:300]


def write_junit(path: Path, comparison: Comparison) -> Path:
    """Every test as a testcase; regressions and new failures are failures, excused ones are skipped.

    Streamed to the file a line per test, every value escaped by saxutils: building 100,000 elements
    first (junitparser's objects, or ElementTree's) costs seconds and ~100 MB. The tests read it back
    with junitparser."""
    table = comparison.table
    failing = table["category"].isin(("regression", "new_failure"))
    excused = failing & (table["known"] | table["flaky"])
    removed = table["category"] == "removed"
    head = {"name": "rdoflow-compare", "tests": len(table), "failures": int((failing & ~excused).sum()),
            "errors": 0, "skipped": int(excused.sum() + removed.sum()),
            "time": f"{table['duration_post'].fillna(0).sum():.3f}"}
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites>\n<testsuite'
                  + "".join(f" {key}={quoteattr(str(value))}" for key, value in head.items()) + ">\n")
        for row in table.itertuples():
            owner, _, name = row.test_id.rpartition(".")
            timing = f" time=\"{row.duration_post:.3f}\"" if row.duration_post == row.duration_post else ""
            out.write(f"<testcase classname={quoteattr(owner)} name={quoteattr(name or row.test_id)}{timing}>")
            if row.category in ("regression", "new_failure") and not (row.known or row.flaky):
                message = quoteattr(f"{row.category}: {_first_line(row.reason)}")
                out.write(f"<failure type={quoteattr(row.category)} message={message}>{escape(row.reason)}</failure>")
            elif row.category in ("regression", "new_failure"):
                excuse = f"{row.category}, excused: {row.known_reason or 'flaky'}"
                out.write(f"<skipped message={quoteattr(excuse)}/>")
            elif row.category == "removed":
                out.write('<skipped message="removed: ran before, not after"/>')
            out.write("</testcase>\n")
        out.write("</testsuite>\n</testsuites>\n")
    return path


def write_markdown(path: Path, comparison: Comparison, pre: RunMeta, post: RunMeta) -> Path:
    path.write_text(markdown(comparison, pre, post))
    return path


def write_html(path: Path, comparison: Comparison, pre: RunMeta, post: RunMeta,
               pre_table: pd.DataFrame, post_table: pd.DataFrame) -> Path:
    changed = comparison.changed().fillna({"status_pre": "", "status_post": ""})
    html = TEMPLATES.get_template("comparison.html.j2").render(
        verdict=comparison.verdict.outcome, reasons=comparison.verdict.reasons, counts=comparison.counts, pre=pre, post=post,
        areas=comparison.areas, area_columns=AREA_COLUMNS, titles={a.area: a.title for a in comparison.areas},
        rows=changed.head(CHANGE_ROWS).itertuples(), shown=min(len(changed), CHANGE_ROWS), changed=len(changed),
        status_chart=status_chart(pre_table, post_table, pre.label or "pre", post.label or "post"),
        duration_chart=duration_chart(comparison.table), first_line=_first_line)
    path.write_text(html)
    return path


def status_chart(pre: pd.DataFrame, post: pd.DataFrame, pre_label: str, post_label: str) -> dict:
    """Stacked horizontal bars of the status breakdown, one per run (data for the template's SVG)."""
    bars = []
    for y, (label, table) in enumerate(((pre_label, pre), (post_label, post))):
        counts = table.loc[~table["fixture"], "status"].value_counts()
        total, x, segments = max(int(counts.sum()), 1), 0.0, []
        for status in STATUSES:
            count = int(counts.get(status, 0))
            width = 600 * count / total
            if count:
                segments.append({"x": 110 + x, "width": width, "colour": COLOURS[status], "status": status,
                                 "count": count})
            x += width
        bars.append({"label": label, "y": 20 + 40 * y, "segments": segments, "total": int(counts.sum())})
    return {"bars": bars, "legend": [{"status": s, "colour": COLOURS[s], "x": 110 + 110 * i}
                                     for i, s in enumerate(STATUSES)]}


def duration_chart(table: pd.DataFrame, size: int = 320, points: int = 3000) -> dict:
    """Duration before (x) vs after (y), log-scaled, for tests that ran in both; regressions in red."""
    both = table.dropna(subset=["duration_pre", "duration_post"])
    both = both[(both["duration_pre"] > 0) & (both["duration_post"] > 0)]
    if len(both) > points:  # keep every changed test, sample the unchanged ones
        both = pd.concat([both[both["category"] != "unchanged"],
                          both[both["category"] == "unchanged"].sample(points, random_state=0)]).head(points * 2)
    if both.empty:
        return {"size": size, "dots": [], "max": 0}
    top = math.log10(max(both["duration_pre"].max(), both["duration_post"].max()) * 1.1)
    low = math.log10(min(both["duration_pre"].min(), both["duration_post"].min()) * 0.9)
    span = max(top - low, 1e-9)

    def scale(values):
        return ((values.map(math.log10) - low) / span * (size - 40) + 30).round(1)

    xs, ys = scale(both["duration_pre"]), size - scale(both["duration_post"])
    colours = both["category"].map({"slower": "#e08a00", "regression": "#d1342f"}).fillna("#4a78b5")
    dots = [{"x": x, "y": y, "colour": c, "title": t} for x, y, c, t in zip(xs, ys, colours, both["test_id"])]
    return {"size": size, "dots": dots, "max": round(10 ** top, 2), "min": round(10 ** low, 3)}
