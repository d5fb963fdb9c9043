"""The apply-drop stage on a Zed undercloud (the lab's release zed).

Real: the drop's repository (RPMs built with rpmbuild, createrepo_c's metadata: rdoflow.lab.rpms.drop_repo)
served with its commit.yaml and delorean.repo on loopback as a DLRN server lays them out; the host's dnf
and rpm (Debian's dnf and rpm on the lab host's package root); python-tripleoclient 20's 'tripleo
container image prepare', which writes the images environment without asking a registry
(push_destination false). Stand-ins, since the lab's nodes have no SSH and no containers: 'overcloud
update prepare' and 'update run' (lab/tripleo/update.py)."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest
import yaml

from rdoflow.blocks import SSHHost
from rdoflow.errors import RemoteCommandFailed, ResourceFailed
from rdoflow.flows.apply_drop import apply_drop
from rdoflow.flows.overcloud_deploy import overcloud_deploy
from rdoflow.lab import config as labconfig
from rdoflow.lab.rpms import drop_repo
from rdoflow.lab.tripleo.hoststate import read_state
from rdoflow.tasks.ssh.remote import run
from tests.conftest import fast_knobs
from tests.dlrn_tree import DlrnTree
from tests.lab_undercloud import ready_undercloud, with_stack
from tests.loopback_http import serve_directory

LAB_KNOBS = fast_knobs(nodes=3, controllers=1).model_copy(update={"release": "zed"})
pytestmark = [pytest.mark.timeout(1200), pytest.mark.slow]

COMMIT, DISTRO = "587ffdd6ff4e8ad6a36bb3bd55d2bd6ab2ee4b93", "8170b868d2a6c6b5d0b1e0e9f1a4b3c2d1e0f9a8"
DROP_VERSIONS = {"python3-tripleoclient": "20.0.5-0.20261207101500.587ffdd.el9",
                 "openstack-ironic-api": "21.1.3-0.20261207101500.a1b2c3d.el9"}
CLIENT_BEFORE = "python3-tripleoclient-20.0.0-1.el9.noarch"
CLIENT_AFTER = "python3-tripleoclient-20.0.5-0.20261207101500.587ffdd.el9.noarch"


@pytest.fixture(scope="module")
def dlrn(tmp_path_factory):
    """A DLRN server on loopback: the drop's commit.yaml and delorean.repo, and its repository of RPMs."""
    root = tmp_path_factory.mktemp("dlrn")
    with serve_directory(root) as url:
        tree = DlrnTree(root, url)
        full_hash = tree.build(COMMIT, DISTRO, 1_797_000_000)
        drop_repo(root / COMMIT[:2] / COMMIT[2:4] / full_hash, DROP_VERSIONS)
        yield tree, url, full_hash


@pytest.fixture(scope="module")
def site(module_lab, prefect_server):
    """The undercloud installed, its nodes introspected, an overcloud of 1 controller and 1 compute deployed."""
    site = with_stack(ready_undercloud(module_lab), "overcloud", 1, 1)
    assert overcloud_deploy(site=site).passed
    return site


@pytest.fixture(scope="module")
def applied(site, dlrn, tmp_path_factory):
    tree, url, full_hash = dlrn
    reports = tmp_path_factory.mktemp("reports")
    return apply_drop(site=site, base_url=url, drop=full_hash, report_dir=reports), reports


def _rpm_q(site, package: str) -> str:
    return run(SSHHost.from_target(site.undercloud.ssh), ["rpm", "-q", package], check=False).stdout.strip()


def test_the_undercloud_ends_on_the_drops_versions_and_each_role_is_updated(module_lab, site, dlrn, applied):
    report, reports = applied
    _, _, full_hash = dlrn
    assert _rpm_q(site, "python3-tripleoclient") == CLIENT_AFTER
    changed = {change.name: (change.old, change.new) for change in report.packages.changes}
    assert changed["python3-tripleoclient"] == (CLIENT_BEFORE, CLIENT_AFTER)
    assert changed["openstack-ironic-api"] == ("openstack-ironic-api-21.1.0-1.el9.noarch",
                                               "openstack-ironic-api-21.1.3-0.20261207101500.a1b2c3d.el9.noarch")
    assert set(changed) == set(DROP_VERSIONS)  # what the drop did not carry stayed as it was
    repos = Path(module_lab.dir) / "root/etc/yum.repos.d"
    assert f"/{full_hash}" in (repos / "delorean.repo").read_text()
    assert "the rdoflow lab's release repository" in (repos / "delorean.repo.rdoflow-previous").read_text()
    pinned = (reports / f"drop-pin-{full_hash}.json").read_text()
    assert CLIENT_BEFORE.removesuffix(".noarch").removeprefix("python3-tripleoclient-").split("-")[0] in pinned
    images = yaml.safe_load((Path(module_lab.dir) / "home" / report.images.images_file).read_text())
    assert images["parameter_defaults"]["ContainerKeystoneImage"] == f"quay.io/tripleozedcentos9/openstack-keystone:{full_hash}"
    assert [step.name for step in report.steps] == ["undercloud upgrade", "update prepare", "update run Controller",
                                                    "update run Compute"]  # Zed's client has no update converge
    assert report.passed
    update = read_state(Path(module_lab.dir))["overcloud"]["overcloud"]["update"]
    assert update["roles"] == ["Controller", "Compute"]
    assert update["hosts"] == {"overcloud-controller-0": full_hash, "overcloud-novacompute-0": full_hash}
    markdown = (reports / "apply-drop.md").read_text()
    assert markdown.startswith(f"# Apply drop {full_hash}: PASS")
    assert f"| python3-tripleoclient | {CLIENT_BEFORE} | {CLIENT_AFTER} |" in markdown
    assert "| update run Compute | ✅ succeeded |" in markdown


def test_a_node_failing_its_update_is_named_and_a_second_run_reuses_the_packages_and_images(
        module_lab, site, dlrn, applied, tmp_path):
    """The fault fails overcloud-novacompute-0's 'Update all packages' task; the stage's error is that task's
    message on that host, from the update run's own output. The run before it updated the packages and
    prepared the images of this drop: they are reused, not done again."""
    _, url, full_hash = dlrn
    before = labconfig.load(module_lab.dir)
    knobs = before.model_copy(deep=True)
    knobs.faults.stack_fail = [labconfig.StackFault(role="Compute", index=0, stage="update",
                                                    reason="Depsolve Error occurred: nothing provides libvirt")]
    labconfig.save(module_lab.dir, knobs)
    try:
        state = apply_drop(site=site, base_url=url, drop=full_hash, report_dir=tmp_path, return_state=True)
    finally:
        labconfig.save(module_lab.dir, before)
    error = state.result(raise_on_failure=False)
    assert isinstance(error, ResourceFailed)
    assert error.message == ("update run Compute: overcloud-novacompute-0 FAILED: Depsolve Error occurred: "
                             "nothing provides libvirt")
    assert "fix overcloud-novacompute-0" in error.hint
    markdown = (tmp_path / "apply-drop.md").read_text()
    assert markdown.startswith(f"# Apply drop {full_hash}: FAIL at update run Compute")
    assert "| update run Controller | ✅ succeeded |" in markdown
    assert "sudo dnf -y update` (an earlier run's result, reused" in markdown
    assert "(an earlier run's result, reused)" in markdown.split("## Container images")[1]
    working = Path(module_lab.dir) / "home/overcloud-deploy/overcloud/config-download/overcloud"
    assert (working / "status").read_text() == "failed" and (working / "rc").read_text() == "2"


def test_a_drop_whose_repository_is_unreachable_fails_naming_its_url_and_leaves_the_host_as_it_was(
        module_lab, site, dlrn, applied, tmp_path):
    tree, url, _ = dlrn
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    commit = "9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d"
    broken = tree.build(commit, "0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6", 1_797_100_000)
    path = tree.root / commit[:2] / commit[2:4] / broken / "delorean.repo"
    gone = f"http://127.0.0.1:{closed}/{commit[:2]}/{commit[2:4]}/{broken}"
    path.write_text(path.read_text().replace(f"{url}/{commit[:2]}/{commit[2:4]}/{broken}", gone))
    repo_file = Path(module_lab.dir) / "root/etc/yum.repos.d/delorean.repo"
    kept = hashlib.sha256(repo_file.read_bytes()).hexdigest()
    state = apply_drop(site=site, base_url=url, drop=broken, report_dir=tmp_path, return_state=True)
    error = state.result(raise_on_failure=False)
    assert isinstance(error, RemoteCommandFailed)
    assert error.message.startswith(f"sudo dnf -y update could not reach the repository 'delorean' at {gone}: "
                                    "Curl error (7): Couldn't connect to server")
    assert "previous repo file was put back" in error.hint
    assert hashlib.sha256(repo_file.read_bytes()).hexdigest() == kept
    assert _rpm_q(site, "python3-tripleoclient") == CLIENT_AFTER
    assert (tmp_path / "apply-drop.md").read_text().startswith(f"# Apply drop {broken}: FAIL: sudo dnf -y update "
                                                               "could not reach")
