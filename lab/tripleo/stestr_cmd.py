"""The lab host's ``stestr``: the real stestr, under the lab's ``ssh_drop`` fault.

With ``suite.tempest: real`` it is the Tempest venv's (``RDOFLOW_LAB_TEMPEST_VENV``, set by the host's
command script), which discovers Tempest and its plugins; with the generated suite, the lab venv's.

``faults.ssh_drop.command`` matches the words that start the command line, as
for ``openstack``: ``stestr run`` cuts the session of the next ``stestr run``.
When the session is cut, stestr is stopped as a hang-up would stop it, so that
a retried run does not race the remains of the first one in the repository.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from . import hoststate, tempest_clean
from .__main__ import _maybe_drop_session

HANG_UP_POLL_SECONDS = 0.2


def _stop_when_orphaned(child: subprocess.Popen, parent: int) -> None:
    """Once this command's session is gone (it is reparented), hang up its process group: stestr,
    its workers and this wrapper. (A timeout's kill reaches the same group.)"""
    while child.poll() is None:
        if os.getppid() != parent:
            os.killpg(os.getpgrp(), signal.SIGTERM)
            return
        threading.Event().wait(HANG_UP_POLL_SECONDS)


def program() -> Path:
    """The stestr to run: the real Tempest venv's when the lab has one, else the lab venv's."""
    tempest = os.environ.get("RDOFLOW_LAB_TEMPEST_VENV")
    return Path(tempest) / "bin" / "stestr" if tempest else Path(sys.executable).parent / "stestr"


def real_workspace() -> bool:
    """The current directory is the real Tempest's workspace (``suite.tempest: real``)."""
    return bool(os.environ.get("RDOFLOW_LAB_TEMPEST_VENV")) and (Path.cwd() / "etc" / "tempest.conf").exists()


def main(argv: list[str]) -> int:
    _maybe_drop_session(" ".join(["stestr", *argv[:1]]))
    stestr = program()
    # A real run's leftovers in the cloud are removed when it ends (lab/tripleo/tempest_clean.py).
    cleaning = tempest_clean.begin(Path.cwd(), hoststate.lab_dir()) if argv[:1] == ["run"] and real_workspace() \
        else None
    child = subprocess.Popen([str(stestr), *argv])
    watcher = threading.Thread(target=_stop_when_orphaned, args=(child, os.getppid()), daemon=True)
    watcher.start()
    status = child.wait()
    if cleaning is not None:
        removed = tempest_clean.end(Path.cwd(), cleaning)
        if removed:
            print(f"lab: removed what the run left in the cloud: {', '.join(removed)}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
