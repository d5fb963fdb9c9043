"""Stage: the undercloud installed from the site's undercloud.conf, or verified when it already runs it."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from pydantic import Field

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import SiteConfig
from rdoflow.tasks.undercloud.conf import render_conf
from rdoflow.tasks.undercloud.install import (
    ensure_container_images_file,
    install_stage,
    observe_undercloud,
)
from rdoflow.tasks.undercloud.model import ConfRecord, UndercloudBootstrap
from rdoflow.tasks.undercloud.preflight import (
    preflight_checks,
    require_passed,
    undercloud_facts,
)
from rdoflow.tasks.undercloud.record import recorded
from rdoflow.tasks.undercloud.verify import require_verified, verify_undercloud


@flow(name="undercloud-bootstrap", flow_run_name="undercloud-bootstrap-{site.name}")
def undercloud_bootstrap(
    site: SiteConfig = Field(..., description="The environment: the undercloud host, its undercloud.conf settings "
                                              "and how to reach its APIs."),
    report_dir: Path | None = Field(None, description="Also write the report here (a directory)."),
    refresh: bool = Field(False, description="Install again even when the undercloud already runs this "
                                             "undercloud.conf (otherwise it is only verified)."),
    drop: str | None = Field(None, description="The pre-release drop under test (its DLRN hash); recorded in the "
                                               "report and part of the stage's cache key."),
) -> UndercloudBootstrap:
    """Preflight the host, render undercloud.conf, write the container images file it names when the host
    has none (TripleO's 'container image prepare default'), install it unless the undercloud already runs it, verify
    the client files and the Ironic and Heat APIs. The report is left whether the stage passes or not."""
    host = SSHHost.from_target(site.undercloud.ssh)
    with recorded(UndercloudBootstrap(site=site.name, address=host.address, drop=drop), report_dir) as report:
        report.preflight = preflight_checks(undercloud_facts(host, site.undercloud.minimums.disk_path),
                                            site.undercloud, report_dir)
        require_passed(report.preflight)
        conf = render_conf(site)
        ensure_container_images_file(host, site.undercloud)
        observed = observe_undercloud(host, conf)
        report.conf = ConfRecord.of(conf, observed)
        report.install = install_stage(host, conf, observed, timeout=site.undercloud.install_timeout,
                                       drop=drop, refresh=refresh)
        report.checks = verify_undercloud(host, site.cloud, site.undercloud.release,
                                          report.install.version or observed.version)
        require_verified(report.checks, host.address)
    return report
