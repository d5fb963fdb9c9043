"""Comparing two runs end to end: read, store, compare, report (plain functions; Prefect tasks in ``verdict``).

``compare_files`` is the whole of ``rdoflow compare`` and of the ``compare-runs`` flow: both call it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from rdoflow.config.site import ComparisonPolicy, load_site
from rdoflow.config.yamlsource import raise_problems, read_yaml, validation_problems
from rdoflow.reports.comparison import (
    write_html,
    write_json,
    write_junit,
    write_markdown,
)
from rdoflow.tasks.results.compare import compare, history_flips
from rdoflow.tasks.results.model import Comparison, RunMeta, VerdictRecord, frame
from rdoflow.tasks.results.readers import read_run
from rdoflow.tasks.results.store import ResultsStore


@dataclass
class StoredRun:
    meta: RunMeta
    table: pd.DataFrame
    location: str


def load_policy(path: Path | None) -> ComparisonPolicy:
    """The comparison policy from a site file (its ``policy`` section) or a policy-only YAML file."""
    if path is None:
        return ComparisonPolicy()
    document = read_yaml(path)
    data = document.data
    if isinstance(data, dict) and "undercloud" in data:
        return load_site(path).policy
    try:
        return ComparisonPolicy.model_validate(data or {})
    except ValidationError as exc:
        raise_problems(str(path), document.problems + validation_problems(exc, document, ComparisonPolicy))


def run_id_for(path: Path, label: str) -> str:
    """A run's id from its content, so storing the same file twice replaces rather than duplicates."""
    target = path
    if path.is_dir():
        repo = path / ".stestr" if (path / ".stestr").is_dir() else path
        numbered = sorted((int(p.name), p) for p in repo.iterdir() if p.name.isdigit())
        target = numbered[-1][1] if numbered else repo
    try:
        content = target.read_bytes()
    except OSError:  # missing or unreadable: reading the run says so, with the file's name
        content = str(target).encode()
    digest = hashlib.sha256(content).hexdigest()[:12]
    return f"{label or 'run'}-{digest}"


def read_and_store(path: Path, meta: RunMeta, location: str) -> StoredRun:
    table = read_run(path, meta)
    return StoredRun(meta=meta, table=table, location=ResultsStore(location).write(table, meta))


def read_stored(meta: RunMeta, location: str) -> StoredRun:
    """A run stored earlier (by the regression stage), its table read back from the store."""
    table = ResultsStore(location).read(meta.suite or "unnamed", meta.run_id)
    return StoredRun(meta=meta, table=table, location=location)


def compare_stored(pre: StoredRun, post: StoredRun, policy: ComparisonPolicy, location: str) -> Comparison:
    # The two runs compared are not their own history: a test that differs between them is what is judged.
    # Nor are copies of them stored under another id (a run id ends with its raw results' digest: the
    # stage's "pre-<time>-<digest>" and `rdoflow compare`'s "pre-<digest>" of the same file).
    store, suite = ResultsStore(location), post.meta.suite or "unnamed"
    same = {run.meta.run_id.rsplit("-", 1)[-1] for run in (pre, post)}
    copies = tuple(m["run_id"] for m in store.runs(suite) if m["run_id"].rsplit("-", 1)[-1] in same)
    history = store.history(suite, policy.history_runs, excluding=(pre.meta.run_id, post.meta.run_id, *copies))
    return compare(pre.table, post.table, policy, history_flaky=history_flips(history, policy.history_runs))


def write_reports(directory: Path, comparison: Comparison, pre: StoredRun, post: StoredRun,
                  names: dict[str, Path | None] | None = None) -> dict[str, Path]:
    """The four reports; ``names`` may place any of them elsewhere (``None``: the default name in ``directory``)."""
    directory.mkdir(parents=True, exist_ok=True)
    names = names or {}
    where = {kind: names.get(kind) or directory / f"comparison.{ext}"
             for kind, ext in (("json", "json"), ("junit", "junit.xml"), ("html", "html"), ("md", "md"))}
    write_json(where["json"], comparison, pre.meta, post.meta)
    write_junit(where["junit"], comparison)
    write_html(where["html"], comparison, pre.meta, post.meta, pre.table, post.table)
    write_markdown(where["md"], comparison, pre.meta, post.meta)
    return where


@dataclass
class Judged:
    """Two stored runs, their comparison, and the reports written of it (files; and URLs in the store)."""

    comparison: Comparison
    pre: StoredRun
    post: StoredRun
    reports: dict[str, Path]
    urls: dict[str, str] = field(default_factory=dict)


STORE_NAMES = {"html": "comparison.html", "md": "comparison.md", "json": "comparison.json",
               "junit": "comparison.junit.xml"}


def publish_comparison(store: ResultsStore, comparison: Comparison, pre: StoredRun, post: StoredRun,
                       reports: dict[str, Path]) -> dict[str, str]:
    """The reports copied into the store beside the post run's (``reports/<suite>/<post run id>/``) and the
    verdict written beside the post run (``verdict.json``), naming them and the two runs' handover pages where
    the regression stage left them; returns each report's path in the store by kind."""
    suite = post.meta.suite or "unnamed"
    placed = {kind: store.report_path(suite, post.meta.run_id, name) for kind, name in STORE_NAMES.items()
              if kind in reports}
    for kind, relative in placed.items():
        store.put_report(relative, Path(reports[kind]))
    for run in (pre, post):
        handover = store.report_path(suite, run.meta.run_id, "handover.html")
        if store.has(handover):
            placed[f"handover-{run.meta.label or run.meta.run_id}"] = handover
    verdict = comparison.verdict
    store.write_verdict(post.meta, VerdictRecord(
        outcome=verdict.outcome, blocking=verdict.blocking, excused=verdict.excused, counts=verdict.counts,
        pre=pre.meta.run_id, post=post.meta.run_id, drop=post.meta.drop, judged_at=datetime.now(timezone.utc),
        reports=placed))
    return placed


def compare_files(pre: Path, post: Path, *, policy: ComparisonPolicy, location: str, report_dir: Path,
                  suite: str = "tempest", drop: str = "", names: dict[str, Path | None] | None = None,
                  public_url: str | None = None) -> Judged:
    """Read two result files (any supported format), store both, compare them and write the four reports.

    ``drop`` is the DLRN hash the ``post`` run tested; ``names`` may place any report elsewhere;
    ``public_url`` is where a browser opens the store (``results.public_url``).
    """
    runs = [read_and_store(path, RunMeta(run_id=run_id_for(path, label), label=label, suite=suite,
                                         drop=drop if label == "post" else ""), location)
            for path, label in ((pre, "pre"), (post, "post"))]
    return judge_stored(runs[0], runs[1], policy=policy, location=location, report_dir=report_dir, names=names,
                        public_url=public_url)


def judge_stored(pre: StoredRun, post: StoredRun, *, policy: ComparisonPolicy, location: str, report_dir: Path,
                 names: dict[str, Path | None] | None = None, public_url: str | None = None) -> Judged:
    """Compare two stored runs, write the four reports, and keep them and the verdict in the store."""
    comparison = compare_stored(pre, post, policy, location)
    reports = write_reports(report_dir, comparison, pre, post, names)
    store = ResultsStore(location, public_url)
    placed = publish_comparison(store, comparison, pre, post, reports)
    return Judged(comparison, pre, post, reports, {kind: store.url(path) for kind, path in placed.items()})


def add_rows(meta: RunMeta, location: str, rows: list[dict]) -> StoredRun:
    """Rows (``raw_id``, status, duration, reason, worker) added to a stored run, which is written again;
    a row whose id the run has replaces it."""
    stored = read_stored(meta, location)
    if not rows:
        return stored
    table = pd.concat([stored.table, frame(rows, meta)], ignore_index=True)
    table = table.drop_duplicates("test_id", keep="last").reset_index(drop=True)
    ResultsStore(location).write(table, meta)
    return StoredRun(meta=meta, table=table, location=location)
