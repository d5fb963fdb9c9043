"""Starting the pipeline for a pre-release drop: a deployment run with the drop as its parameter, and an event.

Used by the ``watch_prerelease`` flow (a new hash appeared behind a DLRN link) and by
``rdoflow trigger`` (a CI job that has just built a drop). The last drop seen per link is kept
in a Prefect Variable, so that a watch on any worker knows what the previous one saw.

A watch given no deployment only announces the drop: the ``on-prerelease-drop`` deployment's event
trigger (prefect.yaml) starts the pipeline then, as it does for an event a CI job posts itself.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.events import emit_event
from prefect.variables import Variable
from pydantic import BaseModel

from rdoflow.errors import ConfigError, TransientError
from rdoflow.tasks.prerelease.dlrn import Change, Drop, compare

EVENT = "rdoflow.prerelease.published"
DEFAULT_DEPLOYMENT = "nightly/on-prerelease-drop"


class PrefectApiUnreachable(TransientError):
    """The Prefect server at PREFECT_API_URL refused the connection or did not answer."""

    reference = "prefect-server-unreachable"


class DropWatch(BaseModel):
    """What one watch found: the drop, how it relates to the last one seen, the run it started."""

    drop: Drop
    change: Change
    previous_hash: str | None = None
    flow_run_id: UUID | None = None
    flow_run_url: str | None = None


def variable_name(link: str) -> str:
    """The Prefect Variable that remembers the last drop seen behind ``link``."""
    return "rdoflow-drop-" + re.sub(r"[^a-z0-9_-]+", "-", link.lower()).strip("-")


def flow_run_url(flow_run: FlowRun) -> str:
    """The run's page in the Prefect UI (its API URL when no UI URL is configured)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.utilities.urls import url_for

    return url_for(flow_run) or f"{PREFECT_API_URL.value().rstrip('/')}/flow_runs/{flow_run.id}"


def start_pipeline(deployment: str, drop_hash: str, *, parameters: dict[str, Any] | None = None,
                   wait_seconds: float | None = 0, idempotency_key: str | None = None) -> FlowRun:
    """Create a run of ``deployment`` with ``drop=drop_hash``; with ``wait_seconds`` None, wait for its end.

    Runs created with the same ``idempotency_key`` are one run (two watches racing on one drop).

    A deployment name that is not ``FLOW/DEPLOYMENT``, or that the server does not know, is a ConfigError;
    a server that does not answer is PrefectApiUnreachable, naming its URL.
    """
    import httpx
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL

    if deployment.count("/") != 1:
        raise ConfigError("--deployment", [f"deployment {deployment!r}: expected FLOW-NAME/DEPLOYMENT-NAME, "
                                           f"e.g. {DEFAULT_DEPLOYMENT}"])
    try:
        return run_deployment(deployment, parameters={**(parameters or {}), "drop": drop_hash},
                              timeout=wait_seconds, poll_interval=2, as_subflow=False,
                              tags=["rdoflow", "prerelease"], idempotency_key=idempotency_key)
    except ObjectNotFound:
        raise ConfigError("--deployment", [f"deployment {deployment!r} is not registered on the Prefect server"],
                          hint="register it with 'prefect deploy' (see prefect.yaml)") from None
    except httpx.TransportError as exc:
        raise PrefectApiUnreachable(f"the Prefect server at {PREFECT_API_URL.value()} does not answer: "
                                    f"{type(exc).__name__}: {exc}",
                                    hint="start it ('prefect server start') or fix PREFECT_API_URL") from exc


def announce(drop: Drop, flow_run: FlowRun | None) -> None:
    """Emit ``rdoflow.prerelease.published`` for the drop (and the run started for it)."""
    payload = {"hash": drop.full_hash, "link": drop.link, "base_url": drop.base_url,
               "timestamp": drop.timestamp.isoformat(), "repo_url": drop.repo_url}
    related = []
    if flow_run is not None:
        payload["flow_run_id"] = str(flow_run.id)
        related.append({"prefect.resource.id": f"prefect.flow-run.{flow_run.id}",
                        "prefect.resource.role": "flow-run"})
    emit_event(event=EVENT, resource={"prefect.resource.id": f"rdoflow.drop.{drop.full_hash}",
                                      "prefect.resource.name": drop.link},
               related=related, payload=payload)


def watch(drop: Drop, deployment: str | None, parameters: dict[str, Any] | None = None) -> DropWatch:
    """Compare with the last drop seen; when new, start ``deployment`` (if given), announce the drop
    and remember it."""
    name = variable_name(drop.link)
    last_seen = Variable.get(name, default=None)
    change = compare(drop, last_seen if isinstance(last_seen, dict) else None)
    result = DropWatch(drop=drop, change=change, previous_hash=(last_seen or {}).get("hash"))
    if change in ("first", "new"):
        flow_run = None
        if deployment:
            flow_run = start_pipeline(deployment, drop.full_hash, parameters=parameters,
                                      idempotency_key=f"rdoflow-drop-{deployment}-{drop.full_hash}")
            result.flow_run_id, result.flow_run_url = flow_run.id, flow_run_url(flow_run)
        announce(drop, flow_run)
        Variable.set(name, {"hash": drop.full_hash, "timestamp": drop.timestamp.isoformat()}, overwrite=True)
    return result


@task(name="start-pipeline-if-new", task_run_name="compare {drop.link} with the last drop seen",
      cache_policy=NO_CACHE)
def start_if_new(drop: Drop, deployment: str | None, parameters: dict[str, Any] | None = None) -> DropWatch:
    """``watch`` as a task, logging what it decided."""
    from prefect.logging import get_run_logger

    result = watch(drop, deployment, parameters)
    logger = get_run_logger()
    if result.change == "rollback":
        logger.warning("%s went back to %s (built %s) from %s: a rollback, not a new drop", drop.link,
                       drop.full_hash, drop.timestamp, result.previous_hash)
    elif result.flow_run_url:
        logger.info("new drop %s behind %s: started %s (%s)", drop.full_hash, drop.link, deployment,
                    result.flow_run_url)
    elif result.change in ("first", "new"):
        logger.info("new drop %s behind %s: announced as %s (deployments triggered by it start now)",
                    drop.full_hash, drop.link, EVENT)
    else:
        logger.info("%s still points at %s", drop.link, drop.full_hash)
    return result
