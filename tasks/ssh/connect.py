"""SSH connections: one paramiko client per host, verified host keys, and errors classified at connect.

Transient (a retry may help): refused, reset or timed-out connections, EOF during
the handshake. Permanent: authentication failure, an unknown or changed host key,
an unreadable private key, a peer with no algorithm in common.
"""

from __future__ import annotations

import atexit
import io
import logging
import threading
from pathlib import Path

import paramiko

from rdoflow.blocks.ssh import SSHHost
from rdoflow.errors import RdoflowError, TransientError

log = logging.getLogger("rdoflow.ssh")

KEEPALIVE_SECONDS = 30


class SSHConnectFailed(TransientError):
    reference = "ssh-connect-failed"


class SSHConnectionLost(TransientError):
    reference = "ssh-connection-lost"


class SSHAuthenticationFailed(RdoflowError):
    reference = "ssh-auth-failed"


class HostKeyUnknown(RdoflowError):
    reference = "ssh-host-key-unknown"


class HostKeyMismatch(RdoflowError):
    reference = "ssh-host-key-changed"


def _fingerprint(key: paramiko.PKey) -> str:
    return key.fingerprint  # "SHA256:..." like ssh-keygen -l


class _RefuseUnknown(paramiko.MissingHostKeyPolicy):
    def __init__(self, host: SSHHost, known_hosts: Path):
        self.host, self.known_hosts = host, known_hosts

    def missing_host_key(self, client, hostname, key):
        where = str(self.known_hosts) if self.known_hosts.exists() else f"{self.known_hosts} (does not exist)"
        raise HostKeyUnknown(
            f"host key of {hostname} is not in known_hosts; refusing to connect",
            evidence=[f"offered: {key.get_name()} {_fingerprint(key)}", f"known_hosts: {where}"],
            hint=f"check the fingerprint out of band, then run: ssh-keyscan -p {self.host.port} {self.host.host} "
            f">> {self.known_hosts}; or set host_key_policy: trust-on-first-use",
        )


class _TrustOnFirstUse(paramiko.MissingHostKeyPolicy):
    def __init__(self, known_hosts: Path):
        self.known_hosts = known_hosts

    def missing_host_key(self, client, hostname, key):
        entry = paramiko.hostkeys.HostKeyEntry([hostname], key)
        self.known_hosts.parent.mkdir(parents=True, exist_ok=True)
        with self.known_hosts.open("a") as known:
            known.write(entry.to_line())
        self.known_hosts.chmod(0o600)
        client.get_host_keys().add(hostname, key.get_name(), key)
        log.warning("trusted new host key of %s on first use: %s %s", hostname, key.get_name(), _fingerprint(key))


def _known_hosts_path(host: SSHHost) -> Path:
    return Path(host.known_hosts or Path.home() / ".ssh" / "known_hosts").expanduser()


def _load_private_key(host: SSHHost) -> paramiko.PKey | None:
    passphrase = host.key_passphrase.get_secret_value() if host.key_passphrase else None
    try:
        if host.private_key_file is not None:
            return paramiko.PKey.from_path(Path(host.private_key_file).expanduser(), passphrase)
        if host.private_key is not None:
            text = host.private_key.get_secret_value()
            for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
                try:
                    return kind.from_private_key(io.StringIO(text), passphrase)
                except paramiko.SSHException:
                    continue
            raise paramiko.SSHException("not an Ed25519, ECDSA or RSA private key")
    except (OSError, paramiko.SSHException, ValueError) as exc:
        source = host.private_key_file or "the block's private_key"
        # The exception text can quote key material for some formats: say only its type.
        raise SSHAuthenticationFailed(
            f"cannot read the private key for {host.address} from {source}",
            evidence=[type(exc).__name__],
            hint="check the key file's path and format, and the passphrase",
        ) from None
    return None


def connect(host: SSHHost) -> paramiko.SSHClient:
    """A new, authenticated client whose server proved the host key ``host`` expects."""
    known_hosts = _known_hosts_path(host)
    client = paramiko.SSHClient()
    if known_hosts.exists():
        client.load_host_keys(str(known_hosts))
    policy = _TrustOnFirstUse(known_hosts) if host.host_key_policy == "trust-on-first-use" else None
    client.set_missing_host_key_policy(policy or _RefuseUnknown(host, known_hosts))
    pkey = _load_private_key(host)
    try:
        client.connect(
            host.host,
            port=host.port,
            username=host.username,
            pkey=pkey,
            allow_agent=pkey is None,
            look_for_keys=pkey is None,
            timeout=host.connect_timeout,
            banner_timeout=host.connect_timeout,
            auth_timeout=host.connect_timeout,
        )
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise HostKeyMismatch(
            f"host key of {host.host}:{host.port} does not match known_hosts: refusing to connect",
            evidence=[f"offered: {exc.key.get_name()} {_fingerprint(exc.key)}",
                      f"expected: {exc.expected_key.get_name()} {_fingerprint(exc.expected_key)}",
                      f"known_hosts: {known_hosts}"],
            hint="if the host was reinstalled, remove the old key with "
            f"ssh-keygen -R '[{host.host}]:{host.port}' -f {known_hosts}; otherwise suspect a man in the middle",
        ) from None
    except paramiko.AuthenticationException as exc:
        client.close()
        raise SSHAuthenticationFailed(
            f"{host.address} refused the credentials", evidence=[str(exc)],
            hint="check the username and that the public key is in the account's authorized_keys",
        ) from exc
    except (HostKeyUnknown, paramiko.IncompatiblePeer):
        client.close()
        raise
    except (OSError, EOFError, paramiko.SSHException) as exc:  # refused, reset, timed out, EOF in handshake
        client.close()
        raise SSHConnectFailed(f"cannot connect to {host.address}: {exc or type(exc).__name__}") from exc
    client.get_transport().set_keepalive(KEEPALIVE_SECONDS)
    return client


class ConnectionPool:
    """One live client per (user, host, port, key): reused by every command and transfer to that host."""

    def __init__(self) -> None:
        self._clients: dict[tuple, paramiko.SSHClient] = {}
        self._locks: dict[tuple, threading.Lock] = {}
        self._guard = threading.Lock()

    @staticmethod
    def _key(host: SSHHost) -> tuple:
        return (host.username, host.host, host.port, str(host.private_key_file), hash(tuple(host.secret_values())))

    def client(self, host: SSHHost) -> paramiko.SSHClient:
        key = self._key(host)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            client = self._clients.get(key)
            transport = client.get_transport() if client else None
            if transport is None or not transport.is_active():
                client = self._clients[key] = connect(host)
            return client

    def discard(self, host: SSHHost) -> None:
        """Forget a client whose connection broke, so that the next use reconnects."""
        client = self._clients.pop(self._key(host), None)
        if client is not None:
            client.close()

    def close_all(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()


POOL = ConnectionPool()
atexit.register(POOL.close_all)


def open_session(host: SSHHost) -> paramiko.Channel:
    """A session channel on the pooled connection to ``host``."""
    transport = POOL.client(host).get_transport()
    try:
        return transport.open_session(timeout=host.connect_timeout)
    except (paramiko.SSHException, EOFError, OSError) as exc:
        POOL.discard(host)  # the connection went stale: the retry reconnects
        raise SSHConnectionLost(f"cannot open a session on {host.address}: {exc}") from exc
