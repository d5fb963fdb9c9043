"""The nightly pipeline: every stage, in order, against one site (see docs/running-flows.md)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from prefect import flow
from pydantic import Field

from rdoflow.config.site import SiteConfig
from rdoflow.errors import ConfigError
from rdoflow.flows.drop_review import drop_review
from rdoflow.flows.node_introspection import node_introspection
from rdoflow.flows.overcloud_deploy import overcloud_deploy
from rdoflow.flows.package_review import package_review
from rdoflow.flows.undercloud_bootstrap import undercloud_bootstrap
from rdoflow.flows.upgrade_regression import upgrade_regression
from rdoflow.tasks.pipeline.ballot import ballot
from rdoflow.tasks.pipeline.builtin_lab import LabOptions, built_in_lab
from rdoflow.tasks.pipeline.model import PipelineSummary
from rdoflow.tasks.pipeline.record import Pipeline, run_report_dir

STAGES = ["package-review", "undercloud-bootstrap", "node-introspection", "overcloud-deploy", "upgrade-regression",
          "drop-review", "vote"]


def _run_name() -> str:
    from prefect.runtime import flow_run

    site = flow_run.parameters.get("site")
    return f"nightly-{getattr(site, 'name', None) or (site or {}).get('name') or 'lab'}"


@flow(name="nightly", flow_run_name=_run_name)
def nightly(
    site: SiteConfig | None = Field(None, description="The environment to run the pipeline against; "
                                                      "empty: a fresh built-in lab (see 'lab')."),
    lab: LabOptions | None = Field(None, description="With no site: the built-in lab brought up for this run "
                                                     "and taken down after it (defaults when empty)."),
    drop: str | None = Field(None, description="The pre-release drop under test: its DLRN full hash "
                                               "(commit_distro[_extended]); empty for the packages already set up."),
    packages: list[str] = Field([], description="Spec files, SRPMs or distgit directories "
                                                                  "(paths or URLs) to review first; empty: none."),
    refresh: bool = Field(False, description="Redo every stage, even those a failed run already completed "
                                             "with the same inputs (otherwise they are reused)."),
    report_dir: Path | None = Field(None, description="Where each stage's report is written (a directory)."),
) -> PipelineSummary:
    """Review, bootstrap, introspect, deploy, then upgrade between two regression runs; the verdict is the
    comparison's. Given a drop, a site with a DLRN server (drop.base_url) gets the drop applied in place of the
    upgrade, the packages it changed reviewed (drop_review), and the result voted back to DLRN (drop.vote):
    failure when the cloud failed, none when rdoflow could not test. Stages a failed run already completed,
    whose inputs and state are unchanged, are reused. With no site, the pipeline runs against a fresh built-in lab, brought up first and taken down last."""
    if site is not None and lab is not None:
        raise ConfigError("parameters", ["nightly: give either a site or the lab's options, not both"])
    report_dir = report_dir or run_report_dir("nightly")
    stages = STAGES if site is not None else ["lab", *STAGES]
    with Pipeline("nightly", site.name if site else "lab", stages=stages, drop=drop, report_dir=report_dir) \
            as pipeline, ExitStack() as lab_scope:
        if site is None:
            with pipeline.stage("lab"):
                site = lab_scope.enter_context(built_in_lab(lab or LabOptions()))
        if packages:
            with pipeline.stage("package-review"):
                package_review(packages, report_dir=report_dir)
        else:
            pipeline.skip("package-review", "no packages given")
        with ballot(pipeline, site, drop, report_dir) as vote:
            with pipeline.stage("undercloud-bootstrap"):
                undercloud_bootstrap(site, report_dir=report_dir, refresh=refresh, drop=drop)
            with pipeline.stage("node-introspection"):
                node_introspection(site, report_dir=report_dir, refresh=refresh)
            with pipeline.stage("overcloud-deploy"):
                overcloud_deploy(site, report_dir=report_dir, refresh=refresh)
            with pipeline.stage("upgrade-regression") as judged:
                verdict = upgrade_regression(site, drop=drop or "", report_dir=report_dir)
                judged.summary = f"verdict {verdict.outcome}"
                pipeline.report("HTML report", verdict.reports["html"])
                vote.info_url = verdict.urls.get("html", "")
            if drop and site.drop_review is not None:
                with pipeline.stage("drop-review"):
                    drop_review(site.drop_review, drop=drop, store=site.results.location, report_dir=report_dir)
            else:
                pipeline.skip("drop-review", "no drop" if not drop else "the site reviews no drop (drop_review)")
    return pipeline.summary
