"""A Zed lab introspects through ironic-inspector as well as Ironic: a real ironic-inspector 12.5.0 beside
Ironic, the lab's nodes bridging each inspection to it, and inspector's API read with openstacksdk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from openstack import exceptions

from rdoflow.lab.health import lab_status
from rdoflow.lab.process import alive
from rdoflow.outcome import Outcome
from rdoflow.tasks.baremetal.inventory import read_inventory
from rdoflow.tasks.baremetal.ironic import Window, enroll
from rdoflow.waiting import Deadline
from tests.conftest import fast_knobs

pytestmark = pytest.mark.timeout(300)

FAULTY, ERROR = "node-03", "simulated disk failure: /dev/sda not found"
LAB_KNOBS = fast_knobs(nodes=6, controllers=1)
LAB_KNOBS.release = "zed"
LAB_KNOBS.faults.inspect_fail = {FAULTY: ERROR}


@pytest.fixture(scope="module")
def enrolled(site, conn) -> dict[str, str]:
    """Every node of the lab's instackenv.json in Ironic, enrolled by rdoflow: name -> UUID."""
    inventory = read_inventory(site.inventory.file)
    uuids = enroll(conn, inventory).uuids
    return {spec.name: uuid for spec, uuid in zip(inventory.nodes, uuids)}


def test_a_zed_lab_runs_inspector_and_names_it_in_clouds_yaml(module_lab):
    assert alive(module_lab.pids["inspector"])
    inspector = f"http://127.0.0.1:{module_lab.ports['inspector']}"
    clouds = yaml.safe_load((Path(module_lab.dir) / "clouds.yaml").read_text())
    assert clouds["clouds"]["undercloud"]["baremetal_introspection_endpoint_override"] == inspector
    health = {status.name: status for status in lab_status(Path(module_lab.dir))}
    assert health["inspector"].healthy and health["inspector"].address == inspector


def test_a_client_watching_ironic_finds_inspectors_data_when_the_node_turns_manageable(conn, enrolled):
    """What tripleo-ansible does: wait for Ironic's 'manageable', then read inspector's data at once.
    The lab's ramdisk posts to inspector first, so the data is there by then."""
    uuids = [enrolled["node-01"], enrolled["node-02"]]
    bm, introspection = conn.baremetal, conn.baremetal_introspection
    for uuid in uuids:
        with pytest.raises(exceptions.NotFoundException):  # never introspected yet
            introspection.get_introspection(uuid)
        bm.set_node_provision_state(uuid, "manage", wait=False)
    for _ in Deadline(30, "nodes", target="manageable"):
        if all(bm.get_node(uuid, fields=["provision_state"]).provision_state == "manageable" for uuid in uuids):
            break
    for uuid in uuids:
        bm.set_node_provision_state(uuid, "inspect", wait=False)
    seen = {}
    for _ in Deadline(60, "inspected nodes", target="manageable", first_delay=0.02, factor=1.0, jitter=0.0):
        for uuid in set(uuids) - set(seen):
            if bm.get_node(uuid, fields=["provision_state"]).provision_state == "manageable":
                # the first poll that shows it: inspector must have finished already
                status = introspection.get_introspection(uuid)
                seen[uuid] = (status.is_finished, status.error, introspection.get_introspection_data(uuid)["macs"])
        if len(seen) == len(uuids):
            break
    for uuid in uuids:
        mac = next(port.address for port in bm.ports(node_uuid=uuid))
        assert seen[uuid] == (True, None, [mac])


def test_introspection_finishes_in_ironic_and_inspector_and_a_faulty_node_fails_in_both(site, conn, enrolled):
    described = {node["name"]: node for node in json.loads(site.inventory.file.read_text())["nodes"]}
    results = Window(conn, concurrency=6, node_timeout=60, retries=0, poll_first=0.1).run(enrolled.values())
    by_name = {result.name: result for result in results.values()}
    assert by_name[FAULTY].outcome == Outcome.FAIL
    assert {name for name, result in by_name.items() if result.outcome == Outcome.PASS} == set(described) - {FAULTY}

    introspection = conn.baremetal_introspection
    for name, uuid in enrolled.items():
        status = introspection.get_introspection(uuid)
        assert status.is_finished, name
        if name == FAULTY:
            continue
        assert status.error is None, name
        entry, data = described[name], introspection.get_introspection_data(uuid)
        nics = data["inventory"]["interfaces"]
        assert [nic["mac_address"] for nic in nics] == [port["address"] for port in entry["ports"]]
        assert data["macs"] == [port["address"] for port in entry["ports"]]
        assert [disk["name"] for disk in data["inventory"]["disks"]] == ["/dev/sda"]
        assert data["root_disk"]["size"] == (int(entry["disk"]) + 1) * 2**30
        assert (data["cpus"], data["memory_mb"], data["local_gb"]) == (
            int(entry["cpu"]), int(entry["memory"]), int(entry["disk"]))

    faulty = introspection.get_introspection(enrolled[FAULTY])
    assert faulty.error == f"Ramdisk reported error: {ERROR}"
    node = conn.baremetal.get_node(enrolled[FAULTY])
    assert node.provision_state == "inspect failed"
    assert ERROR in node.last_error
    assert introspection_rules(conn) == []  # the rule that failed it is gone


def introspection_rules(conn) -> list:
    return conn.baremetal_introspection.get("/rules").json()["rules"]

