"""Judging two stored runs: compare them, write the four reports, leave the artifacts, and fail with
the regressed tests and the ends of their tracebacks when the verdict is red.

Shared by the ``compare-runs`` flow (files given by hand) and ``upgrade-regression`` (runs stored
by the regression stage).
"""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from rdoflow.config.site import ComparisonPolicy
from rdoflow.errors import ResourceFailed
from rdoflow.reports.comparison import markdown
from rdoflow.tasks.results.model import BLOCKING, Comparison, RunMeta
from rdoflow.tasks.results.regression import (
    StoredRun,
    compare_stored,
    read_stored,
    write_reports,
)

TABLE_ROWS = 1000
EVIDENCE_TESTS = 5


class Verdict(BaseModel):
    """The comparison's outcome, small enough to be a flow's result."""

    verdict: str
    reasons: list[str]
    counts: dict[str, int]
    reports: dict[str, str]


def publish(comparison: Comparison, pre: StoredRun, post: StoredRun, report_dir: Path) -> Verdict:
    """Write the reports and leave a Markdown summary, a table of changed tests and a link to the HTML."""
    written = write_reports(report_dir, comparison, pre, post)
    create_markdown_artifact(markdown(comparison, pre.meta, post.meta), key="regression-comparison",
                             description=f"verdict: {comparison.verdict}")
    changed = comparison.changed().head(TABLE_ROWS)
    create_table_artifact(
        changed[["category", "test_id", "status_pre", "status_post", "known", "flaky"]].fillna("").to_dict("records"),
        key="regression-changes", description=f"{len(comparison.changed())} tests changed (first {TABLE_ROWS})")
    html = Path(written["html"]).resolve()
    create_link_artifact(html.as_uri(), link_text="HTML report", key="regression-report",
                         description="self-contained HTML report of the comparison")
    return Verdict(verdict=comparison.verdict, reasons=comparison.reasons, counts=comparison.counts,
                   reports={kind: str(Path(path).resolve()) for kind, path in written.items()})


def blocking_evidence(comparison: Comparison) -> list[str]:
    """The first blocking tests, each with the last line of its traceback: what a reader acts on."""
    rows = comparison.table[comparison.table["category"].isin(BLOCKING) & ~comparison.table["known"]
                            & ~comparison.table["flaky"]]
    lines = []
    for row in rows.head(EVIDENCE_TESTS).itertuples():
        lines.append(f"{row.category}: {row.test_id} ({row.status_pre} -> {row.status_post})")
        last = [line.strip() for line in str(row.reason or "").splitlines() if line.strip()][-1:]
        lines += [f"    {line[:300]}" for line in last]  # a traceback's last line: the exception and its message
    if len(rows) > EVIDENCE_TESTS:
        lines.append(f"... and {len(rows) - EVIDENCE_TESTS} more blocking tests")
    return lines


def require_pass(verdict: Verdict, comparison: Comparison) -> None:
    if verdict.verdict == "pass":
        return
    raise ResourceFailed("the regression comparison is red: " + "; ".join(verdict.reasons[:3]),
                         evidence=blocking_evidence(comparison),
                         hint=f"read the report: {verdict.reports['html']}; a test that is expected to fail goes "
                              "into the site's policy.known_failures with its bug")


@task(name="judge-runs", task_run_name="judge-{post.label}", cache_policy=NO_CACHE)
def judge_runs(pre: RunMeta, post: RunMeta, policy: ComparisonPolicy, location: str, report_dir: Path) -> Verdict:
    """Compare two stored runs into a verdict and its reports; a red verdict fails with its evidence."""
    pre_run, post_run = read_stored(pre, location), read_stored(post, location)
    comparison = compare_stored(pre_run, post_run, policy, location)
    verdict = publish(comparison, pre_run, post_run, report_dir)
    require_pass(verdict, comparison)
    return verdict
