"""compare_runs: store two regression runs, compare them into a verdict, leave the reports as artifacts."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from pydantic import Field

from rdoflow.errors import ResourceFailed
from reports.comparison import markdown
from tasks.results.model import RunMeta
from tasks.results.regression import load_policy, run_id_for
from tasks.results.stages import compare_task, read_and_store_task, write_reports_task

TABLE_ROWS = 1000


@flow(name="compare-runs", flow_run_name="compare-{suite}", log_prints=True)
def compare_runs(
    pre: str = Field(..., description="Result file or stestr directory of the run before the upgrade."),
    post: str = Field(..., description="Result file or stestr directory of the run after the upgrade."),
    suite: str = Field("tempest", description="Suite name the runs are stored under."),
    drop: str = Field("", description="DLRN hash the 'post' run tested, if any."),
    policy_file: str | None = Field(None, description="Site file or policy YAML (known failures, flaky, thresholds)."),
    store: str = Field(".rdoflow/results", description="Results store: a directory or an fsspec URL."),
    report_dir: str = Field(".rdoflow/reports/compare", description="Where the reports are written."),
) -> dict:
    """Both runs are stored before they are compared; a fail verdict fails the flow run, with its reasons."""
    policy = load_policy(Path(policy_file) if policy_file else None)
    runs = [read_and_store_task(Path(path), RunMeta(run_id=run_id_for(Path(path), label), label=label, suite=suite,
                                                    drop=drop if label == "post" else ""), store)
            for path, label in ((pre, "pre"), (post, "post"))]
    comparison = compare_task(runs[0], runs[1], policy, store)
    written = write_reports_task(Path(report_dir), comparison, runs[0], runs[1])
    create_markdown_artifact(markdown(comparison, runs[0].meta, runs[1].meta), key="regression-comparison",
                             description=f"verdict: {comparison.verdict}")
    changed = comparison.changed().head(TABLE_ROWS)
    create_table_artifact(
        changed[["category", "test_id", "status_pre", "status_post", "known", "flaky"]].fillna("").to_dict("records"),
        key="regression-changes", description=f"{len(comparison.changed())} tests changed (first {TABLE_ROWS})")
    html = Path(written["html"]).resolve()
    create_link_artifact(html.as_uri(), link_text="HTML report", key="regression-report",
                         description="self-contained HTML report of the comparison")
    if comparison.verdict != "pass":
        raise ResourceFailed("the regression comparison is red: " + "; ".join(comparison.reasons[:3]),
                             evidence=comparison.reasons, hint=f"read the report: {html}")
    return {"verdict": comparison.verdict, "counts": comparison.counts, "reports": {k: str(v) for k, v in written.items()}}
