"""The lab's Ironic as two processes: how each is started, and whether the API lists a conductor alive.

No rdoflow import: the lab host's upgrade (``lab/tripleo/upgrade_faults.py``) restarts them too, in the
lab's venv. ``lab/ironic_service.py`` starts them at ``lab up``; ``lab/health.py`` shows the conductor.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path


def ironic_commands(venv: Path, root: Path, configs: list[Path]) -> dict[str, list[str]]:
    """Each process's name in lab.json and its command line, in the order they start: the conductor first,
    since the API answers node requests only once one has registered."""
    conf = [arg for config in configs for arg in ("--config-file", str(config))]
    return {"ironic-conductor": [str(venv / "bin/ironic-conductor"), *conf,
                                 "--log-file", str(root / "ironic-conductor.log")],
            "ironic": [str(venv / "bin/ironic-api"), *conf]}


def live_conductors(ironic_url: str, timeout: float = 5) -> list[str]:
    """The host names of the conductors Ironic's API lists alive (a node request needs one)."""
    request = urllib.request.Request(ironic_url.rstrip("/") + "/v1/conductors",
                                     headers={"X-OpenStack-Ironic-API-Version": "1.49"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        conductors = json.load(answer).get("conductors") or []
    return [conductor["hostname"] for conductor in conductors if conductor.get("alive")]
