"""The overcloud-deploy stage on a Zed undercloud (the lab's release zed): 'overcloud node provision' of the
site's roles (the lab's stand-in: metalsmith needs Neutron), then the real python-tripleoclient 20's
'overcloud deploy' on the real tripleo-heat-templates 18 with an ephemeral Heat (config-download's run on
the nodes is the lab's stand-in: they have no containers); no Heat API is asked anything."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rdoflow.errors import ResourceFailed
from rdoflow.flows.overcloud_deploy import overcloud_deploy
from rdoflow.lab import config as labconfig
from tests.conftest import fast_knobs
from tests.lab_undercloud import ready_undercloud, with_stack

LAB_KNOBS = fast_knobs(nodes=5, controllers=1).model_copy(update={"release": "zed"})
pytestmark = [pytest.mark.timeout(1200), pytest.mark.slow]


@pytest.fixture(scope="module")
def site(module_lab, prefect_server):
    return ready_undercloud(module_lab)


@pytest.fixture(scope="module")
def deployed(site, tmp_path_factory):
    reports = tmp_path_factory.mktemp("reports")
    state = overcloud_deploy(site=with_stack(site, "overcloud", 1, 2), report_dir=reports, return_state=True)
    return state, reports


def test_the_roles_are_provisioned_then_deployed_and_the_working_directory_says_success(module_lab, deployed):
    state, reports = deployed
    report = state.result()
    assert [step.name for step in report.steps] == ["node provision", "overcloud deploy"] and report.passed
    home = Path(module_lab.dir) / "home"
    provisioned = yaml.safe_load((home / "overcloud-baremetal-deployed-overcloud.yaml").read_text())
    assert provisioned["parameter_defaults"]["ControllerCount"] == 1
    assert provisioned["parameter_defaults"]["ComputeCount"] == 2
    status = yaml.safe_load((home / "overcloud-deploy/overcloud/overcloud-deployment_status.yaml").read_text())
    assert status == {"deployment_status": "DEPLOY_SUCCESS"}
    assert report.steps[1].stack_status is None  # no Heat was followed: it is gone when the deploy ends
    markdown = (reports / "overcloud-deploy.md").read_text()
    assert markdown.startswith("# ") and "| node provision | ✅ succeeded |" in markdown


def test_a_second_run_reads_the_working_directory_and_deploys_nothing(module_lab, site, deployed):
    status_file = Path(module_lab.dir) / "home/overcloud-deploy/overcloud/overcloud-deployment_status.yaml"
    before = status_file.stat().st_mtime_ns
    report = overcloud_deploy(site=with_stack(site, "overcloud", 1, 2))
    assert report.passed and status_file.stat().st_mtime_ns == before


def test_a_deploy_its_dropped_session_left_running_is_judged_from_its_status_file_not_run_again(
        module_lab, site, deployed):
    """The session of the real client's deploy is cut 10 s in (the command goes on, as under nohup): the
    retry waits for it, reads DEPLOY_SUCCESS in its working directory, and does not deploy again."""
    from rdoflow.lab.tripleo.hoststate import read_state

    before, lab_dir = labconfig.load(module_lab.dir), Path(module_lab.dir)
    runs = read_state(lab_dir)["real_deploys"]["overcloud"]["runs"]
    cuts = read_state(lab_dir).get("ssh_drops", {}).get("overcloud deploy", 0)
    knobs = before.model_copy(deep=True)
    knobs.faults.ssh_drop = labconfig.SSHDrop(command="overcloud deploy", after=10, times=cuts + 1, survives=True)
    labconfig.save(module_lab.dir, knobs)
    try:
        report = overcloud_deploy(site=with_stack(site, "overcloud", 1, 2), refresh=True)
    finally:
        labconfig.save(module_lab.dir, before)
    deploy = report.steps[1]
    assert report.passed and deploy.attempts == 2, deploy.notes
    assert any("ended with DEPLOY_SUCCESS (~/overcloud-deploy/overcloud/overcloud-deployment_status.yaml): "
               "not run again" in note for note in deploy.notes), deploy.notes
    assert read_state(lab_dir)["real_deploys"]["overcloud"]["runs"] == runs + 1


def test_a_node_failing_its_deploy_step_is_named_with_the_ansible_error(module_lab, site, deployed):
    before = labconfig.load(module_lab.dir)
    knobs = before.model_copy(deep=True)
    knobs.faults.stack_fail = [labconfig.StackFault(role="Compute", index=0, reason="podman: image not found")]
    labconfig.save(module_lab.dir, knobs)
    try:
        state = overcloud_deploy(site=with_stack(site, "overcloud", 1, 2), refresh=True, return_state=True)
    finally:
        labconfig.save(module_lab.dir, before)
    error = state.result(raise_on_failure=False)
    assert isinstance(error, ResourceFailed)
    assert "overcloud-novacompute-0" in error.message and "podman: image not found" in error.message


def test_the_upgrade_of_a_zed_overcloud_runs_no_converge(module_lab, site, deployed, conn, tmp_path):
    """prepare and run role by role (the lab's stand-ins: they need the nodes' containers), no converge;
    each node upgraded under the name the deploy gave it (overcloud-novacompute-0, THT's format)."""
    from rdoflow.flows.upgrade import upgrade
    from rdoflow.lab.tripleo.hoststate import read_state

    plan = site.upgrade.model_copy(update={"undercloud": False})
    report = upgrade(site=with_stack(site, "overcloud", 1, 2).model_copy(update={"upgrade": plan}),
                     report_dir=tmp_path)
    assert [step.name for step in report.steps] == ["upgrade prepare", "upgrade run Controller",
                                                    "upgrade run Compute"] and report.passed
    assert read_state(Path(module_lab.dir))["overcloud"]["overcloud"]["upgraded"]
    upgraded = {(node.instance_info or {}).get("display_name"): (node.extra or {}).get("upgraded_to")
                for node in conn.baremetal.nodes(details=True) if node.provision_state == "active"}
    assert sorted(upgraded) == ["overcloud-controller-0", "overcloud-novacompute-0", "overcloud-novacompute-1"]
    assert all(upgraded.values()), upgraded


def test_the_bootstrap_writes_the_container_images_file_undercloud_conf_names(module_lab, site, deployed):
    """The install fails without the file (as tripleoclient's does, copying it); the stage writes it with
    the real client's 'openstack tripleo container image prepare default' when the host has none."""
    from rdoflow.blocks.ssh import SSHHost
    from rdoflow.flows.undercloud_bootstrap import undercloud_bootstrap
    from rdoflow.tasks.ssh.remote import run

    home = Path(module_lab.dir) / "home"
    host = SSHHost.from_target(site.undercloud.ssh)
    conf = (home / "undercloud.conf").read_text()
    (home / "undercloud.conf").write_text(conf.replace("[DEFAULT]", "[DEFAULT]\ncontainer_images_file = missing.yaml"))
    bare = run(host, ["openstack", "undercloud", "install", "-y"], check=False, timeout=300)
    assert bare.exit_status == 1 and "Cannot copy a container imagesfile missing.yaml into a tempdir!" in bare.stderr
    undercloud = site.undercloud.model_copy(deep=True)
    undercloud.conf["DEFAULT"]["container_images_file"] = "containers-prepare-parameter.yaml"
    report = undercloud_bootstrap(site=site.model_copy(update={"undercloud": undercloud}))
    assert report.passed and report.install.ran
    written = yaml.safe_load((home / "containers-prepare-parameter.yaml").read_text())
    assert written["parameter_defaults"]["ContainerImagePrepare"][0]["push_destination"] is True
