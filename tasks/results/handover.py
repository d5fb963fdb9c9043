"""The handover report of one run: per area of the inspection catalogue, what passed, what failed and why.

``handover`` builds it from a run's normalized table; ``find_run`` reads a run back from the store or a
result file; ``write_handover`` writes its one page as HTML and Markdown (renderers in ``reports.handover``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from rdoflow.config.catalogue import Catalogue, load_catalogue
from rdoflow.errors import ConfigError
from rdoflow.redaction import redact
from rdoflow.reports.handover import html as html_page
from rdoflow.reports.handover import markdown, write_html, write_markdown
from rdoflow.tasks.results.areas import RUN_STATUSES, run_areas
from rdoflow.tasks.results.model import (
    FAILING,
    Handover,
    HandoverArea,
    HandoverFailure,
    RunMeta,
)
from rdoflow.tasks.results.readers import read_run
from rdoflow.tasks.results.runs import StoredRun, read_stored, run_id_for
from rdoflow.tasks.results.store import ResultsStore

FAILED_PER_AREA = 10  # one page: a customer reads the first few; the store has them all
WHY_CHARS = 300
FRAME = re.compile(r'^\s+File "[^"]*", line \d+')  # a traceback's frame


def first_real_line(reason: str) -> str:
    """What went wrong in one line, redacted: a traceback's exception (with the lines it goes on over, such as
    Tempest's ``Details: {…}``), else the reason's first line."""
    lines = [line for line in (reason or "").splitlines() if line.strip()]
    frames = [i for i, line in enumerate(lines) if FRAME.match(line)]
    if frames:
        after = lines[frames[-1] + 1:]
        start = next((i for i, line in enumerate(after) if not line[:1].isspace()), len(after))
        lines = [" ".join(line.strip() for line in after[start:])] if after[start:] else lines[-1:]
    if not lines:
        return ""
    line = redact(lines[0].strip())
    return line if len(line) <= WHY_CHARS else line[:WHY_CHARS] + "…"


def handover(table: pd.DataFrame, meta: RunMeta, catalogue: Catalogue | None = None,
             limit: int = FAILED_PER_AREA) -> Handover:
    area, results = run_areas(table, catalogue or load_catalogue())
    failing = table["status"].isin(FAILING)
    areas = []
    for summary in results:
        rows = table[(area == summary.area) & failing].sort_values("test_id", kind="stable").head(limit)
        failed = [HandoverFailure(test_id=row.test_id, status="error" if row.fixture else row.status,
                                  why=first_real_line(row.reason)) for row in rows.itertuples()]
        areas.append(HandoverArea(results=summary, failed=failed))
    totals = {status: sum(a.results.counts.get(status, 0) for a in areas) for status in RUN_STATUSES}
    return Handover(meta=meta, totals={**totals, "tests": len(table)}, areas=areas, failed_per_area=limit)


def find_run(run: str, location: str, suite: str | None = None) -> StoredRun:
    """A run by its id in the store (``rdoflow results list`` shows them), or a result file read as it is."""
    path = Path(run)
    if path.exists():
        meta = RunMeta(run_id=run_id_for(path, "run"), suite=suite or "")
        return StoredRun(meta=meta, table=read_run(path, meta), location=str(path))
    found = [entry for entry in ResultsStore(location).runs(suite) if entry["run_id"] == run]
    if not found:
        raise ConfigError(run, [f"{run}: no such result file, and no run of that id in the store {location}"
                                + (f" (suite {suite})" if suite else "")],
                          hint="'rdoflow results list --store STORE' shows the stored runs")
    meta = RunMeta.model_validate({key: found[-1][key] for key in RunMeta.model_fields if key in found[-1]})
    return read_stored(meta, location)


def publish_handover(report: Handover, store: ResultsStore) -> dict[str, str]:
    """The one page in the store, ``reports/<suite>/<run id>/handover.html`` and ``.md``; returns their URLs."""
    pages = {"html": html_page(report), "md": markdown(report)}
    return {kind: store.put_report(store.report_path(report.meta.suite or "unnamed", report.meta.run_id,
                                                     f"handover.{kind}"), text) for kind, text in pages.items()}


def write_handover(report: Handover, html: Path, md: Path) -> dict[str, Path]:
    """The one page, as HTML and Markdown; returns them by kind."""
    for path in (html, md):
        path.parent.mkdir(parents=True, exist_ok=True)
    return {"html": write_html(html, report), "md": write_markdown(md, report)}
