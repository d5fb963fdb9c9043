"""Stage: apply a pre-release drop to the site: its repositories and packages on the undercloud, the
overcloud's container images with its tag, then the minor update (or the major upgrade) of the overcloud."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from pydantic import Field

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import SiteConfig
from rdoflow.tasks.overcloud.steps import (
    require_succeeded,
    run_steps,
    upload_roles_environment,
)
from rdoflow.tasks.prerelease.apply import drop_steps, locate_drop
from rdoflow.tasks.prerelease.dlrn import check_base_url, current_drop
from rdoflow.tasks.prerelease.images import images_stage
from rdoflow.tasks.prerelease.model import ApplyDrop
from rdoflow.tasks.prerelease.packages import packages_stage
from rdoflow.tasks.prerelease.record import recorded


@flow(name="apply-drop", flow_run_name="apply-drop-{site.name}")
def apply_drop(
    site: SiteConfig = Field(..., description="The environment: the undercloud, its deployed overcloud and how a "
                                              "drop is applied (drop: update or upgrade)."),
    base_url: str = Field(..., description="The DLRN server's base URL, e.g. "
                                           "https://trunk.rdoproject.org/centos9-zed"),
    drop: str = Field("current-passed-ci", description="The drop: a promotion link under base_url, or its full "
                                                       "hash (commit_distro[_extended])."),
    report_dir: Path | None = Field(None, description="Also write the report (and the host's pin) here."),
    refresh: bool = Field(False, description="Update the packages and prepare the images again even when the "
                                             "undercloud already runs this drop."),
) -> ApplyDrop:
    """Read the drop; pin the undercloud's packages and repositories, install the drop's delorean.repo (the
    earlier file kept) and update the packages, reporting each package's old and new NVR; prepare the
    container images with the drop's tag; then run the overcloud's minor update (prepare, run per role,
    converge where the release has it) or its major upgrade, each step followed and diagnosed. The
    packages and images a failed run completed are reused while the undercloud still has them."""
    check_base_url(base_url)
    host = SSHHost.from_target(site.undercloud.ssh)
    link = site.drop_review.link if site.drop_review is not None else "current-passed-ci"
    the_drop = current_drop(base_url, locate_drop(base_url, drop, link=link))
    with recorded(ApplyDrop(site=site.name, address=host.address, drop=the_drop.full_hash,
                            source=f"{base_url.rstrip('/')}/{the_drop.link}", apply=site.drop.apply,
                            stack=site.overcloud.stack), report_dir) as report:
        report.packages = packages_stage(host, the_drop, site.drop, report_dir=report_dir, refresh=refresh)
        report.images = images_stage(host, the_drop.full_hash, site.drop.containers, site.overcloud.stack,
                                     refresh=refresh)
        upload_roles_environment(host, site.overcloud, site.undercloud.release)
        report.steps = run_steps(host, site.cloud, drop_steps(site, report.images.images_file))
        require_succeeded(report)
    return report
