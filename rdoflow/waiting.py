"""The one way rdoflow waits: a deadline with exponential backoff and jitter.

Modelled on openstacksdk's ``iterate_timeout``: the caller passes the budget and
says what it waits for; when the budget is spent, ``StageTimeout`` names the
resource, the target state and the last state the caller saw.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from rdoflow.errors import StageTimeout


@dataclass
class Deadline:
    """Iterate to poll; each step sleeps a little longer, until ``budget`` seconds are spent.

    Set ``last_seen`` inside the loop so that a timeout can say what was seen; set ``wake`` (an
    event) to end a pause early when the thing waited on signals, e.g. a command that exited::

        wait = Deadline(60, "stack overcloud", target="CREATE_COMPLETE")
        for _ in wait:
            wait.last_seen = stack.status
            if stack.status == "CREATE_COMPLETE":
                break
    """

    budget: float
    resource: str
    target: str = "ready"
    first_delay: float = 0.1
    factor: float = 2.0
    max_delay: float = 5.0
    jitter: float = 0.1
    last_seen: str | None = None
    wake: threading.Event | None = field(default=None, repr=False)
    attempts: int = field(default=0, init=False)
    _started: float = field(default=0.0, init=False)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    @property
    def remaining(self) -> float:
        return max(0.0, self.budget - self.elapsed)

    def __iter__(self) -> Iterator[int]:
        self._started = time.monotonic()
        delay = self.first_delay
        while True:
            self.attempts += 1
            yield self.attempts
            if self.remaining <= 0:
                raise self.timeout()
            pause = min(self.remaining, delay * (1 + random.uniform(0, self.jitter)))
            if self.wake is None:
                time.sleep(pause)
            else:
                self.wake.wait(pause)
            delay = min(self.max_delay, delay * self.factor)

    def timeout(self) -> StageTimeout:
        seen = f"; last seen: {self.last_seen}" if self.last_seen is not None else ""
        return StageTimeout(
            f"{self.resource} did not become {self.target} within {self.budget:g} s{seen}",
            evidence=[f"{self.attempts} checks over {self.elapsed:.1f} s"],
        )
