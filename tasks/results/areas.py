"""The inspection catalogue's areas over result tables: which area each test is in, and counts per area.

Vectorized like the comparison: one regex match per area over the whole column, not a loop over tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rdoflow.config.catalogue import OTHER, Catalogue, load_catalogue
from rdoflow.tasks.results.model import CATEGORIES, FAILING, STATUSES, AreaResults

RUN_STATUSES = (*STATUSES, "error")  # a failed fixture (setUpClass…) is one 'error', as the run's summary counts it


def area_column(test_ids: pd.Series, catalogue: Catalogue | None = None) -> pd.Series:
    """Each test's area: the first whose expressions match the start of its id, else ``other``."""
    patterns = (catalogue or load_catalogue()).area_patterns()
    if test_ids.empty:
        return pd.Series([], index=test_ids.index, dtype=object)
    ids = test_ids.astype(str)
    masks = [ids.str.match(pattern.pattern).fillna(False).to_numpy(dtype=bool) for pattern in patterns.values()]
    return pd.Series(np.select(masks, list(patterns), default=OTHER), index=test_ids.index)


def run_areas(table: pd.DataFrame, catalogue: Catalogue | None = None) -> tuple[pd.Series, list[AreaResults]]:
    """A run's tests by area: the area of each row (a fixture's is its class's) and the counts per status."""
    catalogue = catalogue or load_catalogue()
    subject = table["class_name"].where(table["fixture"], table["test_id"])
    area = area_column(subject, catalogue)
    status = table["status"].where(~(table["fixture"] & table["status"].isin(FAILING)), "error")
    results = []
    for name, rows in _in_order(area, catalogue):
        counts = status[rows].value_counts()
        results.append(_results(catalogue, name, {s: int(counts.get(s, 0)) for s in RUN_STATUSES}))
    return area, results


def comparison_areas(table: pd.DataFrame, catalogue: Catalogue | None = None) -> list[AreaResults]:
    """A comparison's tests by area (its ``area`` and ``blocking`` columns): tests per category, and how many
    block the verdict."""
    catalogue = catalogue or load_catalogue()
    blocking = table["blocking"]
    results = []
    for name, rows in _in_order(table["area"], catalogue):
        counts = table.loc[rows, "category"].value_counts()
        results.append(_results(catalogue, name, {c: int(counts.get(c, 0)) for c in CATEGORIES},
                                blocking=int(blocking[rows].sum())))
    return results


def _in_order(area: pd.Series, catalogue: Catalogue):
    for name in catalogue.areas:
        rows = area == name
        if rows.any():
            yield name, rows


def _results(catalogue: Catalogue, name: str, counts: dict[str, int], blocking: int = 0) -> AreaResults:
    area = catalogue.areas[name]
    return AreaResults(area=name, title=area.title, reads_as=area.reads_as, tests=sum(counts.values()),
                       counts=counts, blocking=blocking)
