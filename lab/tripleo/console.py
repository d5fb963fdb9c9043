"""How the lab's commands talk: timestamped lines like tripleoclient's, and its error convention."""

from __future__ import annotations

import sys
import time


class CommandFailed(Exception):
    """Ends a command: its message is printed as tripleoclient prints errors, with this exit status."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def say(message: str, *, level: str = "INFO", logger: str = "tripleoclient") -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    print(f"{stamp} | {level:<7} | {logger} | {message}", flush=True)


def fail_line(message: str) -> None:
    print(f"ERROR: {message}", file=sys.stderr, flush=True)
