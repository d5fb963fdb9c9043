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
from datetime import datetime

import pandas as pd
from pydantic import BaseModel, Field

from rdoflow.errors import ConfigError

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
        super().__init__(source, [f"{source}: {problem}"], hint=hint)


class RunMeta(BaseModel):
    """What is known of a run besides its tests."""

    run_id: str = Field(..., description="Unique id of the run (a partition of the store).")
    label: str = Field("", description="pre, post, or any label.")
    drop: str = Field("", description="The DLRN hash the run tested, if any.")
    suite: str = Field("", description="Name of the suite (tempest, rally, scripts, …).")
    host: str = Field("", description="Where it ran.")
    started_at: datetime | None = Field(None, description="When it started (UTC).")


def trim(text: str | None) -> str:
    """Huge tracebacks keep their end, where the error is."""
    if not text:
        return ""
    return text if len(text) <= REASON_CHARS else "… (trimmed) …\n" + text[-REASON_CHARS:]


def frame(rows: list[dict], meta: RunMeta) -> pd.DataFrame:
    """The normalized table of one run from reader rows (``raw_id``, status, duration, reason, worker)."""
    table = pd.DataFrame(rows, columns=["raw_id", "status", "duration", "reason", "worker"])
    raw = table["raw_id"].astype(str)
    parts = raw.str.extract(r"^(?P<base>[^\[]+)\[(?P<attributes>[^\]]*)\]$")
    table["test_id"] = parts["base"].fillna(raw)
    attributes = parts["attributes"].fillna("")
    table["idempotent_id"] = attributes.str.extract(r"(?:^|,)\s*id-([^,\s]+)")[0].fillna("")
    table["tags"] = (attributes.str.replace(r"(?:^|,)\s*id-[^,]*", "", regex=True)
                     .str.replace(r"\s+", "", regex=True).str.strip(","))
    fixture = table["test_id"].str.extract(FIXTURE.pattern)
    table["fixture"] = fixture["owner"].notna()
    table["class_name"] = fixture["owner"].fillna(table["test_id"].str.rpartition(".")[0])
    table["flaky_in_run"] = table.groupby("test_id")["test_id"].transform("size") > 1
    table = table.drop_duplicates("test_id", keep="last").drop(columns="raw_id")
    table["duration"] = pd.to_numeric(table["duration"], errors="coerce").astype(float)
    for column in ("reason", "worker"):
        table[column] = table[column].fillna("").astype(str)
    for column, value in meta.model_dump().items():
        table[column] = "" if value is None else str(value)
    return table[list(COLUMNS)].reset_index(drop=True)
