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

Prefect stops the server when the run's process exits; a run killed with SIGKILL cannot, and its server
(uvicorn) kept running. So each run records its server in the Prefect home (RECORDS), and the next run
there, or ``rdoflow lab down``, stops a recorded server whose run is gone: only when the PID still
belongs to the process recorded (the same command line and start time, this user's).
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import signal
from collections.abc import Callable
from pathlib import Path

from rdoflow.cli.output import err
from rdoflow.errors import RdoflowError, StageTimeout
from rdoflow.waiting import Deadline

STARTUP_SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
EPHEMERAL_STARTUP_SECONDS = 90
SERVER_AUTH_SETTING = "PREFECT_SERVER_API_AUTH_STRING"
CLIENT_AUTH_SETTING = "PREFECT_API_AUTH_STRING"
RECORDS = "rdoflow-temporary-servers"  # in the Prefect home: <server PID>.json for each run's live server


class TemporaryServerDidNotStart(RdoflowError):
    reference = "prefect-temporary-server-did-not-start"


def give_time_to_start() -> None:
    """Set the temporary server's start-up budget for this process and its children, unless the user did."""
    os.environ.setdefault(STARTUP_SETTING, str(EPHEMERAL_STARTUP_SECONDS))


def server_configured() -> bool:
    """Whether Prefect's settings (the environment, the active profile, a prefect.toml...) name a server in
    PREFECT_API_URL; if not, a flow run here would need the temporary one.

    Prefect is asked only when one of the places it reads its settings from could name one: importing it
    takes a second on a quiet machine and 5 to 8 s at a load of 13, as long as a review."""
    if os.environ.get("PREFECT_API_URL"):
        return True
    if not _settings_may_name_a_server():
        return False
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


def _settings_may_name_a_server() -> bool:
    """False only when none of Prefect's settings sources can set PREFECT_API_URL: no profile chosen or
    profiles file moved by the environment, no profiles file in the Prefect home that mentions it, no
    .env that mentions it, no prefect.toml and no [tool.prefect] in pyproject.toml in the current directory
    (Prefect 3's sources: prefect/settings/sources.py). Prefect's own default profile names no server."""
    if os.environ.get("PREFECT_PROFILE") or os.environ.get("PREFECT_PROFILES_PATH") or Path("prefect.toml").exists():
        return True
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect")
    mentions = {home / "profiles.toml": b"PREFECT_API_URL", Path(".env"): b"PREFECT_",
                Path("pyproject.toml"): b"tool.prefect"}
    for path, text in mentions.items():
        try:
            with path.open("rb") as file:
                head, more = file.read(1 << 20), file.read(1)
        except OSError:  # absent (or unreadable: then Prefect cannot read it either)
            continue
        if text in head or more:  # it names Prefect's settings, or is too large to look through: ask Prefect
            return True
    return False


def start_temporary_server() -> None:
    """Start Prefect's temporary server now, when this process will need one (no PREFECT_API_URL), so that
    a server that does not come up is reported as such, before the flow starts; the flow's client then
    finds it running (Prefect keeps one per process)."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return
    stop_orphaned_servers(lambda line: err.print(f"rdoflow: {line}", markup=False, highlight=False))
    _authenticate_temporary_server()
    budget = int(os.environ.get(STARTUP_SETTING) or EPHEMERAL_STARTUP_SECONDS)
    server = SubprocessASGIServer()
    try:
        server.start(timeout=budget)
    except Exception as exc:  # noqa: BLE001 - Prefect raises RuntimeError (or an HTTP error) with its output
        raise TemporaryServerDidNotStart(
            f"Prefect's temporary server (started because PREFECT_API_URL is not set) did not come up "
            f"within {budget} s", evidence=str(exc).splitlines()[:20],
            hint=f"the machine may be too busy: set {STARTUP_SETTING} higher (now {budget}), or start a "
                 "Prefect server ('prefect server start', docs/prefect-server.md) and set PREFECT_API_URL") from exc
    _record(server)


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


def _records_dir() -> Path:
    from prefect.settings import PREFECT_HOME

    return Path(PREFECT_HOME.value()) / RECORDS


def _started(pid: int) -> str | None:
    """When ``pid`` started (clock ticks since boot, /proc/PID/stat field 22), None when it is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def _cmdline(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return None


def _record(server) -> None:
    """Record this run's server (PID, command line, start time) and this process as its owner; the record
    goes when the server is stopped at exit."""
    process = server.server_process
    if process is None:
        return
    record = {"pid": process.pid, "port": server.port, "cmdline": _cmdline(process.pid),
              "started": _started(process.pid), "owner": os.getpid(), "owner_started": _started(os.getpid())}
    path = _records_dir() / f"{process.pid}.json"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = path.with_suffix(".tmp")  # whole or not at all: another run may be reading the records
    written.write_text(json.dumps(record))
    written.replace(path)

    def forget() -> None:  # atexit runs it before Prefect's own stop (registered earlier): stop, then forget
        server.stop()
        path.unlink(missing_ok=True)

    atexit.register(forget)


def stop_orphaned_servers(say: Callable[[str], None] | None = None) -> list[int]:
    """Stop the temporary servers recorded in the Prefect home whose run is gone (killed with SIGKILL);
    return their PIDs. A record whose PID is gone or now belongs to another process (another command line
    or start time, another user) is only removed: nothing but the recorded process is ever signalled. A
    record of a run still alive is left alone."""
    directory, stopped = _records_dir(), []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            record = json.loads(path.read_text())
            pid, owner = int(record["pid"]), int(record["owner"])
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
            continue
        if _started(owner) is not None and _started(owner) == record.get("owner_started"):
            continue  # its run is alive (this one, or another in the same Prefect home): not an orphan
        if _is_recorded_server(pid, record):
            _stop(pid)
            stopped.append(pid)
            if say:
                say(f"stopped Prefect's temporary server (PID {pid}, port {record.get('port')}) left by a run "
                    f"that was killed (PID {owner})")
        path.unlink(missing_ok=True)
    return stopped


def _is_recorded_server(pid: int, record: dict) -> bool:
    """``pid`` is still the process recorded: same start time, same command line (Prefect's uvicorn), ours."""
    cmdline = _cmdline(pid)
    try:
        ours = os.stat(f"/proc/{pid}").st_uid == os.getuid()
    except OSError:
        return False
    return (ours and _started(pid) is not None and _started(pid) == record.get("started")
            and cmdline is not None and cmdline == record.get("cmdline")
            and "uvicorn" in cmdline and "prefect.server.api.server:create_app" in cmdline)


def _stop(pid: int, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it is still there after ``grace`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        try:
            for _ in Deadline(grace, f"process {pid}", target="gone", max_delay=0.2):
                if _started(pid) is None:
                    return
        except StageTimeout:
            continue
