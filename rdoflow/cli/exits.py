"""The one map from what happened to the command's exit status, and how an error is shown on the way out.

As Zuul tells FAILURE from ERROR, rdoflow tells "the cloud under test failed" from "rdoflow could not
test": a failed check, resource, remote command, timeout or OpenStack API answer is the cloud's (1); bad
input is the user's (2); an unreachable host or API after the retries, or a fault rdoflow does not know,
means no verdict was reached (3). Ctrl-C is 130, as a shell reports it; SIGHUP 129, SIGTERM 143.
"""

from __future__ import annotations

import signal
from enum import IntEnum

from rdoflow.cli.output import err
from rdoflow.errors import (
    ConfigError,
    RdoflowError,
    RemoteCommandFailed,
    ResourceFailed,
    StageTimeout,
    TransientError,
    http_status,
    unreachable,
)


class ExitStatus(IntEnum):
    OK = 0
    FAILED = 1  # the cloud under test failed: a check, a resource, a remote command, the verdict
    BAD_INPUT = 2  # a file or option is not what rdoflow expects
    ERROR = 3  # rdoflow could not test: a host or API unreachable after the retries, or a fault it does not know
    HANGUP = 129  # SIGHUP (128 + 1): the terminal the run was started from closed
    INTERRUPTED = 130  # Ctrl-C
    TERMINATED = 143  # SIGTERM (128 + 15): a CI job cancelled, `timeout`, a service stopped


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM or SIGHUP (``rdoflow.cli.main``), so
    that the command unwinds as Ctrl-C does: every ``finally`` runs (the built-in lab is taken down,
    Prefect's temporary server stopped) before it exits 128 + the signal's number (143, 129)."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(signum)
        self.signum = signum


def termination_behind(exc: BaseException) -> Terminated | None:
    """The SIGTERM or SIGHUP behind ``exc``, if one is in its chain (``__cause__``, ``__context__``).

    Inside a flow run Prefect's own handler turns the signal into its ``TerminationSignal``; when the signal
    lands while Prefect sets up a task run, Prefect's crash handling fails in turn and the run ends with that
    fault (``ValueError: Task run is not set``, Prefect 3.9), the signal only in its context. It is still the
    signal that ended the run."""
    from prefect.exceptions import TerminationSignal

    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        if isinstance(link, Terminated):
            return link
        if isinstance(link, TerminationSignal):
            return Terminated(link.signal)
        link = link.__cause__ or link.__context__
    return None


def exit_status_for(exc: BaseException) -> ExitStatus:
    """The exit status for an exception that ended a command (whether or not a pipeline stage raised it)."""
    if isinstance(exc, Terminated):
        return ExitStatus.HANGUP if exc.signum == signal.SIGHUP else ExitStatus.TERMINATED
    if isinstance(exc, KeyboardInterrupt):
        return ExitStatus.INTERRUPTED
    if isinstance(exc, ConfigError):
        return ExitStatus.BAD_INPUT
    if isinstance(exc, TransientError) or unreachable(exc):
        return ExitStatus.ERROR  # still unreachable after the retries: nothing was tested
    if isinstance(exc, (ResourceFailed, StageTimeout, RemoteCommandFailed)) or http_status(exc) is not None:
        return ExitStatus.FAILED
    return ExitStatus.ERROR


def show_error(exc: RdoflowError) -> None:
    """rdoflow's own diagnosis on stderr: each problem of bad input, or reference, message, evidence, hint."""
    if isinstance(exc, ConfigError):
        for problem in exc.problems:
            err.print(problem, markup=False, highlight=False)
        for line in exc.evidence[len(exc.problems) if len(exc.problems) > 1 else 0:]:  # what showed it
            err.print(f"  {line}", markup=False, highlight=False)
        if exc.hint:
            err.print(f"hint: {exc.hint}", markup=False, highlight=False)
    else:
        err.print(exc.render(), markup=False, highlight=False)
