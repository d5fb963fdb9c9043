"""The results store: every parsed run, one Parquet partition per run, under a path or an fsspec URL.

Layout: ``<location>/suite=<suite>/run_id=<run id>/results.parquet``, next to
``run.json`` (the run's metadata). Runs are written before they are compared,
so nothing is lost when a comparison or a report fails.
"""

from __future__ import annotations

import json

import fsspec
import pandas as pd

from rdoflow.tasks.results.model import COLUMNS, RunMeta

RESULTS_FILE = "results.parquet"
META_FILE = "run.json"


class ResultsStore:
    def __init__(self, location: str):
        self.location = str(location)
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
        with self.fs.open(f"{directory}/{META_FILE}", "w") as out:
            json.dump({**meta.model_dump(mode="json"), "tests": len(table), "statuses": summary}, out)
        return directory

    def runs(self, suite: str | None = None) -> list[dict]:
        """Every stored run's metadata and counts, oldest first (by started_at, then run id)."""
        pattern = f"{self.root}/suite={suite or '*'}/run_id=*/{META_FILE}"
        found = []
        for path in self.fs.glob(pattern):
            with self.fs.open(path) as handle:
                found.append(json.load(handle))
        return sorted(found, key=lambda run: (run.get("started_at") or "", run["run_id"]))

    def read(self, suite: str, run_id: str) -> pd.DataFrame:
        with self.fs.open(f"{self._dir(RunMeta(run_id=run_id, suite=suite))}/{RESULTS_FILE}") as handle:
            return pd.read_parquet(handle)

    def history(self, suite: str, runs: int, *, excluding: tuple[str, ...] = ()) -> pd.DataFrame:
        """test_id, status and run_id of the last ``runs`` runs of ``suite``, without the runs ``excluding``."""
        metas = [m for m in self.runs(suite) if m["run_id"] not in excluding][-runs:] if runs > 0 else []
        tables = [self.read(suite, m["run_id"])[["test_id", "status", "run_id"]] for m in metas]
        return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=["test_id", "status", "run_id"])
