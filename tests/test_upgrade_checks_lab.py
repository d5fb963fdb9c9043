"""Across the upgrade, against the lab: rdoflow's workload (a real Heat stack and a real Ironic allocation)
watched from before the upgrade to after it, and the site's validations before and after, each a row of the
runs' results table that the verdict judges."""

from __future__ import annotations

from pathlib import Path

import pytest
from heatclient import client as heat_client

from rdoflow.config.upgrade_checks import ValidationCommand, Validations, WorkloadCheck
from rdoflow.errors import ResourceFailed
from rdoflow.flows.overcloud_deploy import overcloud_deploy
from rdoflow.flows.upgrade_regression import upgrade_regression
from rdoflow.lab import config as labconfig
from rdoflow.tasks.results.store import ResultsStore
from tests.conftest import fast_knobs, remote_processes
from tests.lab_undercloud import ready_undercloud, with_stack

LAB_KNOBS = fast_knobs(nodes=4, controllers=1)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
NOT_UPGRADED = ["python3", "-c", "import json, sys; state = json.load(open(sys.argv[1])); "
                "sys.exit(1 if state['overcloud']['overcloud'].get('upgraded') else 0)"]


@pytest.fixture(scope="module")
def site(module_lab, prefect_server, tmp_path_factory):
    """The lab's undercloud installed and its overcloud (1 controller, 2 computes: one node left available)."""
    site = with_stack(ready_undercloud(module_lab), "overcloud", 1, 2)
    assert overcloud_deploy(site=site, report_dir=tmp_path_factory.mktemp("deploy")).passed
    regression = site.regression.model_copy(update={"include": [r"^tempest\.api\."]})
    return site.model_copy(update={"regression": regression})


@pytest.fixture
def knobs(module_lab):
    before = labconfig.load(module_lab.dir)
    yield before.model_copy(deep=True)
    labconfig.save(module_lab.dir, before)


def _rows(site, label: str) -> dict[str, tuple[str, str]]:
    store = ResultsStore(site.results.location)
    run = [meta for meta in store.runs() if meta["label"] == label][-1]
    table = store.read(run["suite"], run["run_id"])
    checks = table[table["test_id"].str.startswith(("workload.", "validation."))]
    return {row.test_id: (row.status, row.reason) for row in checks.itertuples()}


def _nothing_left(module_lab, site) -> None:
    from rdoflow.blocks.openstack import OpenStackCloud

    conn = OpenStackCloud.from_site(site.cloud).connect()
    assert [a.name for a in conn.baremetal.allocations()] == []
    assert not any(node.is_maintenance for node in conn.baremetal.nodes(details=True))
    heat = heat_client.Client("1", endpoint=module_lab.heat_url, token="test")
    assert [s.stack_name for s in heat.stacks.list() if s.stack_name.startswith("rdoflow-workload")] == []
    assert remote_processes("rdoflow-probe") == []


def test_a_validation_that_passed_before_and_fails_after_is_a_regression(module_lab, site, tmp_path):
    check = ValidationCommand(name="overcloud-not-upgraded", command=[*NOT_UPGRADED,
                                                                      str(Path(module_lab.dir) / "host-state.json")])
    plan = site.upgrade.model_copy(update={"undercloud": False, "workload": None,
                                           "validations": Validations(pre=[check], post=[check],
                                                                      post_group="post-upgrade")})
    state = upgrade_regression(site=site.model_copy(update={"upgrade": plan}), report_dir=tmp_path,
                               return_state=True)
    error = state.result(raise_on_failure=False)
    assert isinstance(error, ResourceFailed), error
    assert "validation.overcloud-not-upgraded" in error.message
    assert "exit status 1" in "\n".join(error.evidence)
    after = _rows(site, "post")
    assert after["validation.post-upgrade"] == (
        "skip", f"group post-upgrade: the validations framework is not installed on {site.undercloud.ssh.address} "
                "('validation' is not on the PATH)")


def test_the_workload_comes_through_and_each_check_is_a_passing_row(module_lab, site, tmp_path):
    verdict = upgrade_regression(site=site, report_dir=tmp_path)
    assert verdict.passed, verdict.blocking
    before, after = _rows(site, "pre"), _rows(site, "post")
    assert before["workload.lab-cloud"][0] == "pass" and "CREATE_COMPLETE" in before["workload.lab-cloud"][1]
    assert after["workload.lab-cloud"][0] == "pass" and "none failed" in after["workload.lab-cloud"][1]
    _nothing_left(module_lab, site)


def test_a_workload_down_longer_than_allowed_turns_the_verdict_red_with_its_evidence(module_lab, site, knobs,
                                                                                   tmp_path):
    knobs.faults.workload_outage = labconfig.WorkloadOutage(role="Compute", seconds=6)
    labconfig.save(module_lab.dir, knobs)
    plan = site.upgrade.model_copy(update={"undercloud": False, "workload": WorkloadCheck(
        kind="cloud", name="lab-cloud", interval=0.5, max_downtime=2)})
    state = upgrade_regression(site=site.model_copy(update={"upgrade": plan}), report_dir=tmp_path,
                               return_state=True)
    error = state.result(raise_on_failure=False)
    assert isinstance(error, ResourceFailed), error
    assert "workload.lab-cloud" in error.message
    shown = "\n".join(error.evidence)
    assert "regression: workload.lab-cloud (pass -> fail)" in shown
    assert "during 'upgrade run Compute'" in shown and "(threshold 2 s)" in shown and "maintenance" in shown
    _nothing_left(module_lab, site)
