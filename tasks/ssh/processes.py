"""Commands a dropped SSH session left running on a host: found by their command line, waited for.

A long TripleO command (the undercloud install, an overcloud deploy or upgrade step) goes on when
the session that started it drops. Before a retry starts it again, the retry waits for that one to
end, so the host never runs two of them at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rdoflow.blocks.ssh import SSHHost
from rdoflow.tasks.ssh.remote import run
from rdoflow.waiting import Deadline


def running_pattern(argv: Sequence[str]) -> str:
    """A ``pgrep -f`` pattern for the command (without its program name, which wrappers change), that
    does not match the pgrep command line that carries it (the first letter is in brackets)."""
    text = " ".join(argv[1:])
    escaped = re.sub(r"([.\[\]()*+?{}|^$\\])", r"\\\1", text)
    return f"[{escaped[0]}]{escaped[1:]}" if escaped and escaped[0].isalnum() else escaped


def wait_until_ended(host: SSHHost, argv: Sequence[str], *, budget: float, what: str) -> bool:
    """Wait until no process on the host runs ``argv``; True when one was found running.

    ``budget`` is the command's own timeout: a command still running past it raises StageTimeout,
    naming ``what`` and the process id seen last."""
    pattern, seen = running_pattern(argv), False
    wait = Deadline(budget, f"{what} on {host.address}", target="ended", first_delay=0.5, max_delay=5)
    for _ in wait:
        found = run(host, ["pgrep", "-f", "--", pattern], check=False, timeout=30, log_output=False)
        if found.exit_status != 0:
            break
        seen, wait.last_seen = True, f"still running (pid {found.stdout.split()[0]})"
    return seen
