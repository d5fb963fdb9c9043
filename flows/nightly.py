"""The nightly pipeline: every stage, in order, against one site (see DESIGN.md, "The pipeline")."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from pydantic import Field

from flows.node_introspection import node_introspection
from flows.overcloud_deploy import overcloud_deploy
from flows.package_review import package_review
from flows.undercloud_bootstrap import undercloud_bootstrap
from flows.upgrade_regression import upgrade_regression
from rdoflow.site import SiteConfig
from tasks.pipeline import Pipeline, PipelineSummary

STAGES = ["package-review", "undercloud-bootstrap", "node-introspection", "overcloud-deploy", "upgrade-regression"]
DEFAULT_REPORTS = Path(".rdoflow/reports/nightly")


@flow(name="nightly", flow_run_name="nightly-{site.name}")
def nightly(
    site: SiteConfig = Field(..., description="The environment to run the pipeline against."),
    drop: str | None = Field(None, description="The pre-release drop under test: its DLRN full hash "
                                               "(commit_distro[_extended]); empty for the packages already set up."),
    packages: list[str] = Field([], description="Spec files, SRPMs or distgit directories "
                                                                  "(paths or URLs) to review first; empty: none."),
    refresh: bool = Field(False, description="Redo every stage, even those a failed run already completed "
                                             "with the same inputs (otherwise they are reused)."),
    report_dir: Path | None = Field(None, description="Where each stage's report is written (a directory)."),
) -> PipelineSummary:
    """Review, bootstrap, introspect, deploy, then upgrade between two regression runs; the verdict is the
    comparison's. Stages a failed run already completed, whose inputs and state are unchanged, are reused."""
    report_dir = report_dir or DEFAULT_REPORTS
    with Pipeline("nightly", site.name, stages=STAGES, drop=drop, report_dir=report_dir) as pipeline:
        if packages:
            with pipeline.stage("package-review"):
                package_review(packages, report_dir=report_dir)
        else:
            pipeline.skip("package-review", "no packages given")
        with pipeline.stage("undercloud-bootstrap"):
            undercloud_bootstrap(site, report_dir=report_dir, refresh=refresh, drop=drop)
        with pipeline.stage("node-introspection"):
            node_introspection(site, report_dir=report_dir, refresh=refresh)
        with pipeline.stage("overcloud-deploy"):
            overcloud_deploy(site, report_dir=report_dir)
        with pipeline.stage("upgrade-regression") as judged:
            verdict = upgrade_regression(site, drop=drop or "", report_dir=report_dir)
            judged.summary = f"verdict {verdict.verdict}"
            pipeline.report("HTML report", verdict.reports["html"])
    return pipeline.summary
