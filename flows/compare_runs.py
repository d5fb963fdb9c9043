"""compare_runs: store two regression runs, compare them into a verdict, leave the reports as artifacts."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from pydantic import Field

from rdoflow.tasks.results.model import RunMeta
from rdoflow.tasks.results.regression import load_policy, run_id_for
from rdoflow.tasks.results.stages import compare_task, read_and_store_task
from rdoflow.tasks.results.verdict import Verdict, publish, require_pass


@flow(name="compare-runs", flow_run_name="compare-{suite}", log_prints=True)
def compare_runs(
    pre: str = Field(..., description="Result file or stestr directory of the run before the upgrade."),
    post: str = Field(..., description="Result file or stestr directory of the run after the upgrade."),
    suite: str = Field("tempest", description="Suite name the runs are stored under."),
    drop: str = Field("", description="DLRN hash the 'post' run tested, if any."),
    policy_file: str | None = Field(None, description="Site file or policy YAML (known failures, flaky, thresholds)."),
    store: str = Field(".rdoflow/results", description="Results store: a directory or an fsspec URL."),
    report_dir: str = Field(".rdoflow/reports/compare", description="Where the reports are written."),
) -> Verdict:
    """Both runs are stored before they are compared; a fail verdict fails the flow run, with its reasons."""
    policy = load_policy(Path(policy_file) if policy_file else None)
    runs = [read_and_store_task(Path(path), RunMeta(run_id=run_id_for(Path(path), label), label=label, suite=suite,
                                                    drop=drop if label == "post" else ""), store)
            for path, label in ((pre, "pre"), (post, "post"))]
    comparison = compare_task(runs[0], runs[1], policy, store)
    verdict = publish(comparison, runs[0], runs[1], Path(report_dir))
    require_pass(verdict, comparison)
    return verdict
