"""OpenSSH's own sshd on 127.0.0.1: the lab's undercloud host, and the SSH server of the tests.

Everything it needs lives in one directory: a fresh host key, a generated client
key, the authorized_keys and known_hosts files, the config and the log. The
account is the one running it (root in CI); it listens on loopback only.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from rdoflow.config.ssh import SSHEndpoint
from rdoflow.errors import RdoflowError
from rdoflow.waiting import Deadline

from .process import process_table

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd")

SSHD_CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {root}/ssh_host_ed25519_key
PidFile {root}/sshd.pid
AuthorizedKeysFile {root}/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
MaxSessions 64
MaxStartups 64:30:128
LogLevel VERBOSE
Subsystem sftp {sftp}
"""


class SSHDUnavailable(RdoflowError):
    reference = "sshd-unavailable"


def find_sshd() -> Path:
    """The sshd binary, or an error that says which package provides it."""
    for candidate in (*SSHD_CANDIDATES, shutil.which("sshd")):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise SSHDUnavailable(
        "OpenSSH's sshd is not installed",
        hint="install it: 'apt-get install openssh-server' (Debian) or 'dnf install openssh-server' (Fedora); "
        "'./rdo setup' does this for you",
    )


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports (all held open together while they are chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _keygen(path: Path, comment: str) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
    )


@dataclass
class LoopbackSSHD:
    """A running sshd and the files a client needs to reach it with verified host keys."""

    root: Path
    port: int
    process: subprocess.Popen | None  # None when read back from a lab.json
    username: str

    @property
    def client_key_file(self) -> Path:
        return self.root / "id_ed25519"

    @property
    def known_hosts_file(self) -> Path:
        return self.root / "known_hosts"

    @property
    def host_public_key(self) -> str:
        return (self.root / "ssh_host_ed25519_key.pub").read_text().split()[1]

    @property
    def log_file(self) -> Path:
        return self.root / "sshd.log"

    def endpoint(self) -> SSHEndpoint:
        return SSHEndpoint(
            host="127.0.0.1",
            port=self.port,
            username=self.username,
            private_key_file=self.client_key_file,
            known_hosts=self.known_hosts_file,
        )

    def session_pids(self) -> list[int]:
        """The per-connection sshd processes (children of the listener and theirs)."""
        parents = process_table()
        sessions: list[int] = []
        frontier = {self.process.pid}
        while frontier:
            children = {pid for pid, (ppid, _) in parents.items() if ppid in frontier}
            sessions += [pid for pid in children if parents[pid][1] == "sshd"]
            frontier = {pid for pid in children if parents[pid][1] == "sshd"}
        return sessions

    def drop_sessions(self) -> int:
        """Kill every open session, as a network drop or a host reboot would; returns how many."""
        pids = self.session_pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(pids)

    def stop(self) -> None:
        self.drop_sessions()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_sshd(
    root: Path,
    *,
    port: int | None = None,
    ready_timeout: float = 20.0,
    extra_config: str = "",
    home: Path | None = None,
    sftp: str | None = None,
) -> LoopbackSSHD:
    """Start sshd on 127.0.0.1 with fresh keys under ``root``; return once it answers.

    ``extra_config`` is appended to sshd_config (the lab sets the session's environment there);
    ``home`` is where SFTP sessions start (relative paths), as a real account's home would be; ``sftp``, the
    SFTP subsystem's command when it is not sshd's own (internal-sftp)."""
    sshd = find_sshd()
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    for name in ("ssh_host_ed25519_key", "id_ed25519"):
        for path in (root / name, root / f"{name}.pub"):
            path.unlink(missing_ok=True)
    _keygen(root / "ssh_host_ed25519_key", "rdoflow-lab-host")
    _keygen(root / "id_ed25519", "rdoflow-lab-client")
    shutil.copyfile(root / "id_ed25519.pub", root / "authorized_keys")
    host_key = (root / "ssh_host_ed25519_key.pub").read_text().split()
    (root / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    sftp = sftp or ("internal-sftp" + (f" -d {home}" if home else ""))
    (root / "sshd_config").write_text(SSHD_CONFIG.format(port=port, root=root, sftp=sftp) + extra_config)
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
    log = (root / "sshd.log").open("ab")
    process = subprocess.Popen(
        [str(sshd), "-D", "-e", "-f", str(root / "sshd_config")],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = LoopbackSSHD(root=root, port=port, process=process, username=getpass.getuser())
    _wait_for_banner(server, ready_timeout)
    return server


def _wait_for_banner(server: LoopbackSSHD, budget: float) -> None:
    wait = Deadline(budget, f"sshd on 127.0.0.1:{server.port}", target="accepting connections")
    for _ in wait:
        if server.process.poll() is not None:
            raise SSHDUnavailable(
                f"sshd exited with status {server.process.returncode} before accepting connections",
                evidence=server.log_file.read_text(errors="replace").splitlines()[-10:],
            )
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
                wait.last_seen = sock.recv(64).decode(errors="replace").strip()
                if wait.last_seen.startswith("SSH-2.0"):
                    return
        except OSError as exc:
            wait.last_seen = str(exc)
