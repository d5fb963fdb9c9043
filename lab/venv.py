"""The lab's own Python environments, kept out of rdoflow's resolver and out of each other's.

Each is created once and cached under the user's cache directory, keyed by its
name and pinned requirements: a second ``lab up`` reuses it. ``LAB`` (Ironic,
Heat, stestr) plays the undercloud host's system Python; ``TRIPLEOCLIENT``
(lab/tripleoclient_venv.py) holds the real python-tripleoclient.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class VenvSpec:
    """A cached venv: what it is for, what pip installs into it, and a step that finishes it."""

    name: str  # the cache directory is ``<name>-venv-<key>``
    what: str  # for the message the first creation prints
    requirements: tuple[str, ...]
    no_deps: bool = False  # install exactly the pins, without pip's resolver (a lock of every package)
    finish: Callable[[Path], None] | None = None  # runs on the new venv before it is marked complete
    revision: str = ""  # part of the key: changes when ``finish`` writes something else

    @property
    def key(self) -> str:
        text = "\n".join(self.requirements) + (f"\n--no-deps\n{self.revision}" if self.no_deps or self.revision else "")
        return hashlib.sha256(text.encode()).hexdigest()[:12]


LAB = VenvSpec("lab", "Ironic, Heat, stestr", REQUIREMENTS)


class LabVenvFailed(RdoflowError):
    reference = "lab-venv-failed"


def cache_root() -> Path:
    if "RDOFLOW_CACHE" in os.environ:
        return Path(os.environ["RDOFLOW_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rdoflow"


def venv_dir(spec: VenvSpec = LAB) -> Path:
    return cache_root() / f"{spec.name}-venv-{spec.key}"


def built_once(target: Path, build: Callable[[], None]) -> Path:
    """``target``, a cached directory ``build`` makes complete (with a ``.complete`` file) the first time;
    a second process asking meanwhile waits on a lock for the first one's build."""
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second `lab up` waits for the first one's install
        if not (target / ".complete").exists():
            build()
    return target


def ensure_venv(spec: VenvSpec = LAB, *, say=print) -> Path:
    """The cached venv of ``spec``; creates it the first time (atomic, locked)."""
    target = venv_dir(spec)

    def build() -> None:
        building = target.with_name(target.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        log = target.parent / f"{target.name}.install.log"
        say(f"creating the lab's venv ({spec.what}) in {target}; log: {log}")
        with log.open("w") as out:
            for argv in (
                [_base_python(), "-m", "venv", str(building)],
                [str(building / "bin/python"), "-m", "pip", "install", "-q", "--upgrade", "pip"],
                [str(building / "bin/python"), "-m", "pip", "install", "-q",
                 *(["--no-deps"] if spec.no_deps else []), *spec.requirements],
            ):
                if subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                    raise LabVenvFailed(
                        f"could not create the lab's venv: {' '.join(argv[-3:])} failed",
                        evidence=log.read_text(errors="replace").splitlines()[-15:],
                        hint="check that PyPI is reachable (pip's own settings apply), then run 'rdoflow lab up' again",
                    )
        if spec.finish is not None:
            spec.finish(building)
        (building / ".complete").write_text("\n".join(spec.requirements) + "\n")
        # The venv's scripts name their interpreter by absolute path: fix them after the rename.
        building.rename(target)
        _rewrite_shebangs(building, target)

    return built_once(target, build)


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
