"""Commands on this machine: run to their end or their timeout, with output bounded while it is read.

A reviewed spec or a misbehaving tool may print without end; each stream keeps only its last
``output_limit`` bytes (the end is where errors are), and the result says how many lines were dropped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from rdoflow.outcome import CommandResult, Outcome

OUTPUT_LIMIT = 4 << 20  # bytes kept of each stream
KILL_GRACE_SECONDS = 5.0


class _Tail:
    """The last ``limit`` bytes of a stream, read in a thread; the lines before them are counted."""

    def __init__(self, stream, limit: int) -> None:
        self.kept, self.dropped_lines, self.limit = bytearray(), 0, limit
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream) -> None:
        with stream:
            while chunk := stream.read(1 << 16):
                self.kept += chunk
                excess = len(self.kept) - self.limit
                if excess > 0:
                    self.dropped_lines += self.kept.count(b"\n", 0, excess)
                    del self.kept[:excess]

    def text(self) -> str:
        self.thread.join()
        return self.kept.decode(errors="replace")


def run_local(argv: Sequence[str], *, timeout: float, cwd: Path | None = None, env: Mapping[str, str] | None = None,
              output_limit: int = OUTPUT_LIMIT, recorded_argv: Sequence[str] | None = None) -> CommandResult:
    """Run ``argv`` (no shell) in its own process group; kill the group after ``timeout`` seconds.

    ``recorded_argv`` is what the result records as the command (e.g. without a sandbox's wrapper)."""
    started = time.monotonic()
    process = subprocess.Popen(list(argv), cwd=cwd, env=None if env is None else dict(env), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    out, err = _Tail(process.stdout, output_limit), _Tail(process.stderr, output_limit)
    try:
        exit_status: int | None = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        exit_status = None
    status = Outcome.TIMEOUT if exit_status is None else Outcome.PASS if exit_status == 0 else Outcome.FAIL
    stdout, stderr = out.text(), err.text()
    return CommandResult(argv=list(recorded_argv or argv), status=status, exit_status=exit_status, stdout=stdout,
                         stderr=stderr, duration=time.monotonic() - started,
                         dropped_lines=out.dropped_lines + err.dropped_lines)


def _kill_group(process: subprocess.Popen) -> None:
    """SIGTERM to the command's process group, SIGKILL after a grace period."""
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_SECONDS), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
