"""The retry policy every task module shares: transient errors only, exponential backoff with jitter."""

from __future__ import annotations

from typing import Any

from keystoneauth1 import exceptions as ksa_exc
from prefect.tasks import exponential_backoff

from rdoflow.errors import TransientError, http_status


def is_transient(exc: BaseException | None) -> bool:
    """What a retry can help: rdoflow's TransientError (a dropped SSH session, a DLRN server's 5xx), an
    OpenStack API that could not be reached, or one that failed on its side (5xx). A refusal (4xx), a
    failed resource or a timeout is not retried: the same call would meet it again."""
    if isinstance(exc, (TransientError, ksa_exc.RetriableConnectionFailure)):
        return True
    status = http_status(exc) if exc is not None else None
    return status is not None and 500 <= status < 600


def retry_if_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry only what a retry can help (see ``is_transient``)."""
    return is_transient(state.result(raise_on_failure=False))


TRANSIENT_RETRIES: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=2),
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": retry_if_transient,
}
"""Keyword arguments for ``@task``: 3 retries after about 2, 4 and 8 s (each up to 50% longer)."""
