"""Stage progress on the terminal while a flow runs in the CLI's process: Rich bars on a terminal,
a plain line per quarter in a CI log (where a live display would print nothing useful)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from rdoflow.tasks.progress import listen


@contextmanager
def progress_shown(console: Console) -> Iterator[None]:
    """Show every ``tasks.progress.StageProgress`` of this process on ``console`` for the block's duration."""
    if console.is_terminal:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.fields[note]}"), console=console) as bars:
            shown: dict[str, int] = {}

            def draw(key: str, description: str, done: float, total: float, note: str) -> None:
                if key not in shown:
                    shown[key] = bars.add_task(description, total=total or None, note=note)
                bars.update(shown[key], completed=done, total=total or None, note=note)

            stop = listen(draw)
            try:
                yield
            finally:
                stop()
        return
    quarters: dict[str, int] = {}

    def log(key: str, description: str, done: float, total: float, note: str) -> None:
        quarter = 4 if total == 0 else int(4 * done / total)
        if quarters.get(key) != quarter:
            quarters[key] = quarter
            extra = f" ({note})" if note else ""
            console.print(f"progress: {description}: {done:g}/{total:g}{extra}", markup=False, highlight=False)

    stop = listen(log)
    try:
        yield
    finally:
        stop()
