"""The comparison: each category, the class-setup pitfall, known and flaky tests, history, the verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from rdoflow.config.site import ComparisonPolicy, KnownFailure
from rdoflow.tasks.results.compare import compare, history_flips
from rdoflow.tasks.results.model import CATEGORIES, RunMeta
from rdoflow.tasks.results.readers import read_run
from rdoflow.tasks.results.store import ResultsStore
from tests.results_streams import write

FIXTURES = Path(__file__).parent / "fixtures" / "tempest"


def run(tmp_path, name, tests, label="pre"):
    return read_run(write(tmp_path / name, tests), RunMeta(run_id=name, label=label, suite="s"))


@pytest.fixture
def every_category(tmp_path):
    pre = run(tmp_path, "pre", [
        ("m.C.test_regress", "success", 1, None), ("m.C.test_fixed", "fail", 1, "E"),
        ("m.C.test_still", "fail", 1, "E"), ("m.C.test_removed", "success", 1, None),
        ("m.C.test_skip_now", "success", 1, None), ("m.C.test_unskip", "skip", 0, "off"),
        ("m.C.test_slow", "success", 2, None), ("m.C.test_same", "success", 1, None),
        ("m.D.test_gone", "success", 1, None)])
    post = run(tmp_path, "post", [
        ("m.C.test_regress", "fail", 1, "Traceback (most recent call last):\nAssertionError: boom"),
        ("m.C.test_fixed", "success", 1, None), ("m.C.test_still", "fail", 1, "E"),
        ("m.C.test_new_fail", "fail", 1, "E"), ("m.C.test_added", "success", 1, None),
        ("m.C.test_skip_now", "skip", 0, "off"), ("m.C.test_unskip", "success", 1, None),
        ("m.C.test_slow", "success", 9, None), ("m.C.test_same", "success", 1, None)], "post")
    return pre, post


def test_each_test_falls_in_exactly_one_category(every_category):
    result = compare(*every_category, ComparisonPolicy())
    category = dict(zip(result.table["test_id"], result.table["category"]))
    assert category == {
        "m.C.test_regress": "regression", "m.C.test_fixed": "fixed", "m.C.test_still": "still_failing",
        "m.C.test_new_fail": "new_failure", "m.C.test_added": "added", "m.C.test_removed": "removed",
        "m.D.test_gone": "removed", "m.C.test_skip_now": "newly_skipped", "m.C.test_unskip": "unskipped",
        "m.C.test_slow": "slower", "m.C.test_same": "unchanged"}
    assert set(result.counts) == set(CATEGORIES) and sum(result.counts.values()) == 11


def test_the_verdict_fails_and_names_the_regressions_new_failures_and_removals(every_category):
    result = compare(*every_category, ComparisonPolicy())
    assert result.verdict.outcome == "fail"
    assert any("1 test passed before and failed after: m.C.test_regress" in r for r in result.verdict.reasons)
    assert any("new (or no longer skipped) and failed: m.C.test_new_fail" in r for r in result.verdict.reasons)
    assert any("ran before and did not run after: m.D.test_gone" in r for r in result.verdict.reasons)
    # m.C.test_removed has m.C.test_added beside it: said as a probable rename, not blocking
    assert any("renamed" in r for r in result.verdict.reasons)


def test_a_test_skipped_before_and_failing_after_is_a_new_failure_that_fails_the_verdict(tmp_path):
    pre = run(tmp_path, "pre", [("m.C.test_a", "success", 1, None), ("m.C.test_was_skipped", "skip", 0, "off")])
    post = run(tmp_path, "post", [("m.C.test_a", "success", 1, None),
                                  ("m.C.test_was_skipped", "fail", 1, "AssertionError: boom")], "post")
    result = compare(pre, post, ComparisonPolicy())
    assert result.tests("new_failure") == ["m.C.test_was_skipped"] and result.tests("unskipped") == []
    assert result.verdict.outcome == "fail"
    assert result.verdict.blocking == ["1 test new (or no longer skipped) and failed: m.C.test_was_skipped"]


def test_known_failures_and_flaky_tests_are_named_but_do_not_fail_the_verdict(tmp_path):
    pre = run(tmp_path, "pre", [("m.C.test_a", "success", 1, None), ("m.C.test_b", "success", 1, None)])
    post = run(tmp_path, "post", [("m.C.test_a", "fail", 1, "E"), ("m.C.test_b", "fail", 1, "E")], "post")
    policy = ComparisonPolicy(known_failures=[KnownFailure(test=r"test_a$", reason="LP bug", bug="1234567")],
                              flaky=[r"m\.C\.test_b"])
    result = compare(pre, post, policy)
    assert result.verdict.outcome == "pass"
    table = result.table.set_index("test_id")
    assert table.loc["m.C.test_a", "known"] and "LP bug" in table.loc["m.C.test_a", "known_reason"]
    assert table.loc["m.C.test_b", "flaky"]
    assert any("known failures or flaky" in r for r in result.verdict.reasons)


def test_tests_of_a_class_whose_setupclass_failed_after_are_regressions_not_removals(tmp_path):
    pre = run(tmp_path, "pre", [("t.api.S.test_1", "success", 1, None), ("t.api.S.test_2", "success", 1, None)])
    post = run(tmp_path, "post", [("setUpClass (t.api.S)", "fail", 1, "keystone unreachable")], "post")
    result = compare(pre, post, ComparisonPolicy())
    assert result.counts["regression"] == 2 and result.counts["removed"] == 0
    assert result.table["reason"].str.contains("setUpClass of its class failed: keystone unreachable").all()


def test_slower_needs_both_the_ratio_and_the_seconds(tmp_path):
    pre = run(tmp_path, "pre", [("m.C.test_ratio_only", "success", 1, None), ("m.C.test_both", "success", 10, None)])
    post = run(tmp_path, "post", [("m.C.test_ratio_only", "success", 3, None),
                                  ("m.C.test_both", "success", 16, None)], "post")
    result = compare(pre, post, ComparisonPolicy(slower_ratio=1.5, slower_seconds=5))
    assert result.tests("slower") == ["m.C.test_both"]


def test_history_from_the_store_marks_a_test_that_flipped_as_flaky(tmp_path):
    store = ResultsStore(str(tmp_path / "store"))
    for index, status in enumerate(("success", "fail", "success")):
        table = run(tmp_path, f"h{index}", [("m.C.test_flip", status, 1, None), ("m.C.test_steady", "success", 1, None)])
        store.write(table, RunMeta(run_id=f"h{index}", suite="s"))
    history = store.history("s", 10)
    assert history_flips(history, 10) == {"m.C.test_flip"}
    assert history_flips(history, 1) == set()


def test_real_runs_a_rename_and_three_fixes_pass():
    meta = RunMeta(run_id="x")
    result = compare(read_run(FIXTURES / "tacker-stestr-12", meta), read_run(FIXTURES / "tacker-stestr-60", meta),
                     ComparisonPolicy())
    assert result.verdict.outcome == "pass"
    assert result.counts["fixed"] == 3 and result.counts["removed"] == 1 and result.counts["added"] == 1


def test_the_evidence_of_a_regression_keeps_a_multi_line_exception_whole(tmp_path):
    """testtools' MismatchError goes on over lines (reference, actual): the evidence keeps both values, as
    the lab's real Tempest showed it (TestPorts.test_list_ports after faults.ironic_conf_after_upgrade)."""
    from rdoflow.tasks.results.verdict import blocking_evidence

    reason = ('Traceback (most recent call last):\n  File "ironic_tempest_plugin/tests/api/admin/test_ports.py", '
              'line 120, in test_list_ports\n    self.validate_self_link(...)\n'
              "testtools.matchers._impl.MismatchError: !=:\nreference = 'http://127.0.0.1:6385/v1/ports/p1'\n"
              "actual    = 'http://undercloud.ctlplane.localdomain:6385/v1/ports/p1'\n")
    pre = run(tmp_path, "pre", [("m.TestPorts.test_list_ports", "success", 1, None)])
    post = run(tmp_path, "post", [("m.TestPorts.test_list_ports", "fail", 1, reason)], "post")
    assert blocking_evidence(compare(pre, post, ComparisonPolicy())) == [
        "regression: m.TestPorts.test_list_ports (pass -> fail)",
        "    testtools.matchers._impl.MismatchError: !=: reference = 'http://127.0.0.1:6385/v1/ports/p1' "
        "actual    = 'http://undercloud.ctlplane.localdomain:6385/v1/ports/p1'"]
