"""Stage: deploy the overcloud with `openstack overcloud deploy`, following its Heat stack to the end."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from pydantic import Field

from blocks.ssh import SSHHost
from rdoflow.site import SiteConfig
from tasks.overcloud import StageReport, publish_report, require_succeeded, run_steps, upload_roles_environment
from tasks.overcloud_commands import deploy_step


@flow(name="overcloud-deploy", flow_run_name="overcloud-deploy-{site.name}")
def overcloud_deploy(
    site: SiteConfig = Field(..., description="The environment: the undercloud, its cloud and the overcloud to deploy."),
    report_dir: Path | None = Field(None, description="Also write the report here (a directory)."),
) -> StageReport:
    """Run the deploy over SSH while the stack's progress is followed; on a failed stack, report its
    failed resources, their reasons and events, and fail the stage (a failed stack is not retried)."""
    host = SSHHost.from_target(site.undercloud.ssh)
    upload_roles_environment(host, site.overcloud)
    steps = run_steps(host, site.cloud, [deploy_step(site.overcloud)])
    report = publish_report(StageReport(stage="overcloud-deploy", site=site.name, stack=site.overcloud.stack,
                                        steps=steps), report_dir)
    require_succeeded(report)
    return report
