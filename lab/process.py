"""Starting the lab's services as detached processes, waiting for them, and stopping them by PID.

``lab up`` returns while the services go on running, so each one is started in
a session of its own and recorded by PID; ``lab down`` (another process) stops
each process group: SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from rdoflow.errors import RdoflowError, StageTimeout
from rdoflow.waiting import Deadline


class ServiceFailed(RdoflowError):
    reference = "lab-service-failed"


def spawn(argv: list, *, log_file: Path, env: dict | None = None) -> subprocess.Popen:
    """Start ``argv`` detached (own session), stdout and stderr appended to ``log_file``."""
    with log_file.open("ab") as log:
        return subprocess.Popen(
            [str(a) for a in argv],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )


def run_once(name: str, argv: list, *, log_file: Path, env: dict | None = None, timeout: float = 120) -> None:
    """Run a setup command (a schema creation, say) to the end; fail with its log's last lines."""
    with log_file.open("ab") as log:
        done = subprocess.run([str(a) for a in argv], stdout=log, stderr=subprocess.STDOUT, env=env, timeout=timeout)
    if done.returncode != 0:
        raise ServiceFailed(f"{name}: {Path(str(argv[0])).name} exited with status {done.returncode}",
                            evidence=tail_lines(log_file))


def wait_http(name: str, process: subprocess.Popen, url: str, *, logs: list[Path], budget: float = 300) -> None:
    """Wait until ``url`` answers 200; fail early, with the logs' last lines, if the process exits.

    Heat answers 8 s after its start on an idle machine; beside a CI run's real TripleO deploys it once took
    more than 90 s, hence the budget."""
    wait = Deadline(budget, f"{name} at {url}", target="answering 200", max_delay=0.5)
    try:
        _poll(wait, name, process, url, logs)
    except StageTimeout as exc:
        raise ServiceFailed(exc.message, evidence=tail_lines(*logs)) from None


def _poll(wait: Deadline, name: str, process: subprocess.Popen, url: str, logs: list[Path]) -> None:
    for _ in wait:
        if process.poll() is not None:
            raise ServiceFailed(
                f"{name} exited with status {process.returncode} before it answered at {url}",
                evidence=tail_lines(*logs),
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                wait.last_seen = f"HTTP {answer.status}"
                if answer.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            wait.last_seen = f"HTTP {exc.code}"
        except OSError as exc:
            wait.last_seen = str(exc)


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not alive.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stop_tree(pid: int | None, *, grace: float = 15.0) -> None:
    """SIGTERM ``pid``, its process group and every descendant (an sshd's sessions start groups of
    their own); SIGKILL what is left after ``grace`` seconds."""
    if not alive(pid):
        return
    family = [pid, *descendants(pid)]
    for member in family:
        _signal_group(member, signal.SIGTERM)
    if not _gone_within(pid, grace):
        for member in family:
            _signal_group(member, signal.SIGKILL)
        _gone_within(pid, 5.0)


def descendants(pid: int) -> list[int]:
    parents = {child: ppid for child, (ppid, _) in process_table().items()}
    found, frontier = [], {pid}
    while frontier:
        frontier = {child for child, ppid in parents.items() if ppid in frontier}
        found += sorted(frontier)
    return found


def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command name), read from /proc."""
    table: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        table[int(entry.name)] = (int(stat[stat.rindex(")") + 2 :].split()[1]), name)
    return table


def _gone_within(pid: int, budget: float) -> bool:
    try:
        for _ in Deadline(budget, f"process {pid}", target="gone", max_delay=0.2):
            if not alive(pid):
                return True
    except StageTimeout:
        return False


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def tail_lines(*paths: Path, lines: int = 12) -> list[str]:
    """The last ``lines`` lines of each log, each named by its file: a failed service's evidence."""
    found = []
    for path in paths:
        if not path.exists():
            found.append(f"({path} was not written)")
            continue
        found += [f"{path.name}: {line}" for line in path.read_text(errors="replace").splitlines()[-lines:]]
    return found
