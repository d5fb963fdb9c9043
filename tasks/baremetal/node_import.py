"""Enrollment through TripleO's own ``openstack overcloud node import``, run on the undercloud over SSH.

What Wallaby's and Zed's director expect of a node is more than Ironic's fields: the deploy and rescue
images, the boot mode, the ``baremetal`` resource class, ``boot_option:local``, ports on the ctlplane
network. The import sets them; enrolling through Ironic's API alone would not. The command fails on a
node that exists already (409), so only the inventory's new nodes are imported; the nodes Ironic has
are brought in line through the API as before (``ironic.enroll``).
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

from openstack.connection import Connection

from rdoflow.blocks.ssh import SSHHost
from rdoflow.errors import RemoteCommandFailed
from rdoflow.tasks.baremetal.inventory import Inventory
from rdoflow.tasks.baremetal.ironic import enroll, listing, matcher, steady
from rdoflow.tasks.baremetal.model import Enrollment
from rdoflow.tasks.ssh.remote import put, run

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
