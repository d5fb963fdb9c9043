"""The compare-runs flow on a real Prefect server: both runs stored, the verdict, and its three artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest

from rdoflow.errors import ResourceFailed
from rdoflow.tasks.results.store import ResultsStore

FIXTURES = Path(__file__).parent / "fixtures" / "tempest"


@pytest.mark.usefixtures("prefect_server")
def test_a_red_comparison_fails_the_flow_run_and_leaves_summary_table_and_report_link(tmp_path):
    from prefect.artifacts import Artifact

    from rdoflow.flows.compare_runs import compare_runs

    state = compare_runs(pre=str(FIXTURES / "tacker-stestr-60"), post=str(FIXTURES / "tacker-stestr-12"),
                         suite="tacker", drop="abc123", store=str(tmp_path / "store"),
                         report_dir=str(tmp_path / "reports"), return_state=True)
    assert state.is_failed()
    with pytest.raises(ResourceFailed, match="regression comparison is red") as raised:
        state.result()
    evidence = "\n".join(raised.value.evidence)
    assert "regression: " in evidence and "test_deregister_vim_barbican" in evidence  # the test, then its traceback
    assert "    " in evidence.split("test_deregister_vim_barbican", 1)[1]
    summary = Artifact.get("regression-comparison")
    assert summary.data.startswith("# Regression comparison: ❌ FAIL")
    assert "test_deregister_vim_barbican" in summary.data
    table = Artifact.get("regression-changes")
    assert table.type == "table" and "test_encode_vim_auth_barbican" in str(table.data)
    link = Artifact.get("regression-report")
    runs = ResultsStore(str(tmp_path / "store")).runs("tacker")
    post = next(run["run_id"] for run in runs if run["label"] == "post")
    in_store = tmp_path / "store" / "reports" / "tacker" / post / "comparison.html"  # no public URL: the store's
    assert in_store.as_uri() in str(link.data) and in_store.read_text() == (tmp_path / "reports" / "comparison.html"
                                                                            ).read_text()
    assert sorted(run["label"] for run in runs) == ["post", "pre"]
    assert {run["drop"] for run in runs} == {"", "abc123"}


@pytest.mark.usefixtures("prefect_server")
def test_a_green_comparison_completes_with_its_counts(tmp_path):
    from rdoflow.flows.compare_runs import compare_runs

    outcome = compare_runs(pre=str(FIXTURES / "tacker-stestr-12"), post=str(FIXTURES / "tacker-stestr-60"),
                           store=str(tmp_path / "store"), report_dir=str(tmp_path / "reports"))
    assert outcome.outcome == "pass" and outcome.counts["fixed"] == 3
    assert Path(outcome.reports["junit"]).exists()


@pytest.mark.usefixtures("prefect_server")
def test_the_ui_links_open_the_reports_and_the_trend_at_the_public_url(tmp_path):
    """The links a team clicks in the UI: the report and the suite's trend in the store, under the site's public
    URL (served by the team's web server over the store: here the URL is checked, and the files behind it)."""
    from rdoflow.flows.compare_runs import compare_runs
    from tests.conftest import artifact_of

    store = tmp_path / "store"
    state = compare_runs(pre=str(FIXTURES / "tacker-stestr-60"), post=str(FIXTURES / "tacker-stestr-12"),
                         suite="tacker", drop="7b3e5d4c_1a2b3c4d", store=str(store), report_dir=str(tmp_path / "r"),
                         public_url="https://ci.example/rdoflow", return_state=True)
    assert state.is_failed()
    run_id = state.state_details.flow_run_id
    post = next(run["run_id"] for run in ResultsStore(str(store)).runs("tacker") if run["label"] == "post")
    report = artifact_of(run_id, "regression-report").data
    assert report == f"[HTML report](https://ci.example/rdoflow/reports/tacker/{post}/comparison.html)"
    assert "test_deregister_vim_barbican" in (store / "reports" / "tacker" / post / "comparison.html").read_text()
    trend = artifact_of(run_id, "results-trend")
    assert trend.data == "[trend of tacker](https://ci.example/rdoflow/reports/tacker/trend.html)"
    assert trend.description.endswith("latest 7b3e5d4c_1a2b3c4d: FAIL")
    page = (store / "reports" / "tacker" / "trend.html").read_text()
    assert "7b3e5d4c_1a2b3c4d" in page and f'href="https://ci.example/rdoflow/reports/tacker/{post}/comparison.html"' \
        in page
    with pytest.raises(ResourceFailed) as raised:
        state.result()
    assert f"https://ci.example/rdoflow/reports/tacker/{post}/comparison.html" in raised.value.hint


@pytest.mark.usefixtures("prefect_server")
def test_the_handover_link_opens_the_page_in_the_store_with_its_secret_redacted(tmp_path):
    from datetime import datetime, timezone

    from prefect import flow

    from rdoflow.tasks.regression.stage import leave_handover, store_run
    from rdoflow.tasks.regression.suites import SuiteRun
    from tests.conftest import artifact_of
    from tests.results_streams import write

    nodes = "ironic_tempest_plugin.tests.api.admin.test_nodes.TestNodes.test_create_node"
    secret = 'Traceback (most recent call last):\n  File "t.py", line 1, in t\nBadRequest: {"password": "hunter2-s3cr3t"}\n'
    raw = write(tmp_path / "raw.subunit", [(nodes, "fail", 1, secret)])
    suite_run = SuiteRun(kind="tempest", label="post", host="stack@uc:22", workdir="/w", result_file=str(raw),
                         started_at=datetime(2026, 12, 7, tzinfo=timezone.utc), duration=1.0, expected=1, exit_status=1)

    @flow
    def stage():
        stored = store_run(suite_run, str(tmp_path / "store"), drop="abc123")
        return stored.meta.run_id, leave_handover(stored, str(tmp_path / "store"), None, "https://ci.example/r/")

    state = stage(return_state=True)
    run_id, (files, urls) = state.result()
    url = f"https://ci.example/r/reports/tempest/{run_id}/handover.html"
    assert files == {} and urls["html"] == url
    assert artifact_of(state.state_details.flow_run_id, "handover-post-page").data == f"[handover (post), HTML]({url})"
    page = (tmp_path / "store" / "reports" / "tempest" / run_id / "handover.html").read_text()
    assert "BadRequest" in page and "hunter2-s3cr3t" not in page
