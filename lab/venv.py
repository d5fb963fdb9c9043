"""The lab's own Python environment: Ironic, Heat and stestr, kept out of rdoflow's resolver.

The undercloud's services run from a venv of their own, created once and cached
under the user's cache directory, keyed by the pinned requirements: a second
``lab up`` reuses it. It plays the undercloud host's system Python.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from rdoflow.errors import RdoflowError

# Pinned as verified together on Debian 12 / Python 3.11 (`pip check` clean); see
# the lab section of the README for how long creating it takes.
REQUIREMENTS = (
    "ironic==39.0.0",
    "openstack-heat==27.0.1",
    "psycopg2-binary==2.9.13",
    "stestr==4.2.1",
    "pydantic==2.14.4",
)


class LabVenvFailed(RdoflowError):
    reference = "lab-venv-failed"


def cache_root() -> Path:
    if "RDOFLOW_CACHE" in os.environ:
        return Path(os.environ["RDOFLOW_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rdoflow"


def venv_dir(requirements: tuple[str, ...] = REQUIREMENTS, name: str = "lab-venv") -> Path:
    key = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:12]
    return cache_root() / f"{name}-{key}"


def ensure_venv(requirements: tuple[str, ...] = REQUIREMENTS, *, name: str = "lab-venv", say=print) -> Path:
    """The cached venv ``name`` with ``requirements`` installed; creates it the first time (atomic, locked)."""
    target = venv_dir(requirements, name)
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second `lab up` waits for the first one's install
        if (target / ".complete").exists():
            return target
        building = target.with_name(target.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        log = target.parent / f"{target.name}.install.log"
        say(f"creating the lab's venv {name} ({', '.join(requirements)}) in {target}; log: {log}")
        with log.open("w") as out:
            for argv in (
                [_base_python(), "-m", "venv", str(building)],
                [str(building / "bin/python"), "-m", "pip", "install", "-q", "--upgrade", "pip"],
                [str(building / "bin/python"), "-m", "pip", "install", "-q", *requirements],
            ):
                if subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                    raise LabVenvFailed(
                        f"could not create the lab's venv {name}: {' '.join(argv[-3:])} failed",
                        evidence=log.read_text(errors="replace").splitlines()[-15:],
                        hint="check that PyPI is reachable (pip's own settings apply), then run 'rdoflow lab up' again",
                    )
        (building / ".complete").write_text("\n".join(requirements) + "\n")
        # The venv's scripts name their interpreter by absolute path: fix them after the rename.
        building.rename(target)
        _rewrite_shebangs(building, target)
    return target


def _base_python() -> str:
    """The interpreter rdoflow's own venv was made from (a venv made from a venv still works)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def _rewrite_shebangs(old: Path, new: Path) -> None:
    old_line, new_line = f"#!{old}/bin/".encode(), f"#!{new}/bin/".encode()
    for script in (new / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            head = script.read_bytes()
            if head.startswith(old_line):
                script.write_bytes(new_line + head[len(old_line) :])
    cfg = new / "pyvenv.cfg"
    cfg.write_text(cfg.read_text().replace(str(old), str(new)))
