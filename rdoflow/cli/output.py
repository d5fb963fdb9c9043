"""Where the CLI writes: standard output for results, standard error for diagnoses.

Rich consoles with no file of their own write to whatever ``sys.stdout`` and ``sys.stderr`` are when they
print; ``streams`` points them elsewhere for one call (``rdoflow.cli.main.main(argv, stdout=…, stderr=…)``),
which is how the tests run the CLI in their own process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from rich.console import Console

# soft_wrap: a problem line stays one line in a pipe or a CI log, where Rich would assume 80 columns.
out = Console(soft_wrap=True, emoji=False)
err = Console(stderr=True, soft_wrap=True, emoji=False)


def plain(console: Console, text: str) -> None:
    """Print ``text`` as it is: no markup, no highlighting."""
    console.print(text, markup=False, highlight=False)


def report_dir_for(base: Path, flow_name: str) -> Path:
    """A new directory under ``base`` for one run's reports: ``<flow>-<UTC time>``."""
    return base / f"{flow_name}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"


@contextmanager
def streams(stdout: TextIO | None = None, stderr: TextIO | None = None) -> Iterator[None]:
    """``out`` and ``err`` write to these streams inside the block (None: the process's own)."""
    out.file, err.file = stdout, stderr  # None: follow sys.stdout / sys.stderr, as Rich does by default
    try:
        yield
    finally:
        out.file, err.file = None, None
