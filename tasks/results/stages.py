"""The results domain's Prefect tasks: thin wrappers of ``tasks.results.regression``.

Kept apart so that ``rdoflow compare`` (no Prefect run) does not import Prefect.
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from rdoflow.tasks.results.regression import (
                           compare_stored,
                           read_and_store,
                           write_reports,
)

# The runs are in the store already: caching their tables in Prefect's result storage would copy them again.
read_and_store_task = task(read_and_store, name="read-and-store-run", task_run_name="store-{meta.label}",
                           cache_policy=NO_CACHE)
compare_task = task(compare_stored, name="compare-runs", cache_policy=NO_CACHE)
write_reports_task = task(write_reports, name="write-reports", cache_policy=NO_CACHE)
