"""The processes on this machine, read from /proc, and a nightly run in a process of its own: what the tests
of "nothing of a run outlives it" look at."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rdoflow.waiting import Deadline

RDOFLOW = str(Path(sys.executable).with_name("rdoflow"))
PROJECT = Path(__file__).resolve().parents[1]


def processes_mentioning(marker: str, *, anywhere: bool = False) -> dict[int, str]:
    """PID -> command line of every other process whose command line mentions ``marker`` (``anywhere``:
    or its working directory or its environment, where a server started by a run keeps its traces)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            seen = [cmdline, os.readlink(entry / "cwd"),
                    (entry / "environ").read_bytes().decode(errors="replace")] if anywhere else [cmdline]
        except OSError:
            continue
        if any(marker in text for text in seen):
            found[int(entry.name)] = cmdline
    return found


def isolated_env(prefect_home: Path) -> dict[str, str]:
    """This process's environment without its PREFECT_* settings, with a Prefect home of its own, importing
    this checkout's rdoflow."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    # The nightlies these processes run test signals and take-downs, not Tempest: the lab's quick suite.
    return env | {"PREFECT_HOME": str(prefect_home), "PYTHONPATH": str(PROJECT), "RDOFLOW_LAB_TEMPEST": "generated"}


def nightly_in_its_own_process(tmp_path: Path, **popen) -> tuple[subprocess.Popen, Path, Path]:
    """``rdoflow nightly`` on a fresh built-in lab in ``tmp_path/lab``, its Prefect home ``tmp_path/prefect-home``
    (no PREFECT_* setting of the test's own): (the process, the lab's directory, the Prefect home)."""
    lab_dir, prefect_home = tmp_path / "lab", tmp_path / "prefect-home"
    command = subprocess.Popen([RDOFLOW, "nightly", "--lab-dir", str(lab_dir), "--reports", str(tmp_path / "reports")],
                               env=isolated_env(prefect_home), cwd=tmp_path, **popen)
    return command, lab_dir, prefect_home


def lab_started(command: subprocess.Popen, lab_dir: Path) -> dict:
    """The lab's lab.json once it lists every service (the nodes daemon starts last), or as it was when
    ``command`` ended first."""
    wait, state = Deadline(600, f"the lab in {lab_dir}", target="every service started"), {}
    for _ in wait:
        try:
            state = json.loads((lab_dir / "lab.json").read_text())
        except (OSError, ValueError):
            continue
        wait.last_seen = str(state.get("pids"))
        if "nodes" in state.get("pids", {}) or command.poll() is not None:
            return state
    return state


@contextmanager
def flow_waiting_in_its_own_process(tmp_path: Path, **popen) -> Iterator[tuple[subprocess.Popen, Path]]:
    """``rdoflow run watch-prerelease`` in a process of its own (Prefect home ``tmp_path/prefect-home``, no
    PREFECT_* setting of the test's), against a DLRN server that accepts and never answers: yields (the
    process, its Prefect home) once the flow is running, its temporary server up, and waiting on that server.
    The cheapest run of a flow that lasts as long as a test needs."""
    prefect_home = tmp_path / "prefect-home"
    with socket.create_server(("127.0.0.1", 0)) as dlrn:
        dlrn.settimeout(300)
        command = subprocess.Popen(
            [RDOFLOW, "run", "watch-prerelease", "-p", f"base_url=http://127.0.0.1:{dlrn.getsockname()[1]}/c9",
             "-p", "timeout=600", "-p", "deployment=", "--reports", str(tmp_path / "reports")],
            env=isolated_env(prefect_home), cwd=tmp_path, **popen)
        try:
            connection, _ = dlrn.accept()  # the flow asks for its commit.yaml: it is running
            with connection:
                yield command, prefect_home
        finally:
            command.kill()
            command.wait()
            for pid in processes_mentioning(str(prefect_home), anywhere=True):  # what a failed test left
                os.kill(pid, signal.SIGKILL)


def temporary_server(prefect_home: Path) -> tuple[int, int]:
    """(PID, port) of the temporary Prefect server (uvicorn) of the run whose Prefect home is ``prefect_home``."""
    found = {pid: cmdline for pid, cmdline in processes_mentioning(str(prefect_home), anywhere=True).items()
             if "uvicorn" in cmdline}
    assert len(found) == 1, found
    pid, cmdline = found.popitem()
    words = cmdline.split()
    return pid, int(words[words.index("--port") + 1])


def sweep_labs(root: Path) -> list[str]:
    """Stop what the labs left under ``root`` still run: a test cut short by its timeout, or a killed
    ``rdoflow`` that had brought a lab up, leaves its lab.json and its processes behind. Only a recorded PID
    whose process still mentions its lab's directory (command line, working directory or environment) is
    stopped, so a PID reused since by another process is left alone. Returns what was stopped."""
    from rdoflow.lab.control import STATE_FILE, LabState
    from rdoflow.lab.postgres import PostgresCluster
    from rdoflow.lab.process import stop_tree

    stopped = []
    for state_file in root.rglob(STATE_FILE):
        try:
            state = LabState.load(state_file.parent)
        except (OSError, ValueError, TypeError):
            continue
        ours = processes_mentioning(str(state_file.parent), anywhere=True)
        for name, pid in state.pids.items():
            if pid in ours:
                stop_tree(pid, grace=5)
                stopped.append(f"{name} ({pid}) of {state_file.parent}")
        if state.postgres and Path(state.postgres["root"]).exists():
            PostgresCluster(Path(state.postgres["root"]), state.postgres["port"], Path(state.postgres["bindir"])).stop()
            stopped.append(f"postgres of {state_file.parent}")
    return stopped
