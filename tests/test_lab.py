"""The lab behaves like an undercloud: real Ironic, real Heat, TripleO's commands over real SSH.

Every test drives the lab through the code paths the flows use: openstacksdk,
python-heatclient, and tasks.ssh.run over paramiko to the lab's sshd.
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import openstack
import pytest
import subunit
import testtools
import yaml
from heatclient import client as heat_client

from rdoflow.lab import config as labconfig
from rdoflow.lab.inventory import INSTACKENV
from rdoflow.tasks.ssh.connect import SSHConnectionLost
from rdoflow.tasks.ssh.remote import get, put, run

pytestmark = pytest.mark.timeout(600)


def baremetal(lab):
    # No 409 retries: a conflict here is a test failure to see at once, not a lock to wait out.
    return openstack.connect(auth_type="none", baremetal_endpoint_override=lab.ironic_url,
                             baremetal_status_code_retries=0, load_yaml_config=False, load_envvars=False).baremetal


def orchestration(lab):
    return heat_client.Client("1", endpoint=lab.heat_url, token="test")


def wait_for_states(bm, ids, targets, budget=60.0):
    from rdoflow.waiting import Deadline

    wait = Deadline(budget, f"{len(ids)} nodes", target=" or ".join(targets), max_delay=0.5)
    for _ in wait:
        nodes = {n.id: n for n in bm.nodes(details=True) if n.id in ids}
        wait.last_seen = str(sorted({n.provision_state for n in nodes.values()}))
        # Ironic moves a node to "... failed" before it saves last_error: wait for both.
        if all(n.provision_state in targets or (n.provision_state.endswith("failed") and n.last_error)
               for n in nodes.values()):
            return nodes


@pytest.fixture(scope="session")
def inspected_nodes(lab):
    """Every node of the lab's instackenv.json enrolled, managed, inspected and provided."""
    bm = baremetal(lab)
    described = json.loads((Path(lab.dir) / INSTACKENV).read_text())["nodes"]
    ids = []
    for entry in described:
        node = bm.create_node(name=entry["name"], driver=entry["pm_type"],
                              driver_info={"fake_address": entry["pm_addr"]},
                              properties={"capabilities": entry["capabilities"]})
        bm.create_port(node_uuid=node.id, address=entry["mac"][0])
        ids.append(node.id)
    for action, target in (("manage", "manageable"), ("inspect", "manageable")):
        for uuid in ids:
            bm.set_node_provision_state(uuid, action)
        inspected = wait_for_states(bm, ids, {target})
    for uuid in ids:
        bm.set_node_provision_state(uuid, "provide")
    wait_for_states(bm, ids, {"available"})
    return {"described": described, "inspected": inspected}


def test_twenty_nodes_are_inspected_with_the_hardware_instackenv_describes(inspected_nodes):
    described = {entry["name"]: entry for entry in inspected_nodes["described"]}
    nodes = inspected_nodes["inspected"]
    assert len(nodes) == 20
    for node in nodes.values():
        entry = described[node.name]
        assert node.provision_state == "manageable", node.last_error
        assert node.properties["cpus"] == int(entry["cpu"])
        assert node.properties["memory_mb"] == int(entry["memory"])
        assert node.properties["local_gb"] == int(entry["disk"])


def test_a_node_named_in_inspect_fail_fails_with_the_ramdisk_error_in_last_error(lab, lab_knobs):
    lab_knobs.faults.inspect_fail = {"node-faulty": "simulated disk failure: /dev/sda not found"}
    labconfig.save(lab.dir, lab_knobs)
    bm = baremetal(lab)
    node = bm.create_node(name="node-faulty", driver="fake-hardware")
    try:
        bm.create_port(node_uuid=node.id, address="52:54:00:ff:00:01")
        bm.set_node_provision_state(node.id, "manage")
        wait_for_states(bm, [node.id], {"manageable"})
        bm.set_node_provision_state(node.id, "inspect")
        failed = wait_for_states(bm, [node.id], {"manageable"})[node.id]
        assert failed.provision_state == "inspect failed"
        assert "simulated disk failure: /dev/sda not found" in failed.last_error
    finally:
        bm.set_node_maintenance(node.id, reason="test cleanup")  # a failed node is deleted in maintenance
        bm.delete_node(node.id)


def deploy(host, stack: str, controllers: int, computes: int):
    """``openstack overcloud deploy`` of ``stack`` over SSH, with an environment file of its node counts."""
    with tempfile.TemporaryDirectory() as scratch:
        counts = Path(scratch) / f"{stack}-counts.yaml"
        counts.write_text(yaml.safe_dump({"parameter_defaults": {"ControllerCount": controllers,
                                                                 "ComputeCount": computes}}))
        put(host, counts, counts.name)
    return run(host, ["openstack", "overcloud", "deploy", "--templates", "-e", "node-info.yaml",
                      "-e", f"{stack}-counts.yaml", "--stack", stack], check=False, timeout=300)


@pytest.fixture(scope="session")
def undercloud(lab, inspected_nodes):
    from rdoflow.blocks import SSHHost

    host = SSHHost(**lab.sshd().endpoint().model_dump())
    run(host, ["openstack", "undercloud", "install"])
    return host


@pytest.fixture(scope="session")
def overcloud(lab, undercloud):
    """The stack 'overcloud' deployed once: one controller, two computes."""
    result = deploy(undercloud, "overcloud", 1, 2)
    assert result.exit_status == 0, result.tail()
    return result


def test_undercloud_install_writes_stackrc_and_clouds_yaml(lab, undercloud, tmp_path):
    result = run(undercloud, ["openstack", "undercloud", "install"])
    assert "The Undercloud has been successfully installed." in result.stdout
    get(undercloud, ".config/openstack/clouds.yaml", tmp_path / "clouds.yaml")
    cloud = yaml.safe_load((tmp_path / "clouds.yaml").read_text())["clouds"]["undercloud"]
    assert cloud["baremetal_endpoint_override"] == lab.ironic_url
    get(undercloud, "stackrc", tmp_path / "stackrc")
    assert "OS_CLOUD=undercloud" in (tmp_path / "stackrc").read_text()


def test_a_bad_undercloud_conf_fails_the_install_with_the_preflight_message(undercloud, tmp_path):
    conf = tmp_path / "undercloud.conf"
    conf.write_text("[DEFAULT]\nlocal_ip = 192.168.24.1/24\n[ctlplane-subnet]\ncidr = 192.168.24.0/24\n"
                    "dhcp_start = 192.168.24.100\ndhcp_end = 192.168.24.5\n")
    run(undercloud, ["mkdir", "-p", "badconf"])
    put(undercloud, conf, "badconf/undercloud.conf")
    result = run(undercloud, ["openstack", "undercloud", "install"], cwd="badconf", check=False)
    assert result.exit_status == 1
    assert 'dhcp_start "192.168.24.100" does not come before dhcp_end "192.168.24.5"' in result.stderr


def test_overcloud_deploy_provisions_the_nodes_and_completes_the_stack(lab, overcloud):
    assert "Overcloud Deployed without error" in overcloud.stdout
    stack = orchestration(lab).stacks.get("overcloud")
    assert stack.stack_status == "CREATE_COMPLETE"
    outputs = {o["output_key"]: o["output_value"] for o in stack.outputs}
    assert outputs["ControllerHostnames"] == ["overcloud-controller-0"]
    assert outputs["ComputeHostnames"] == ["overcloud-compute-0", "overcloud-compute-1"]
    active = {(n.instance_info or {}).get("display_name") for n in baremetal(lab).nodes(details=True)
              if n.provision_state == "active"}
    assert {"overcloud-controller-0", "overcloud-compute-0", "overcloud-compute-1"} <= active


def test_a_failing_stack_resource_fails_the_deploy_with_its_reason(lab, undercloud, lab_knobs):
    reason = "Error: Could not find class ::nova::compute::libvirt for overcloud-compute-0"
    lab_knobs.faults.stack_fail = [labconfig.StackFault(role="Compute", index=0, reason=reason)]
    labconfig.save(lab.dir, lab_knobs)
    result = deploy(undercloud, "stackfail", 0, 1)
    assert result.exit_status == 1
    assert "Heat Stack create failed." in result.stderr
    failed = [r for r in orchestration(lab).resources.list("stackfail", nested_depth=3)
              if r.resource_status == "CREATE_FAILED" and r.resource_name == "Config"]
    assert len(failed) == 1 and reason in failed[0].resource_status_reason
    assert reason in result.stdout


def test_a_node_in_deploy_fail_stops_the_deploy_with_ironics_last_error(lab, undercloud, lab_knobs):
    computes = [entry["name"] for entry in json.loads((Path(lab.dir) / INSTACKENV).read_text())["nodes"][2:]]
    lab_knobs.faults.deploy_fail = computes
    labconfig.save(lab.dir, lab_knobs)
    result = deploy(undercloud, "deployfail", 0, 1)
    assert result.exit_status == 1
    assert 'reached failure state "deploy failed"' in result.stderr
    assert "Timeout reached while waiting for callback" in result.stderr


def test_an_ssh_drop_cuts_the_session_once_then_the_command_goes_through(lab, undercloud, lab_knobs):
    lab_knobs.faults.ssh_drop = labconfig.SSHDrop(command="undercloud install", after=0.3, times=1)
    lab_knobs.timing.undercloud_install = 1.5
    labconfig.save(lab.dir, lab_knobs)
    with pytest.raises(SSHConnectionLost):
        run(undercloud, ["openstack", "undercloud", "install"])
    assert run(undercloud, ["openstack", "undercloud", "install"]).exit_status == 0


def test_an_unknown_command_is_a_usage_error(undercloud):
    result = run(undercloud, ["openstack", "overcloud", "frobnicate"], check=False)
    assert result.exit_status == 2
    assert "invalid choice: 'frobnicate'" in result.stderr


def stestr_run(host, tmp_path) -> dict[str, list[str]]:
    """Run the suite on the host, fetch its subunit stream, and group the test ids by status."""
    run(host, ["stestr", "run", "--concurrency", "2"], cwd="tempest", check=False, log_output=False, timeout=300)
    run(host, ["sh", "-c", "stestr last --subunit > last.subunit"], cwd="tempest", check=False)
    get(host, "tempest/last.subunit", tmp_path / "last.subunit")
    by_status: dict[str, list[str]] = {}
    result = testtools.StreamToDict(lambda test: by_status.setdefault(test["status"], []).append(test["id"]))
    result.startTestRun()
    subunit.ByteStreamToStreamResult(io.BytesIO((tmp_path / "last.subunit").read_bytes())).run(result)
    result.stopTestRun()
    return by_status


@pytest.mark.usefixtures("overcloud")
def test_stestr_run_on_the_host_writes_subunit_with_the_configured_counts(lab, undercloud, lab_knobs, tmp_path):
    lab_knobs.suite = labconfig.Suite(tempest="generated", generated=1300, failing=7, skipped=20)
    labconfig.save(lab.dir, lab_knobs)
    by_status = stestr_run(undercloud, tmp_path)
    assert len(by_status["fail"]) == 7
    assert len(by_status["skip"]) == 20
    assert len(by_status["success"]) == 1300 - 27 + 5  # and the 5 real checks of the lab cloud pass
    assert all("[id-" in test_id for test_id in by_status["fail"])


@pytest.mark.usefixtures("overcloud")
def test_the_upgrade_runs_role_by_role_and_regresses_the_configured_tests(lab, undercloud, lab_knobs, tmp_path):
    lab_knobs.suite = labconfig.Suite(tempest="generated", generated=40, failing=0, skipped=0)
    lab_knobs.faults.fail_after_upgrade = [r"test_list_servers"]
    lab_knobs.faults.stack_fail = [labconfig.StackFault(role="Compute", index=1, reason="yum: conflicting requests",
                                                        stage="upgrade")]
    labconfig.save(lab.dir, lab_knobs)
    (tmp_path / "pre").mkdir()
    assert "fail" not in stestr_run(undercloud, tmp_path / "pre")
    run(undercloud, ["openstack", "undercloud", "upgrade"])
    run(undercloud, ["openstack", "overcloud", "upgrade", "prepare", "--templates", "-e", "node-info.yaml",
                     "-e", "overcloud-counts.yaml"])
    run(undercloud, ["openstack", "overcloud", "upgrade", "run", "--limit", "Controller"])
    failed = run(undercloud, ["openstack", "overcloud", "upgrade", "run", "--limit", "Compute"], check=False)
    assert failed.exit_status == 1
    assert 'fatal: [overcloud-compute-1]: FAILED! => {"changed": false, "msg": "yum: conflicting requests"}' \
        in failed.stdout
    lab_knobs.faults.stack_fail = []
    labconfig.save(lab.dir, lab_knobs)
    run(undercloud, ["openstack", "overcloud", "upgrade", "run", "--limit", "Compute"])
    run(undercloud, ["openstack", "overcloud", "upgrade", "converge", "--templates", "-e", "node-info.yaml"])
    assert orchestration(lab).stacks.get("overcloud").stack_status == "UPDATE_COMPLETE"
    (tmp_path / "post").mkdir()
    post = stestr_run(undercloud, tmp_path / "post")
    assert post["fail"] and all("test_list_servers" in test_id for test_id in post["fail"])


def test_the_lab_site_config_is_valid_and_its_cloud_reaches_ironic(lab):
    from rdoflow.blocks import OpenStackCloud
    from rdoflow.config.site import load_site

    site = load_site(Path(lab.dir) / "site.yaml")
    assert site.undercloud.ssh.port == lab.ports["ssh"]
    assert site.inventory.file == Path(lab.dir) / INSTACKENV
    cloud = OpenStackCloud(cloud=site.cloud.cloud, clouds_yaml=site.cloud.clouds_yaml).connect()
    assert cloud.baremetal.get_endpoint().startswith(lab.ironic_url)
    assert "fake-hardware" in {driver.name for driver in cloud.baremetal.drivers()}
