"""The nightly pipeline: every stage, in order, against one site.

Today it holds the first stage only; the lifecycle stages join it as they land.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from pydantic import Field

from flows.undercloud_preflight import undercloud_preflight
from rdoflow.site import SiteConfig
from tasks.undercloud import Preflight


@flow(name="nightly", flow_run_name="nightly-{site.name}")
def nightly(
    site: SiteConfig = Field(..., description="The environment to run the pipeline against."),
    report_dir: Path | None = Field(None, description="Also write each stage's report here (a directory)."),
    drop: str | None = Field(None, description="The pre-release drop under test: its DLRN full hash "
                                               "(commit_distro[_extended]); empty for the packages already set up."),
) -> Preflight:
    """Preflight the undercloud."""
    if drop:
        get_run_logger().info("testing pre-release drop %s", drop)
    return undercloud_preflight(site, report_dir)
