"""Stage: upgrade the undercloud, then the overcloud: prepare, run role by role, converge."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from pydantic import Field

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import SiteConfig
from rdoflow.tasks.overcloud.commands import upgrade_steps
from rdoflow.tasks.overcloud.model import StageReport
from rdoflow.tasks.overcloud.steps import (
    publish_report,
    require_succeeded,
    run_steps,
    upload_roles_environment,
)


@flow(name="upgrade", flow_run_name="upgrade-{site.name}")
def upgrade(
    site: SiteConfig = Field(..., description="The environment: the undercloud, the deployed overcloud and "
                                              "the upgrade plan (roles order, environment files)."),
    report_dir: Path | None = Field(None, description="Also write the report here (a directory)."),
) -> StageReport:
    """`openstack undercloud upgrade` (unless the plan skips it), `overcloud upgrade prepare`, `upgrade run
    --limit ROLE` for each role in order, `upgrade converge` where the release has it (not Zed); each step
    followed and diagnosed, the first failure stops the stage."""
    host = SSHHost.from_target(site.undercloud.ssh)
    upload_roles_environment(host, site.overcloud, site.undercloud.release)
    steps = upgrade_steps(site.overcloud, site.upgrade, site.undercloud.install_timeout, site.undercloud.release)
    report = publish_report(StageReport(stage="upgrade", site=site.name, stack=site.overcloud.stack,
                                        steps=run_steps(host, site.cloud, steps)), report_dir)
    require_succeeded(report)
    return report
