"""The flows by name, as the CLI and the deployments know them."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from rdoflow.errors import ConfigError

FLOWS: dict[str, str] = {
    "nightly": "rdoflow.flows.nightly:nightly",
    "undercloud-preflight": "rdoflow.flows.undercloud_preflight:undercloud_preflight",
    "undercloud-bootstrap": "rdoflow.flows.undercloud_bootstrap:undercloud_bootstrap",
    "node-introspection": "rdoflow.flows.node_introspection:node_introspection",
    "overcloud-deploy": "rdoflow.flows.overcloud_deploy:overcloud_deploy",
    "upgrade": "rdoflow.flows.upgrade:upgrade",
    "regression-run": "rdoflow.flows.regression_run:regression_run",
    "upgrade-regression": "rdoflow.flows.upgrade_regression:upgrade_regression",
    "compare-runs": "rdoflow.flows.compare_runs:compare_runs",
    "package-review": "rdoflow.flows.package_review:package_review",
    "watch-prerelease": "rdoflow.flows.watch_prerelease:watch_prerelease",
    "drop-review": "rdoflow.flows.drop_review:drop_review",
    "apply-drop": "rdoflow.flows.apply_drop:apply_drop",
}


def load_flow(name: str) -> Any:
    """The Prefect flow object registered under ``name``."""
    if name not in FLOWS:
        raise ConfigError("flow", [f"unknown flow {name!r}; expected one of: {', '.join(sorted(FLOWS))}"])
    module, _, attribute = FLOWS[name].partition(":")
    return getattr(import_module(module), attribute)


