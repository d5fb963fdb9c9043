"""The node-introspection stage's tasks: read the inventory, observe Ironic, introspect (cached), report, judge."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from rdoflow.blocks.openstack import OpenStackCloud
from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.releases import profile
from rdoflow.config.site import InventorySite, UndercloudSite
from rdoflow.errors import ConfigError, ResourceFailed
from rdoflow.reports.introspection import node_rows, render_introspection
from rdoflow.tasks.artifacts import leave_markdown
from rdoflow.tasks.baremetal.inventory import Inventory, read_inventory
from rdoflow.tasks.baremetal.ironic import (
    RequestCounter,
    Window,
    enroll,
    enroll_and_introspect,
    unsettled,
)
from rdoflow.tasks.baremetal.model import Introspection
from rdoflow.tasks.baremetal.node_import import import_nodes, introspect_with_tripleo
from rdoflow.tasks.progress import StageProgress
from rdoflow.tasks.resume import STAGE_CACHE_EXPIRATION, digest
from rdoflow.tasks.retries import TRANSIENT_RETRIES

PROGRESS_KEY = "node-introspection-progress"
TABLE_KEY = "node-introspection-nodes"
REPORT_KEY = "node-introspection"
REPORT_FILE = "node-introspection.md"


@task(name="read-inventory", cache_policy=NO_CACHE)
def load_inventory(settings: InventorySite) -> Inventory:
    """Read and check the site's inventory; ConfigError (nothing enrolled) lists every problem."""
    if settings.file is None:
        raise ConfigError("site", ["site: inventory.file: missing; expected the instackenv.json or nodes.yaml "
                                   "to import"], hint="name the inventory file in the site config")
    return read_inventory(settings.file)


@task(name="observe-nodes", cache_policy=NO_CACHE, **TRANSIENT_RETRIES)
def nodes_settled(cloud: OpenStackCloud, inventory: Inventory) -> bool:
    """Whether the inventory's nodes still stand as a finished introspection left them (two list calls)."""
    reasons = unsettled(cloud.connect(), inventory)
    if reasons:
        shown = "; ".join(reasons[:5]) + ("..." if len(reasons) > 5 else "")
        get_run_logger().info("introspection is needed: %s", shown)
    return not reasons


def introspection_key(context: Any, parameters: dict[str, Any]) -> str:
    """Cached on the inputs: the inventory's content, the required counts and which Ironic (see tasks/resume.py)."""
    settings: InventorySite = parameters["settings"]
    cloud: OpenStackCloud = parameters["cloud"]
    undercloud: UndercloudSite | None = parameters.get("undercloud")
    return "node-introspection-" + digest(parameters["inventory"].fingerprint, settings.min_available,
                                          cloud.model_dump(mode="json", exclude={"password"}),
                                          undercloud.release if undercloud else None)


def introspect(cloud: OpenStackCloud, inventory: Inventory, settings: InventorySite, *, site: str,
               refresh: bool = False, progress: StageProgress | None = None,
               undercloud: UndercloudSite | None = None) -> Introspection:
    """Enroll (through TripleO's node import where the undercloud's release has it), then manage →
    inspect → provide every node of the inventory; the partition by outcome."""
    conn = cloud.connect()
    counter = RequestCounter(conn)
    started = time.monotonic()
    try:
        host = SSHHost.from_target(undercloud.ssh) if undercloud is not None else None
        remote_cloud = cloud.cloud or "undercloud"  # the name the undercloud's own clouds.yaml gives it
        warnings: list[str] = []
        window = Window(conn, concurrency=settings.concurrency, node_timeout=settings.node_timeout,
                        retries=settings.retries, refresh=refresh)
        report = progress.update if progress else None
        node_import = host is not None and profile(undercloud.release).node_import
        by_tripleo = host is not None and settings.introspect_with == "tripleo"
        if not (node_import or by_tripleo):  # the window starts on the first nodes while the rest are created
            enrollment, results = enroll_and_introspect(conn, inventory, window, progress=report)
        else:
            enrollment = import_nodes(conn, host, inventory, cloud=remote_cloud) if node_import else enroll(conn, inventory)
            if by_tripleo:
                results, warnings = introspect_with_tripleo(conn, host, enrollment.uuids, settings, cloud=remote_cloud,
                                                            refresh=refresh)
            else:
                results = window.run(enrollment.uuids, progress=report)
    finally:
        counter.stop()
    introspection = Introspection(site=site, source=inventory.source, required=dict(settings.min_available),
                                  enrollment=enrollment, warnings=warnings, requests=counter.total,
                                  requests_by_method=dict(counter.by_method),
                                  seconds=round(time.monotonic() - started, 2))
    for result in results.values():
        introspection.add(result)
    return introspection


@task(name="introspect-nodes", cache_key_fn=introspection_key, cache_expiration=STAGE_CACHE_EXPIRATION,
      persist_result=True)
def introspect_nodes(cloud: OpenStackCloud, inventory: Inventory, settings: InventorySite, site: str,
                     refresh: bool = False, undercloud: UndercloudSite | None = None) -> Introspection:
    """``introspect`` with a progress artifact (nodes done / total); cached for a resumed pipeline."""
    progress = StageProgress(PROGRESS_KEY, "Nodes introspected", len(inventory.nodes))
    introspection = introspect(cloud, inventory, settings, site=site, refresh=refresh, progress=progress,
                               undercloud=undercloud)
    progress.finish(f"{len(introspection.succeeded)} available")
    return introspection


@task(name="introspection-report", cache_policy=NO_CACHE)
def publish_introspection(introspection: Introspection, report_dir: Path | None = None) -> Introspection:
    """The node table and the Markdown report as artifacts, and the report as a file in ``report_dir``."""
    create_table_artifact(node_rows(introspection), key=TABLE_KEY,
                          description=f"Nodes of {introspection.source}: state and hardware")
    markdown = render_introspection(introspection)
    leave_markdown(markdown, key=REPORT_KEY, report_dir=report_dir, file_name=REPORT_FILE,
                   description=f"Node introspection: {'pass' if introspection.passed else 'fail'}")
    return introspection


def require_available(introspection: Introspection) -> None:
    """Fail the stage when a role has fewer available nodes than required, naming every failed node."""
    if introspection.passed:
        return
    short = ", ".join(f"{profile}: {have} available, {need} required"
                      for profile, (have, need) in introspection.shortfall.items())
    bad = [*introspection.failed.values(), *introspection.timed_out.values()]
    first = bad[0].last_error if bad else None
    raise ResourceFailed(
        f"too few nodes available ({short})" + (f"; first error: {first}" if first else ""),
        evidence=[f"{node.label} [{node.profile or 'no profile'}] {node.said} in state "
                  f"{node.state}: {node.last_error}" for node in bad],
        hint="fix what each node's last error says (BMC address and credentials, the inspection network, "
             "the ramdisk), then re-run; or lower inventory.min_available in the site config",
    )
