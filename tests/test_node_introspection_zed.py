"""The node-introspection stage on a Zed undercloud: the lab's release zed, whose ``openstack`` is the real
python-tripleoclient 20. New nodes are enrolled by TripleO's own ``overcloud node import`` over SSH (with
the defaults it sets), then inspected and provided through Ironic's API as on every release."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rdoflow.flows.node_introspection import node_introspection
from rdoflow.tasks.baremetal.node_import import REMOTE_FILE
from tests.conftest import fast_knobs, logs_of

LAB_KNOBS = fast_knobs(nodes=4, controllers=1).model_copy(update={"release": "zed"})
pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]


@pytest.fixture(scope="module")
def first_run(prefect_server, site, conn):
    """One node enrolled beforehand through the API (an earlier run's), the rest new: then the stage."""
    state = node_introspection(site=site, return_state=True)
    return state, state.result()


def test_the_site_says_zed_and_new_nodes_are_imported_by_tripleo_with_its_defaults(module_lab, site, first_run,
                                                                                      conn):
    state, result = first_run
    assert site.undercloud.release == "zed"
    described = json.loads(site.inventory.file.read_text())["nodes"]
    assert sorted(result.enrollment.created) == sorted(node["name"] for node in described)
    assert result.passed and len(result.succeeded) == 4
    httpboot = Path(module_lab.dir) / "httpboot"
    for node in conn.baremetal.nodes(details=True):
        assert node.provision_state == "available"
        assert node.driver_info["deploy_kernel"] == f"file://{httpboot}/agent.kernel"  # set by the import only
        assert "boot_option:local" in node.properties["capabilities"] and node.resource_class == "baremetal"
    assert {port.physical_network for port in conn.baremetal.ports(details=True)} == {"ctlplane"}
    logs = logs_of(state.state_details.flow_run_id)
    assert any("overcloud node import .rdoflow/instackenv-import.json" in line for line in logs)
    for node in described:  # the uploaded file held the BMC passwords: none reached the logs
        assert not [line for line in logs if node["pm_password"] in line]
    assert not (Path(module_lab.dir) / "home" / REMOTE_FILE).exists()  # removed after the import


def test_a_second_run_imports_nothing_and_a_new_node_alone_is_imported(module_lab, site, first_run, conn, tmp_path):
    inventory = json.loads(site.inventory.file.read_text())
    extra = dict(inventory["nodes"][-1], name="node-99", ports=[{"address": "52:54:00:00:00:99"}])
    extra.pop("mac", None)
    grown = tmp_path / "instackenv.json"
    grown.write_text(json.dumps({"nodes": [*inventory["nodes"], extra]}))
    bigger = site.model_copy(update={"inventory": site.inventory.model_copy(update={"file": grown})})
    result = node_introspection(site=bigger)
    assert result.enrollment.created == ["node-99"] and len(result.enrollment.unchanged) == 4
    assert len(result.succeeded) == 5
    [node] = [node for node in conn.baremetal.nodes(details=True) if node.name == "node-99"]
    assert node.driver_info.get("deploy_ramdisk", "").endswith("/agent.ramdisk")


def test_tripleo_s_introspect_command_does_not_fool_the_stage_about_a_failed_node(module_lab, site, first_run, conn):
    """With introspect_with: tripleo the real 'openstack overcloud node introspect --provide' runs. Its
    tripleo-ansible 6.0.0 records every result under the last node, so it mostly says every node was
    introspected and exits 0 while the lab's fault fails node-02 (seen in two CI runs of three; in the
    third its retry of node-02 failed the command instead): either way the stage reads Ironic and
    ironic-inspector, and reports node-02 failed and the others available."""
    from rdoflow.lab import config as labconfig

    before = labconfig.load(module_lab.dir)
    knobs = before.model_copy(deep=True)
    knobs.faults.inspect_fail = {"node-02": "no disks found (lab fault)"}
    labconfig.save(module_lab.dir, knobs)
    try:
        tripleo = site.model_copy(update={"inventory": site.inventory.model_copy(
            update={"introspect_with": "tripleo", "min_available": {"control": 1, "compute": 1}})})
        state = node_introspection(site=tripleo, refresh=True, return_state=True)
        result = state.result()
    finally:
        labconfig.save(module_lab.dir, before)
    assert len(result.failed) == 1, [(n.name, n.state, n.last_error) for n in result.failed.values()]
    [failed] = result.failed.values()
    assert failed.name == "node-02" and failed.state == "inspect failed"
    assert failed.last_error == "Ramdisk reported error: no disks found (lab fault)"  # ironic-inspector's
    assert sorted(node.name for node in result.succeeded.values()) == ["node-00", "node-01", "node-03"]
    assert all(node.hardware.disks and node.hardware.nics for node in result.succeeded.values())
    logs = logs_of(state.state_details.flow_run_id)
    claimed = [line for line in logs if "Successfully introspected nodes:" in line]
    if claimed:  # the upstream bug was met: the command claimed node-02 too, and the stage says it did not
        assert failed.uuid in claimed[0]
        warning = next(warning for warning in result.warnings if warning.startswith("node-02 ("))
        assert "reported it introspected, but it failed" in warning
    else:  # on a busy machine the command's retry of node-02 may end in its own failure instead (exit 2)
        assert any(w.startswith("openstack overcloud node introspect exited ") for w in result.warnings)
