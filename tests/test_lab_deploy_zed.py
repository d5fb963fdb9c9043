"""A zed lab's ``overcloud node provision`` (a stand-in: metalsmith needs Neutron) and ``overcloud deploy``
(the real python-tripleoclient 20.0.0 for the stack, on an ephemeral Heat 27; a stand-in for the
config-download playbooks), over the lab's SSH as a user and rdoflow run them; then the real
``openstack overcloud status`` reads the deployment status they left.
"""

from __future__ import annotations

import json
from pathlib import Path

import openstack
import pytest
import yaml

from rdoflow.blocks import SSHHost
from rdoflow.lab import config as labconfig
from rdoflow.lab.inventory import INSTACKENV
from rdoflow.lab.tripleo.real_deploy import ROLES_FILE, client_argv
from rdoflow.tasks.overcloud.commands import ansible_failures, recap_failed
from rdoflow.tasks.ssh.remote import put, run

from .conftest import fast_knobs

LAB_KNOBS = fast_knobs(nodes=4, controllers=1).model_copy(update={"release": "zed"})
pytestmark = pytest.mark.timeout(1200)
slow = pytest.mark.slow

BAREMETAL = [
    {"name": "Controller", "count": 1, "hostname_format": "%stackname%-controller-%index%",
     "defaults": {"profile": "control", "networks": [{"network": "ctlplane", "vif": True}]}},
    {"name": "Compute", "count": 2, "defaults": {"profile": "compute"}},
]
PROVISION = ["openstack", "overcloud", "node", "provision", "--stack", "overcloud", "--output",
             "overcloud-baremetal-deployed.yaml", "baremetal_deployment.yaml"]
DEPLOY = ["openstack", "overcloud", "deploy", "--templates", "/usr/share/openstack-tripleo-heat-templates",
          "--stack", "overcloud", "--deployed-server", "-e", "overcloud-baremetal-deployed.yaml", "--timeout", "30", "-y"]
HOSTS = ["overcloud-controller-0", "overcloud-novacompute-0", "overcloud-novacompute-1"]


@pytest.fixture(scope="module")
def host(module_lab) -> SSHHost:
    return SSHHost(**module_lab.sshd().endpoint().model_dump())


@pytest.fixture(scope="module")
def home(module_lab) -> Path:
    return Path(module_lab.dir) / "home"


@pytest.fixture(scope="module")
def ironic(module_lab):
    return openstack.connect(auth_type="none", baremetal_endpoint_override=module_lab.ironic_url,
                             load_yaml_config=False, load_envvars=False).baremetal


@pytest.fixture(scope="module")
def available(module_lab, host):
    """The lab's nodes imported and made available by the real client, as a Zed undercloud's user does."""
    put(host, Path(module_lab.dir) / INSTACKENV, INSTACKENV, mode=0o600)
    run(host, ["openstack", "overcloud", "node", "import", INSTACKENV], timeout=300)
    run(host, ["openstack", "overcloud", "node", "provide", "--all-manageable"], timeout=300)


@pytest.fixture(scope="module")
def provisioned(available, host, home):
    (home / "baremetal_deployment.yaml").write_text(yaml.safe_dump(BAREMETAL))
    return run(host, PROVISION, timeout=600, check=False)


@pytest.fixture(scope="module")
def deployed(provisioned, host):
    return run(host, DEPLOY, timeout=900, check=False)


@slow
def test_provision_deploys_the_roles_nodes_and_writes_the_environment_tripleo_ansible_writes(
        provisioned, home, ironic):
    assert provisioned.exit_status == 0, provisioned.stderr[-2000:]
    assert provisioned.stdout.splitlines()[-1] == (
        "Nodes deployed successfully, add overcloud-baremetal-deployed.yaml to your deployment environment")
    assert "PLAY RECAP" in provisioned.stdout and "| Provision instances | localhost" in provisioned.stdout
    environment = yaml.safe_load((home / "overcloud-baremetal-deployed.yaml").read_text())
    defaults = environment["parameter_defaults"]
    assert sorted(defaults) == ["ComputeCount", "ComputeHostnameFormat", "ControllerCount",
                                "ControllerHostnameFormat", "DeployedServerPortMap", "HostnameMap", "NodePortMap"]
    assert (defaults["ControllerCount"], defaults["ComputeCount"]) == (1, 2)
    assert defaults["ComputeHostnameFormat"] == "%stackname%-novacompute-%index%"  # tripleo-ansible's default
    assert defaults["HostnameMap"] == {name: name for name in HOSTS}
    ips = {name: defaults["NodePortMap"][name]["ctlplane"]["ip_address"] for name in HOSTS}
    assert len(set(ips.values())) == 3 and all(ip.startswith("192.168.24.") for ip in ips.values())
    assert defaults["NodePortMap"]["overcloud-controller-0"]["ctlplane"]["ip_subnet"] == f"{ips[HOSTS[0]]}/24"
    assert defaults["DeployedServerPortMap"] == {
        f"{name}-ctlplane": {"fixed_ips": [{"ip_address": ips[name]}]} for name in HOSTS}
    assert environment["resource_registry"] == {"OS::TripleO::DeployedServer::ControlPlanePort":
                                                "/usr/share/openstack-tripleo-heat-templates/deployed-server/"
                                                "deployed-neutron-port.yaml"}
    nodes = {node.instance_info.get("display_name"): node for node in ironic.nodes(details=True)
             if node.provision_state == "active"}
    assert sorted(nodes) == HOSTS
    assert "profile:control" in nodes["overcloud-controller-0"].properties["capabilities"]
    copy = home / "overcloud-deploy/overcloud/tripleo-overcloud-baremetal-deployment.yaml"
    assert yaml.safe_load(copy.read_text()) == BAREMETAL


@slow
def test_deploy_runs_the_real_client_and_overcloud_status_reports_success(deployed, host, home):
    assert deployed.exit_status == 0, deployed.stderr[-3000:]
    lines = deployed.stdout.splitlines()
    assert lines[-1] == "Overcloud Deployed successfully"
    assert "Overcloud configuration completed for stack: overcloud" in lines
    assert any(line.startswith("Overcloud Endpoint: http://192.168.24.5:5000") for line in lines)
    assert "[overcloud]: CREATE_COMPLETE  Stack CREATE completed successfully" in deployed.stdout
    working_dir = home / "overcloud-deploy/overcloud"
    assert yaml.safe_load((working_dir / "overcloud-deployment_status.yaml").read_text()) == {
        "deployment_status": "DEPLOY_SUCCESS"}
    stack_dir = working_dir / "config-download/overcloud"
    for name in ("deploy_steps_playbook.yaml", "tripleo-ansible-inventory.yaml", "global_vars.yaml"):
        assert (stack_dir / name).is_file()
    for name in ("overcloudrc", "overcloud-passwords.yaml", "overcloud-export.yaml", "tripleo-overcloud-roles-data.yaml"):
        assert (working_dir / name).is_file()
    assert (working_dir / "config-download/status").read_text() == "successful"
    assert (home / "config-download/overcloud").resolve() == stack_dir
    log = (home / "ansible.log").read_text()
    assert "n=ansible | PLAY [Deploy step tasks for 1]" in log
    status = run(host, ["openstack", "overcloud", "status"])
    assert "| overcloud  |   DEPLOY_SUCCESS  |" in status.stdout


@slow
def test_a_stack_fail_fault_fails_its_nodes_task_as_ansible_reports_it(deployed, module_lab, host, home):
    knobs = labconfig.load(Path(module_lab.dir))
    knobs.faults.stack_fail = [labconfig.StackFault(role="Compute", index=1, reason="nova_compute exited 1")]
    labconfig.save(Path(module_lab.dir), knobs)
    try:
        failed = run(host, DEPLOY, timeout=900, check=False)
    finally:
        knobs.faults.stack_fail = []
        labconfig.save(Path(module_lab.dir), knobs)
    assert failed.exit_status == 1
    lines = failed.stdout.splitlines()
    assert lines[-1] == "Overcloud Deployed with error"
    failures = ansible_failures(lines)
    assert [(f.node, f.state, f.error) for f in failures] == [
        ("overcloud-novacompute-1", "FAILED", "nova_compute exited 1")]
    assert recap_failed(lines) == [
        "overcloud-novacompute-1 : ok=21 changed=1 unreachable=0 failed=1 skipped=0 rescued=0 ignored=0"]
    assert "Ansible execution failed. playbook: " in failed.stderr
    assert yaml.safe_load((home / "overcloud-deploy/overcloud/overcloud-deployment_status.yaml").read_text()) == {
        "deployment_status": "DEPLOY_FAILED"}
    status = run(host, ["openstack", "overcloud", "status"])
    assert "| overcloud  |   DEPLOY_FAILED   |" in status.stdout


@slow
def test_provision_without_enough_nodes_fails_as_metalsmith_does(deployed, host, home):
    more = [{**role, "count": 4} if role["name"] == "Compute" else role for role in BAREMETAL]  # 1 node is free
    (home / "more.yaml").write_text(yaml.safe_dump(more))
    refused = run(host, [*PROVISION[:-1], "more.yaml"], check=False)  # the output exists, no terminal to ask
    assert refused.exit_status == 1
    assert "Will not overwrite existing file: overcloud-baremetal-deployed.yaml" in refused.stderr
    result = run(host, [*PROVISION[:-1], "-y", "more.yaml"], check=False)
    assert result.exit_status == 1
    fatal = next(line for line in result.stdout.splitlines() if "|      FATAL |" in line)
    assert "| Reserve instances | localhost | error=" in fatal
    assert json.loads(fatal.split("error=", 1)[1])["msg"] == "No available nodes with resource class baremetal found"
    assert "Ansible execution failed. playbook: " in result.stderr
    assert "Nodes deployed successfully" not in result.stdout


def test_the_deploy_gets_what_this_host_needs_and_the_users_options_win(tmp_path):
    command = ["overcloud", "deploy", "--templates", "--stack", "oc", "-e",
               "/usr/share/openstack-tripleo-heat-templates/environments/x.yaml", "-e", "mine.yaml", "-y"]
    argv, steps = client_argv(command, tmp_path / "lab", Path("/cache/tht"), Path("/home/stack"))
    assert steps
    assert argv[:2] == ["overcloud", "deploy"]
    assert argv[2:4] == ["-e", str(tmp_path / "lab/share/lab-undercloud-neutron.yaml")]  # before the user's
    assert argv[argv.index("--templates") + 1] == "/cache/tht"
    assert "/cache/tht/environments/x.yaml" in argv
    for option, value in (("--heat-type", "native"), ("-r", str(ROLES_FILE)),
                          ("--overcloud-ssh-key", "/home/stack/.ssh/id_rsa_tripleo")):
        assert argv[argv.index(option) + 1] == value
    assert "--stack-only" in argv and "--disable-validations" in argv
    mine, steps = client_argv(["overcloud", "deploy", "--templates", "/t", "--stack-only", "-r", "r.yaml",
                               "--heat-type=native"], tmp_path, Path("/cache/tht"), Path("/h"))
    assert not steps  # the user asked for the stack only: no config-download stand-in
    assert mine.count("-r") == 1 and mine.count("--stack-only") == 1 and "--heat-type" not in mine
    assert not client_argv(["overcloud", "deploy", "--templates", "--dry-run"], tmp_path, Path("/t"), Path("/h"))[1]
    assert client_argv(["overcloud", "deploy", "--help"], tmp_path, Path("/t"), Path("/h")) == (
        ["overcloud", "deploy", "--help"], False)
