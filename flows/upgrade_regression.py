"""upgrade_regression: the regression suite before and after the upgrade, and the verdict on the two runs."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from pydantic import Field

from rdoflow.config.site import SiteConfig
from rdoflow.flows.apply_drop import apply_drop
from rdoflow.flows.regression_run import regression_run
from rdoflow.flows.upgrade import upgrade
from rdoflow.tasks.pipeline.record import Pipeline, run_report_dir
from rdoflow.tasks.results.model import Verdict
from rdoflow.tasks.results.verdict import judge_runs
from rdoflow.tasks.workload.record import judge_workload, record_checks
from rdoflow.tasks.workload.validations import validations_task
from rdoflow.tasks.workload.watch import watched

STAGES = ["regression-pre", "upgrade", "regression-post", "compare"]


@flow(name="upgrade-regression", flow_run_name="upgrade-regression-{site.name}")
def upgrade_regression(
    site: SiteConfig = Field(..., description="The environment: its overcloud, suite, upgrade plan and policy."),
    drop: str = Field("", description="The pre-release drop (DLRN hash) the upgrade brings; recorded on the "
                                      "post-upgrade run."),
    report_dir: Path | None = Field(None, description="Where the reports are written (a directory)."),
) -> Verdict:
    """Run the suite and the validations (pre), upgrade with the workload watched throughout, run them again
    (post), add the validations and the workload to the two runs, compare: a regression turns the verdict red.
    Given a drop, a site that names its DLRN server (drop.base_url) gets the drop applied in place of the upgrade
    plan: its packages, its images, then the minor update or the major upgrade (the apply-drop stage)."""
    report_dir = report_dir or run_report_dir("upgrade-regression")
    with Pipeline("upgrade-regression", site.name, stages=STAGES, drop=drop, report_dir=report_dir) as pipeline:
        with pipeline.stage("regression-pre"):
            pre = regression_run(site, label="pre", report_dir=report_dir)
            validated_pre = validations_task(site, "pre")
        with pipeline.stage("upgrade"):
            with watched(site) as watch:  # set up before the first step, taken down after the last, come what may
                if drop and site.drop.base_url:
                    upgraded = apply_drop(site, site.drop.base_url, drop, report_dir=report_dir).stage_report()
                else:
                    upgraded = upgrade(site, report_dir=report_dir)
                workload = judge_workload(watch, upgraded)
        with pipeline.stage("regression-post"):
            post = regression_run(site, label="post", drop=drop, report_dir=report_dir)
            validated_post = validations_task(site, "post")
            record_checks(site, pre.meta, post.meta, validated_pre, validated_post, workload)
            pipeline.report("handover (post)", post.handover["html"])
        with pipeline.stage("compare") as compared:
            verdict = judge_runs(pre.meta, post.meta, site.policy, site.results.location, report_dir,
                                 site.results.public_url)
            compared.summary = ", ".join(f"{count} {name}" for name, count in verdict.counts.items() if count)
            pipeline.report("HTML report", verdict.reports["html"])
            pipeline.report("HTML report, in the results store", verdict.urls["html"])
            pipeline.report("trend", verdict.urls["trend"])
    return verdict
