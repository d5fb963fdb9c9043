"""The flows by name, as the CLI and the deployments know them, and how to run one locally."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

from rdoflow.errors import ConfigError
from rdoflow.site import load_site

FLOWS: dict[str, str] = {
    "nightly": "flows.nightly:nightly",
    "undercloud-preflight": "flows.undercloud_preflight:undercloud_preflight",
    "overcloud-deploy": "flows.overcloud_deploy:overcloud_deploy",
    "upgrade": "flows.upgrade:upgrade",
    "package-review": "flows.package_review:package_review",
    "watch-prerelease": "flows.watch_prerelease:watch_prerelease",
}


def load_flow(name: str) -> Any:
    """The Prefect flow object registered under ``name``."""
    if name not in FLOWS:
        raise ConfigError("flow", [f"unknown flow {name!r}; expected one of: {', '.join(sorted(FLOWS))}"])
    module, _, attribute = FLOWS[name].partition(":")
    return getattr(import_module(module), attribute)


def run_flow(name: str, site_file: Path, report_dir: Path) -> Any:
    """Validate the site file, then run the flow in this process (ephemeral Prefect unless PREFECT_API_URL is set).

    Raises ConfigError for a bad site file, and whatever the flow raises when a stage fails.
    """
    flow = load_flow(name)
    site = load_site(site_file)
    return flow(site=site, report_dir=report_dir)
