"""Running the ``rdoflow`` command in the test's own process, its output streams given to it."""

from __future__ import annotations

import io
from dataclasses import dataclass

from rdoflow.cli.main import main


@dataclass
class CliRun:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def rdoflow(*args: str) -> CliRun:
    """``rdoflow ARGS...`` as a user runs it: the exit status main() returns, and what it printed."""
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main([str(arg) for arg in args], stdout=stdout, stderr=stderr)
    return CliRun(int(code), stdout.getvalue(), stderr.getvalue())
