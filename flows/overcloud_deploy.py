"""Stage: deploy the overcloud with `openstack overcloud deploy`, following its Heat stack to the end."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from pydantic import Field

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import SiteConfig
from rdoflow.tasks.overcloud.model import StageReport
from rdoflow.tasks.overcloud.steps import (
    deploy_stage,
    environment_files_digest,
    publish_report,
    stack_deployed,
)
from rdoflow.tasks.resume import resumable


@flow(name="overcloud-deploy", flow_run_name="overcloud-deploy-{site.name}")
def overcloud_deploy(
    site: SiteConfig = Field(..., description="The environment: the undercloud, its cloud and the overcloud "
                                              "to deploy."),
    report_dir: Path | None = Field(None, description="Also write the report here (a directory)."),
    refresh: bool = Field(False, description="Deploy even when the same overcloud settings were deployed "
                                             "and the stack is still complete."),
) -> StageReport:
    """Run the deploy over SSH while its progress is followed (Train: the Heat stack; Wallaby and Zed: node
    provision, then the deploy's ansible hosts); on a failure, report the first real error with its
    evidence (failed resources, a node, a host's task) and fail the stage (not retried).
    A deploy of the same settings and environment files' content whose stack is still complete is reused,
    unless ``refresh``."""
    host, release = SSHHost.from_target(site.undercloud.ssh), site.undercloud.release
    settled = stack_deployed(site.cloud, site.overcloud.stack, host, release)
    environment = environment_files_digest(host, site.overcloud)
    deploy = resumable(deploy_stage, settled=settled, refresh=refresh)
    return publish_report(deploy(host, site.cloud, site.overcloud, site.name, report_dir, environment, release),
                          report_dir)
