"""The lab's inspection ramdisk: answers Ironic's agent inspection for every node that waits for it.

A real node in ``inspect wait`` boots the ironic-python-agent ramdisk, which
posts the hardware inventory to ``/v1/continue_inspection``. Here one daemon
does that for all nodes: it lists the waiting nodes (one API call per round),
and after the configured boot time posts an inventory built from the node's
entry in instackenv.json (matched by MAC, as Ironic's lookup does). A node named
in ``faults.inspect_fail`` posts the ramdisk error instead, so Ironic itself
fails the inspection and records last_error.

Runs in the lab's node daemon (``lab/nodes.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

from . import config as labconfig
from .inventory import INSTACKENV, read_instackenv

API_VERSION = {"X-OpenStack-Ironic-API-Version": "1.84"}

log = logging.getLogger("lab.ramdisk")


def inventory_for(node: dict | None, mac: str) -> dict:
    """The inventory a booted ramdisk reports for a node described in instackenv.json."""
    node = node or {}
    address = node.get("pm_addr", "")
    cpus, memory_mb, disk_gb = int(node.get("cpu", 4)), int(node.get("memory", 8192)), int(node.get("disk", 100))
    disk = {"name": "/dev/sda", "size": (disk_gb + 1) * 2**30, "rotational": False, "model": "QEMU HARDDISK",
            "serial": f"LAB-{mac.replace(':', '')}"}
    return {
        "inventory": {
            "interfaces": [{"name": "eth0", "mac_address": mac, "ipv4_address": None, "has_carrier": True}],
            "cpu": {"count": cpus, "architecture": node.get("arch", "x86_64"), "model_name": "Lab vCPU",
                    "frequency": "2400", "flags": ["vmx", "sse4_2"]},
            "memory": {"total": memory_mb * 2**20, "physical_mb": memory_mb},
            "disks": [disk],
            "bmc_address": urlsplit(address).hostname if "://" in address else address,  # redfish: a URL
            "system_vendor": {"manufacturer": "rdoflow lab", "product_name": node.get("pm_type", "fake-hardware"),
                              "serial_number": f"LAB{mac[-5:].replace(':', '')}"},
            "boot": {"current_boot_mode": "uefi"},
        },
        "root_disk": disk,
    }


class Ramdisk:
    def __init__(self, lab_dir: Path, ironic: str):
        self.lab_dir, self.ironic = lab_dir, ironic.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(API_VERSION)
        self.booting: dict[str, object] = {}  # node -> its current boot

    def round(self) -> None:
        answer = self.session.get(f"{self.ironic}/v1/nodes", params={"provision_state": "inspect wait",
                                                                     "fields": "uuid,name"}, timeout=10)
        answer.raise_for_status()
        waiting = answer.json()["nodes"]
        # A node that left 'inspect wait' (aborted, timed out) is powered off: its boot is forgotten, and
        # the thread still sleeping for it posts nothing when it wakes.
        still = {node["uuid"] for node in waiting}
        self.booting = {uuid: boot for uuid, boot in self.booting.items() if uuid in still}
        for node in waiting:
            if node["uuid"] not in self.booting:
                boot = self.booting[node["uuid"]] = object()
                threading.Thread(target=self.boot, args=(node, boot), daemon=True).start()

    def boot(self, node: dict, boot: object) -> None:
        try:
            knobs = labconfig.load(self.lab_dir)
            time.sleep(knobs.timing.ramdisk_boot)  # the ramdisk boots: the wait a real node spends
            if self.booting.get(node["uuid"]) is not boot:
                log.info("node %s left 'inspect wait' while its ramdisk booted: powered off", node["name"])
                return
            ports = self.session.get(f"{self.ironic}/v1/ports", params={"node_uuid": node["uuid"]}, timeout=10)
            macs = [port["address"] for port in ports.json()["ports"]]
            if not macs:
                log.warning("node %s has no port: Ironic cannot look it up; it will time out", node["name"])
                return
            described = read_instackenv(self.lab_dir / INSTACKENV)
            payload = inventory_for(described.get(macs[0].lower()), macs[0])
            error = knobs.faults.inspect_fail.get(node.get("name") or "")
            if error:
                payload["error"] = error
            posted = self.session.post(f"{self.ironic}/v1/continue_inspection", json=payload, timeout=30)
            log.info("node %s (%s): posted %s -> %s", node["name"], macs[0],
                     "an error" if error else "its inventory", posted.status_code)
            posted.raise_for_status()
        except Exception:
            # A real ramdisk keeps trying to reach Ironic; forgetting the node lets the next round boot it again.
            log.exception("node %s: the ramdisk failed; it will try again", node.get("name"))
            if self.booting.get(node["uuid"]) is boot:
                self.booting.pop(node["uuid"], None)
