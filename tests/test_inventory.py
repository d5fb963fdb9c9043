"""Inventories: instackenv.json and nodes.yaml are read into typed nodes, and every fault is named at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rdoflow.errors import ConfigError
from rdoflow.tasks.baremetal.inventory import read_inventory

REAL = Path("/work/shared/fixtures/real/inventories")
DRIVERS = "one of ipmi, redfish, idrac, ilo, irmc, fake-hardware, manual-management, staging-* (or a legacy name " \
          "such as pxe_ipmitool)"


def ipmi_node(**changes) -> dict:
    node = {"name": "ctrl-0", "pm_type": "ipmi", "pm_addr": "192.0.2.1", "pm_user": "admin",
            "pm_password": "s3cret-pw", "mac": ["52:54:00:00:00:01"]}
    node.update(changes)
    return {key: value for key, value in node.items() if value is not None}


def write(tmp_path: Path, nodes: list, name: str = "instackenv.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"nodes": nodes}, indent=2))
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        read_inventory(path)
    return caught.value.problems


def test_malformed_json_is_named_with_line_and_column(tmp_path):
    path = tmp_path / "instackenv.json"
    path.write_text('{"nodes": [\n  {"name": "a",}\n]}')
    assert problems(path) == [f"{path}:2:16: not valid JSON: Expecting property name enclosed in double quotes"]


def test_malformed_yaml_is_named_with_line_and_column(tmp_path):
    path = tmp_path / "nodes.yaml"
    path.write_text("nodes:\n  - name: a\n    pm_type: [ipmi\n")
    assert problems(path) == [f"{path}:4:1: not valid YAML: expected ',' or ']', but got '<stream end>' "
                              "(while parsing a flow sequence, which starts at line 3)"]


def test_a_file_without_nodes_is_refused(tmp_path):
    path = tmp_path / "instackenv.json"
    path.write_text('{"nodes": []}')
    assert problems(path) == [f'{path}: expected {{"nodes": [...]}} or a list of nodes, with at least one node; '
                              "got a list"]


def test_duplicate_names_name_both_nodes(tmp_path):
    path = write(tmp_path, [ipmi_node(), ipmi_node(mac=["52:54:00:00:00:02"])])
    assert problems(path) == [f"{path}: node 1 (ctrl-0): name: 'ctrl-0' is also the name of node 0 (ctrl-0); "
                              "names must be unique (line 14)"]


def test_duplicate_macs_are_found_whatever_their_case_and_name_both_nodes(tmp_path):
    path = write(tmp_path, [ipmi_node(), ipmi_node(name="ctrl-1", mac=["52:54:00:00:00:01".upper()])])
    assert problems(path) == [f"{path}: node 1 (ctrl-1): mac: 52:54:00:00:00:01 is also a MAC of node 0 (ctrl-0); "
                              "a MAC belongs to one node (line 19)"]


def test_an_unknown_pm_type_lists_the_known_ones(tmp_path):
    path = write(tmp_path, [ipmi_node(pm_type="pxe_foo")])
    assert problems(path) == [f"{path}: node 0 (ctrl-0): pm_type: unknown driver 'pxe_foo'; expected {DRIVERS} "
                              "(line 5)"]


def test_a_missing_pm_type_is_named(tmp_path):
    path = write(tmp_path, [ipmi_node(pm_type=None)])
    assert problems(path) == [f"{path}: node 0 (ctrl-0): pm_type: missing; expected {DRIVERS} (line 3)"]


def test_ipmi_needs_an_address(tmp_path):
    path = write(tmp_path, [ipmi_node(pm_addr=None)])
    assert problems(path) == [f"{path}: node 0 (ctrl-0): pm_addr: missing; the ipmi driver needs it (line 3)"]


def test_drac_needs_credentials_and_legacy_names_are_mapped(tmp_path):
    path = write(tmp_path, [ipmi_node(pm_type="pxe_drac", pm_user=None, pm_password=None)])
    assert problems(path) == [f"{path}: node 0 (ctrl-0): pm_user: missing; the idrac driver needs it (line 3)",
                              f"{path}: node 0 (ctrl-0): pm_password: missing; the idrac driver needs it (line 3)"]


def test_redfish_needs_a_system_id(tmp_path):
    path = write(tmp_path, [ipmi_node(pm_type="redfish")])
    assert problems(path) == [f"{path}: node 0 (ctrl-0): pm_system_id: missing; the redfish driver needs it (line 3)"]


def test_a_bad_mac_is_named_by_its_position(tmp_path):
    path = write(tmp_path, [ipmi_node(mac=["52:54:00:zz:00:01"])])
    assert problems(path) == [f"{path}: node 0 (ctrl-0): mac[0]: expected a MAC address like 52:54:00:12:34:56, "
                              "got '52:54:00:zz:00:01' (line 10)"]


def test_a_bad_port_address_in_nodes_yaml_is_named(tmp_path):
    path = tmp_path / "nodes.yaml"
    path.write_text("- name: a\n  pm_type: ipmi\n  pm_addr: 192.0.2.1\n  ports:\n  - address: nope\n")
    assert problems(path) == [f"{path}: node 0 (a): ports[0].address: expected a MAC address like "
                              "52:54:00:12:34:56, got 'nope' (line 5)"]


def test_hardware_figures_must_be_whole_numbers(tmp_path):
    path = write(tmp_path, [ipmi_node(cpu="eight", memory="32GB", disk=-1)])
    assert problems(path) == [
        f"{path}: node 0 (ctrl-0): cpu: expected a whole number (CPUs), got 'eight' (line 12)",
        f"{path}: node 0 (ctrl-0): memory: expected a whole number (MiB), got '32GB' (line 13)",
        f"{path}: node 0 (ctrl-0): disk: expected a whole number (GiB), got -1 (line 14)",
    ]


def test_every_problem_of_every_node_is_reported_at_once(tmp_path):
    path = write(tmp_path, [ipmi_node(pm_type="bogus"), ipmi_node(mac=["x"]), "a string"])
    found = problems(path)
    assert len(found) == 4
    assert [line.split(": ")[1] for line in found] == ["node 0 (ctrl-0)", "node 1 (ctrl-0)", "node 2",
                                                       "node 1 (ctrl-0)"]


def test_nodes_yaml_with_ports_and_numbers_is_read(tmp_path):
    path = tmp_path / "nodes.yaml"
    path.write_text("nodes:\n- name: compute-0\n  pm_type: redfish\n  pm_addr: bmc.example.com\n  pm_port: 8000\n"
                    "  pm_user: root\n  pm_password: calvin\n  pm_system_id: /redfish/v1/Systems/1\n"
                    "  ports:\n  - address: 52:54:00:AA:00:01\n  cpu: 16\n  memory: 65536\n  disk: 500\n"
                    "  capabilities: {profile: compute, boot_mode: uefi}\n")
    node = read_inventory(path).nodes[0]
    assert node.macs == ["52:54:00:aa:00:01"] and (node.cpus, node.memory_mb, node.local_gb) == (16, 65536, 500)
    assert node.profile == "compute"
    assert node.driver_info() == {"redfish_address": "bmc.example.com:8000",
                                  "redfish_system_id": "/redfish/v1/Systems/1",
                                  "redfish_username": "root", "redfish_password": "calvin"}


def test_a_redfish_address_with_a_scheme_and_port_is_passed_as_written(tmp_path):
    path = write(tmp_path, [ipmi_node(pm_type="redfish", pm_addr="http://127.0.0.1:8000", pm_port=623,
                                      pm_system_id="/redfish/v1/Systems/1"),
                            ipmi_node(name="ctrl-1", mac=["52:54:00:aa:00:02"], pm_type="redfish",
                                      pm_addr="https://bmc.example.com/redfish", pm_port=8443, pm_system_id="1")])
    first, second = read_inventory(path).nodes
    assert first.driver_info()["redfish_address"] == "http://127.0.0.1:8000"  # as TripleO: pm_port is not added
    assert second.driver_info()["redfish_address"] == "https://bmc.example.com:8443/redfish"


def test_passwords_are_secret_in_the_model(tmp_path):
    inventory = read_inventory(write(tmp_path, [ipmi_node()]))
    node = inventory.nodes[0]
    assert "s3cret-pw" not in repr(inventory) and "s3cret-pw" not in inventory.model_dump_json()
    assert node.driver_info() == {"ipmi_address": "192.0.2.1", "ipmi_username": "admin", "ipmi_password": "s3cret-pw"}


def test_fake_hardware_keeps_the_bmc_address_under_a_key_no_driver_reads(tmp_path):
    node = read_inventory(write(tmp_path, [ipmi_node(pm_type="fake-hardware", pm_port="6230")])).nodes[0]
    assert node.driver_info() == {"rdoflow_bmc_address": "192.0.2.1", "rdoflow_bmc_port": 6230}


def test_real_jetpack_inventory_legacy_drac_without_macs():
    nodes = read_inventory(REAL / "jetpack-instackenv.json").nodes
    assert [node.name for node in nodes][:4] == ["control-0", "control-1", "control-2", "computeHCI-0"]
    assert {node.driver for node in nodes} == {"idrac"} and all(not node.macs for node in nodes)
    assert nodes[0].driver_info()["drac_address"] == "192.168.110.12"


def test_real_kejones_inventory_takes_the_top_level_arch_and_profiles():
    nodes = read_inventory(REAL / "kejones-instackenv.json").nodes
    assert [node.profile for node in nodes] == ["control", "compute", "compute", "compute"]
    assert nodes[0].macs == ["52:e3:e9:70:26:b1"] and {node.cpu_arch for node in nodes} == {"x86_64"}


def test_real_wtsi_inventory_has_nameless_pxe_ipmitool_nodes():
    nodes = read_inventory(REAL / "wtsi-instackenv.json").nodes
    assert [node.label for node in nodes] == ["node 0", "node 1"]
    assert {node.driver for node in nodes} == {"ipmi"} and nodes[0].properties()["memory_mb"] == 36144
