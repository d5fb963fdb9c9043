"""compare_runs: store two regression runs, compare them into a verdict, leave the reports as artifacts."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from pydantic import Field

from rdoflow.config.site import PublicUrl
from rdoflow.tasks.results.model import Verdict
from rdoflow.tasks.results.runs import load_policy
from rdoflow.tasks.results.verdict import (
    compare_files_task,
    leave_trend_task,
    publish,
    require_pass,
)


@flow(name="compare-runs", flow_run_name="compare-{suite}", log_prints=True)
def compare_runs(
    pre: str = Field(..., description="Result file or stestr directory of the run before the upgrade."),
    post: str = Field(..., description="Result file or stestr directory of the run after the upgrade."),
    suite: str = Field("tempest", description="Suite name the runs are stored under."),
    drop: str = Field("", description="DLRN hash the 'post' run tested, if any."),
    policy_file: str | None = Field(None, description="Site file or policy YAML (known failures, flaky, thresholds)."),
    store: str = Field(".rdoflow/results", description="Results store: a directory or an fsspec URL."),
    report_dir: str = Field(".rdoflow/reports/compare", description="Where the reports are written."),
    public_url: PublicUrl | None = Field(None, description="The URL a team's browser opens the store at (a site's "
                                         "results.public_url); unset: a local store's file:// URL."),
) -> Verdict:
    """Both runs are stored before they are compared, the reports and the suite's trend kept in the store too;
    a fail verdict fails the flow run, with its reasons."""
    judged = compare_files_task(Path(pre), Path(post), policy=load_policy(Path(policy_file) if policy_file else None),
                                location=store, report_dir=Path(report_dir), suite=suite, drop=drop,
                                public_url=public_url)
    verdict = publish(judged)
    leave_trend_task(store, suite, public_url)
    require_pass(verdict, judged.comparison)
    return verdict
