"""How work ended, said one way: the ``Outcome`` of a pipeline stage, a command, a node's introspection,
a deploy or upgrade step, a preflight check, a comparison's verdict; and the ``CommandResult`` of every
command rdoflow runs, remote, local or sandboxed.

Like testtools' status events, it is a fixed set; each report words it for its reader (a node that passed
its introspection is "available", a step after a failure "not run"), but the data says it one way.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, Field


class Outcome(StrEnum):
    PASS = "pass"  # it did what it was asked
    FAIL = "fail"  # it ended, and not as asked: a failed check, a failed resource, a non-zero exit
    TIMEOUT = "timeout"  # it did not end within its budget
    SKIP = "skip"  # it was not run: by choice, or because something before it failed


class CommandResult(BaseModel):
    """What a command did, wherever it ran: on a host over SSH, on this machine, in the review sandbox.

    As invoke's ``Result``: the command (argv as recorded, secrets masked), how it ended, its exit status
    (None when it was killed at its timeout or its connection dropped), its output (what was kept of it:
    ``dropped_lines`` says how much of the start was not) and how long it ran.
    """

    host: str = Field("localhost", description="Where it ran: user@host:port, or localhost.")
    argv: list[str]
    status: Outcome
    exit_status: int | None
    stdout: str
    stderr: str
    duration: float
    dropped_lines: int = 0

    @property
    def command(self) -> str:
        return shlex.join(self.argv)

    @property
    def timed_out(self) -> bool:
        return self.status == Outcome.TIMEOUT

    def tail(self, count: int = 20) -> list[str]:
        """The last lines of stderr and stdout, labelled, for an error message."""
        return labelled_tail(self.stderr.splitlines(), self.stdout.splitlines(), count)


def labelled_tail(stderr: Sequence[str], stdout: Sequence[str], count: int) -> list[str]:
    return [f"stderr: {line}" for line in stderr[-count:]] + [f"stdout: {line}" for line in stdout[-count:]]
