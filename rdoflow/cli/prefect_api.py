"""Prefect's temporary server, which a command that runs a flow in its process starts when no
PREFECT_API_URL is set: given the time it needs on a busy machine, and named when it does not come up.

Prefect waits 20 s for it by default; on 2 busy cores it has taken longer (13-14 s when idle, on a
fresh PREFECT_HOME), and the run died with Prefect's own message. The CLI and ./rdo give it
EPHEMERAL_STARTUP_SECONDS unless PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS is set.
"""

from __future__ import annotations

import os

from rdoflow.errors import RdoflowError

STARTUP_SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
EPHEMERAL_STARTUP_SECONDS = 90


class TemporaryServerDidNotStart(RdoflowError):
    reference = "prefect-temporary-server-did-not-start"


def give_time_to_start() -> None:
    """Set the temporary server's start-up budget for this process and its children, unless the user did."""
    os.environ.setdefault(STARTUP_SETTING, str(EPHEMERAL_STARTUP_SECONDS))


def start_temporary_server() -> None:
    """Start Prefect's temporary server now, when this process will need one (no PREFECT_API_URL), so that
    a server that does not come up is reported as such, before the flow starts; the flow's client then
    finds it running (Prefect keeps one per process)."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return
    budget = int(os.environ.get(STARTUP_SETTING) or EPHEMERAL_STARTUP_SECONDS)
    try:
        SubprocessASGIServer().start(timeout=budget)
    except Exception as exc:  # noqa: BLE001 - Prefect raises RuntimeError (or an HTTP error) with its output
        raise TemporaryServerDidNotStart(
            f"Prefect's temporary server (started because PREFECT_API_URL is not set) did not come up "
            f"within {budget} s", evidence=str(exc).splitlines()[:20],
            hint=f"the machine may be too busy: set {STARTUP_SETTING} higher (now {budget}), or start a "
                 "Prefect server ('prefect server start', docs/prefect-server.md) and set PREFECT_API_URL") from exc
