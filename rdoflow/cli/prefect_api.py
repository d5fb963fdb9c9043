"""Prefect's temporary server, which a command that runs a flow in its process starts when no
PREFECT_API_URL is set: given the time it needs on a busy machine, named when it does not come up, and
closed to everyone but the run that started it.

Prefect waits 20 s for it by default; on 2 busy cores it has taken longer (13-14 s when idle, on a
fresh PREFECT_HOME), and the run died with Prefect's own message. The CLI and ./rdo give it
EPHEMERAL_STARTUP_SECONDS unless PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS is set.

The server listens on 127.0.0.1 with Prefect's default of no authentication, where any local user could
read the blocks' secrets (``POST /api/block_documents/filter`` with ``include_secrets``). Each run gives
it a random auth string of its own (PREFECT_SERVER_API_AUTH_STRING), and its own client the same one
(PREFECT_API_AUTH_STRING), unless the user set a server auth string.
"""

from __future__ import annotations

import os
import secrets

from rdoflow.errors import RdoflowError

STARTUP_SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
EPHEMERAL_STARTUP_SECONDS = 90
SERVER_AUTH_SETTING = "PREFECT_SERVER_API_AUTH_STRING"
CLIENT_AUTH_SETTING = "PREFECT_API_AUTH_STRING"


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
    _authenticate_temporary_server()
    budget = int(os.environ.get(STARTUP_SETTING) or EPHEMERAL_STARTUP_SECONDS)
    try:
        SubprocessASGIServer().start(timeout=budget)
    except Exception as exc:  # noqa: BLE001 - Prefect raises RuntimeError (or an HTTP error) with its output
        raise TemporaryServerDidNotStart(
            f"Prefect's temporary server (started because PREFECT_API_URL is not set) did not come up "
            f"within {budget} s", evidence=str(exc).splitlines()[:20],
            hint=f"the machine may be too busy: set {STARTUP_SETTING} higher (now {budget}), or start a "
                 "Prefect server ('prefect server start', docs/prefect-server.md) and set PREFECT_API_URL") from exc


def _authenticate_temporary_server() -> None:
    """A random auth string for this run's temporary server and its client, held in Prefect's settings
    only: not in this process's environment (so not in the lab's or the tools' either), never printed.

    Prefect 3.9 starts the server (``SubprocessASGIServer``) with this process's environment plus every
    setting that was set (``to_environment_variables(exclude_unset=True)``), and its clients read
    PREFECT_API_AUTH_STRING from the current settings: so both are set in the environment, the global
    settings are read again (``refresh_global_settings_context``), and the environment is put back."""
    from prefect.context import refresh_global_settings_context
    from prefect.settings import get_current_settings

    if get_current_settings().server.api.auth_string is not None:
        return  # the user's own, with the client's matching one: theirs to choose
    auth = f"rdoflow:{secrets.token_urlsafe(32)}"
    before = {name: os.environ.get(name) for name in (SERVER_AUTH_SETTING, CLIENT_AUTH_SETTING)}
    os.environ.update(dict.fromkeys(before, auth))
    try:
        refresh_global_settings_context()
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
