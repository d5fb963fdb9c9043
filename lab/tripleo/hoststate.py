"""What the lab host remembers between commands (installed versions, upgrade stage, SSH cuts).

A JSON file in the lab directory, read and written under an exclusive lock, the
way a real undercloud keeps its state in files and databases of its own.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STATE_FILE = "host-state.json"


def lab_dir() -> Path:
    return Path(os.environ["RDOFLOW_LAB_DIR"])


@contextmanager
def host_state(directory: Path | None = None) -> Iterator[dict]:
    """The host's state as a dict; changes made inside the block are saved when it ends."""
    path = (directory or lab_dir()) / STATE_FILE
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = json.loads(path.read_text()) if path.exists() else {}
        yield state
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
        tmp.replace(path)


def read_state(directory: Path | None = None) -> dict:
    path = (directory or lab_dir()) / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else {}
