"""A run killed with SIGKILL cannot stop its temporary Prefect server (uvicorn): the next run in the same
Prefect home, or ``rdoflow lab down``, stops it, and never a process that is not the one recorded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import (
    RDOFLOW,
    flow_waiting_in_its_own_process,
    isolated_env,
    processes_mentioning,
    temporary_server,
)

# A stand-in with the command line of Prefect's uvicorn (python -c ignores the words after its program).
LOOKALIKE = [sys.executable, "-c", "import time; time.sleep(300)", "-m", "uvicorn", "--factory",
             "prefect.server.api.server:create_app"]


@pytest.fixture
def prefect_home(tmp_path):
    """A Prefect home of the test's own, in the settings context: an environment variable would not reach past
    a context another test of the same worker entered (a Prefect server fixture's temporary settings)."""
    from prefect.settings import PREFECT_HOME, temporary_settings

    home = tmp_path / "prefect-home"
    with temporary_settings(updates={PREFECT_HOME: str(home)}):
        yield home


@pytest.fixture
def lookalike():
    process = subprocess.Popen(LOOKALIKE)
    from rdoflow.waiting import Deadline

    for _ in Deadline(30, f"process {process.pid}", target="running its command line"):  # exec'd, not forked
        if "prefect.server.api.server:create_app" in Path(f"/proc/{process.pid}/cmdline").read_bytes().decode():
            break
    yield process
    process.kill()
    process.wait()


def _dead_pid() -> tuple[int, str]:
    """A PID (and start time) of a process that has exited: an owner that was killed."""
    from rdoflow.cli.prefect_api import _started

    gone = subprocess.Popen(["sleep", "30"])
    started = _started(gone.pid)
    gone.kill()
    gone.wait()
    return gone.pid, started


def _record(home: Path, pid: int, **changes) -> Path:
    from rdoflow.cli.prefect_api import RECORDS, _cmdline, _started

    owner, owner_started = _dead_pid()
    record = {"pid": pid, "port": 8123, "cmdline": _cmdline(pid), "started": _started(pid), "owner": owner,
              "owner_started": owner_started} | changes
    path = home / RECORDS / f"{pid}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return path


def test_a_recorded_server_whose_run_is_gone_is_stopped(prefect_home, lookalike):
    from rdoflow.cli.prefect_api import stop_orphaned_servers

    record = _record(prefect_home, lookalike.pid)
    said = []
    assert stop_orphaned_servers(said.append) == [lookalike.pid]
    assert lookalike.wait(timeout=30) == -signal.SIGTERM
    assert not record.exists() and len(said) == 1
    assert said[0].startswith(f"stopped Prefect's temporary server (PID {lookalike.pid}, port 8123) left by a run "
                              "that was killed (PID ")


@pytest.mark.parametrize("change", ["cmdline", "started", "live owner"])
def test_a_process_that_is_not_the_recorded_one_is_never_signalled(prefect_home, lookalike, change):
    """The PID was reused (another start time), it runs something else (another command line), or the run
    that owns the server is alive: nothing is signalled."""
    from rdoflow.cli.prefect_api import _started, stop_orphaned_servers

    changes = {"cmdline": {"cmdline": ["sleep", "300"]}, "started": {"started": "1"},
               "live owner": {"owner": os.getpid(), "owner_started": _started(os.getpid())}}[change]
    record = _record(prefect_home, lookalike.pid, **changes)
    assert stop_orphaned_servers() == []
    assert lookalike.poll() is None
    assert record.exists() == (change == "live owner")  # a stale record goes; a live run's stays


@pytest.mark.slow
@pytest.mark.timeout(900)  # two rdoflow processes, each starting Prefect's server: 300 s ran out at load 20
@pytest.mark.parametrize("finder", ["lab down", "next run"])
def test_the_server_of_a_run_killed_with_sigkill_is_stopped_by_lab_down_or_the_next_run(tmp_path, finder):
    output = tmp_path / "output"
    with output.open("w") as sink, flow_waiting_in_its_own_process(
            tmp_path, stdout=sink, stderr=subprocess.STDOUT) as (command, prefect_home):
        server, _ = temporary_server(prefect_home)
        command.send_signal(signal.SIGKILL)
        command.wait(timeout=30)
        assert server in processes_mentioning(str(prefect_home), anywhere=True), "SIGKILL left no orphan to find"
        env = isolated_env(prefect_home)
        if finder == "lab down":
            args = ["lab", "down", "--dir", str(tmp_path / "no-lab")]
        else:  # a run that fails at once (nothing listens on port 1), after it started its own server
            args = ["run", "watch-prerelease", "-p", "base_url=http://127.0.0.1:1/c9", "-p", "timeout=1",
                    "-p", "deployment=", "--reports", str(tmp_path / "reports")]
        done = subprocess.run([RDOFLOW, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert processes_mentioning(str(prefect_home), anywhere=True) == {}, done.stdout + done.stderr
    assert f"stopped Prefect's temporary server (PID {server}, " in done.stdout + done.stderr
