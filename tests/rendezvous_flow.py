"""A flow for the scale-out test only: a run of it finishes once ``peers`` runs of it are running at
the same time, so runs that complete prove they ran concurrently, whatever the machine's speed.

rdoflow's own flows end too soon on the lab's small inputs for their run times to overlap reliably
(a compare-runs run takes under a second, and each worker polls on its own clock).
"""

from __future__ import annotations

import os
from pathlib import Path

from prefect import flow

from rdoflow.waiting import Deadline


@flow(name="rendezvous")
def rendezvous(directory: str, peers: int = 2, budget: float = 120) -> int:
    """Say this run is here (a file named for its process), then wait until ``peers`` runs have said so."""
    here = Path(directory)
    here.mkdir(parents=True, exist_ok=True)
    (here / str(os.getpid())).touch()
    wait = Deadline(budget, f"{peers} rendezvous runs in {here}", target="running at once", max_delay=0.5)
    for _ in wait:
        arrived = sum(1 for _ in here.iterdir())
        wait.last_seen = f"{arrived} arrived"
        if arrived >= peers:
            break
    return arrived
