"""The normalized result table: one row per test of one run, the same whatever format it came from.

Columns (``COLUMNS``):

- ``test_id``: the test's identity, without Tempest's attribute suffix (``[id-…,smoke]``);
- ``tags``: that suffix's attributes, comma-separated (``id-…`` kept apart in ``idempotent_id``);
- ``class_name``: the test's class (``module.Class``), or the class a fixture record belongs to;
- ``status``: pass, fail, skip, xfail or uxsuccess;
- ``duration``: seconds (NaN when the format does not say);
- ``reason``: the skip reason or the traceback, trimmed to ``REASON_CHARS``;
- ``worker``: stestr's ``worker-N`` tag, when there is one;
- ``fixture``: True for ``setUpClass (module.Class)`` and its kin, which are not tests;
- ``flaky_in_run``: True when the id was reported more than once in the run (the last result counts);
- run metadata: ``run_id``, ``label`` (pre, post…), ``drop`` (DLRN hash), ``suite``, ``host``, ``started_at``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, Field, computed_field

from rdoflow.errors import ConfigError, printable

STATUSES = ("pass", "fail", "skip", "xfail", "uxsuccess")
FAILING = ("fail", "uxsuccess")
REASON_CHARS = 4000
TEST_COLUMNS = ("test_id", "tags", "idempotent_id", "class_name", "status", "duration", "reason", "worker",
                "fixture", "flaky_in_run")
META_COLUMNS = ("run_id", "label", "drop", "suite", "host", "started_at")
COLUMNS = TEST_COLUMNS + META_COLUMNS

FIXTURE = re.compile(r"^(?P<kind>setUpClass|tearDownClass|setUpModule|tearDownModule) \((?P<owner>[^)]+)\)$")


class ResultFileError(ConfigError):
    """A result file rdoflow cannot read: names the file and what was wrong (exit status 2)."""

    reference = "bad-result-file"

    def __init__(self, source: str, problem: str, hint: str | None = None):
        # A problem may quote the file (a parser's words, an element's name): never a control character.
        super().__init__(source, [printable(f"{source}: {problem}")], hint=hint)


class RunMeta(BaseModel):
    """What is known of a run besides its tests."""

    run_id: str = Field(..., description="Unique id of the run (a partition of the store).")
    label: str = Field("", description="pre, post, or any label.")
    drop: str = Field("", description="The DLRN hash the run tested, if any.")
    suite: str = Field("", description="Name of the suite (tempest, rally, scripts, …).")
    host: str = Field("", description="Where it ran.")
    started_at: datetime | None = Field(None, description="When it started (UTC).")


def _split_ids(raw: pa.Array) -> pd.DataFrame:
    """test_id, tags, idempotent id, class and fixture flag of every reported id, in pyarrow's compute
    kernels (RE2, in C): at 100,000 tests a Python loop over the ids cost more than the parse."""
    attributes = pc.struct_field(pc.extract_regex(raw, r"\[(?P<a>[^\]]*)\]$"), [0])
    attributes = pc.fill_null(attributes, "")
    test_id = pc.replace_substring_regex(raw, r"\[[^\]]*\]$", "")
    idempotent = pc.fill_null(pc.struct_field(pc.extract_regex(attributes, r"(?:^|,)\s*id-(?P<i>[^,\s]+)"), [0]), "")
    tags = pc.replace_substring_regex(pc.replace_substring_regex(attributes, r"(?:^|,)\s*id-[^,]*", ""), r"\s+", "")
    tags = pc.utf8_trim(tags, ",")
    owner = pc.struct_field(pc.extract_regex(test_id, FIXTURE.pattern), [1])
    class_name = pc.if_else(pc.is_null(owner), pc.replace_substring_regex(test_id, r"\.[^.]*$", ""), owner)
    class_name = pc.if_else(pc.match_substring(test_id, "."), class_name, pc.if_else(pc.is_null(owner), "", owner))
    return pd.DataFrame({"test_id": test_id.to_pandas(), "tags": tags.to_pandas(),
                         "idempotent_id": idempotent.to_pandas(), "class_name": class_name.to_pandas(),
                         "fixture": pc.is_valid(owner).to_pandas()})


def _named_apart(table: pd.DataFrame) -> pd.DataFrame:
    """Two tests of one name that Tempest tells apart by their idempotent id (heat-tempest-plugin has such
    pairs) keep that id in their name: the same name reported twice with one id is a retry, folded below."""
    distinct = table.groupby("test_id")["idempotent_id"].transform("nunique") > 1
    if distinct.any():
        table.loc[distinct, "test_id"] = (table.loc[distinct, "test_id"] + "[id-"
                                          + table.loc[distinct, "idempotent_id"] + "]")
    return table


def trim(text: str | None) -> str:
    """Huge tracebacks keep their end, where the error is."""
    if not text:
        return ""
    return text if len(text) <= REASON_CHARS else "… (trimmed) …\n" + text[-REASON_CHARS:]


READER_FIELDS = ("raw_id", "status", "duration", "reason", "worker")


def reader_columns(rows: list | dict[str, list]) -> dict[str, list | tuple]:
    """Reader rows as columns (``READER_FIELDS``): from dicts or tuples in that order, or columns already."""
    if isinstance(rows, dict):
        return rows
    if rows and isinstance(rows[0], dict):
        rows = [tuple(row.get(name) for name in READER_FIELDS) for row in rows]
    return dict(zip(READER_FIELDS, zip(*rows))) if rows else {name: () for name in READER_FIELDS}


def frame(rows: list | dict[str, list], meta: RunMeta) -> pd.DataFrame:
    """The normalized table of one run from reader rows: dicts, tuples in this order:
    (``raw_id``, status, duration, reason, worker), or a dict of those columns.

    A dict of columns is emptied as it is read: each list of Python objects goes as soon as Arrow holds
    its values (on a 100,000-test run, the ids alone are ~10 MB of Python strings)."""
    columns = reader_columns(rows)
    ids = _split_ids(pa.array(columns.pop("raw_id"), type=pa.string()))
    table = pd.DataFrame({
        "status": pd.array(columns.pop("status"), dtype="str"),
        "duration": pd.to_numeric(pd.Series(columns.pop("duration"), dtype=object), errors="coerce").astype(float),
        "reason": pd.array([r or "" for r in columns.pop("reason")], dtype="str"),
        "worker": pd.array([w or "" for w in columns.pop("worker")], dtype="str"),
    })
    table = pd.concat([ids, table], axis=1)
    if not table["test_id"].is_unique:
        table = _named_apart(table)
    if table["test_id"].is_unique:  # the usual run: no id reported twice, nothing to fold (hashed in Arrow)
        table["flaky_in_run"] = False
    else:
        table["flaky_in_run"] = table.groupby("test_id")["test_id"].transform("size") > 1
        table = table.drop_duplicates("test_id", keep="last")
    for column, value in meta.model_dump().items():
        table[column] = "" if value is None else str(value)
    return table[list(COLUMNS)].reset_index(drop=True)


CATEGORIES = ("regression", "fixed", "still_failing", "new_failure", "added", "removed", "newly_skipped",
              "unskipped", "slower", "unchanged")
BLOCKING = ("regression", "new_failure", "removed")


class Verdict(BaseModel):
    """A comparison's verdict: red exactly when a reason blocks it.

    Blocking reasons are the regressions, new failures and removed tests no policy excuses; excused ones
    are said but do not fail it (known failures, flaky tests, a removed test with one added in its class).
    """

    blocking: list[str] = Field(default_factory=list, description="Why the verdict is red.")
    excused: list[str] = Field(default_factory=list, description="Changes said, but excused by the policy.")
    summary: str = Field("", description="On a pass: what did not regress.")
    counts: dict[str, int] = Field(default_factory=dict, description="Tests per category.")
    reports: dict[str, str] = Field(default_factory=dict, description="The reports written: kind -> path.")
    urls: dict[str, str] = Field(default_factory=dict, description="The same reports in the results store: "
                                                                   "kind -> the URL a team opens.")

    @computed_field
    @property
    def outcome(self) -> Literal["pass", "fail"]:
        return "fail" if self.blocking else "pass"

    @property
    def passed(self) -> bool:
        return not self.blocking

    @computed_field
    @property
    def reasons(self) -> list[str]:
        """Every reason as a report shows them: the blocking ones (or the summary), then the excused."""
        return (self.blocking or ([self.summary] if self.summary else [])) + self.excused


class AreaResults(BaseModel):
    """One area of the inspection catalogue (rdoflow/config/catalogue.yaml) in a run or a comparison."""

    area: str = Field(description="The area's name in the catalogue (identity, bare-metal, …, other).")
    title: str = Field(description="What a report calls it.")
    reads_as: str = Field(description="What a customer reads its results as.")
    tests: int = Field(description="Tests of the area.")
    counts: dict[str, int] = Field(description="Tests per status (a run) or per category (a comparison).")
    blocking: int = Field(0, description="A comparison's tests of the area that turn its verdict red.")


@dataclass
class Comparison:
    verdict: Verdict
    # one row per test: test_id, area, category, status_pre/post, duration_pre/post, reason, known, flaky
    table: pd.DataFrame
    areas: list[AreaResults] = field(default_factory=list)  # in the catalogue's order, areas with tests only

    @property
    def counts(self) -> dict[str, int]:
        return self.verdict.counts

    def tests(self, category: str) -> list[str]:
        return self.table.loc[self.table["category"] == category, "test_id"].tolist()

    def changed(self) -> pd.DataFrame:
        return self.table[self.table["category"] != "unchanged"]


class HandoverFailure(BaseModel):
    """A failed test in a handover report, and why in one line."""

    test_id: str
    status: str = Field(description="fail, uxsuccess, or error (a class or module fixture that failed).")
    why: str = Field(description="The failure's first real line (a traceback's exception), redacted.")


class HandoverArea(BaseModel):
    results: AreaResults = Field(description="The area and its tests per status.")
    failed: list[HandoverFailure] = Field(default_factory=list, description="Its failed tests (the first few).")

    @property
    def failing(self) -> int:
        counts = self.results.counts
        return counts.get("fail", 0) + counts.get("uxsuccess", 0) + counts.get("error", 0)

    @property
    def outcome(self) -> Literal["pass", "fail", "not run"]:
        if self.failing:
            return "fail"
        return "not run" if self.results.counts.get("skip", 0) == self.results.tests else "pass"


class Handover(BaseModel):
    """One run, per area of the inspection catalogue: what passed, what failed and why (one page)."""

    meta: RunMeta
    totals: dict[str, int] = Field(description="Tests per status over the whole run, and 'tests'.")
    areas: list[HandoverArea] = Field(description="In the catalogue's order; areas with tests only.")
    failed_per_area: int = Field(description="How many failed tests each area lists at most.")


class VerdictRecord(BaseModel):
    """A comparison's verdict as stored beside the run it judged (``verdict.json`` in the post run's partition)."""

    outcome: Literal["pass", "fail"]
    blocking: list[str] = Field(default_factory=list, description="Why it is red.")
    excused: list[str] = Field(default_factory=list, description="Changes the policy excused.")
    counts: dict[str, int] = Field(default_factory=dict, description="Tests per category.")
    pre: str = Field(description="The run compared against (its run id).")
    post: str = Field(description="The run judged (its run id).")
    drop: str = Field("", description="The drop the post run tested.")
    judged_at: datetime = Field(description="When (UTC).")
    reports: dict[str, str] = Field(default_factory=dict, description="Its reports in the store, kind -> path "
                                    "from the store's top (reports/<suite>/<run id>/...).")


class TrendTest(BaseModel):
    """A test a drop broke or fixed, compared with the drop before it."""

    test_id: str
    why: str = Field("", description="Its failure's first real line (redacted); empty for a fixed test.")


class DropResult(BaseModel):
    """One drop in the trend: its post-upgrade run, the verdict on it, and what changed since the drop before."""

    drop: str = Field(description="What the trend calls it: the DLRN hash, or '(no drop) <date>'.")
    run_id: str = Field(description="Its post-upgrade run (the latest, when the drop was tested more than once).")
    runs: int = Field(1, description="Post-upgrade runs stored for it.")
    when: str = Field("", description="When its run started, or was stored (UTC, ISO 8601).")
    verdict: Literal["pass", "fail"] | None = Field(None, description="The pre/post verdict; None: none stored.")
    reasons: list[str] = Field(default_factory=list, description="The verdict's reasons: the blocking ones, then "
                               "those the policy excused.")
    tests: int = Field(0, description="Tests in the run.")
    failing: int = Field(0, description="Tests that failed in the run.")
    previous: str | None = Field(None, description="The drop it is compared with; None for the first stored.")
    introduced: list[TrendTest] = Field(default_factory=list, description="Passed in the previous drop's run, "
                                        "failed in this one's (the first few hundred).")
    fixed: list[TrendTest] = Field(default_factory=list, description="Failed in the previous drop's, passed here.")
    introduced_total: int = Field(0, description="How many it introduced in all.")
    fixed_total: int = Field(0, description="How many it fixed in all.")
    reports: dict[str, str] = Field(default_factory=dict, description="Its reports: kind -> the URL to open.")
    unreadable: str = Field("", description="Why its run or verdict could not be read (then nothing else is said).")


class TrackedTest(BaseModel):
    """One test across the trend's drops: its status in each, and which drops broke and fixed it."""

    test_id: str
    statuses: dict[str, str] = Field(description="drop -> status (pass, fail, skip, …; '' where it did not run).")
    broken_in: list[str] = Field(default_factory=list, description="The drops that broke it, oldest first.")
    fixed_in: list[str] = Field(default_factory=list, description="The drops that fixed it, oldest first.")
    flips: int = Field(0, description="How often its pass/fail outcome changed from one drop to the next.")


class Trend(BaseModel):
    """A suite over its last drops: per drop the verdict and the regressions it introduced and fixed; the
    tests whose outcome flipped back and forth; and, asked for, chosen tests drop by drop."""

    suite: str
    drops: list[DropResult] = Field(description="Oldest first.")
    flaky: list[TrackedTest] = Field(default_factory=list, description="Tests whose pass/fail outcome flipped "
                                     "at least twice over the drops (the most flips first; the first hundred).")
    flaky_total: int = Field(0, description="How many tests flipped so, in all.")
    test: str = Field("", description="The tests asked for: a part of their ids ('' for none).")
    tests: list[TrackedTest] = Field(default_factory=list, description="The tests asked for (the first fifty).")
    tests_matched: int = Field(0, description="How many test ids matched, in all.")
