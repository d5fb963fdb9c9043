"""``faults.ironic_conf_after_upgrade``: the upgrade leaves the undercloud's Ironic configured otherwise.

A real upgrade restarts the services with their new configuration; the lab's does the same to its
Ironic once the overcloud upgrade is over (``upgraded`` in the host's state), when the knob names
options: they are written to ``DIR/ironic/ironic-upgraded.conf``, and Ironic (its API and its conductor)
is restarted with that file after its own ``--config-file`` (later files win). Its data is in the lab's PostgreSQL, so the
nodes and everything else survive the restart. What the options break, the real Tempest run after the
upgrade meets with its real traceback. ``{"api": {"public_endpoint":
"http://undercloud.ctlplane.localdomain:6385"}}`` (an upgrade that names the undercloud by its host name
in the links Ironic returns) fails ``test_ports.TestPorts.test_list_ports`` and ``test_list_ports_details``
(``MismatchError``: the self links no longer name the URL the client used) and leaves the rest of the
lab's selection passing. The new PIDs go to ``lab.json``,
so ``lab status`` and ``lab down`` follow them.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from .. import config as labconfig
from ..ironic_processes import ironic_commands, live_conductors
from .console import CommandFailed, say
from .hoststate import host_state, lab_dir, read_state

UPGRADED_CONF = "ironic-upgraded.conf"
STOP_SECONDS, ANSWER_SECONDS = 15.0, 300.0


def after_upgrade() -> None:
    """Once per lab: Ironic restarted with the knob's options, if it names any."""
    lab = lab_dir()
    options = labconfig.load(lab).faults.ironic_conf_after_upgrade
    if not options or read_state().get("ironic_upgraded_conf"):
        return
    extra = lab / "ironic" / UPGRADED_CONF
    extra.write_text("".join(f"[{section}]\n" + "".join(f"{key} = {value}\n" for key, value in values.items())
                             for section, values in options.items()))
    say("Restarting ironic with its upgraded configuration")
    restart_ironic(lab, extra)
    with host_state() as state:
        state["ironic_upgraded_conf"] = str(extra)


def restart_ironic(lab: Path, extra_conf: Path) -> int:
    """Stop the lab's Ironic (API, then conductor: each its process group), start both again with
    ``extra_conf`` too; the API's new PID. (Their command lines are the lab's own, lab/ironic_service.py:
    Ironic retitles its processes.)"""
    root = lab / "ironic"
    with open(lab / "lab.json.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = json.loads((lab / "lab.json").read_text())
        for name in ("ironic", "ironic-conductor"):
            if name in state["pids"]:
                _stop(state["pids"][name])
        commands = ironic_commands(Path(state["venv"]), root, [root / "ironic.conf", extra_conf])
        processes = {name: _start(argv, root) for name, argv in commands.items()}
        state["pids"].update({name: process.pid for name, process in processes.items()})
        tmp = lab / "lab.json.tmp"
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(lab / "lab.json")
    url = f"http://127.0.0.1:{state['ports']['ironic']}"
    _wait_until("ironic", processes["ironic"], lambda: _answers(url + "/v1"))
    _wait_until("ironic-conductor", processes["ironic-conductor"], lambda: bool(live_conductors(url, timeout=2)))
    return processes["ironic"].pid


def _start(argv: list[str], root: Path) -> subprocess.Popen:
    with (root / "ironic-stdout.log").open("ab") as log:
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=dict(os.environ, PYTHONWARNINGS="ignore"), start_new_session=True)


def _stop(pid: int) -> None:
    for sig, budget in ((signal.SIGTERM, STOP_SECONDS), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + budget
        while time.monotonic() < deadline:
            if not _group_alive(pid):
                return
            time.sleep(0.2)


def _group_alive(pgid: int) -> bool:
    """Some process of the group still runs (a zombie, left for its parent to reap, does not count)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _answers(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2):
        return True


def _wait_until(name: str, process: subprocess.Popen, ready) -> None:
    """Until ``ready()`` says yes (it raises OSError or ValueError while the service cannot answer)."""
    deadline = time.monotonic() + ANSWER_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandFailed(f"{name} exited with status {process.returncode} after its restart")
        try:
            if ready():
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    raise CommandFailed(f"{name} was not ready within {ANSWER_SECONDS:.0f} s of its restart")
