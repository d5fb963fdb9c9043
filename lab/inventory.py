"""The lab's bare-metal nodes, as an ``instackenv.json`` a TripleO user would write.

Addresses come from the documentation ranges (192.0.2.0/24 for BMCs, locally
administered MACs); nothing is ever contacted. With ``bmc: redfish`` each node's
BMC is a System of the lab's Redfish emulator instead (lab/bmc_service.py), and
a node named in ``faults.bmc_down`` points at a port where nothing answers. The
first ``controllers`` nodes get the ``control`` profile, the rest ``compute``.
Each node's hardware differs a little, so that an inspection table shows real
variety.

The NICs are the old form, ``"mac": [MAC]``, or with ``ports_form`` (releases wallaby
and zed) the one tripleo-common 18 reads, ``"ports": [{"address": MAC, "physical_network":
"ctlplane"}]``: it ignores ``mac`` without a word, and its import creates no port. Both are
read here and by rdoflow's inventory reader.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection
from pathlib import Path

INSTACKENV = "instackenv.json"
SYSTEMS = "/redfish/v1/Systems/"
DEAD_PORT = 9  # the discard service's port: nothing listens on it here, so a connection is refused at once


def node_name(index: int) -> str:
    return f"node-{index:02d}"


def node_mac(index: int) -> str:
    return f"52:54:00:{index >> 16 & 0xFF:02x}:{index >> 8 & 0xFF:02x}:{index & 0xFF:02x}"


def system_uuid(index: int) -> str:
    """The UUID of a node's System on the Redfish emulator."""
    return f"1ab0c0de-0000-4000-8000-{index:012x}"


def bmc_fields(index: int, redfish_port: int | None, down: bool = False) -> dict:
    """The pm_* fields: an address nothing answers at (fake-hardware), or a System of the lab's emulator."""
    if redfish_port is None:
        return {"pm_type": "fake-hardware", "pm_addr": f"192.0.2.{10 + index % 240}", "pm_port": str(6230 + index)}
    # TripleO passes pm_addr to Ironic as redfish_address: without the scheme, Ironic speaks https.
    return {"pm_type": "redfish", "pm_addr": f"http://127.0.0.1:{DEAD_PORT if down else redfish_port}",
            "pm_system_id": SYSTEMS + system_uuid(index)}


def lab_nodes(count: int, controllers: int, *, ports_form: bool = False, redfish_port: int | None = None,
              bmc_down: Collection[str] = ()) -> list[dict]:
    """The nodes; with ``redfish_port``, Redfish nodes served by the emulator listening there."""
    nodes = []
    for index in range(count):
        profile = "control" if index < controllers else "compute"
        nodes.append({
            "name": node_name(index),
            **bmc_fields(index, redfish_port, node_name(index) in bmc_down),
            "pm_user": "admin",
            "pm_password": secrets.token_urlsafe(12),
            **({"ports": [{"address": node_mac(index), "physical_network": "ctlplane"}]} if ports_form
               else {"mac": [node_mac(index)]}),
            "cpu": str(8 if profile == "control" else 16 + 8 * (index % 2)),
            "memory": str(32768 if profile == "control" else 65536),
            "disk": str(500 if index % 3 else 1000),
            "arch": "x86_64",
            "capabilities": f"profile:{profile},boot_option:local",
        })
    return nodes


def write_instackenv(path: Path, count: int, controllers: int, *, ports_form: bool = False,
                     redfish_port: int | None = None, bmc_down: Collection[str] = ()) -> Path:
    nodes = lab_nodes(count, controllers, ports_form=ports_form, redfish_port=redfish_port, bmc_down=bmc_down)
    path.write_text(json.dumps({"nodes": nodes}, indent=2) + "\n")
    path.chmod(0o600)  # it holds BMC passwords
    return path


def read_instackenv(path: Path) -> dict[str, dict]:
    """The lab's nodes by MAC (lower case), for the simulated ramdisk; either form of their NICs."""
    nodes = json.loads(path.read_text()).get("nodes", [])
    return {mac.lower(): node for node in nodes for mac in node_macs(node)}


def node_macs(node: dict) -> list[str]:
    return [*node.get("mac", []), *(port["address"] for port in node.get("ports", []) if "address" in port)]
