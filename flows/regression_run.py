"""Stage: run the regression suite on the undercloud, store its results, leave a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from prefect import flow
from prefect.logging import get_run_logger
from pydantic import Field

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import SiteConfig
from rdoflow.tasks.regression.model import RegressionRun
from rdoflow.tasks.regression.stage import run_suite_task, store_run_task
from rdoflow.tasks.regression.tempest_setup import setup_tempest


@flow(name="regression-run", flow_run_name="regression-{label}-{site.name}")
def regression_run(
    site: SiteConfig = Field(..., description="The environment: the undercloud, its suite and the results store."),
    label: Literal["pre", "post"] = Field("pre", description="Before (pre) or after (post) the upgrade."),
    drop: str = Field("", description="The DLRN hash under test, recorded with the results."),
    report_dir: Path | None = Field(None, description="Also write the report here (a directory)."),
) -> RegressionRun:
    """Set Tempest up where the site asks it (regression.setup: tempest init, tempest.conf from the cloud's
    credentials), then run the configured suite (Tempest/stestr, Rally or scripts) over SSH; failing tests
    are results, not a failed stage: the stage fails when nothing ran, the suite crashed or timed out. Not
    cached: a regression run is the measurement itself."""
    host = SSHHost.from_target(site.undercloud.ssh)
    if site.regression.kind == "tempest" and site.regression.setup is not None:
        done = setup_tempest(host, site.regression)
        get_run_logger().info("Tempest in %s: %s%s", done.workdir, "set up, " if done.changed else "", done.why)
    suite_run = run_suite_task(host, site.regression, label, report_dir)
    return store_run_task(suite_run, site, drop, report_dir)
