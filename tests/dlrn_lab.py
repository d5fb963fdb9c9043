"""The lab's DLRN on its own (its API and its repositories' web server on 127.0.0.1), for a test module."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rdoflow.lab.dlrn_service import DLRN, DlrnEndpoint, start_dlrn
from rdoflow.lab.process import stop_tree
from rdoflow.lab.sshd import free_ports
from rdoflow.lab.venv import ensure_venv


@contextmanager
def running_dlrn(root: Path) -> Iterator[DlrnEndpoint]:
    """DLRN's API and the repositories' server under ``root`` until the block ends, however it ends."""
    venv = ensure_venv(DLRN, say=lambda line: None)
    pids: dict[str, int] = {}
    api_port, repos_port = free_ports(2)
    try:
        yield start_dlrn(root, venv, api_port, repos_port, started=lambda name, pid: pids.__setitem__(name, pid))
    finally:
        for pid in pids.values():
            stop_tree(pid)
