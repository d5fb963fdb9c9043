"""The results store: every parsed run, one Parquet partition per run, under a path or an fsspec URL.

Layout (docs/results.md, "The store's layout")::

    <location>/suite=<suite>/run_id=<run id>/results.parquet   the run's table
                                            /run.json          its metadata and counts
                                            /verdict.json      a post run's: the verdict on it (``VerdictRecord``)
    <location>/reports/<suite>/<run id>/...                    the reports of that run (handover; comparison)
    <location>/reports/<suite>/trend.html, .md, .json          the suite's trend over its last drops

Runs are written before they are compared, so nothing is lost when a comparison or a report fails. Reports
are opened at ``url``: the site's public URL over the store, else a local store's file:// URL.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import fsspec
import pandas as pd
from fsspec.implementations.local import LocalFileSystem

from rdoflow.tasks.results.model import COLUMNS, RunMeta, VerdictRecord

RESULTS_FILE = "results.parquet"
META_FILE = "run.json"
VERDICT_FILE = "verdict.json"
REPORTS = "reports"
VERDICT_BYTES = 1 << 20  # a verdict is a few kilobytes: a bigger file is not one rdoflow wrote
_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]")


def path_part(name: str) -> str:
    """``name`` as one directory of the reports' layout: no separator, no ``..``, nothing a URL must escape."""
    part = _UNSAFE.sub("_", name) or "unnamed"
    return f"_{part}" if part in (".", "..") else part


class ResultsStore:
    def __init__(self, location: str, public_url: str | None = None):
        self.location = str(location)
        self.public_url = public_url
        self.fs, self.root = fsspec.core.url_to_fs(self.location)

    def _dir(self, meta: RunMeta) -> str:
        return f"{self.root}/suite={meta.suite or 'unnamed'}/run_id={meta.run_id}"

    def write(self, table: pd.DataFrame, meta: RunMeta) -> str:
        """Store one run (replacing a run of the same id); return where it went."""
        directory = self._dir(meta)
        self.fs.makedirs(directory, exist_ok=True)
        with self.fs.open(f"{directory}/{RESULTS_FILE}", "wb") as out:
            table[list(COLUMNS)].to_parquet(out, index=False)
        summary = table["status"].value_counts().to_dict()
        # When it was stored orders the runs that do not say when they started (`rdoflow compare`'s files).
        stored_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self.fs.open(f"{directory}/{META_FILE}", "w") as out:
            json.dump({**meta.model_dump(mode="json"), "tests": len(table), "statuses": summary,
                       "stored_at": stored_at}, out)
        return directory

    def runs(self, suite: str | None = None) -> list[dict]:
        """Every stored run's metadata and counts, oldest first (by started_at, else when it was stored;
        then run id)."""
        pattern = f"{self.root}/suite={suite or '*'}/run_id=*/{META_FILE}"
        found = []
        for path in self.fs.glob(pattern):
            with self.fs.open(path) as handle:
                found.append(json.load(handle))
        return sorted(found, key=lambda run: (when(run), run["run_id"]))

    def read(self, suite: str, run_id: str, columns: list[str] | None = None) -> pd.DataFrame:
        with self.fs.open(f"{self._dir(RunMeta(run_id=run_id, suite=suite))}/{RESULTS_FILE}") as handle:
            return pd.read_parquet(handle, columns=columns)

    def history(self, suite: str, runs: int, *, excluding: tuple[str, ...] = ()) -> pd.DataFrame:
        """test_id, status and run_id of the last ``runs`` runs of ``suite``, without the runs ``excluding``."""
        metas = [m for m in self.runs(suite) if m["run_id"] not in excluding][-runs:] if runs > 0 else []
        tables = [self.read(suite, m["run_id"])[["test_id", "status", "run_id"]] for m in metas]
        return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=["test_id", "status", "run_id"])

    def write_verdict(self, post: RunMeta, record: VerdictRecord) -> str:
        """The verdict on a comparison, beside the run it judged (the post run); replaces an earlier one."""
        path = f"{self._dir(post)}/{VERDICT_FILE}"
        self.fs.pipe_file(path, record.model_dump_json(indent=1).encode())
        return path

    def verdict(self, suite: str, run_id: str) -> VerdictRecord | None:
        """The verdict stored beside a run, or None when none was (a pre run; a run stored before verdicts were).
        Raises ValueError (pydantic's) for a file that is not a verdict."""
        path = f"{self._dir(RunMeta(run_id=run_id, suite=suite))}/{VERDICT_FILE}"
        if not self.fs.exists(path):
            return None
        with self.fs.open(path, "rb") as handle:
            data = handle.read(VERDICT_BYTES + 1)
        if len(data) > VERDICT_BYTES:
            raise ValueError(f"{VERDICT_FILE} of {run_id} is over {VERDICT_BYTES} bytes: not a verdict rdoflow wrote")
        return VerdictRecord.model_validate_json(data)

    @staticmethod
    def report_path(suite: str, run_id: str | None, name: str) -> str:
        """A report's place in the store, relative to its top: ``reports/<suite>/<run id>/<name>`` (a run's),
        or ``reports/<suite>/<name>`` (the suite's: its trend)."""
        parts = [REPORTS, path_part(suite or "unnamed"), *([path_part(run_id)] if run_id else []), path_part(name)]
        return "/".join(parts)

    def put_report(self, relative: str, content: str | bytes | Path) -> str:
        """Write one report (its text, or a local file copied) at ``relative``; return the URL to open it at."""
        target = f"{self.root}/{relative}"
        self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        if isinstance(content, Path):
            self.fs.put_file(str(content), target)
        else:
            self.fs.pipe_file(target, content.encode() if isinstance(content, str) else content)
        return self.url(relative)

    def has(self, relative: str) -> bool:
        return self.fs.exists(f"{self.root}/{relative}")

    def url(self, relative: str) -> str:
        """Where a browser opens ``relative``: under the public URL when the site gives one; else a local
        store's file:// URL (on the machine that holds it), else the store's own URL (s3://…, memory://…)."""
        if self.public_url:
            return self.public_url.rstrip("/") + "/" + quote(relative)
        if isinstance(self.fs, LocalFileSystem):
            return Path(f"{self.root}/{relative}").as_uri()
        return self.fs.unstrip_protocol(f"{self.root}/{relative}")


def when(run: dict) -> str:
    """A stored run's time as text that sorts: when it started, else when it was stored ('' for neither)."""
    started = run.get("started_at") or ""
    if started.endswith("+00:00"):
        started = started[:-6] + "Z"
    return started or run.get("stored_at") or ""
