"""The retry policy every task module shares: transient errors only, exponential backoff with jitter."""

from __future__ import annotations

from typing import Any

from prefect.tasks import exponential_backoff

from rdoflow.errors import TransientError


def retry_if_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry only what a retry can help (see errors.TransientError)."""
    return isinstance(state.result(raise_on_failure=False), TransientError)


TRANSIENT_RETRIES: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=2),
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": retry_if_transient,
}
"""Keyword arguments for ``@task``: 3 retries after about 2, 4 and 8 s (each up to 50% longer)."""
