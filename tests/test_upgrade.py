"""The upgrade stage against the lab: undercloud upgrade, then prepare, run role by role and converge."""

from __future__ import annotations

from pathlib import Path

import pytest
from heatclient import client as heat_client
from prefect.artifacts import Artifact

from rdoflow.config.releases import Release
from rdoflow.errors import ConfigError, ResourceFailed
from rdoflow.flows.overcloud_deploy import overcloud_deploy
from rdoflow.flows.upgrade import upgrade
from rdoflow.lab import config as labconfig
from rdoflow.lab.tripleo.hoststate import read_state
from rdoflow.tasks.overcloud.commands import upgrade_steps
from tests.conftest import fast_knobs
from tests.lab_undercloud import ready_undercloud, with_stack

LAB_KNOBS = fast_knobs(nodes=5, controllers=1)
pytestmark = pytest.mark.timeout(600)

STEPS = ["undercloud upgrade", "upgrade prepare", "upgrade run Controller", "upgrade run Compute", "upgrade converge"]


@pytest.fixture(scope="module")
def site(module_lab, prefect_server, tmp_path_factory):
    """The lab's undercloud installed and its overcloud (1 controller, 2 computes) deployed."""
    site = with_stack(ready_undercloud(module_lab), "overcloud", 1, 2)
    assert overcloud_deploy(site=site, report_dir=tmp_path_factory.mktemp("deploy")).passed
    return site


@pytest.fixture
def knobs(module_lab):
    before = labconfig.load(module_lab.dir)
    yield before.model_copy(deep=True)
    labconfig.save(module_lab.dir, before)


def test_the_upgrade_runs_each_step_role_by_role_and_reports_them(module_lab, site, tmp_path):
    report = upgrade(site=site, report_dir=tmp_path)
    assert [step.name for step in report.steps] == STEPS
    assert {step.outcome for step in report.steps} == {"pass"}
    host = read_state(Path(module_lab.dir))
    assert host["undercloud"]["version"] == "12.6.2"  # the lab's train release, updated
    assert host["overcloud"]["overcloud"]["upgrade"] == "converge" and host["overcloud"]["overcloud"]["upgraded"]
    assert host["overcloud"]["overcloud"]["upgraded_roles"][-2:] == ["Controller", "Compute"]
    stack = heat_client.Client("1", endpoint=module_lab.heat_url, token="test").stacks.get("overcloud")
    assert stack.stack_status == "UPDATE_COMPLETE"
    assert report.steps[-1].stack_status == "UPDATE_COMPLETE"
    markdown = (tmp_path / "upgrade.md").read_text()
    assert markdown.startswith("# Upgrade: PASS")
    for name in STEPS:
        assert f"| {name} | ✅ succeeded |" in markdown
    assert Artifact.get("upgrade-run-compute-progress").data == 100


def test_a_node_failing_its_upgrade_is_named_with_the_fatal_message(module_lab, site, knobs, tmp_path):
    knobs.faults.stack_fail = [labconfig.StackFault(role="Compute", index=1, reason="yum: conflicting requests",
                                                    stage="upgrade")]
    labconfig.save(module_lab.dir, knobs)
    plan = site.upgrade.model_copy(update={"undercloud": False})
    state = upgrade(site=site.model_copy(update={"upgrade": plan}), report_dir=tmp_path, return_state=True)
    error = state.result(raise_on_failure=False)
    assert isinstance(error, ResourceFailed)
    assert error.message == "upgrade run Compute: overcloud-compute-1 FAILED: yum: conflicting requests"
    assert any(line.startswith("PLAY RECAP overcloud-compute-1 :") and "failed=1" in line for line in error.evidence)
    assert "fix overcloud-compute-1" in error.hint
    markdown = (tmp_path / "upgrade.md").read_text()
    assert "# Upgrade: FAIL at upgrade run Compute" in markdown
    assert "| upgrade run Controller | ✅ succeeded |" in markdown
    assert "| upgrade converge | ➖ not run |" in markdown
    assert "undercloud upgrade" not in markdown


def test_the_steps_follow_the_plan(site):
    plan = site.upgrade.model_copy(update={"undercloud": False, "roles_order": ["Compute", "Controller"],
                                           "environment_files": ["upgrade-env.yaml"]})
    steps = upgrade_steps(site.overcloud, plan, 600)
    assert [step.name for step in steps] == ["upgrade prepare", "upgrade run Compute", "upgrade run Controller",
                                             "upgrade converge"]
    prepare = steps[0].argv
    assert prepare[-7:] == ["-e", "upgrade-env.yaml", "--stack", "overcloud", "--timeout", "30", "-y"]
    assert steps[1].argv == ["openstack", "overcloud", "upgrade", "run", "--limit", "Compute", "--stack",
                             "overcloud", "-y"]
    assert (steps[1].hosts, steps[1].key) == (2, "upgrade-run-compute")
    assert [step.name for step in upgrade_steps(site.overcloud, plan, 600, "wallaby")][-1] == "upgrade converge"


def test_zed_has_no_converge_and_its_last_role_run_ends_the_upgrade(module_lab, site, knobs, tmp_path):
    """On a Zed undercloud (the lab's release zed) the stage runs no converge, which Zed's tripleoclient
    does not have; a site that says train is told so by the client itself."""
    knobs.release = "zed"
    labconfig.save(module_lab.dir, knobs)
    plan = site.upgrade.model_copy(update={"undercloud": False})
    as_train = site.model_copy(update={"upgrade": plan})
    state = upgrade(site=as_train, report_dir=tmp_path, return_state=True)
    error = state.result(raise_on_failure=False)
    assert isinstance(error, ConfigError)  # exit 2: the site is wrong, not the cloud
    assert error.problems == ["site: undercloud.release: the undercloud's tripleoclient has no 'overcloud upgrade "
                              "converge', which this release's steps run; expected the release the undercloud runs"]
    assert "stdout: openstack: 'overcloud upgrade converge' is not an openstack command. See 'openstack --help'." in \
        error.evidence and "set undercloud.release" in error.hint
    # This module's overcloud was deployed the Train way (no 'overcloud node provision' output to pass):
    # its counts are the deploy's, so the Zed site names no roles.
    zed = as_train.model_copy(update={"undercloud": site.undercloud.model_copy(update={"release": Release.ZED}),
                                      "overcloud": site.overcloud.model_copy(update={"roles": {}})})
    report = upgrade(site=zed, report_dir=tmp_path)
    assert [step.name for step in report.steps] == STEPS[1:-1] and report.passed
    stack = read_state(Path(module_lab.dir))["overcloud"]["overcloud"]
    assert stack["upgrade"] == "run" and stack["upgraded"]
