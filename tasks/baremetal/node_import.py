"""TripleO's own node commands, run on the undercloud over SSH: ``overcloud node import`` and ``introspect``.

What Wallaby's and Zed's director expect of a node is more than Ironic's fields: the deploy and rescue
images, the boot mode, the ``baremetal`` resource class, ``boot_option:local``, ports on the ctlplane
network. The import sets them; enrolling through Ironic's API alone would not. The command fails on a
node that exists already (409), so only the inventory's new nodes are imported; the nodes Ironic has
are brought in line through the API as before (``ironic.enroll``).
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from pathlib import Path
from typing import Any

from openstack import exceptions
from openstack.connection import Connection

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import InventorySite
from rdoflow.errors import RemoteCommandFailed
from rdoflow.outcome import Outcome
from rdoflow.tasks.baremetal.inventory import Inventory
from rdoflow.tasks.baremetal.ironic import (
    HARDWARE_KEYS,
    POLL_FIELDS,
    enroll,
    inspector_endpoint,
    listing,
    matcher,
    read_hardware,
    set_state,
    steady,
)
from rdoflow.tasks.baremetal.model import Enrollment, NodeResult, profile_of
from rdoflow.tasks.ssh.remote import put, run
from rdoflow.waiting import Deadline

log = logging.getLogger("rdoflow.baremetal")

# Under the home, beside rdoflow's other files; it holds BMC passwords, so 0600 and removed afterwards.
REMOTE_FILE = ".rdoflow/instackenv-import.json"
IMPORT_SECONDS = 120  # the command's start (the client loads for seconds), then...
IMPORT_SECONDS_PER_NODE = 5  # ...Ironic's create, ports and patch of each node


def import_command(cloud: str, remote_file: str = REMOTE_FILE) -> list[str]:
    """What rdoflow runs on the undercloud (in the home; OS_CLOUD names its cloud in clouds.yaml)."""
    return ["env", f"OS_CLOUD={cloud}", "openstack", "overcloud", "node", "import", remote_file]


def import_nodes(conn: Connection, host: SSHHost, inventory: Inventory, *, cloud: str) -> Enrollment:
    """The inventory's new nodes imported by TripleO, its known nodes patched through Ironic's API; the
    enrollment in file order, as ``ironic.enroll`` gives it."""
    nodes, ports = listing(steady(conn))
    match = matcher(nodes, ports)
    new = [spec for spec in inventory.nodes if match(spec) is None]
    known = inventory.model_copy(update={"nodes": [spec for spec in inventory.nodes if match(spec) is not None]})
    result = enroll(conn, known) if known.nodes else Enrollment()
    if new:
        _run_import(host, inventory.model_copy(update={"nodes": new}), cloud)
        result.created = [spec.name or (spec.macs[0] if spec.macs else spec.label) for spec in new]
        result.ports_created += sum(len(spec.macs) for spec in new)
    nodes, ports = listing(conn)
    match = matcher(nodes, ports)
    found = {spec.index: match(spec) for spec in inventory.nodes}
    missing = [spec.label for spec in inventory.nodes if found[spec.index] is None]
    if missing:
        raise RemoteCommandFailed(
            f"openstack overcloud node import exited 0 but Ironic has no node for {', '.join(missing)}",
            hint="check the node's entry in the inventory (tripleo-common 18 reads NICs from 'ports', not 'mac')")
    result.uuids = [found[spec.index].id for spec in inventory.nodes]
    log.info("enrolled %d node(s): %d imported by TripleO, %d updated, %d unchanged", len(inventory.nodes),
             len(new), len(result.updated), len(result.unchanged))
    return result


def _run_import(host: SSHHost, new: Inventory, cloud: str) -> None:
    passwords = [spec.pm_password for spec in new.nodes if spec.pm_password]
    run(host, ["mkdir", "-p", str(Path(REMOTE_FILE).parent)], timeout=60, log_output=False)
    with tempfile.TemporaryDirectory(prefix="rdoflow-import-") as scratch:
        local = Path(scratch) / "instackenv.json"
        local.touch(mode=0o600)
        local.write_text(json.dumps({"nodes": [spec.instackenv() for spec in new.nodes]}, indent=2))
        put(host, local, REMOTE_FILE, mode=0o600)
    try:
        result = run(host, import_command(cloud), check=False, redact=passwords,
                     timeout=IMPORT_SECONDS + IMPORT_SECONDS_PER_NODE * len(new.nodes))
    finally:
        run(host, ["rm", "-f", "--", REMOTE_FILE], timeout=60, check=False, log_output=False)
    if result.status != "pass":
        lines = [*result.stderr.splitlines(), *result.stdout.splitlines()]
        first = next((line for line in lines if "ERROR" in line or "Error" in line), None)
        raise RemoteCommandFailed(
            f"openstack overcloud node import failed on {host.address}: {first or f'exit {result.exit_status}'}",
            evidence=result.tail(15),
            hint="fix what the import reports (the inventory's fields, the BMC's driver), then re-run the stage; "
                 "nodes already imported are kept and patched, not imported again")


# --- introspection by TripleO's command, judged by Ironic and ironic-inspector -------------------------

# tripleo-ansible 6.0.0 (Zed) records every node's result under the last node's UUID: the command says
# "Successfully introspected nodes: [...all...]" and exits 0 when some failed.
_CLAIMED = re.compile(r"Successfully introspected nodes: \[(?P<uuids>[^\]]*)\]")


def introspect_command(cloud: str, uuids: list[str], settings: InventorySite) -> list[str]:
    return ["env", f"OS_CLOUD={cloud}", "openstack", "overcloud", "node", "introspect", "--provide",
            "--concurrency", str(settings.concurrency), "--node-timeout", str(settings.node_timeout),
            "--max-retries", str(settings.retries), *uuids]


def claimed_introspected(lines: list[str]) -> set[str]:
    """The nodes the command says it introspected."""
    return {uuid.strip(" '\"") for line in lines if (m := _CLAIMED.search(line))
            for uuid in m["uuids"].split(",") if uuid.strip(" '\"")}


def introspect_with_tripleo(conn: Connection, host: SSHHost, uuids: list[str], settings: InventorySite, *,
                            cloud: str, refresh: bool = False) -> tuple[dict[str, NodeResult], list[str]]:
    """``openstack overcloud node introspect --provide`` on the manageable nodes, then each node's outcome
    from what Ironic and ironic-inspector hold, whatever the command said; and the warnings (a node the
    command called introspected that failed)."""
    to_inspect = _made_manageable(conn, uuids, settings, refresh)
    budget = settings.node_timeout * (settings.retries + 1) + IMPORT_SECONDS
    command = run(host, introspect_command(cloud, to_inspect, settings), check=False, timeout=budget) \
        if to_inspect else None
    claimed = claimed_introspected(command.stdout.splitlines()) if command else set()
    errors = {uuid: _inspector_error(conn, uuid) for uuid in to_inspect}  # one GET per node, read once
    warnings = _provide_left_manageable(conn, [uuid for uuid in to_inspect if errors[uuid] is None], settings)
    nodes, inspector = _listed(conn, uuids), inspector_endpoint(conn) is not None
    results = {}
    for uuid in uuids:
        result = _judged(conn, uuid, nodes.get(uuid), inspected=uuid in to_inspect, error=errors.get(uuid),
                         inspector=inspector)
        if uuid in claimed and result.outcome != Outcome.PASS:
            warnings.append(f"{result.label}: 'openstack overcloud node introspect' reported it introspected, "
                            f"but it {result.said}: {result.last_error} (tripleo-ansible records every node's "
                            "result under the last one; rdoflow reads Ironic and ironic-inspector instead)")
        results[uuid] = result
    if command is not None and command.status != Outcome.PASS:
        warnings.append(f"openstack overcloud node introspect exited {command.exit_status}: "
                        + " | ".join(command.tail(3)))
    return results, warnings


def _listed(conn: Connection, uuids: list[str]) -> dict[str, Any]:
    """The nodes among ``uuids`` as one node list shows them, by UUID."""
    wanted = set(uuids)
    return {node.id: node for node in conn.baremetal.nodes(fields=POLL_FIELDS) if node.id in wanted}


def _provide_left_manageable(conn: Connection, clean: list[str], settings: InventorySite) -> list[str]:
    """Nodes whose introspection finished cleanly (``clean``) but that the command left 'manageable' (its
    provide step stops at the first node it cannot provide): provided here, each named in a warning."""
    left = [node for node in _listed(conn, clean).values() if node.provision_state == "manageable"]
    for node in left:
        set_state(conn, node.id, "provide")
    if left:
        for _ in Deadline(settings.node_timeout, f"{len(left)} node(s)", target="available", max_delay=2.0):
            states = {uuid: node.provision_state for uuid, node in _listed(conn, [n.id for n in left]).items()}
            if all(state not in ("cleaning", "manageable") for state in states.values()):
                break
    return [f"{node.name or node.id} ({node.id}): introspected, but 'openstack overcloud node introspect "
            f"--provide' left it manageable; rdoflow provided it" for node in left]


def _inspector_error(conn: Connection, uuid: str) -> str | None:
    """What ironic-inspector says went wrong with the node's last introspection (None: it finished cleanly)."""
    try:
        status = conn.baremetal_introspection.get_introspection(uuid)
    except exceptions.SDKException as exc:
        return f"no introspection in ironic-inspector ({exc})"
    return status.error or (None if status.is_finished else f"introspection {status.state}")


def _made_manageable(conn: Connection, uuids: list[str], settings: InventorySite, refresh: bool) -> list[str]:
    """The nodes to introspect, moved to 'manageable' as the command needs (an 'available' node whose
    hardware is known is left alone, unless ``refresh``); one list call per poll."""
    nodes = _listed(conn, uuids)
    known = {uuid for uuid, node in nodes.items() if node.provision_state == "active" or (
        not refresh and node.provision_state == "available"
        and all((node.properties or {}).get(key) for key in HARDWARE_KEYS))}
    wanted = [uuid for uuid in uuids if uuid not in known]
    for uuid in wanted:
        if nodes[uuid].provision_state in ("enroll", "available", "inspect failed"):
            set_state(conn, uuid, "manage")
    for _ in Deadline(settings.node_timeout, f"{len(wanted)} node(s)", target="manageable", max_delay=2.0):
        if all(node.provision_state == "manageable" for node in _listed(conn, wanted).values()):
            break
    return wanted


def _judged(conn: Connection, uuid: str, node: Any, *, inspected: bool, error: str | None,
            inspector: bool) -> NodeResult:
    """A node's outcome from Ironic (available?) and ironic-inspector's ``error`` (None: finished cleanly)."""
    if node is None:
        return NodeResult(uuid=uuid, name=None, outcome=Outcome.FAIL, state=None,
                          last_error="the node is no longer in Ironic")
    state = node.provision_state
    passed = state in ("available", "active") and error is None
    result = NodeResult(uuid=uuid, name=node.name, profile=profile_of(node.properties), state=state,
                        outcome=Outcome.PASS if passed else Outcome.FAIL, attempts=1 if inspected else 0,
                        last_error=None if passed else error or node.last_error or f"left in state {state!r}")
    if passed:
        result.hardware = read_hardware(conn, node, inspector=inspector)
    return result
