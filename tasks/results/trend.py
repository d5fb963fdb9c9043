"""A suite's trend over its last drops, from the results store: which drop broke which test.

Per drop, its post-upgrade run (the latest, when the drop was tested more than once), the pre/post verdict
stored beside it (``verdict.json``), the tests it broke and fixed against the previous drop's post-upgrade
run (the comparison's own ``regression`` and ``fixed`` categories), and the tests whose outcome flipped back
and forth over the drops. A post run without a drop stands for the date it ran, as a nightly of the
current repositories does.

Bounded: N drops cost the run.json files (one glob, as ``rdoflow results list``), N+1 tables (the drop before
the first says what the first changed) read for their needed columns, and N verdict files.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from rdoflow.config.site import ComparisonPolicy
from rdoflow.errors import ConfigError
from rdoflow.reports.trend import html, markdown
from rdoflow.tasks.results.compare import compare
from rdoflow.tasks.results.handover import first_real_line
from rdoflow.tasks.results.model import (
    FAILING,
    DropResult,
    TrackedTest,
    Trend,
    TrendTest,
)
from rdoflow.tasks.results.store import ResultsStore, when

DEFAULT_DROPS = 10
CHANGES_SHOWN = 200  # tests broken or fixed listed per drop; the totals say how many in all
FLAKY_SHOWN = 100
TESTS_SHOWN = 50
FLIPS_FLAKY = 2  # broken then fixed (or fixed then broken) again: once is a regression or a fix, not flakiness
READ = ["test_id", "class_name", "status", "duration", "reason", "fixture"]  # what the comparison needs


@dataclass
class _Drop:
    name: str
    runs: list[dict]  # its post-upgrade runs' metadata, oldest first

    @property
    def run(self) -> dict:
        return self.runs[-1]


def drop_name(run: dict) -> str:
    """What the trend calls a post run's drop: its DLRN hash, else the date it ran."""
    return run.get("drop") or f"(no drop) {when(run)[:10] or run['run_id']}"


def drops_of(runs: list[dict]) -> list[_Drop]:
    """The post-upgrade runs (oldest first) grouped by drop, in the order the drops were first tested."""
    groups: dict[str, list[dict]] = {}
    for run in runs:
        if run.get("label") == "post":
            groups.setdefault(drop_name(run), []).append(run)
    return [_Drop(name, runs) for name, runs in groups.items()]


def trend(location: str, suite: str | None = None, drops: int = DEFAULT_DROPS, test: str = "",
          public_url: str | None = None) -> Trend:
    """The trend of ``suite`` (the store's only suite when None) over its last ``drops`` drops; ``test``, a part
    of test ids, adds those tests drop by drop. Bad input (no such runs, no such test) raises ConfigError."""
    if drops < 1:
        raise ConfigError("--drops", [f"--drops: expected at least 1 drop, got {drops}"])
    store = ResultsStore(location, public_url)
    runs = store.runs(suite)
    suite = _one_suite(runs, suite, location)
    window = drops_of(runs)[-(drops + 1):]
    if not window:
        raise ConfigError(location, [f"{location}: no post-upgrade run of suite {suite!r} is stored"],
                          hint="'rdoflow results list --store STORE' shows the stored runs and their labels")
    shown = window[1:] if len(window) > drops else window
    results, changes, statuses, previous = [], {}, {}, None
    for index, drop in enumerate(window):  # two tables at a time; of the others, their statuses
        table = _read(store, suite, drop.run)
        if drop in shown:
            before = (window[index - 1].name, previous) if index else None
            result, changes[drop.name] = _drop_result(store, suite, drop, before, table)
            results.append(result)
            if isinstance(table, pd.DataFrame):
                statuses[drop.name] = table.loc[~table["fixture"]].set_index("test_id")["status"]
        previous = table
    outcomes = pd.DataFrame(statuses).fillna("") if statuses else pd.DataFrame()
    found = Trend(suite=suite, drops=results, test=test)
    flips = _flips(outcomes)
    flaky = flips[flips >= FLIPS_FLAKY].sort_values(ascending=False, kind="stable")
    found.flaky = [_tracked(t, outcomes, changes, int(flips[t])) for t in flaky.index[:FLAKY_SHOWN]]
    found.flaky_total = len(flaky)
    if test:
        matched = sorted(t for t in outcomes.index if test in t)
        if not matched:
            raise ConfigError(test, [f"--test: no test id containing {test!r} in the last {len(shown)} drops of "
                                     f"suite {suite!r}"])
        found.tests = [_tracked(t, outcomes, changes, int(flips[t])) for t in matched[:TESTS_SHOWN]]
        found.tests_matched = len(matched)
    return found


def _one_suite(runs: list[dict], suite: str | None, location: str) -> str:
    if suite:
        return suite
    suites = sorted({run.get("suite") or "unnamed" for run in runs if run.get("label") == "post"})
    if len(suites) > 1:
        raise ConfigError(location, [f"{location}: post-upgrade runs of {len(suites)} suites are stored "
                                     f"({', '.join(suites)}); expected one chosen with --suite"])
    return suites[0] if suites else "unnamed"


def _read(store: ResultsStore, suite: str, run: dict) -> pd.DataFrame | str:
    """A run's table (the columns the comparison needs), or why it could not be read."""
    try:
        return store.read(suite, run["run_id"], columns=READ)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        return f"its results could not be read: {type(exc).__name__}: {first_real_line(str(exc))}"


def _drop_result(store: ResultsStore, suite: str, drop: _Drop, before: tuple[str, pd.DataFrame | str] | None,
                 table: pd.DataFrame | str) -> tuple[DropResult, dict[str, set[str]]]:
    """One drop: its verdict, and against the drop ``before`` (its name and table) the tests it broke and fixed."""
    run = drop.run
    result = DropResult(drop=drop.name, run_id=run["run_id"], runs=len(drop.runs), when=when(run),
                        previous=before[0] if before else None)
    nothing: dict[str, set[str]] = {"introduced": set(), "fixed": set()}
    try:
        record = store.verdict(suite, run["run_id"])
    except (OSError, ValueError) as exc:
        record, result.unreadable = None, f"its verdict.json could not be read: {first_real_line(str(exc))}"
    if record is not None:
        result.verdict, result.reasons = record.outcome, record.blocking + record.excused
        result.reports = {kind: store.url(path) for kind, path in record.reports.items()}
    if isinstance(table, str):
        result.unreadable = table
        return result, nothing
    tests = table[~table["fixture"]]
    result.tests, result.failing = len(tests), int(tests["status"].isin(FAILING).sum())
    if before is None or not isinstance(before[1], pd.DataFrame):
        return result, nothing
    compared = compare(before[1], table, ComparisonPolicy()).table
    broke, fixed = compared[compared["category"] == "regression"], compared[compared["category"] == "fixed"]
    result.introduced = [TrendTest(test_id=row.test_id, why=first_real_line(row.reason))
                         for row in broke.head(CHANGES_SHOWN).itertuples()]
    result.fixed = [TrendTest(test_id=test_id) for test_id in fixed["test_id"].head(CHANGES_SHOWN)]
    result.introduced_total, result.fixed_total = len(broke), len(fixed)
    return result, {"introduced": set(broke["test_id"]), "fixed": set(fixed["test_id"])}


def _flips(outcomes: pd.DataFrame) -> pd.Series:
    """How often each test's outcome changed, pass to fail or back, over the drops where it passed or failed."""
    if outcomes.empty:
        return pd.Series(dtype=int)
    failed = outcomes.isin(FAILING).astype(float).where(outcomes.isin((*FAILING, "pass", "xfail")))
    changes = failed.ffill(axis=1).diff(axis=1).abs()
    return changes.sum(axis=1, skipna=True).astype(int)


def _tracked(test_id: str, outcomes: pd.DataFrame, changes: dict[str, dict[str, set[str]]],
             flips: int) -> TrackedTest:
    return TrackedTest(test_id=test_id, statuses=outcomes.loc[test_id].to_dict(), flips=flips,
                       broken_in=[d for d, c in changes.items() if test_id in c["introduced"]],
                       fixed_in=[d for d, c in changes.items() if test_id in c["fixed"]])


def publish_trend(found: Trend, store: ResultsStore) -> dict[str, str]:
    """The trend as the suite's pages in the store (``reports/<suite>/trend.html``, ``.md``, ``.json``), rewritten
    at each verdict; returns their URLs by kind."""
    pages = {"html": html(found), "md": markdown(found), "json": found.model_dump_json(indent=1)}
    return {kind: store.put_report(store.report_path(found.suite, None, f"trend.{kind}"), text)
            for kind, text in pages.items()}
