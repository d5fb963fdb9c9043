"""Watch a DLRN promotion link; when a new pre-release drop appears, start the nightly pipeline for it."""

from __future__ import annotations

from typing import Any

from prefect import flow
from pydantic import Field

from rdoflow.tasks.prerelease.dlrn import current_drop
from rdoflow.tasks.prerelease.trigger import DEFAULT_DEPLOYMENT, DropWatch, start_if_new


@flow(name="watch-prerelease", flow_run_name="watch-prerelease-{link}")
def watch_prerelease(
    base_url: str = Field(..., description="DLRN base URL of the release, e.g. https://trunk.example/centos9-master."),
    link: str = Field("current-passed-ci", description="Promotion link to watch (current-passed-ci, "
                                                       "current-tripleo, consistent...)."),
    deployment: str | None = Field(DEFAULT_DEPLOYMENT, description="Deployment started for a new drop "
                                   "(FLOW/NAME); empty: only announce the drop (event rdoflow.prerelease.published), "
                                   "which starts the deployments triggered by it."),
    parameters: dict[str, Any] | None = Field(None, description="More parameters for that deployment "
                                                                         "(e.g. its site); 'drop' is set here."),
    timeout: float = Field(30, gt=0, description="Seconds to wait for the DLRN server's answer."),
) -> DropWatch:
    """Read the drop behind the link, compare it with the last one seen, start the pipeline when new."""
    drop = current_drop(base_url, link, timeout)
    return start_if_new(drop, deployment, parameters)
