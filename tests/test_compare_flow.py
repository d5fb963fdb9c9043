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
    assert (tmp_path / "reports" / "comparison.html").as_uri() in str(link.data)  # Prefect stores links as markdown
    runs = ResultsStore(str(tmp_path / "store")).runs("tacker")
    assert sorted(run["label"] for run in runs) == ["post", "pre"]
    assert {run["drop"] for run in runs} == {"", "abc123"}


@pytest.mark.usefixtures("prefect_server")
def test_a_green_comparison_completes_with_its_counts(tmp_path):
    from rdoflow.flows.compare_runs import compare_runs

    outcome = compare_runs(pre=str(FIXTURES / "tacker-stestr-12"), post=str(FIXTURES / "tacker-stestr-60"),
                           store=str(tmp_path / "store"), report_dir=str(tmp_path / "reports"))
    assert outcome.outcome == "pass" and outcome.counts["fixed"] == 3
    assert Path(outcome.reports["junit"]).exists()
