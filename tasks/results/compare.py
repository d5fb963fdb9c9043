"""The pre/post comparison: every test in either run in exactly one category, and a verdict with reasons.

Vectorized with pandas: one outer join on ``test_id`` and boolean masks, no
per-test Python loop. A test whose class failed ``setUpClass`` in a run counts
as failed in that run (it did not run because of the class), not as missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rdoflow.config.catalogue import Catalogue
from rdoflow.config.site import ComparisonPolicy
from rdoflow.tasks.results.areas import area_column, comparison_areas
from rdoflow.tasks.results.model import CATEGORIES, FAILING, Comparison, Verdict


def _with_class_failures(run: pd.DataFrame, others: pd.Series) -> pd.DataFrame:
    """Tests of ``others`` that are absent from ``run`` because their class's fixture failed there: failed."""
    fixtures = run[run["fixture"] & run["status"].isin(FAILING)]
    if fixtures.empty:
        return run[~run["fixture"]]
    reasons = fixtures.set_index("class_name")["reason"]
    missing = others[~others.isin(run["test_id"])]
    classes = _owner(missing)
    hit = classes.isin(reasons.index)
    implied = pd.DataFrame({
        "test_id": missing[hit].values,
        "status": "fail",
        "duration": np.nan,
        "reason": ("did not run: setUpClass of its class failed: " + reasons.reindex(classes[hit]).fillna("")).values,
    })
    return pd.concat([run[~run["fixture"]], implied], ignore_index=True)


def compare(pre: pd.DataFrame, post: pd.DataFrame, policy: ComparisonPolicy,
            history_flaky: set[str] | None = None, catalogue: Catalogue | None = None) -> Comparison:
    """Every test of either run in one category and one area of ``catalogue`` (the shipped one by default)."""
    pre_tests = _with_class_failures(pre, post.loc[~post["fixture"], "test_id"])
    post_tests = _with_class_failures(post, pre.loc[~pre["fixture"], "test_id"])
    keep = ["test_id", "status", "duration", "reason"]
    table = pd.merge(pre_tests[keep], post_tests[keep], on="test_id", how="outer", suffixes=("_pre", "_post"))
    before, after = table["status_pre"], table["status_post"]
    ran_before, ran_after = before.notna(), after.notna()
    failed_before, failed_after = before.isin(FAILING), after.isin(FAILING)
    passed_before, passed_after = before.isin(("pass", "xfail")), after.isin(("pass", "xfail"))
    slower = (passed_before & passed_after
              & (table["duration_post"] >= table["duration_pre"] * policy.slower_ratio)
              & (table["duration_post"] - table["duration_pre"] >= policy.slower_seconds))
    rules = [
        ("regression", ran_before & ~failed_before & (before != "skip") & failed_after),
        ("new_failure", (~ran_before | (before == "skip")) & failed_after),  # new, or unskipped and failing
        ("fixed", failed_before & ran_after & ~failed_after & (after != "skip")),
        ("still_failing", failed_before & failed_after),
        ("added", ~ran_before & ran_after),
        ("removed", ran_before & ~ran_after),
        ("newly_skipped", (before != "skip") & ran_before & (after == "skip")),
        ("unskipped", (before == "skip") & ran_after & (after != "skip")),
        ("slower", slower),
    ]
    table["category"] = np.select([mask for _, mask in rules], [name for name, _ in rules], default="unchanged")
    table["reason"] = table["reason_post"].where(failed_after, table["reason_pre"]).fillna("")
    table["known"] = _matches(table["test_id"], [k.test for k in policy.known_failures])
    table["known_reason"] = _first_reason(table["test_id"], policy)
    flaky = _matches(table["test_id"], policy.flaky)
    if history_flaky:
        flaky |= table["test_id"].isin(history_flaky)
    table["flaky"] = flaky
    table = table.drop(columns=["reason_pre", "reason_post"]).sort_values(["category", "test_id"], kind="stable")
    table["blocking"] = blocking_tests(table)
    table["area"] = area_column(table["test_id"], catalogue)
    table = table.reset_index(drop=True)
    counts = {category: int((table["category"] == category).sum()) for category in CATEGORIES}
    return Comparison(verdict=judge(table, counts), table=table, areas=comparison_areas(table, catalogue))


def _owner(test_ids: pd.Series) -> pd.Series:
    """What precedes each id's last dot (its class), or the whole id: ``rsplit(".", n=1)[0]`` in Arrow's
    kernels, where ``.str.rsplit`` made a Python list and two strings per test (~30 MB at 100,000 tests)."""
    return test_ids.str.replace(r"\.[^.]*$", "", regex=True)


def _matches(test_ids: pd.Series, patterns: list) -> pd.Series:
    if not patterns:
        return pd.Series(False, index=test_ids.index)
    combined = "|".join(f"(?:{getattr(p, 'pattern', p)})" for p in patterns)
    return test_ids.str.contains(combined, regex=True)


def _first_reason(test_ids: pd.Series, policy: ComparisonPolicy) -> pd.Series:
    reasons = pd.Series("", index=test_ids.index)
    for known in reversed(policy.known_failures):  # the first matching entry wins
        pattern = getattr(known.test, "pattern", known.test)
        hit = test_ids.str.contains(pattern, regex=True)
        reasons = reasons.mask(hit, known.reason + (f" ({known.bug})" if known.bug else ""))
    return reasons


def blocking_tests(table: pd.DataFrame) -> pd.Series:
    """Which tests of a categorized table turn the verdict red (``judge`` says why)."""
    owner = _owner(table["test_id"])
    renamed = (table["category"] == "removed") & owner.isin(owner[table["category"] == "added"])
    failed = table["category"].isin(("regression", "new_failure")) & ~(table["known"] | table["flaky"])
    return failed | ((table["category"] == "removed") & ~renamed)


def judge(table: pd.DataFrame, counts: dict[str, int]) -> Verdict:
    """The verdict on a categorized table (with its ``blocking`` column): where rdoflow decides pass or fail.

    A regression, a new failure or a removed test blocks, unless the policy excuses it (a known failure,
    a flaky test) or, for a removed test, one was added in the same class (most likely renamed).
    """
    blocking_reasons, excused_reasons = [], []
    for category, words in (("regression", "passed before and failed after"),
                            ("new_failure", "new (or no longer skipped) and failed"),
                            ("removed", "ran before and did not run after")):
        rows = table[(table["category"] == category)]
        blocking = rows[table.loc[rows.index, "blocking"]]
        if len(blocking):
            names = ", ".join(blocking["test_id"].head(3))
            more = f" and {len(blocking) - 3} more" if len(blocking) > 3 else ""
            blocking_reasons.append(f"{_tests(len(blocking))} {words}: {names}{more}")
        excused_here = len(rows) - len(blocking)
        if excused_here and category == "removed":
            excused_reasons.append(f"{_tests(excused_here)} removed with a test added in the same class "
                                   "(renamed?): they do not fail the verdict")
        elif excused_here:
            excused_reasons.append(f"{_tests(excused_here)} in '{category.replace('_', ' ')}' are known failures "
                                   "or flaky: they do not fail the verdict")
    summary = (f"no test regressed: {counts['unchanged']} unchanged, {counts['fixed']} fixed, "
               f"{counts['still_failing']} still failing, {counts['added']} added")
    return Verdict(blocking=blocking_reasons, excused=excused_reasons, summary=summary, counts=counts)


def _tests(count: int) -> str:
    return f"{count} test" if count == 1 else f"{count} tests"


def history_flips(history: pd.DataFrame, runs: int) -> set[str]:
    """Tests whose pass/fail outcome changed within the last ``runs`` runs of the history table."""
    if history.empty or runs <= 0:
        return set()
    recent = history[history["run_id"].isin(history["run_id"].drop_duplicates().tail(runs))]
    outcomes = recent.assign(failed=recent["status"].isin(FAILING)).groupby("test_id")["failed"].nunique()
    return set(outcomes[outcomes > 1].index)
