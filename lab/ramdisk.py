"""The lab's inspection ramdisk: answers Ironic's agent inspection for every node that waits for it.

A real node in ``inspect wait`` boots the ironic-python-agent ramdisk, which
posts the hardware inventory to ``/v1/continue_inspection``. Here one daemon
does that for all nodes: it lists the waiting nodes (one API call per round),
and after the configured boot time posts an inventory built from the node's
entry in instackenv.json (matched by MAC, as Ironic's lookup does). A node named
in ``faults.inspect_fail`` posts the ramdisk error instead, so Ironic itself
fails the inspection and records last_error.

With ironic-inspector beside Ironic (release wallaby or zed), the ramdisk is
also the bridge between them, since Ironic 39 cannot drive inspector: when a node
enters ``inspect wait`` it starts an inspector introspection with
``manage_boot=false``, and it posts the same payload (or the error) to
inspector's ``/v1/continue`` first, waits until inspector calls the introspection
finished, and only then posts to Ironic. So a client that watches Ironic
(tripleo-ansible waits for ``manageable``, then reads inspector's data) never
finds the node inspected in Ironic without its data in inspector.

A ramdisk error cannot reach inspector 12.5.0 as IPA sends it (an ``error``
key): its ``ramdisk_error`` hook fails before the introspection leaves
``waiting``, where its state machine has no ``error`` event, so the
introspection stays ``waiting`` (upstream behaviour, seen in its log as
"Can not transition from state 'waiting' on event 'error'"). So the bridge
fails such a node the way inspector can: an introspection rule for that node
alone, whose ``fail`` action records the ramdisk's message as the error.

Runs in the lab's node daemon (``lab/nodes.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

import requests

from . import config as labconfig
from .inventory import INSTACKENV, read_instackenv

API_VERSION = {"X-OpenStack-Ironic-API-Version": "1.84"}
POOL_SIZE = 64
LOCKED_FOR = 30.0  # seconds the ramdisk posts again to Ironic while the node is locked
FINISHED_WITHIN = 10.0  # seconds inspector may take to mark an introspection finished after /v1/continue

log = logging.getLogger("lab.ramdisk")


def inventory_for(node: dict | None, mac: str) -> dict:
    """The inventory a booted ramdisk reports for a node described in instackenv.json."""
    node = node or {}
    address = node.get("pm_addr", "")
    cpus, memory_mb, disk_gb = int(node.get("cpu", 4)), int(node.get("memory", 8192)), int(node.get("disk", 100))
    disk = {"name": "/dev/sda", "size": (disk_gb + 1) * 2**30, "rotational": False, "model": "QEMU HARDDISK",
            "serial": f"LAB-{mac.replace(':', '')}"}
    # An address from the ctlplane's inspection range: ironic-inspector (add_ports = active) takes only
    # interfaces that got one in the ramdisk.
    address = f"192.168.24.{100 + int(mac.replace(':', ''), 16) % 150}"
    return {
        "inventory": {
            "interfaces": [{"name": "eth0", "mac_address": mac, "ipv4_address": address, "has_carrier": True}],
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
        "boot_interface": "01-" + mac.replace(":", "-").lower(),  # the PXE MAC, as the kernel's BOOTIF gives it
    }


class Inspector:
    """ironic-inspector's side of an inspection: what its own PXE boot and ramdisk would do."""

    def __init__(self, url: str, session: requests.Session):
        self.url, self.session = url.rstrip("/"), session

    def start(self, uuid: str) -> None:
        """An introspection that waits for the ramdisk's data; Ironic already boots the node."""
        answer = self.session.post(f"{self.url}/v1/introspection/{uuid}", params={"manage_boot": "false"},
                                   timeout=30)
        answer.raise_for_status()

    def post(self, name: str, uuid: str, payload: dict) -> None:
        """The ramdisk's data; returns once inspector has finished the introspection (data stored, or error)."""
        payload, error = {k: v for k, v in payload.items() if k != "error"}, payload.get("error")
        rule = self._failing_rule(uuid, error) if error else None
        try:
            answer = self.session.post(f"{self.url}/v1/continue", json=payload, timeout=60)
        finally:
            if rule:
                self.session.delete(f"{self.url}/v1/rules/{rule}", timeout=10)
        if answer.status_code >= 500:
            answer.raise_for_status()  # inspector failed, not the node's data: the ramdisk tries again
        if answer.status_code != 200 and not error:
            log.warning("node %s: inspector refused its data: %s %s", name, answer.status_code, answer.text[:500])
        deadline = time.monotonic() + FINISHED_WITHIN
        while True:  # the data is stored before the answer; 'finished' is set by a task inspector starts then
            status = self.session.get(f"{self.url}/v1/introspection/{uuid}", timeout=10)
            status.raise_for_status()
            if status.json().get("finished"):
                return
            if time.monotonic() > deadline:
                log.warning("node %s: inspector has not finished its introspection %g s after its data",
                            name, FINISHED_WITHIN)
                return
            time.sleep(0.05)

    def _failing_rule(self, uuid: str, error: str) -> str:
        """A rule that fails this node's introspection with the ramdisk's error once its data is processed."""
        rule = str(uuid4())
        answer = self.session.post(f"{self.url}/v1/rules", timeout=10, json={
            "uuid": rule, "description": f"lab: the ramdisk of node {uuid} reports an error",
            "conditions": [{"op": "eq", "field": "node://id", "value": uuid}],
            "actions": [{"action": "fail", "message": f"Ramdisk reported error: {error}"}]})
        answer.raise_for_status()
        return rule


class Ramdisk:
    def __init__(self, lab_dir: Path, ironic: str, inspector: str | None = None):
        self.lab_dir, self.ironic = lab_dir, ironic.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(API_VERSION)
        # one connection per booting node's thread (urllib3 keeps 10 per host by default and drops the rest)
        self.session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=POOL_SIZE))
        self.inspector = Inspector(inspector, self.session) if inspector else None
        self.booting: dict[str, object] = {}  # node -> its current boot

    def round(self) -> bool:
        """Boot a ramdisk for each node newly in ``inspect wait``; whether any node waits."""
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
        return bool(waiting)

    def boot(self, node: dict, boot: object) -> None:
        try:
            if self.inspector:
                self.inspector.start(node["uuid"])
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
            if self.inspector:  # first: Ironic's 'manageable' must not come before inspector's data
                self.inspector.post(node["name"], node["uuid"], payload)
            posted = self.post_to_ironic(payload)
            log.info("node %s (%s): posted %s -> %s", node["name"], macs[0],
                     "an error" if error else "its inventory", posted.status_code)
            posted.raise_for_status()
        except Exception:
            # A real ramdisk keeps trying to reach Ironic; forgetting the node lets the next round boot it again.
            log.exception("node %s: the ramdisk failed; it will try again", node.get("name"))
            if self.booting.get(node["uuid"]) is boot:
                self.booting.pop(node["uuid"], None)

    def post_to_ironic(self, payload: dict) -> requests.Response:
        """POST continue_inspection, again while the node is locked (409), as IPA does. ironic-inspector
        12.5.0 powers the node off through Ironic after processing even with manage_boot=false (its lookup
        forgets the flag), which locks the node for that moment."""
        deadline = time.monotonic() + LOCKED_FOR
        while True:
            posted = self.session.post(f"{self.ironic}/v1/continue_inspection", json=payload, timeout=30)
            if posted.status_code != 409 or time.monotonic() > deadline:
                return posted
            time.sleep(0.2)
