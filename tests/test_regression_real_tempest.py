"""The regression stage against the lab's real Tempest (``suite.tempest: real``): Tempest 47 with the Ironic
and Heat plugins, authenticating against the lab's Keystone. The lab site's selection passes and leaves the
cloud as it found it; an Ironic option the upgrade leaves behind fails one named test with its traceback."""

from __future__ import annotations

import json
import tempfile
import urllib.request
from pathlib import Path

import pytest
import yaml

from rdoflow.blocks import SSHHost
from rdoflow.config.site import SiteConfig
from rdoflow.flows.regression_run import regression_run
from rdoflow.lab import config as labconfig
from rdoflow.lab.inventory import INSTACKENV
from rdoflow.tasks.results.store import ResultsStore
from rdoflow.tasks.ssh.remote import put, run
from tests.conftest import fast_knobs

LAB_KNOBS = fast_knobs(nodes=2, controllers=1)
LAB_KNOBS.suite.tempest = "real"

PORTS = "ironic_tempest_plugin.tests.api.admin.test_ports.TestPorts."
LINK_TESTS = [PORTS + "test_list_ports", PORTS + "test_list_ports_details"]  # the tests that check self links
PUBLIC_ENDPOINT = "http://undercloud.ctlplane.localdomain:6385"

# Timeouts: 3x the longest measured on the shared 2-core machine (docs/lab.md): the first test, with its
# module's lab up and Prefect server, 165 s at load 4 and 229 s at load 5-8; the second 43 s and 60 s.
pytestmark = pytest.mark.slow


def with_suite(site: SiteConfig, **regression) -> SiteConfig:
    return site.model_copy(update={"regression": site.regression.model_copy(update=regression)})


def results(site: SiteConfig, run_) -> dict[str, tuple[str, str]]:
    """test id -> (status, reason) of a stored run."""
    table = ResultsStore(site.results.location).read(run_.meta.suite, run_.meta.run_id)
    return {row.test_id: (row.status, row.reason) for row in table.itertuples()}


def stacks(lab) -> list[str]:
    """The names of Heat's stacks (noauth: any token will do)."""
    with urllib.request.urlopen(f"{lab.heat_url}/stacks", timeout=30) as answer:
        return [stack["stack_name"] for stack in json.load(answer)["stacks"]]


@pytest.fixture(scope="module")
def host(module_lab) -> SSHHost:
    return SSHHost(**module_lab.sshd().endpoint().model_dump())


@pytest.fixture(scope="module")
def lab_nodes(module_lab, conn) -> set[str]:
    """The lab's own nodes enrolled in Ironic, as the undercloud's would be: no run may remove them."""
    names = {node["name"] for node in json.loads((Path(module_lab.dir) / INSTACKENV).read_text())["nodes"]}
    for name in sorted(names):
        conn.baremetal.create_node(name=name, driver="fake-hardware")
    return names


@pytest.mark.timeout(690)
def test_the_lab_sites_real_tempest_selection_passes_and_leaves_the_cloud_as_it_found_it(
        prefect_server, site, conn, module_lab, lab_nodes):
    assert site.regression.include and site.regression.kind == "tempest"
    pre = regression_run(site=site, label="pre")
    # heat-tempest-plugin names two pairs of its gabbi tests alike (environments_delete_envstack,
    # resources_delete_stack_with_resources: only their [id-...] differ); each keeps its id in its name.
    assert pre.expected == 102 and pre.counts["tests"] == 102
    assert pre.counts["fail"] == 0 and pre.counts["error"] == 0, [f.test_id for f in pre.failed]
    assert pre.counts["pass"] >= 100
    statuses = {test_id: status for test_id, (status, _) in results(site, pre).items()}
    assert all(statuses[test_id] == "pass" for test_id in LINK_TESTS)
    assert statuses["ironic_tempest_plugin.tests.api.admin.test_nodes.TestNodes.test_create_node"] == "pass"
    heat = [test_id for test_id in statuses if test_id.startswith("heat_tempest_plugin.tests.api.")]
    assert len(heat) > 30 and all(statuses[test_id] == "pass" for test_id in heat)
    # What the tests made (nodes, chassis, allocations, the gabbi tests' stacks) went when the run ended.
    assert {node.name for node in conn.baremetal.nodes()} == lab_nodes
    assert list(conn.baremetal.chassis()) == [] and list(conn.baremetal.allocations()) == []
    assert stacks(module_lab) == []


@pytest.mark.timeout(180)
def test_an_ironic_option_the_upgrade_leaves_fails_the_named_real_test_with_its_traceback(
        prefect_server, site, conn, host, module_lab, lab_nodes):
    knobs = labconfig.load(module_lab.dir)
    knobs.faults.ironic_conf_after_upgrade = {"api": {"public_endpoint": PUBLIC_ENDPOINT}}
    labconfig.save(module_lab.dir, knobs)
    with tempfile.TemporaryDirectory() as scratch:  # an overcloud without nodes: the upgrade's steps only
        counts = Path(scratch) / "overcloud-counts.yaml"
        counts.write_text(yaml.safe_dump({"parameter_defaults": {"ControllerCount": 0, "ComputeCount": 0}}))
        put(host, counts, counts.name)
    environment = ["-e", "node-info.yaml", "-e", "overcloud-counts.yaml"]
    run(host, ["openstack", "undercloud", "install"], timeout=300)
    run(host, ["openstack", "overcloud", "deploy", "--templates", *environment], timeout=300)
    ironic_before = json.loads((Path(module_lab.dir) / "lab.json").read_text())["pids"]["ironic"]
    run(host, ["openstack", "overcloud", "upgrade", "prepare", "--templates", *environment], timeout=300)
    converge = run(host, ["openstack", "overcloud", "upgrade", "converge", "--templates", *environment],
                   timeout=400)
    assert "Restarting ironic with its upgraded configuration" in converge.stdout
    assert json.loads((Path(module_lab.dir) / "lab.json").read_text())["pids"]["ironic"] != ironic_before

    post = regression_run(site=with_suite(site, include=["^" + PORTS.replace(".", r"\.")]), label="post")
    found = results(site, post)
    assert post.counts["tests"] == 15 and post.counts["pass"] == 13
    assert sorted(f.test_id for f in post.failed) == LINK_TESTS
    for test_id in LINK_TESTS:
        status, reason = found[test_id]
        assert status == "fail"
        assert "Traceback (most recent call last)" in reason and "MismatchError" in reason
        assert f"{PUBLIC_ENDPOINT}/v1/ports/" in reason
    # The lab's nodes and its overcloud stack outlived both runs and Ironic's restart.
    assert {node.name for node in conn.baremetal.nodes()} == lab_nodes
    assert stacks(module_lab) == ["overcloud"]
