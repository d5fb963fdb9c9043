"""What the suite reads of the lab: its knobs, the host's state and the undercloud's clouds.yaml."""

import json
import os
from pathlib import Path

import yaml

LAB_DIR = Path(os.environ.get("RDOFLOW_LAB_DIR", "."))


def knobs() -> dict:
    path = LAB_DIR / "lab.yaml"
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def host_state() -> dict:
    path = LAB_DIR / "host-state.json"
    return json.loads(path.read_text()) if path.exists() else {}


def upgraded() -> bool:
    """True once an overcloud upgrade is over (converged; in Zed, every role run): the 'post' run."""
    return any(stack.get("upgraded") for stack in host_state().get("overcloud", {}).values())


def cloud() -> dict:
    path = Path(os.environ["HOME"]) / ".config" / "openstack" / "clouds.yaml"
    return yaml.safe_load(path.read_text())["clouds"]["undercloud"]
