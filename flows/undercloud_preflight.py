"""Stage: is the undercloud host fit for `openstack undercloud install`?"""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from pydantic import Field

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import SiteConfig
from rdoflow.tasks.undercloud.model import Preflight
from rdoflow.tasks.undercloud.preflight import (
    preflight_checks,
    require_passed,
    undercloud_facts,
)


@flow(name="undercloud-preflight", flow_run_name="undercloud-preflight-{site.name}")
def undercloud_preflight(
    site: SiteConfig = Field(..., description="The environment: where the undercloud is and what it needs."),
    report_dir: Path | None = Field(None, description="Also write the report here (a directory)."),
) -> Preflight:
    """Read the undercloud's facts over SSH, check them against the site's minimums, fail on a shortfall."""
    host = SSHHost.from_target(site.undercloud.ssh)
    facts = undercloud_facts(host, site.undercloud.minimums.disk_path)
    preflight = preflight_checks(facts, site.undercloud, report_dir)
    require_passed(preflight)
    return preflight
