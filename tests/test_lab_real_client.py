"""A zed lab: the host's ``openstack`` is the real python-tripleoclient 20.0.0 where it runs here.

Over the lab's SSH, as the flows run it: the real ``overcloud node import`` enrolls the lab's nodes in
its real Ironic with TripleO's defaults, ``overcloud node provide`` makes them available, and what
cannot run on this host still goes to the lab's own commands.
"""

from __future__ import annotations

import json
from pathlib import Path

import openstack
import pytest
import yaml

from rdoflow.blocks import SSHHost
from rdoflow.lab.inventory import INSTACKENV
from rdoflow.lab.tripleo.clients import undercloud_cloud
from rdoflow.lab.tripleo.dispatch import is_lab_command, split_global_options
from rdoflow.tasks.ssh.remote import put, run

from .conftest import fast_knobs

LAB_KNOBS = fast_knobs(nodes=4, controllers=1).model_copy(update={"release": "zed"})
# A first run creates the client's venv (about a minute, cached afterwards) before the lab starts.
pytestmark = pytest.mark.timeout(900)
slow = pytest.mark.slow


@pytest.fixture(scope="module")
def host(module_lab) -> SSHHost:
    return SSHHost(**module_lab.sshd().endpoint().model_dump())


@pytest.fixture(scope="module")
def ironic(module_lab):
    return openstack.connect(auth_type="none", baremetal_endpoint_override=module_lab.ironic_url,
                             load_yaml_config=False, load_envvars=False).baremetal


@pytest.fixture(scope="module")
def imported(module_lab, host, ironic):
    """The lab's instackenv.json, uploaded to the home and imported by the real client."""
    put(host, Path(module_lab.dir) / INSTACKENV, INSTACKENV, mode=0o600)
    result = run(host, ["openstack", "overcloud", "node", "import", INSTACKENV], timeout=300)
    return result, json.loads((Path(module_lab.dir) / INSTACKENV).read_text())["nodes"]


@slow
def test_the_host_has_what_a_zed_undercloud_leaves_for_the_client(module_lab, host):
    home = Path(module_lab.dir) / "home"
    cloud = yaml.safe_load((home / ".config/openstack/clouds.yaml").read_text())["clouds"]["undercloud"]
    inspector = ({"baremetal_introspection_endpoint_override": f"http://127.0.0.1:{module_lab.ports['inspector']}"}
                 if "inspector" in module_lab.ports else {})
    assert cloud == {"auth_type": "none", "baremetal_endpoint_override": module_lab.ironic_url, **inspector,
                     "orchestration_endpoint_override": module_lab.heat_url, "region_name": "regionOne"}
    assert run(host, ["openstack", "--version"]).stdout.strip() == "openstack 10.5.0"  # the real OSC's
    nodes = json.loads((Path(module_lab.dir) / INSTACKENV).read_text())["nodes"]
    assert all("mac" not in node and node["ports"][0]["physical_network"] == "ctlplane" for node in nodes)


@slow
def test_the_real_node_import_enrolls_the_nodes_with_tripleo_defaults(module_lab, imported, ironic):
    result, described = imported
    assert result.exit_status == 0
    assert sum("Successfully registered node UUID" in line for line in result.stdout.splitlines()) == len(described)
    httpboot = Path(module_lab.dir) / "httpboot"
    nodes = {node.name: node for node in ironic.nodes(details=True)}
    assert sorted(nodes) == sorted(entry["name"] for entry in described)
    for entry in described:
        node = nodes[entry["name"]]
        assert node.provision_state == "manageable" and node.resource_class == "baremetal"
        assert node.driver_info == {"deploy_kernel": f"file://{httpboot}/agent.kernel",
                                    "deploy_ramdisk": f"file://{httpboot}/agent.ramdisk",
                                    "rescue_kernel": f"file://{httpboot}/agent.kernel",
                                    "rescue_ramdisk": f"file://{httpboot}/agent.ramdisk"}  # no pm_* key passed
        assert node.properties["capabilities"] == "boot_option:local," + entry["capabilities"].split(",")[0]
        assert (node.properties["cpus"], node.properties["memory_mb"], node.properties["local_gb"]) == (
            entry["cpu"], entry["memory"], entry["disk"])
        ports = list(ironic.ports(node_uuid=node.id, details=True))
        assert [(port.address, port.physical_network) for port in ports] == [
            (entry["ports"][0]["address"], "ctlplane")]


@slow
def test_the_real_provide_makes_every_manageable_node_available(imported, host, ironic):
    run(host, ["openstack", "overcloud", "node", "provide", "--all-manageable"], timeout=300)
    assert {node.name: node.provision_state for node in ironic.nodes()} == {
        entry["name"]: "available" for entry in imported[1]}


@slow
def test_what_cannot_run_here_is_still_the_labs_own(host):
    # The lab's upgrade, reached through a global option the lab's own parser does not know.
    result = run(host, ["openstack", "--os-cloud", "undercloud", "overcloud", "upgrade", "prepare"], check=False)
    assert (result.exit_status, result.stderr.strip()) == (
        1, "ERROR: The stack overcloud is not deployed; deploy it before upgrading it")


@pytest.mark.parametrize(("argv", "lab"), [
    (["undercloud", "install", "-y"], True),
    (["overcloud", "deploy", "--templates"], True),
    (["--os-cloud", "undercloud", "--debug", "overcloud", "upgrade", "run", "--limit", "Compute"], True),
    (["overcloud", "node", "provision", "-o", "out.yaml", "baremetal.yaml"], True),
    (["overcloud", "node", "import", "instackenv.json"], False),
    (["overcloud", "node", "introspect", "--all-manageable", "--provide"], False),
    (["overcloud", "status"], False),
    (["--os-cloud=undercloud", "baremetal", "node", "list"], False),
    (["--version"], False),
])
def test_the_dispatcher_sends_only_what_cannot_run_here_to_the_lab(argv, lab):
    assert is_lab_command(argv) is lab


def test_global_options_and_their_values_are_told_from_the_command():
    assert split_global_options(["--os-cloud", "uc", "--debug", "--log-file=x", "overcloud", "deploy", "-y"]) == (
        ["--os-cloud", "uc", "--debug", "--log-file=x"], ["overcloud", "deploy", "-y"])


def test_the_clouds_yaml_names_ironic_inspector_only_when_the_lab_runs_it():
    services = {"baremetal": "http://127.0.0.1:1", "orchestration": "http://127.0.0.1:2/v1/admin"}
    assert "baremetal_introspection_endpoint_override" not in undercloud_cloud(services)
    with_inspector = undercloud_cloud(services | {"baremetal-introspection": "http://127.0.0.1:3"})
    assert with_inspector["baremetal_introspection_endpoint_override"] == "http://127.0.0.1:3"
