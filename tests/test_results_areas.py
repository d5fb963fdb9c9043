"""Results by area of the inspection catalogue: a stored run's counts, and the comparison's changes and blockers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rdoflow.config.catalogue import load_catalogue
from rdoflow.config.site import ComparisonPolicy, KnownFailure
from rdoflow.reports.comparison import markdown
from rdoflow.tasks.results.areas import run_areas
from rdoflow.tasks.results.compare import compare
from rdoflow.tasks.results.model import RunMeta
from rdoflow.tasks.results.readers import read_run
from tests.cli_runner import rdoflow
from tests.results_streams import write

FIXTURES = Path(__file__).parent / "fixtures" / "tempest"
# Real ids of tempest 47 and its Ironic and Heat plugins (tests/fixtures/tempest/tempest-47-ids.txt).
IDENTITY = "tempest.api.identity.admin.v3.test_users.UsersV3TestJSON.test_update_user_password"
SERVERS = "tempest.api.compute.servers.test_create_server.ServersTestJSON.test_list_servers"
QUOTAS = "tempest.api.compute.admin.test_quotas.QuotasAdminTestJSON.test_get_default_quotas"
NODES = "ironic_tempest_plugin.tests.api.admin.test_nodes.TestNodes.test_create_node"
PORTS = "ironic_tempest_plugin.tests.api.admin.test_ports.TestPorts.test_create_port"
STACKS = "heat_tempest_plugin.tests.api.test_heat_api.test_stacks_list"


def run(tmp_path, name, tests, label="pre"):
    return read_run(write(tmp_path / name, tests), RunMeta(run_id=name, label=label, suite="tempest"))


@pytest.fixture
def upgraded(tmp_path):
    """Two runs of real ids: after the upgrade Ironic's node and port tests fail, one of them a known failure."""
    pre = run(tmp_path, "pre", [(t, "success", 1, None) for t in (IDENTITY, SERVERS, QUOTAS, NODES, PORTS, STACKS)])
    post = run(tmp_path, "post", [(IDENTITY, "success", 1, None), (SERVERS, "fail", 1, "E"),
                                  (QUOTAS, "success", 1, None), (NODES, "fail", 1, "Traceback (most recent call "
                                  "last):\nironicclient.exc.Conflict: node locked"), (PORTS, "fail", 1, "E"),
                                  (STACKS, "success", 1, None)], "post")
    policy = ComparisonPolicy(known_failures=[KnownFailure(test=r"tempest\.api\.compute\.servers", reason="LP 1")])
    return compare(pre, post, policy)


def test_a_real_full_tempest_run_counts_every_test_once_by_area():
    table = read_run(FIXTURES / "fuelccp-tempest.xml", RunMeta(run_id="fuelccp"))
    area, areas = run_areas(table)
    assert [a.area for a in areas] == ["identity", "compute-and-volumes", "networking", "bare-metal", "orchestration",
                                       "admin", "other"]
    assert sum(a.tests for a in areas) == len(table)
    for name in ("pass", "fail", "skip"):
        assert sum(a.counts[name] for a in areas) == int((table["status"] == name).sum())
    assert set(table.loc[area == "other", "test_id"].str.split(".").str[2]) == {"data_processing"}
    orchestration = next(a for a in areas if a.area == "orchestration")
    assert orchestration.tests == 46 and orchestration.title == "Orchestration"


def test_a_failed_class_fixture_counts_as_an_error_in_its_classs_area(tmp_path):
    table = run(tmp_path, "r", [(NODES, "success", 1, None), (
        "setUpClass (ironic_tempest_plugin.tests.api.admin.test_ports.TestPorts)", "fail", 1, "E")])
    _, areas = run_areas(table)
    assert [(a.area, a.counts["pass"], a.counts["error"], a.counts["fail"]) for a in areas] == [("bare-metal", 1, 1, 0)]


def test_the_comparison_says_per_area_what_changed_and_what_blocks(upgraded):
    areas = {a.area: a for a in upgraded.areas}
    assert list(areas) == ["identity", "compute-and-volumes", "bare-metal", "orchestration", "admin"]
    assert areas["bare-metal"].counts["regression"] == 2 and areas["bare-metal"].blocking == 2
    # a known failure is a regression of its area, but does not block
    assert areas["compute-and-volumes"].counts["regression"] == 1 and areas["compute-and-volumes"].blocking == 0
    assert all(areas[name].blocking == 0 and areas[name].counts["unchanged"] == 1
               for name in ("identity", "orchestration", "admin"))
    assert sum(a.blocking for a in upgraded.areas) == int(upgraded.table["blocking"].sum()) == 2
    assert upgraded.verdict.outcome == "fail"


def test_the_markdown_has_a_row_per_area_with_its_blockers(upgraded):
    text = markdown(upgraded, RunMeta(run_id="pre"), RunMeta(run_id="post"))
    assert "## By area" in text
    assert "| Bare metal ❌ | 2 | 2 | 0 | 0 | 0 | 0 | 0 | 2 |" in text
    assert "| Identity | 1 | 0 | 0 | 0 | 0 | 0 | 1 | 0 |" in text


def test_rdoflow_compare_writes_the_areas_into_the_json_and_html(tmp_path):
    tests = [(t, "success", 1, None) for t in (IDENTITY, NODES, STACKS)]
    pre = write(tmp_path / "pre", tests)
    post = write(tmp_path / "post", [tests[0], (NODES, "fail", 1, "E"), tests[2]])
    result = rdoflow("compare", str(pre), str(post), "--store", str(tmp_path / "store"), "--reports", str(tmp_path))
    assert result.exit_code == 1, result.output
    areas = json.loads((tmp_path / "comparison.json").read_text())["areas"]
    assert [(a["area"], a["tests"], a["counts"]["regression"], a["blocking"]) for a in areas] == [
        ("identity", 1, 0, 0), ("bare-metal", 1, 1, 1), ("orchestration", 1, 0, 0)]
    html = (tmp_path / "comparison.html").read_text()
    assert '<table id="areas">' in html and html.count('<tr class="blocking">') == 1
    assert load_catalogue().areas["bare-metal"].reads_as in html


def test_a_stored_regression_run_and_its_summary_break_the_results_down_by_area(tmp_path):
    from datetime import datetime, timezone

    from rdoflow.reports.regression import render_summary
    from rdoflow.tasks.regression.stage import store_run
    from rdoflow.tasks.regression.suites import SuiteRun

    raw = write(tmp_path / "raw.subunit", [(IDENTITY, "success", 1, None), (NODES, "fail", 1, "E"),
                                           (PORTS, "skip", 0, "no ports"), (STACKS, "success", 1, None)])
    suite_run = SuiteRun(kind="tempest", label="pre", host="stack@uc:22", workdir="/w", result_file=str(raw),
                         started_at=datetime(2026, 12, 7, tzinfo=timezone.utc), duration=3.0, expected=4, exit_status=1)
    stored = store_run(suite_run, str(tmp_path / "store"), drop="")
    assert [(a.area, a.tests, a.counts["pass"], a.counts["fail"], a.counts["skip"]) for a in stored.areas] == [
        ("identity", 1, 1, 0, 0), ("bare-metal", 2, 0, 1, 1), ("orchestration", 1, 1, 0, 0)]
    text = render_summary(stored)
    assert "| area | tests | pass | fail | skip | error |" in text
    assert "| Bare metal | 2 | 0 | 1 | 1 | 0 |" in text
