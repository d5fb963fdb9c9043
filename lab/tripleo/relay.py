"""A command of the real client run as a child whose output this process relays, line by line.

The ``ssh_drop`` fault (lab/tripleo/__main__.py) cuts the session from a timer in this process. An
exec'd client would take the timer with it, so a command the fault is armed for runs as a child: when
the session is gone, what it prints is lost (``survives``: ``_cut`` silenced this process's streams,
and the child goes on), or the relay's first failed write hangs its process group up, as a closed
terminal does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from typing import IO


def run_relayed(argv: list[str], env: dict[str, str]) -> int:
    """Run ``argv`` in a session of its own to its end, relaying its stdout and stderr; the signals this
    process gets go to its process group."""
    sys.stdout.flush()
    sys.stderr.flush()
    child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)

    def hang_up(signum: int = signal.SIGHUP) -> None:
        try:
            os.killpg(child.pid, signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda number, _frame: hang_up(number))
    relays = [threading.Thread(target=_relay, args=(stream, name, hang_up), daemon=True)
              for stream, name in ((child.stdout, "stdout"), (child.stderr, "stderr"))]
    for relay in relays:
        relay.start()
    status = child.wait()
    for relay in relays:
        relay.join(timeout=5)
    return status


def _relay(stream: IO[bytes], name: str, hang_up) -> None:
    for line in iter(stream.readline, b""):
        out = getattr(sys, name)  # looked up each time: a cut session replaces it
        try:
            out.write(line.decode(errors="replace"))
            out.flush()
        except (BrokenPipeError, OSError):
            hang_up()
            for _ in iter(stream.readline, b""):  # drain, so the child is not blocked on a full pipe
                pass
            return
