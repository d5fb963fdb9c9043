"""Remote commands and file transfer on an SSH host, and the Prefect tasks that retry them.

``run`` takes an argument list and quotes every argument; it streams each output
line to the run logger as it arrives, kills the remote process group when the
timeout passes, and returns a ``CommandResult``. ``SecretStr`` arguments are sent
but recorded as ``**********``, and every secret is redacted from the output.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import select
import shlex
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import paramiko
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError
from prefect.logging import get_run_logger
from pydantic import BaseModel, SecretStr

from rdoflow.blocks.ssh import SSHHost
from rdoflow.errors import (
    RdoflowError,
    RemoteCommandFailed,
    ResourceFailed,
    StageTimeout,
)
from rdoflow.outcome import CommandResult, Outcome, labelled_tail
from rdoflow.redaction import REDACTED, Redactor
from rdoflow.tasks.retries import TRANSIENT_RETRIES
from rdoflow.tasks.ssh.connect import POOL, SSHConnectionLost, open_session

log = logging.getLogger("rdoflow.ssh")

PID_MARK = "rdoflow-pid "
# sshd makes each session a process-group leader; the wrapper reports its pid
# (the group id) first, so that a timeout can kill the command and its children.
# It starts in $HOME, as sshd does, and then in ``cwd`` (relative to $HOME, like SFTP paths).
WRAPPER = f'echo "{PID_MARK}$$" >&2; cd -- "$HOME" 2>/dev/null; cd -- "$1" || exit 126; shift; exec "$@"'
KILL_GRACE_SECONDS = 5.0
POLL_SECONDS = 0.5
READ_LIMIT = 4 << 20  # bytes of a host file read into memory (a clouds.yaml, a status file, a stackrc)

Argument = str | SecretStr
LineSink = Callable[[str, str], None]
LineTaker = Callable[[str, str], str | None]  # sees a line, returns what to keep of it (None: nothing)


class CommandNotFound(RemoteCommandFailed):
    reference = "remote-command-not-found"


class RemoteCommandTimeout(StageTimeout):
    reference = "remote-command-timeout"


class RemoteFileTooLarge(ResourceFailed):
    """A file read from the host into memory is larger than rdoflow reads of it."""

    reference = "remote-file-too-large"


class RemoteFileNotFound(RdoflowError):
    reference = "remote-file-not-found"


class Transfer(BaseModel):
    """A file copied to or from a host, with the checksum of what was copied."""

    host: str
    local: Path
    remote: str
    size: int
    sha256: str
    duration: float


class _Stream:
    """One output stream: decoded incrementally and split into lines; the last ``keep`` lines are kept.

    ``take(stream, line)`` sees each line and returns what to keep (None keeps nothing).
    """

    def __init__(self, name: str, take: LineTaker, keep: int):
        self.name, self.take = name, take
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.partial = ""
        self.lines: deque[str] = deque(maxlen=keep)
        self.dropped = 0

    def feed(self, data: bytes, final: bool = False) -> None:
        *complete, self.partial = (self.partial + self.decoder.decode(data, final)).split("\n")
        if final and self.partial:
            complete, self.partial = [*complete, self.partial], ""
        for line in complete:
            kept = self.take(self.name, line.rstrip("\r"))
            if kept is not None:
                self.dropped += len(self.lines) == self.lines.maxlen
                self.lines.append(kept)


def _logger() -> logging.Logger | logging.LoggerAdapter:
    try:
        return get_run_logger()
    except MissingContextError:
        return log


class _RemoteProcess:
    """A command running on a channel: pumps its output and knows its process group."""

    def __init__(self, host: SSHHost, channel: paramiko.Channel, sink: LineTaker, keep: int):
        self.host, self.channel = host, channel
        self.pid: int | None = None
        self.last_output = time.monotonic()
        self.out = _Stream("stdout", sink, keep)
        self.err = _Stream("stderr", self._stderr_line(sink), keep)

    def _stderr_line(self, sink: LineTaker) -> LineTaker:
        def take(name: str, line: str) -> str | None:
            if self.pid is None and line.startswith(PID_MARK):
                self.pid = int(line[len(PID_MARK):])
                return None
            return sink(name, line)
        return take

    def pump(self, wait: float) -> bool:
        """Read what has arrived within ``wait`` seconds; True once the remote side closed its output."""
        select.select([self.channel], [], [], wait)
        while self.channel.recv_ready():
            self.out.feed(self.channel.recv(65536))
            self.last_output = time.monotonic()
        while self.channel.recv_stderr_ready():
            self.err.feed(self.channel.recv_stderr(65536))
            self.last_output = time.monotonic()
        drained = not (self.channel.recv_ready() or self.channel.recv_stderr_ready())
        return drained and (self.channel.eof_received or self.channel.closed)

    def finish(self) -> None:
        self.out.feed(b"", final=True)
        self.err.feed(b"", final=True)

    def wait(self, timeout: float | None, idle_timeout: float | None) -> Literal["exited", "timeout"]:
        started = time.monotonic()
        while not self.pump(POLL_SECONDS):
            now = time.monotonic()
            if timeout is not None and now - started > timeout:
                return "timeout"
            if idle_timeout is not None and now - self.last_output > idle_timeout:
                return "timeout"
        return "exited"

    def execute(self, command: str, shown: str, stdin: bytes | None, timeout: float | None,
                idle_timeout: float | None) -> tuple[str, int | None]:
        """Run ``command`` to its end: ("exited", status) or ("timeout", None) after killing it.

        A dropped connection raises ``SSHConnectionLost``; ``shown`` is the command as it may be logged.
        """
        try:
            self.channel.exec_command(command)
            if stdin is not None:
                self.channel.sendall(stdin)
            self.channel.shutdown_write()
            outcome = self.wait(timeout, idle_timeout)
            if outcome == "timeout":
                self.kill()
            self.finish()
            connected = self.channel.get_transport().is_active()
            status = self.channel.recv_exit_status() if outcome == "exited" else None
        except (paramiko.SSHException, EOFError, OSError) as exc:
            POOL.discard(self.host)
            raise SSHConnectionLost(f"connection to {self.host.address} lost during: {shown}") from exc
        finally:
            self.channel.close()
        if status == -1 and not connected:  # no exit status came: the connection closed under the command
            POOL.discard(self.host)
            raise SSHConnectionLost(
                f"connection to {self.host.address} dropped while running: {shown}",
                evidence=labelled_tail(list(self.err.lines), list(self.out.lines), 5),
                hint="rdoflow retries the command; if it keeps dropping, check the host's sshd and network",
            )
        return outcome, status

    def kill(self) -> None:
        """TERM the remote process group, then KILL it if it outlives the grace period."""
        if self.pid is None:
            return
        for signal_name in ("TERM", "KILL"):
            script = f"kill -{signal_name} -{self.pid} 2>/dev/null || kill -{signal_name} {self.pid}"
            killer = open_session(self.host)
            killer.exec_command(shlex.join(["sh", "-c", script]))
            killer.recv_exit_status()
            killer.close()
            grace_ends = time.monotonic() + KILL_GRACE_SECONDS
            while time.monotonic() < grace_ends:
                if self.pump(POLL_SECONDS):
                    return


def _secret_strings(argv: Sequence[Argument], redact: Iterable[Argument], host: SSHHost) -> list[str]:
    found = [a.get_secret_value() for a in (*argv, *redact) if isinstance(a, SecretStr)]
    return found + [a for a in redact if isinstance(a, str)] + host.secret_values()


def run(
    host: SSHHost,
    argv: Sequence[Argument],
    *,
    timeout: float | None = 3600,
    idle_timeout: float | None = None,
    cwd: str | None = None,
    stdin: bytes | str | None = None,
    check: bool = True,
    redact: Iterable[Argument] = (),
    on_line: LineSink | None = None,
    keep_lines: int = 10_000,
    log_output: bool = True,
) -> CommandResult:
    """Run ``argv`` on ``host`` and wait for it, streaming its output line by line.

    ``timeout`` bounds the whole run, ``idle_timeout`` the silence between two
    lines; either kills the remote process group. With ``check``, a non-zero exit
    raises ``RemoteCommandFailed`` (``CommandNotFound`` for 127) and a timeout
    ``RemoteCommandTimeout``; each carries the result. A dropped connection always
    raises ``SSHConnectionLost``. ``on_line(stream, line)`` sees each line, redacted;
    ``log_output=False`` keeps the lines out of the run log (for output read as data).
    """
    if not argv:
        raise ValueError("argv must name a command")
    recorded = [REDACTED if isinstance(a, SecretStr) else str(a) for a in argv]
    sent = [a.get_secret_value() if isinstance(a, SecretStr) else str(a) for a in argv]
    redactor = Redactor(_secret_strings(argv, redact, host))
    logger = _logger()

    def sink(stream: str, line: str) -> str:
        line = redactor(line)
        if log_output:
            logger.info("%s| %s", "out" if stream == "stdout" else "err", line)
        if on_line is not None:
            on_line(stream, line)
        return line

    shown = shlex.join(recorded)
    logger.info("%s$ %s", host.address, shown)
    started = time.monotonic()
    process = _RemoteProcess(host, open_session(host), sink, keep_lines)
    outcome, exit_status = process.execute(
        shlex.join(["sh", "-c", WRAPPER, "rdoflow", cwd or ".", *sent]),
        shown,
        stdin.encode() if isinstance(stdin, str) else stdin,
        timeout,
        idle_timeout,
    )
    result = CommandResult(
        host=host.address,
        argv=recorded,
        status=Outcome.TIMEOUT if outcome == "timeout" else Outcome.PASS if exit_status == 0 else Outcome.FAIL,
        exit_status=None if exit_status == -1 else exit_status,
        stdout="\n".join(process.out.lines),
        stderr="\n".join(process.err.lines),
        duration=time.monotonic() - started,
        dropped_lines=process.out.dropped + process.err.dropped,
    )
    logger.info("%s exited %s after %.1f s", recorded[0], result.exit_status, result.duration)
    if check:
        _check(result, timeout=timeout, idle_timeout=idle_timeout)
    return result


def _check(result: CommandResult, *, timeout: float | None, idle_timeout: float | None) -> None:
    if result.status == "timeout":
        budget = f"{timeout:g} s" if timeout is not None else "no limit"
        idle = f", idle limit {idle_timeout:g} s" if idle_timeout is not None else ""
        exc: RdoflowError = RemoteCommandTimeout(
            f"{result.command} on {result.host} was killed after {result.duration:.1f} s "
            f"(limit {budget}{idle})",
            evidence=result.tail(),
        )
    elif result.exit_status == 127:
        exc = CommandNotFound(
            f"command not found on {result.host}: {result.argv[0]}",
            evidence=result.tail(5),
            hint="install the package that provides it on the host, or fix the command's path",
        )
    elif result.status == Outcome.FAIL:
        why = f"exit status {result.exit_status}" if result.exit_status is not None else "killed by a signal"
        exc = RemoteCommandFailed(f"{result.command} failed on {result.host} with {why}", evidence=result.tail())
    else:
        return
    exc.result = result
    raise exc


@contextmanager
def _sftp(host: SSHHost, remote: str) -> Iterator[paramiko.SFTPClient]:
    """An SFTP session on the pooled connection: a missing path is permanent, a broken connection transient."""
    try:
        sftp = POOL.client(host).open_sftp()
        try:
            yield sftp
        finally:
            sftp.close()
    except FileNotFoundError as exc:
        raise RemoteFileNotFound(f"{host.address}: no such file or directory: {remote}") from exc
    except PermissionError:
        raise
    except (paramiko.SSHException, EOFError, OSError) as exc:
        POOL.discard(host)
        raise SSHConnectionLost(f"connection to {host.address} lost while copying {remote}") from exc


def _copied(host: SSHHost, local: Path, remote: str, started: float) -> Transfer:
    digest = hashlib.sha256()
    with local.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return Transfer(host=host.address, local=local, remote=remote, size=local.stat().st_size,
                    sha256=digest.hexdigest(), duration=time.monotonic() - started)


def put(host: SSHHost, local: Path, remote: str, *, mode: int | None = None) -> Transfer:
    """Upload ``local`` to ``remote`` atomically: to a temporary name beside it, then renamed over it."""
    local, started = Path(local), time.monotonic()
    staging = f"{remote}.rdoflow-partial"
    with _sftp(host, remote) as sftp:
        sftp.put(str(local), staging)
        if mode is not None:
            sftp.chmod(staging, mode)
        sftp.posix_rename(staging, remote)
    _logger().info("copied %s to %s:%s", local, host.address, remote)
    return _copied(host, local, remote, started)


def get(host: SSHHost, remote: str, local: Path) -> Transfer:
    """Download ``remote`` to ``local`` (its directory is created)."""
    local, started = Path(local), time.monotonic()
    local.parent.mkdir(parents=True, exist_ok=True)
    with _sftp(host, remote) as sftp:
        sftp.get(remote, str(local))
    _logger().info("copied %s:%s to %s", host.address, remote, local)
    return _copied(host, local, remote, started)


@task(name="remote-command", task_run_name="{argv[0]} on {host.host}", cache_policy=NO_CACHE, **TRANSIENT_RETRIES)
def remote_command(
    host: SSHHost,
    argv: list[Argument],
    timeout: float | None = 3600,
    idle_timeout: float | None = None,
    cwd: str | None = None,
    check: bool = True,
) -> CommandResult:
    """``run`` as a task: a dropped connection or a refused connect is retried with backoff."""
    return run(host, argv, timeout=timeout, idle_timeout=idle_timeout, cwd=cwd, check=check)


@task(name="upload-file", task_run_name="upload {remote} to {host.host}", cache_policy=NO_CACHE, **TRANSIENT_RETRIES)
def upload_file(host: SSHHost, local: Path, remote: str, mode: int | None = None) -> Transfer:
    """``put`` as a task, retried on transient errors."""
    return put(host, local, remote, mode=mode)


@task(name="download-file", task_run_name="download {remote} from {host.host}", cache_policy=NO_CACHE,
      **TRANSIENT_RETRIES)
def download_file(host: SSHHost, remote: str, local: Path) -> Transfer:
    """``get`` as a task, retried on transient errors."""
    return get(host, remote, local)


def read_remote(host: SSHHost, remote: str, *, limit: int = READ_LIMIT) -> bytes | None:
    """A file of the host's, or None when it is not there. Read into memory, never logged; a file larger
    than ``limit`` bytes is refused before a byte of it is read (``RemoteFileTooLarge``)."""
    try:
        with _sftp(host, remote) as sftp:
            size = sftp.stat(remote).st_size or 0
            if size > limit:
                raise RemoteFileTooLarge(f"{host.address}:{remote} is {size} bytes; rdoflow reads at most {limit} "
                                         "bytes of it", hint="check what wrote that file on the host")
            with sftp.open(remote, "rb") as stream:
                data = stream.read(limit + 1)
    except RemoteFileNotFound:
        return None
    if len(data) > limit:  # it grew between the stat and the read
        raise RemoteFileTooLarge(f"{host.address}:{remote} is over {limit} bytes; rdoflow reads at most {limit} "
                                 "bytes of it", hint="check what writes that file on the host")
    return data
