"""The nodes' Redfish BMCs (lab.yaml ``bmc: redfish``): sushy-tools' emulator, one System per node.

``sushy-emulator`` with its fake systems driver serves every ``pm_type: redfish``
node of instackenv.json as ``/redfish/v1/Systems/<uuid>``, with the node's MAC on
its NIC, powered off; Ironic's ``redfish`` hardware type powers the systems on
and off and sets their boot device through it. The emulator runs without
authentication: the credentials in instackenv.json are sent and ignored. It
runs as ``lab.sushy_emulator``: the emulator as shipped, but for how long a power
action takes (``timing.bmc_power``).
sushy-tools has a venv of its own (its pins are not Ironic's).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from .inventory import SYSTEMS
from .process import spawn, wait_http
from .venv import VenvSpec

SUSHY = VenvSpec("sushy", "sushy-tools' Redfish emulator", ("sushy-tools==2.2.0",))


def fake_systems(instackenv: Path) -> list[dict]:
    """The emulator's systems: one per Redfish node of instackenv.json, powered off."""
    nodes = json.loads(instackenv.read_text())["nodes"]
    return [{"uuid": node["pm_system_id"].removeprefix(SYSTEMS), "name": node["name"], "power_state": "Off",
             "external_notifier": False, "nics": [{"mac": mac} for mac in node.get("mac", [])]}
            for node in nodes if node.get("pm_type") == "redfish"]


def emulator_config(systems: list[dict], port: int, state_dir: Path) -> str:
    """The emulator's config file: Python, as Flask's ``from_pyfile`` reads it."""
    return "".join(f"{key} = {value!r}\n" for key, value in (
        ("SUSHY_EMULATOR_LISTEN_IP", "127.0.0.1"),
        ("SUSHY_EMULATOR_LISTEN_PORT", port),
        ("SUSHY_EMULATOR_FAKE_DRIVER", True),
        ("SUSHY_EMULATOR_STATE_DIR", str(state_dir)),
        ("SUSHY_EMULATOR_FAKE_SYSTEMS", systems),
    ))


def start_bmc(root: Path, venv: Path, project_root: Path, port: int, instackenv: Path, *, power_seconds: int,
              started: Callable[[int], None]):
    """Write the emulator's config under ``root`` and start it (each power action applied ``power_seconds``
    after it is asked); return the process once it answers."""
    (root / "state").mkdir(parents=True, exist_ok=True)
    conf = root / "sushy.conf"
    conf.write_text(emulator_config(fake_systems(instackenv), port, root / "state"))
    process = spawn([venv / "bin/python", "-m", "lab.sushy_emulator", "--power-seconds", power_seconds,
                     "--config", conf], log_file=root / "sushy-emulator.log",
                    env=dict(os.environ, PYTHONPATH=str(project_root), PYTHONWARNINGS="ignore"))
    started(process.pid)
    wait_http("sushy-emulator", process, f"http://127.0.0.1:{port}/redfish/v1/", logs=[root / "sushy-emulator.log"])
    return process
