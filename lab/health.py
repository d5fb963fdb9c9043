"""``rdoflow lab status``: each service of a lab, its address, whether its process lives and answers."""

from __future__ import annotations

import socket
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .control import LabState
from .ironic_processes import live_conductors
from .process import alive


@dataclass
class ServiceStatus:
    name: str
    pid: int | None
    running: bool
    address: str
    healthy: bool
    detail: str
    log: str


def lab_status(lab_dir: Path) -> list[ServiceStatus]:
    state = LabState.load(Path(lab_dir).resolve())
    root = Path(state.dir)
    ports = state.ports
    checks = [
        ("sshd", f"ssh://{state.username}@127.0.0.1:{ports.get('ssh')}", lambda: _banner(ports["ssh"]),
         root / "ssh" / "sshd.log"),
        ("ironic", state.ironic_url, lambda: _http(state.ironic_url + "/v1"), root / "ironic" / "ironic.log"),
        ("heat", state.heat_url, lambda: _http(state.heat_url + "/stacks"), root / "heat" / "heat.log"),
        ("postgres", f"127.0.0.1:{ports.get('postgres')}", lambda: _tcp(ports["postgres"]),
         Path(state.postgres.get("root", "")) / "postgres.log"),
        ("nodes", "ramdisk + config agent", lambda: "running", root / "nodes" / "nodes.log"),
    ]
    if state.keystone_url:
        checks.insert(2, ("keystone", state.keystone_url, lambda: _http(state.keystone_url),
                          root / "keystone" / "keystone.log"))
    if state.inspector_url:
        checks.insert(2, ("inspector", state.inspector_url, lambda: _http(state.inspector_url + "/v1"),
                          root / "inspector" / "inspector.log"))
    if "ironic-rpc" in ports:  # a lab started before Ironic ran as two processes has no conductor of its own
        checks.insert(2, ("ironic-conductor", f"json-rpc 127.0.0.1:{ports['ironic-rpc']}",
                          lambda: _conductor(state.ironic_url), root / "ironic" / "ironic-conductor.log"))
    if (dlrn := state.dlrn()) is not None:
        checks.insert(-1, ("dlrn", dlrn.api_url, lambda: _http(dlrn.api_url + "/api/health"),
                           root / "dlrn" / "dlrn-stdout.log"))
        checks.insert(-1, ("dlrn-repos", dlrn.repos_url, lambda: _http(dlrn.repos_url + "/"),
                           root / "dlrn" / "repos-http.log"))
    statuses = []
    for name, address, probe, log in checks:
        pid = state.pids.get(name) if name != "postgres" else _postmaster_pid(state)
        running = alive(pid)
        healthy, detail = False, "not running"
        if running:
            try:
                healthy, detail = True, probe()
            except (OSError, KeyError) as exc:
                detail = f"no answer: {exc}"
        statuses.append(ServiceStatus(name, pid, running, address, healthy, detail, str(log)))
    return statuses


def _postmaster_pid(state: LabState) -> int | None:
    pidfile = Path(state.postgres.get("root", "/nonexistent")) / "data" / "postmaster.pid"
    try:
        return int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _conductor(ironic_url: str) -> str:
    """What Ironic's API says of its conductors (a node request needs one alive)."""
    alive = live_conductors(ironic_url)
    if not alive:
        raise OSError("Ironic lists no live conductor")
    return f"registered: {', '.join(alive)}"


def _http(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return f"HTTP {answer.status}"


def _banner(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        return sock.recv(64).decode(errors="replace").strip()


def _tcp(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        return "accepting connections"
