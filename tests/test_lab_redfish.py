"""Redfish BMCs (lab.yaml ``bmc: redfish``): sushy-tools' emulator serves one System per node, Ironic's
``redfish`` hardware type powers the nodes through it, and the introspection stage's Window takes them to
``available`` as it does fake-hardware nodes. A node whose BMC is down fails with Ironic's own error."""

from __future__ import annotations

import json

import pytest
import requests

from rdoflow.lab.process import alive
from rdoflow.outcome import Outcome
from rdoflow.tasks.baremetal.inventory import read_inventory
from rdoflow.tasks.baremetal.ironic import Window, enroll
from tests.conftest import fast_knobs

LAB_KNOBS = fast_knobs(nodes=4, controllers=1)
LAB_KNOBS.bmc = "redfish"
LAB_KNOBS.faults.bmc_down = ["node-03"]
HEALTHY = ["node-00", "node-01", "node-02"]

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def described(site) -> dict[str, dict]:
    """The lab's instackenv.json nodes by name."""
    return {node["name"]: node for node in json.loads(site.inventory.file.read_text())["nodes"]}


def bmc_system(node: dict) -> dict:
    """The node's System as its BMC (the emulator) reports it."""
    answer = requests.get(node["pm_addr"] + node["pm_system_id"], timeout=10)
    answer.raise_for_status()
    return answer.json()


@pytest.fixture(scope="module")
def introspected(site, conn) -> dict:
    """Every node enrolled from instackenv.json, then manage → inspect → provide, all four in one Window."""
    enrollment = enroll(conn, read_inventory(site.inventory.file))
    results = Window(conn, node_timeout=120, retries=0).run(enrollment.uuids)
    return {result.name: result for result in results.values()}


def test_the_lab_inventory_describes_redfish_bmcs_that_rdoflow_maps_to_ironic(module_lab, site, described):
    port = module_lab.ports["redfish"]
    assert alive(module_lab.pids["redfish"])  # recorded, so that 'lab down' stops it
    nodes = {node.name: node for node in read_inventory(site.inventory.file).nodes}
    first = described["node-00"]
    assert nodes["node-00"].driver == "redfish"
    assert nodes["node-00"].driver_info() == {
        "redfish_address": f"http://127.0.0.1:{port}", "redfish_system_id": first["pm_system_id"],
        "redfish_username": "admin", "redfish_password": first["pm_password"]}
    system = bmc_system(first)
    assert (system["Name"], system["PowerState"]) == ("node-00", "Off")
    assert nodes["node-03"].driver_info()["redfish_address"] == "http://127.0.0.1:9"  # bmc_down: nothing answers


def test_redfish_nodes_become_available_with_their_hardware_and_the_bmc_holds_what_ironic_set(
        introspected, conn, described):
    for name in HEALTHY:
        result, wanted = introspected[name], described[name]
        assert (result.outcome, result.state) == (Outcome.PASS, "available"), result.last_error
        hardware = result.hardware
        assert (hardware.cpus, hardware.memory_mb, hardware.local_gb) == (
            int(wanted["cpu"]), int(wanted["memory"]), int(wanted["disk"]))
        assert [nic.mac for nic in hardware.nics] == wanted["mac"]
    nodes = {node.name: node for node in conn.baremetal.nodes(details=True)}
    for name in HEALTHY:
        node, system = nodes[name], bmc_system(described[name])
        assert (node.driver, node.power_interface, node.management_interface, node.boot_interface) == (
            "redfish", "redfish", "redfish", "pxe")
        # Inspection powered the node on to boot the ramdisk from the network, then off again.
        assert (node.power_state, system["PowerState"]) == ("power off", "Off")
        assert system["Boot"]["BootSourceOverrideTarget"] == "Pxe"
    conn.baremetal.set_node_power_state(nodes["node-00"], "power on", wait=True, timeout=90)
    assert bmc_system(described["node-00"])["PowerState"] == "On"


def test_a_node_whose_bmc_is_down_fails_with_ironics_connection_error(introspected, conn):
    result = introspected["node-03"]
    assert (result.outcome, result.state) == (Outcome.FAIL, "enroll")  # manage's verify step could not read power
    assert result.last_error.startswith("Failed to get power state for node ")
    assert "Unable to connect to http://127.0.0.1:9/redfish/v1/" in result.last_error
