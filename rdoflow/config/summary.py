"""A site config in a few lines: what ``rdoflow config validate`` prints when the file is good."""

from __future__ import annotations

import json
from pathlib import Path

from rdoflow.config.site import CloudSite, InventorySite, RegressionSite, SiteConfig
from rdoflow.config.ssh import SSHTarget
from rdoflow.config.yamlsource import parse_yaml
from rdoflow.errors import ConfigError


def describe_site(site: SiteConfig) -> list[str]:
    """A few lines on what the site says, for `rdoflow config validate` and logs."""
    undercloud, overcloud = site.undercloud, site.overcloud
    wanted = undercloud.minimums
    regression, policy = site.regression, site.policy
    roles = ", ".join(f"{role}={count}" for role, count in overcloud.roles.items()) or "roles from the templates"
    upgrade = " then ".join((["undercloud"] if site.upgrade.undercloud else []) + site.upgrade.roles_order)
    return [
        f"site: {site.name}",
        f"undercloud: {_ssh_summary(site.undercloud.ssh)}",
        f"undercloud minimums: {wanted.cpus} CPUs, {wanted.ram_gb:g} GiB RAM, "
        f"{wanted.disk_gb:g} GiB free on {wanted.disk_path}",
        f"cloud: {_cloud_summary(site.cloud)}",
        f"inventory: {_inventory_summary(site.inventory)}",
        f"overcloud: stack '{overcloud.stack}', {roles}, {len(overcloud.environment_files)} environment file(s)",
        f"regression: {regression.kind} in {regression.workdir}, {_selection_summary(regression)}"
        f"{len(regression.include)} include and {len(regression.exclude)} exclude pattern(s), "
        f"concurrency {regression.concurrency}",
        f"upgrade: {upgrade or 'nothing'}",
        f"policy: {len(policy.known_failures)} known failure(s), {len(policy.flaky)} flaky pattern(s), "
        f"slower above {policy.slower_ratio:g}x and +{policy.slower_seconds:g} s",
        f"results: {site.results.location}",
    ]


def _selection_summary(regression: RegressionSite) -> str:
    chosen = [f"selection '{regression.selection}'"] if regression.selection else []
    chosen += [f"areas {', '.join(regression.areas)}"] if regression.areas else []
    return f"{' and '.join(chosen)} plus " if chosen else ""


def _ssh_summary(ssh: SSHTarget) -> str:
    if ssh.block:
        return f"SSH host block '{ssh.block}'"
    return f"{ssh.address} (host keys: {ssh.host_key_policy})"


def _cloud_summary(cloud: CloudSite) -> str:
    if cloud.block:
        return f"OpenStack cloud block '{cloud.block}'"
    region = f", region {cloud.region}" if cloud.region else ""
    source = "the undercloud's ~/.config/openstack/clouds.yaml" if cloud.from_undercloud else (
        cloud.clouds_yaml or "clouds.yaml")
    return f"'{cloud.cloud}' from {source}{region}"


def _inventory_summary(inventory: InventorySite) -> str:
    if inventory.file is None:
        return "no file"
    return f"{inventory.file} ({_node_count(inventory.file)})"


def _node_count(file: Path) -> str:
    """How many nodes an instackenv.json or nodes.yaml lists; the inventory stage does the real checking."""
    try:
        text = file.read_text(encoding="utf-8")
        data = json.loads(text) if file.suffix == ".json" else parse_yaml(text, str(file)).data
    except (OSError, ValueError, ConfigError) as exc:
        return f"cannot be read: {exc.__class__.__name__}"
    nodes = data.get("nodes") if isinstance(data, dict) else data
    return f"{len(nodes)} nodes" if isinstance(nodes, list) else "no 'nodes' list"
