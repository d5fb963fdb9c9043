"""Judging two runs as Prefect tasks: compare them (``runs.compare_files``), leave the artifacts, and
fail with the regressed tests and the ends of their tracebacks when the verdict is red.

Shared by the ``compare-runs`` flow (files given by hand) and ``upgrade-regression`` (runs stored
by the regression stage).
"""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from rdoflow.config.site import ComparisonPolicy
from rdoflow.errors import ResourceFailed
from rdoflow.redaction import redact
from rdoflow.reports.comparison import markdown
from rdoflow.reports.trend import headline
from rdoflow.tasks.artifacts import leave_link
from rdoflow.tasks.results.handover import FRAME, first_real_line
from rdoflow.tasks.results.model import BLOCKING, Comparison, RunMeta, Verdict
from rdoflow.tasks.results.runs import (
    Judged,
    compare_files,
    judge_stored,
    read_stored,
)
from rdoflow.tasks.results.store import ResultsStore
from rdoflow.tasks.results.trend import publish_trend, trend

TABLE_ROWS = 1000
EVIDENCE_TESTS = 5


def publish(judged: Judged) -> Verdict:
    """Leave the comparison as artifacts (a Markdown summary, a table of changed tests, a link to the HTML);
    the verdict, with where its reports are."""
    comparison, pre, post = judged.comparison, judged.pre, judged.post
    create_markdown_artifact(markdown(comparison, pre.meta, post.meta), key="regression-comparison",
                             description=f"verdict: {comparison.verdict.outcome}")
    changed = comparison.changed().head(TABLE_ROWS)
    create_table_artifact(
        changed[["category", "test_id", "status_pre", "status_post", "known", "flaky"]].fillna("").to_dict("records"),
        key="regression-changes", description=f"{len(comparison.changed())} tests changed (first {TABLE_ROWS})")
    leave_link(judged.urls["html"], link_text="HTML report", key="regression-report",
               description="self-contained HTML report of the comparison, in the results store")
    return comparison.verdict.model_copy(
        update={"reports": {kind: str(Path(path).resolve()) for kind, path in judged.reports.items()},
                "urls": judged.urls})


def leave_trend(location: str, suite: str, public_url: str | None = None) -> dict[str, str]:
    """The suite's trend page rewritten in the store with the verdict just stored, and a link to it; returns
    its URLs by kind."""
    found = trend(location, suite, public_url=public_url)
    urls = publish_trend(found, ResultsStore(location, public_url))
    leave_link(urls["html"], link_text=f"trend of {suite}", key="results-trend", description=headline(found))
    return urls


def blocking_evidence(comparison: Comparison) -> list[str]:
    """The first blocking tests, each with the last line of its traceback: what a reader acts on."""
    rows = comparison.table[comparison.table["category"].isin(BLOCKING) & ~comparison.table["known"]
                            & ~comparison.table["flaky"]]
    lines = []
    for row in rows.head(EVIDENCE_TESTS).itertuples():
        lines.append(f"{row.category}: {row.test_id} ({row.status_pre} -> {row.status_post})")
        lines += [f"    {line}" for line in _why(str(row.reason or ""))]
    if len(rows) > EVIDENCE_TESTS:
        lines.append(f"... and {len(rows) - EVIDENCE_TESTS} more blocking tests")
    return lines


def _why(reason: str) -> list[str]:
    """A traceback's exception with its message, whole (testtools' ``MismatchError: !=:`` goes on with the
    reference and actual values); otherwise the reason's last line (a script's output ends with its error)."""
    lines = [line for line in reason.splitlines() if line.strip()]
    if any(FRAME.match(line) for line in lines):
        return [first_real_line(reason)]
    return [redact(line.strip())[:300] for line in lines[-1:]]


def require_pass(verdict: Verdict, comparison: Comparison) -> None:
    """Raise ResourceFailed with the blocking reasons and the first blocking tests when the verdict is red."""
    if verdict.passed:
        return
    report = verdict.urls.get("html") or verdict.reports["html"]
    trend = f" (which drop broke what: {verdict.urls['trend']})" if "trend" in verdict.urls else ""
    error = ResourceFailed("the regression comparison is red: " + "; ".join(verdict.blocking[:3]),
                           evidence=blocking_evidence(comparison),
                           hint=f"read the report: {report}{trend}; a test that is expected to fail goes into the "
                                "site's policy.known_failures with its bug")
    error.report_urls = {"html": report, **verdict.urls}  # what a vote on the drop points at (tasks/pipeline/ballot.py)
    raise error


@task(name="judge-runs", task_run_name="judge-{post.label}", cache_policy=NO_CACHE)
def judge_runs(pre: RunMeta, post: RunMeta, policy: ComparisonPolicy, location: str, report_dir: Path,
               public_url: str | None = None) -> Verdict:
    """Compare two runs stored by the regression stage into a verdict and its reports (kept in the store too,
    with the suite's trend); a red one fails."""
    judged = judge_stored(read_stored(pre, location), read_stored(post, location), policy=policy,
                          location=location, report_dir=report_dir, public_url=public_url)
    verdict = publish(judged)
    trend_urls = leave_trend(location, post.suite or "unnamed", public_url)
    verdict = verdict.model_copy(update={"urls": {**verdict.urls, "trend": trend_urls["html"]}})
    require_pass(verdict, judged.comparison)
    return verdict


leave_trend_task = task(leave_trend, name="results-trend", task_run_name="trend-{suite}", cache_policy=NO_CACHE)


# The runs are in the store already: caching their tables in Prefect's result storage would copy them again.
compare_files_task = task(compare_files, name="compare-files", task_run_name="compare-{suite}", cache_policy=NO_CACHE)
