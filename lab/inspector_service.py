"""ironic-inspector 12.5.0, standalone (API + conductor in one process), noauth, SQLite, beside Ironic.

A Wallaby (RHOSP 17.1) or Zed undercloud introspects through ironic-inspector:
tripleo-ansible moves Ironic's nodes to ``inspect`` and reads each node's data
from inspector's API. Ironic 39 has no ``inspector`` inspect interface, so
nothing in Ironic drives it: the lab's ramdisk (``ramdisk.py``) starts an
introspection with ``manage_boot=false`` for each node that enters ``inspect
wait`` and posts its inventory to inspector as well as to Ironic. Configured as
verified in /work/shared/notes/real-tripleo.md; started for ``release: wallaby``
or ``zed`` only (docs/lab.md, "ironic-inspector").
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .process import run_once, spawn, wait_http
from .venv import VenvSpec

# Its own venv: its pins differ from Ironic's and Heat's.
INSPECTOR = VenvSpec("inspector", "ironic-inspector", ("ironic-inspector==12.5.0",))

# oslo.config: no inline comments in this file.
INSPECTOR_CONF = """\
[DEFAULT]
auth_strategy = noauth
standalone = True
transport_url = fake://
host = undercloud
listen_address = 127.0.0.1
listen_port = {port}
log_dir = {root}
log_file = inspector.log
[database]
connection = sqlite:///{root}/inspector.sqlite
[ironic]
auth_type = none
endpoint_override = {ironic_url}
[pxe_filter]
driver = noop
[processing]
store_data = database
add_ports = active
keep_ports = all
[coordination]
backend_url = file://{root}/coordination
[oslo_concurrency]
lock_path = {root}/locks
"""


def start_inspector(root: Path, venv: Path, port: int, ironic_url: str, *, started: Callable[[int], None]):
    """Write inspector.conf under ``root``, create the schema, start ``ironic-inspector``; return the process
    once its API answers."""
    for sub in ("coordination", "locks"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    conf = root / "inspector.conf"
    conf.write_text(INSPECTOR_CONF.format(root=root, port=port, ironic_url=ironic_url))
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    (root / "inspector.sqlite").unlink(missing_ok=True)
    run_once("ironic-inspector", [venv / "bin/ironic-inspector-dbsync", "--config-file", conf, "upgrade"],
             log_file=root / "inspector-dbsync.log", env=env)
    process = spawn([venv / "bin/ironic-inspector", "--config-file", conf], log_file=root / "inspector-stdout.log",
                    env=env)
    started(process.pid)  # recorded before the wait: a service that never answers is still stopped
    wait_http("ironic-inspector", process, f"http://127.0.0.1:{port}/v1",
              logs=[root / "inspector.log", root / "inspector-stdout.log"])
    return process
