"""The apply-drop stage on the lab's Train undercloud: its persistent Heat is followed through 'update prepare'
and 'update converge' (which Train's tripleoclient has), and a site that chooses the major upgrade gets it,
with the drop's images. The drops' repositories, dnf and rpm are real (as in tests/test_apply_drop.py);
Train's host has no real tripleoclient: 'tripleo container image prepare' and the update commands are the
lab's stand-ins (lab/tripleo/images.py, lab/tripleo/update.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from heatclient import client as heat_client

from rdoflow.blocks import SSHHost
from rdoflow.flows.apply_drop import apply_drop
from rdoflow.flows.overcloud_deploy import overcloud_deploy
from rdoflow.lab.rpms import drop_repo
from rdoflow.lab.tripleo.hoststate import read_state
from rdoflow.tasks.ssh.remote import run
from tests.conftest import fast_knobs
from tests.dlrn_tree import DlrnTree
from tests.lab_undercloud import ready_undercloud, with_stack
from tests.loopback_http import serve_directory

LAB_KNOBS = fast_knobs(nodes=3, controllers=1)
pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]


@pytest.fixture(scope="module")
def dlrn(tmp_path_factory):
    root = tmp_path_factory.mktemp("dlrn")
    with serve_directory(root) as url:
        yield DlrnTree(root, url), url


def publish(tree: DlrnTree, commit: str, built: int, versions: dict[str, str]) -> str:
    full_hash = tree.build(commit, "8170b868d2a6c6b5d0b1e0e9f1a4b3c2d1e0f9a8", built)
    drop_repo(tree.root / commit[:2] / commit[2:4] / full_hash, versions)
    return full_hash


@pytest.fixture(scope="module")
def site(module_lab, prefect_server):
    site = with_stack(ready_undercloud(module_lab), "overcloud", 1, 1)
    assert overcloud_deploy(site=site).passed
    return site


def test_the_minor_update_of_train_follows_its_stack_and_converges(module_lab, site, dlrn, tmp_path):
    tree, url = dlrn
    drop = publish(tree, "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", 1_797_000_000,
                   {"python3-tripleoclient": "12.6.4-1.el9", "openstack-tripleo-heat-templates": "11.6.2-1.el9"})
    report = apply_drop(site=site, base_url=url, drop=drop, report_dir=tmp_path)
    assert [step.name for step in report.steps] == ["undercloud upgrade", "update prepare", "update run Controller",
                                                    "update run Compute", "update converge"] and report.passed
    assert report.steps[1].stack_status == report.steps[-1].stack_status == "UPDATE_COMPLETE"
    stack = heat_client.Client("1", endpoint=module_lab.heat_url, token="test").stacks.get("overcloud")
    assert stack.stack_status == "UPDATE_COMPLETE"
    host = SSHHost.from_target(site.undercloud.ssh)
    assert run(host, ["rpm", "-q", "python3-tripleoclient"]).stdout.strip() == "python3-tripleoclient-12.6.4-1.el9.noarch"
    changed = {change.name: change.old for change in report.packages.changes}
    assert changed == {"python3-tripleoclient": "python3-tripleoclient-12.6.1-1.el9.noarch",
                       "openstack-tripleo-heat-templates": "openstack-tripleo-heat-templates-11.6.0-1.el9.noarch"}
    images = yaml.safe_load((Path(module_lab.dir) / "home" / report.images.images_file).read_text())
    assert images["parameter_defaults"]["ContainerNovaComputeImage"] == \
        f"quay.io/tripleotraincentos9/openstack-nova-compute:{drop}"
    assert read_state(Path(module_lab.dir))["overcloud"]["overcloud"]["update"]["step"] == "converge"


def test_a_site_that_chooses_the_major_upgrade_upgrades_with_the_drops_images(module_lab, site, dlrn, tmp_path):
    tree, url = dlrn
    drop = publish(tree, "2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c", 1_797_100_000,
                   {"python3-tripleoclient": "12.7.0-1.el9"})
    upgrading = site.model_copy(update={"drop": site.drop.model_copy(update={"apply": "upgrade"})})
    report = apply_drop(site=upgrading, base_url=url, drop=drop, report_dir=tmp_path)
    assert [step.name for step in report.steps] == ["undercloud upgrade", "upgrade prepare", "upgrade run Controller",
                                                    "upgrade run Compute", "upgrade converge"] and report.passed
    assert any(arg.endswith(report.images.images_file) for arg in report.steps[1].command.split())
    assert [(c.old, c.new) for c in report.packages.changes] == [("python3-tripleoclient-12.6.4-1.el9.noarch",
                                                                  "python3-tripleoclient-12.7.0-1.el9.noarch")]
    assert read_state(Path(module_lab.dir))["overcloud"]["overcloud"]["upgraded"]
    markdown = (tmp_path / "apply-drop.md").read_text()
    assert "then the major upgrade of stack `overcloud`" in markdown and "| upgrade converge | ✅ succeeded |" in markdown
