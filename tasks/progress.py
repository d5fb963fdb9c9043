"""Progress of a long stage, shown where someone looks: a Prefect progress artifact in the UI, and a
Rich bar on the terminal when the CLI runs the flow in its own process.

A stage reports ``done`` out of ``total`` units (nodes inspected, stack resources complete, tests
run). Listeners are how the CLI sees the same figures without the stage knowing about a terminal.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from uuid import UUID

from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.context import FlowRunContext, TaskRunContext

log = logging.getLogger("rdoflow.progress")

# key, description, done, total, note
Listener = Callable[[str, str, float, float, str], None]
_LISTENERS: list[Listener] = []
_LOCK = threading.Lock()


def listen(listener: Listener) -> Callable[[], None]:
    """Call ``listener`` on every progress report in this process; returns the function that stops it."""
    with _LOCK:
        _LISTENERS.append(listener)

    def stop() -> None:
        with _LOCK:
            if listener in _LISTENERS:
                _LISTENERS.remove(listener)

    return stop


class StageProgress:
    """One stage's progress: ``update(done, total)`` as it goes, ``finish()`` at the end.

    The artifact is updated only when the whole percentage changes, so a 200-node stage sends at
    most about 100 updates to the API whatever its poll rate.
    """

    def __init__(self, key: str, description: str, total: float) -> None:
        self.key, self.description, self.total = key, description, max(float(total), 0.0)
        self.done = 0.0
        self._shown_percent = -1
        self._artifact: UUID | None = None
        if FlowRunContext.get() or TaskRunContext.get():
            self._artifact = create_progress_artifact(0.0, key=key, description=description)
        self.update(0)

    @property
    def percent(self) -> float:
        return 100.0 if self.total == 0 else min(100.0, 100.0 * self.done / self.total)

    def update(self, done: float, total: float | None = None, note: str = "") -> None:
        if total is not None:
            self.total = max(float(total), 0.0)
        self.done = float(done)
        with _LOCK:
            listeners = list(_LISTENERS)
        for listener in listeners:
            listener(self.key, self.description, self.done, self.total, note)
        percent = int(self.percent)
        if self._artifact is not None and percent != self._shown_percent:
            self._shown_percent = percent
            description = f"{self.description}: {self.done:g}/{self.total:g}" + (f" ({note})" if note else "")
            update_progress_artifact(self._artifact, float(percent), description=description)

    def finish(self, note: str = "") -> None:
        """Mark the stage's work complete (100%), whatever was counted."""
        self.update(self.total, note=note)
