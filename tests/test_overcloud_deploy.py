"""The overcloud-deploy stage against the lab: real sshd, Ironic, Heat and a Prefect test server.

Each test deploys a stack of its own (``site.overcloud.stack``), so a fault set for one never meets
another's stack; the knobs are restored after each test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from heatclient import client as heat_client

from rdoflow.errors import RemoteCommandFailed, ResourceFailed
from rdoflow.flows.overcloud_deploy import overcloud_deploy
from rdoflow.lab import config as labconfig
from rdoflow.lab.tripleo.hoststate import read_state
from rdoflow.tasks import progress
from rdoflow.tasks.overcloud.commands import (
    ansible_failures,
    baremetal_deployment,
    deploy_step,
    deploy_steps,
    error_lines,
    host_reported,
    node_failures,
    recap_failed,
)
from rdoflow.tasks.ssh.processes import running_pattern
from tests.conftest import artifact_of, fast_knobs, logs_of, task_runs_of
from tests.lab_undercloud import ready_undercloud, with_stack

LAB_KNOBS = fast_knobs(nodes=10, controllers=2)
pytestmark = pytest.mark.timeout(600)

LIBVIRT = "Error: Could not find class ::nova::compute::libvirt for overcloud-compute-0"


@pytest.fixture(scope="module")
def site(module_lab, prefect_server):
    return ready_undercloud(module_lab)


@pytest.fixture
def knobs(module_lab):
    before = labconfig.load(module_lab.dir)
    yield before.model_copy(deep=True)
    labconfig.save(module_lab.dir, before)


def heat(lab):
    return heat_client.Client("1", endpoint=lab.heat_url, token="test")


def deploy(site, report_dir: Path):
    """Run the flow; its final state (the flow run id is in it)."""
    return overcloud_deploy(site=site, report_dir=report_dir, return_state=True)


def drop_once(lab, after: float) -> labconfig.SSHDrop:
    """An ssh_drop fault that cuts the next deploy's session once (the lab counts cuts over its life)."""
    done = read_state(Path(lab.dir)).get("ssh_drops", {}).get("overcloud deploy", 0)
    return labconfig.SSHDrop(command="overcloud deploy", after=after, times=done + 1)


def deploy_task_run(state):
    runs = [r for r in task_runs_of(state.state_details.flow_run_id) if r.name == "overcloud deploy"]
    assert len(runs) == 1
    return runs[0]


def test_a_deploy_completes_the_stack_with_progress_to_100_and_a_report(module_lab, site, prefect_server, tmp_path):
    seen = []
    stop = progress.listen(lambda key, description, done, total, note: seen.append((key, done, total)))
    try:
        state = deploy(with_stack(site, "overcloud", 1, 2), tmp_path)
    finally:
        stop()
    report = state.result()
    assert report.passed and report.steps[0].stack_status == "CREATE_COMPLETE"
    assert heat(module_lab).stacks.get("overcloud").stack_status == "CREATE_COMPLETE"
    moves = [(done, total) for key, done, total in seen if key == "overcloud-deploy-progress"]
    assert moves[0][0] < moves[0][1]  # it starts at 0%, not at 100% of nothing
    assert any(0 < done < total for done, total in moves), moves  # it moved while the command ran
    assert moves[-1][0] == moves[-1][1] == report.steps[0].resources.total > 0
    assert artifact_of(state.state_details.flow_run_id, "overcloud-deploy-progress").data == 100
    markdown = (tmp_path / "overcloud-deploy.md").read_text()
    assert "# Overcloud deploy: PASS" in markdown and "| overcloud deploy | ✅ succeeded |" in markdown
    assert "CREATE_COMPLETE" in artifact_of(state.state_details.flow_run_id, "overcloud-deploy").data


def test_a_failed_stack_resource_is_diagnosed_with_its_path_reason_and_events(module_lab, site, knobs,
                                                                                prefect_server, tmp_path):
    knobs.faults.stack_fail = [labconfig.StackFault(role="Compute", index=0, reason=LIBVIRT)]
    labconfig.save(module_lab.dir, knobs)
    state = deploy(with_stack(site, "stackfail", 0, 1), tmp_path)
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, ResourceFailed)
    assert error.message.startswith("stack stackfail CREATE_FAILED: stackfail.Compute.0.Config")
    assert LIBVIRT in error.message
    assert any("event" in line and "stackfail.Compute.0.Config CREATE_FAILED" in line for line in error.evidence)
    assert "openstack stack failures list stackfail --long" in error.hint
    assert "command: ERROR: Heat Stack create failed." in error.evidence  # the command's own words too
    assert deploy_task_run(state).run_count == 1  # a failed stack is not retried
    for markdown in ((tmp_path / "overcloud-deploy.md").read_text(),
                     artifact_of(state.state_details.flow_run_id, "overcloud-deploy").data):
        assert "FAIL at overcloud deploy" in markdown
        assert "Events leading to `stackfail.Compute.0.Config`:" in markdown
        assert f"| stackfail.Compute.0.Config | OS::Heat::WaitCondition | CREATE_FAILED | WaitConditionFailure: " \
               f"resources.Config: {LIBVIRT} |" in markdown


def test_a_session_dropped_mid_stack_waits_for_the_stack_and_does_not_rerun(module_lab, site, knobs,
                                                                             prefect_server, tmp_path):
    knobs.timing.node_configure = 5.0  # the stack outlives the session by some seconds, even on a busy machine
    knobs.faults.ssh_drop = drop_once(module_lab, after=7.0)
    labconfig.save(module_lab.dir, knobs)
    state = deploy(with_stack(site, "dropped", 0, 2), tmp_path)
    report = state.result()
    assert deploy_task_run(state).run_count == 2
    assert heat(module_lab).stacks.get("dropped").stack_status == "CREATE_COMPLETE"
    assert report.passed and report.steps[0].attempts == 2
    assert any("ended CREATE_COMPLETE; the command was not run again" in note for note in report.steps[0].notes), \
        report.steps[0].notes
    logs = "\n".join(logs_of(state.state_details.flow_run_id))
    assert "dropped while running" in logs or "lost during" in logs
    assert "already has an action in progress" not in logs
    assert "## Retries" in (tmp_path / "overcloud-deploy.md").read_text()


def test_a_session_dropped_before_the_stack_action_runs_the_command_again(module_lab, site, knobs,
                                                                          prefect_server, tmp_path):
    knobs.faults.ssh_drop = drop_once(module_lab, after=0.0)
    labconfig.save(module_lab.dir, knobs)
    state = deploy(with_stack(site, "early-drop", 0, 1), tmp_path)
    report = state.result()
    assert deploy_task_run(state).run_count == 2
    assert heat(module_lab).stacks.get("early-drop").stack_status == "CREATE_COMPLETE"
    assert any("before the stack action began; the command was run again" in n for n in report.steps[0].notes)


def test_a_node_ironic_fails_to_deploy_is_named_with_its_last_error(module_lab, site, knobs, prefect_server,
                                                                   tmp_path):
    knobs.faults.deploy_fail = [f"node-{i:02d}" for i in range(knobs.nodes)]
    labconfig.save(module_lab.dir, knobs)
    state = deploy(with_stack(site, "deployfail", 0, 1), tmp_path)
    error = state.result(raise_on_failure=False)
    assert isinstance(error, ResourceFailed)
    assert error.message.startswith("node node-") and 'reached failure state "deploy failed"' in error.message
    assert "Timeout reached while waiting for callback" in error.message
    assert "openstack baremetal node show node-" in error.hint
    assert "Timeout reached while waiting for callback" in (tmp_path / "overcloud-deploy.md").read_text()


def test_a_command_error_without_a_stack_is_the_error_line(module_lab, site, prefect_server, tmp_path):
    state = deploy(with_stack(site, "toobig", 0, 40), tmp_path)
    error = state.result(raise_on_failure=False)
    assert type(error) is RemoteCommandFailed
    assert error.message.startswith("Not enough nodes - available: ")


# The output parsers, on lines as the real tools print them.

def test_the_deploy_command_is_built_from_the_site(site):
    step = deploy_step(with_stack(site, "s1", 1, 2).overcloud)
    assert step.argv[:5] == ["openstack", "overcloud", "deploy", "--templates", site.overcloud.templates]
    assert step.argv[-6:] == ["-e", "rdoflow-roles-s1.yaml", "--stack", "s1", "--timeout", "30"]
    assert step.timeout == 30 * 60 + 600


def test_wallaby_and_zed_provision_the_site_s_roles_before_a_deploy_that_takes_them(site):
    overcloud = with_stack(site, "s1", 1, 2).overcloud
    overcloud = overcloud.model_copy(update={"roles": {**overcloud.roles, "ComputeHCI": 1, "CephStorage": 0},
                                             "profiles": {"ComputeHCI": "compute-hci"}})
    assert yaml.safe_load(baremetal_deployment(overcloud)) == [
        {"name": "Controller", "count": 1, "defaults": {"profile": "control"}},
        {"name": "Compute", "count": 2, "defaults": {"profile": "compute"}},
        {"name": "ComputeHCI", "count": 1, "defaults": {"profile": "compute-hci"}}]  # no node: no entry
    for release in ("wallaby", "zed"):
        provision, deploy = deploy_steps(overcloud, release)
        assert provision.argv == ["openstack", "overcloud", "node", "provision", "--stack", "s1", "-y", "--output",
                                  "overcloud-baremetal-deployed-s1.yaml", "rdoflow-baremetal-deployment-s1.yaml"]
        assert deploy.argv[5:7] == ["-e", "overcloud-baremetal-deployed-s1.yaml"]  # the counts come from it
        assert "rdoflow-roles-s1.yaml" not in deploy.argv and not deploy.drives_stack and deploy.hosts == 4
    [train] = deploy_steps(overcloud, "train")
    assert train.drives_stack and train.argv == deploy_step(overcloud).argv


def test_error_and_ironic_lines_are_read_from_the_output():
    lines = ["2026 | INFO | tripleoclient | Deploying", 'ERROR: Node node-03 (2f1e) reached failure state '
             '"deploy failed"; the last error is: Timeout reached while waiting for callback for node 2f1e']
    assert error_lines(lines)[0].startswith("Node node-03 (2f1e) reached")
    failure = node_failures(lines)[0]
    assert (failure.node, failure.state) == ("node-03 (2f1e)", "deploy failed")
    assert failure.error == "Timeout reached while waiting for callback for node 2f1e"


def test_ansible_fatal_lines_and_the_failed_hosts_of_the_recap_are_read():
    lines = ['fatal: [oc-compute-1]: FAILED! => {"changed": false, "msg": "yum: conflicting requests"}',
             'fatal: [oc-compute-2]: UNREACHABLE! => not json', "PLAY RECAP ****",
             "oc-compute-0   : ok=12   changed=4    unreachable=0    failed=0",
             "oc-compute-1   : ok=3    changed=1    unreachable=0    failed=1    skipped=2"]
    failures = ansible_failures(lines)
    assert [(f.node, f.state, f.error) for f in failures] == [
        ("oc-compute-1", "FAILED", "yum: conflicting requests"), ("oc-compute-2", "UNREACHABLE", "not json")]
    assert recap_failed(lines) == ["oc-compute-1 : ok=3 changed=1 unreachable=0 failed=1 skipped=2"]


def test_tripleo_dense_fatal_and_unreachable_lines_are_read_as_ansible_failures():
    """What Wallaby's and Zed's tripleoclient print: tripleo-ansible's tripleo_dense callback."""
    lines = ["2026-12-07 10:28:24.864 | 1f2e-aa | Deploy step tasks for 1 | oc-controller-0",
             "2026-12-07 10:28:24.864493 | cc944af9-27a0-49df-aa91-c33b112e7043 |    CHANGED | Deploy step tasks "
             "for 1 | oc-controller-0",
             "2026-12-07 10:28:24.864493 | cc944af9-27a0-49df-aa91-c33b112e7043 |      FATAL | Deploy step tasks "
             'for 1 | oc-novacompute-1 | error={"changed": false, "msg": "nova_compute exited 1"}',
             "2026-12-07 10:28:24.864493 | cc944af9-27a0-49df-aa91-c33b112e7043 | UNREACHABLE | Gathering Facts "
             "| oc-novacompute-2"]
    failures = ansible_failures(lines)
    assert [(f.node, f.state, f.error) for f in failures] == [
        ("oc-novacompute-1", "FAILED", "nova_compute exited 1"), ("oc-novacompute-2", "UNREACHABLE", "Gathering Facts")]
    assert [host_reported(line) for line in lines] == [None, "oc-controller-0", "oc-novacompute-1", "oc-novacompute-2"]


def test_the_running_command_pattern_is_literal_and_does_not_match_itself():
    import re

    argv = ["openstack", "overcloud", "deploy", "-e", "node-info.yaml", "--stack", "a.b"]
    pattern = running_pattern(argv)
    assert re.search(pattern, "/usr/bin/python3 -m lab.tripleo overcloud deploy -e node-info.yaml --stack a.b")
    assert not re.search(pattern, "python3 -m lab.tripleo overcloud deploy -e node-infoXyaml --stack a.b")
    assert not re.search(pattern, f"pgrep -f -- {pattern}")


def test_a_deploy_whose_stack_is_still_complete_is_reused_unless_refreshed(module_lab, site, prefect_server,
                                                                           tmp_path):
    resumed = with_stack(site, "resumed", 0, 1)
    assert deploy(resumed, tmp_path).result().passed
    again = deploy(resumed, tmp_path)
    stages = [r for r in task_runs_of(again.state_details.flow_run_id) if r.name == "deploy stack resumed"]
    assert [r.state.name for r in stages] == ["Cached"]
    assert not [r for r in task_runs_of(again.state_details.flow_run_id) if r.name == "overcloud deploy"]
    assert "✅ succeeded" in (tmp_path / "overcloud-deploy.md").read_text()
    refreshed = overcloud_deploy(site=resumed, report_dir=tmp_path, refresh=True, return_state=True)
    assert deploy_task_run(refreshed).state.is_completed()
    assert heat(module_lab).stacks.get("resumed").stack_status == "UPDATE_COMPLETE"


def test_a_deploy_whose_environment_file_was_edited_since_is_run_again(module_lab, site, prefect_server, tmp_path):
    resumed = with_stack(site, "resumed", 0, 1)  # deployed by the test above (the lab has no node to spare)
    before = deploy(resumed, tmp_path)
    assert [r.state.name for r in task_runs_of(before.state_details.flow_run_id)
            if r.name == "deploy stack resumed"] == ["Cached"]
    environment_file = Path(resumed.overcloud.environment_files[0])  # the lab host's file, on this machine
    environment_file.write_text(environment_file.read_text() + "# edited since the last deploy\n")
    again = deploy(resumed, tmp_path)
    stages = [r for r in task_runs_of(again.state_details.flow_run_id) if r.name == "deploy stack resumed"]
    assert [r.state.name for r in stages] == ["Completed"]  # a new key: deployed again, not reused
    assert deploy_task_run(again).state.is_completed()
    assert heat(module_lab).stacks.get("resumed").stack_status == "UPDATE_COMPLETE"


def test_the_failure_report_escapes_cells_and_shows_each_event_once():
    from rdoflow.reports.orchestration import render_stage
    from rdoflow.tasks.overcloud.model import (
        FailedResource,
        StackEvent,
        StageReport,
        StepResult,
    )

    event = StackEvent(time="2026-11-25T10:00:49Z", resource="s.Compute", status="CREATE_FAILED", reason="r")
    failure = FailedResource(path="s.Compute.0.Config", type="OS::Heat::WaitCondition", status="CREATE_FAILED",
                             reason="a | b", events=[event])
    step = StepResult(name="overcloud deploy", command="openstack overcloud deploy", outcome="fail", error="e",
                      evidence=["s.Compute.0.Config CREATE_FAILED: a | b", f"  event {event.line}",
                                "command: ERROR: Heat Stack create failed."], failures=[failure])
    markdown = render_stage(StageReport(stage="overcloud-deploy", site="lab", stack="s", steps=[step]))
    assert "| s.Compute.0.Config | OS::Heat::WaitCondition | CREATE_FAILED | a \\| b |" in markdown
    assert markdown.count(event.line) == 1
    assert "command: ERROR: Heat Stack create failed." in markdown
