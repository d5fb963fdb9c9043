"""Stage: the bare-metal nodes of the inventory enrolled in Ironic, inspected and available."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from pydantic import Field

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import SiteConfig
from rdoflow.tasks.baremetal.introspection import (
    introspect_nodes,
    load_inventory,
    nodes_settled,
    publish_introspection,
    require_available,
)
from rdoflow.tasks.baremetal.model import Introspection
from rdoflow.tasks.resume import resumable
from rdoflow.tasks.undercloud.credentials import site_cloud


@flow(name="node-introspection", flow_run_name="node-introspection-{site.name}")
def node_introspection(
    site: SiteConfig = Field(..., description="The environment: its Ironic, its inventory file and how many "
                                              "nodes each role needs."),
    report_dir: Path | None = Field(None, description="Also write the report here (a directory)."),
    refresh: bool = Field(False, description="Inspect again, even nodes already available with their hardware "
                                             "known, instead of reusing the last successful run."),
) -> Introspection:
    """Validate the inventory, enroll its nodes (Wallaby and Zed: TripleO's own node import on the
    undercloud, for the defaults it sets), manage → inspect → provide them (bounded concurrency),
    report each node's hardware, fail when a role has fewer available nodes than required."""
    inventory = load_inventory(site.inventory)
    cloud = site_cloud(site.cloud, SSHHost.from_target(site.undercloud.ssh))
    settled = nodes_settled(cloud, inventory)
    introspection = resumable(introspect_nodes, settled=settled, refresh=refresh)(
        cloud, inventory, site.inventory, site.name, refresh, site.undercloud)
    publish_introspection(introspection, report_dir)
    require_available(introspection)
    return introspection
