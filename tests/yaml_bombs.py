"""Hostile YAML for the readers' tests: a "billion laughs", read in a child whose memory is capped.

A reader that expands the aliases would take the test machine with it; under the cap it fails in
seconds instead, and the test sees that failure.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
# Address space for the child: rdoflow's CLI needs about 70 MB of it and a reader that imports Prefect
# about 110 MB; an expanding reader passes 512 MB within seconds of starting on nine levels.
MEMORY_CAP = 512 * 2**20


def billion_laughs(levels: int, head: str = "") -> str:
    """``head``, then lists ``l0`` to ``l<levels - 1>``, each of nine aliases of the one before.

    A few hundred bytes that expand to 9**levels strings.
    """
    lines = [*head.splitlines(), "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


def run_capped(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``python argv`` with this checkout's rdoflow, under MEMORY_CAP; the timeout only guards."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    return subprocess.run([sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, preexec_fn=_cap_memory)


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
