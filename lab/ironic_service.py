"""Ironic 39 as an undercloud runs it, ``ironic-api`` and ``ironic-conductor`` (JSON-RPC between them),
noauth, PostgreSQL, fake-hardware or redfish nodes.

Two processes, not the all-in-one ``ironic``, whose API and conductor threads share one interpreter:
with 20 nodes in flight its PATCHes took 507 ms (median), 315 ms with two processes, and the 200-node
benchmark 233 s against 224 s (docs/node-introspection.md). The
conductor's JSON-RPC server listens on 127.0.0.1 and its ``host`` is that address: the API reaches
a conductor at the host name it registered. ``[database] max_pool_size = 40``: oslo.db keeps 5
connections and opens and closes one for every request past them, a PostgreSQL backend each time.

Configured like an undercloud's Ironic as far as the flows can see: nodes are
inspected by the ``agent`` interface (the lab's simulated ramdisk answers), and
fake-hardware nodes deploy with ``fake`` unless a fault asks for the agent deploy
that times out. Redfish nodes (lab.yaml ``bmc: redfish``) get their interfaces
from the hardware type's defaults among those enabled: ``redfish`` power and
management, ``pxe`` boot (with no deploy kernel in driver_info, agent inspection
is unmanaged: Ironic sets the boot device to PXE and powers the node on, and the
ramdisk answers), ``custom-agent`` deploy. No default deploy interface is set:
``fake`` would not be valid for redfish nodes. With ``pxe`` enabled Ironic writes
its TFTP and HTTP boot roots at start: ``[pxe]`` and ``[deploy]`` keep them in the
lab directory (the defaults are /tftpboot and /httpboot). ``[redfish] connection_attempts = 1``:
sushy already tries an unreachable BMC 10 times, 3 s apart (Ironic cannot change
that); Ironic's default of 5 attempts would take over two minutes per call.
Its database is one of the lab's PostgreSQL cluster (as Heat's): on SQLite, two Tempest workers
met ``database is locked`` on node traits, allocations and chassis (docs/lab.md).
The lab's services and what starting them costs: docs/lab.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from rdoflow.errors import StageTimeout
from rdoflow.waiting import Deadline

from .ironic_processes import ironic_commands, live_conductors
from .process import ServiceFailed, run_once, spawn, tail_lines, wait_http

# oslo.config: no inline comments in this file.
IRONIC_CONF = """\
[DEFAULT]
auth_strategy = noauth
rpc_transport = json-rpc
host = 127.0.0.1
enabled_hardware_types = fake-hardware,redfish
enabled_bios_interfaces = fake,no-bios
enabled_boot_interfaces = fake,pxe
enabled_console_interfaces = no-console,fake
enabled_deploy_interfaces = fake,custom-agent
enabled_firmware_interfaces = fake,no-firmware
enabled_inspect_interfaces = agent,fake,no-inspect
enabled_management_interfaces = fake,redfish
enabled_network_interfaces = noop
enabled_power_interfaces = fake,redfish
enabled_raid_interfaces = fake,no-raid
enabled_rescue_interfaces = fake,no-rescue
enabled_storage_interfaces = noop,fake
enabled_vendor_interfaces = fake,no-vendor
default_console_interface = no-console
default_inspect_interface = agent
default_network_interface = noop
state_path = {root}/state
log_dir = {root}
log_file = ironic.log
[api]
host_ip = 127.0.0.1
port = {port}
api_workers = 1
[json_rpc]
auth_strategy = noauth
host_ip = 127.0.0.1
port = {rpc_port}
[database]
connection = {db}
max_pool_size = 40
[dhcp]
dhcp_provider = none
[conductor]
automated_clean = false
check_provision_state_interval = 1
deploy_callback_timeout = {deploy_callback_timeout}
inspect_wait_timeout = {inspect_wait_timeout}
[redfish]
connection_attempts = 1
[pxe]
tftp_root = {root}/state/tftpboot
tftp_master_path = {root}/state/tftpboot/master_images
instance_master_path = {root}/state/master_images
[deploy]
http_root = {root}/state/httpboot
[inspector]
require_managed_boot = false
hooks = $default_hooks,memory,cpus,root-device
[service_catalog]
endpoint_override = http://127.0.0.1:{port}
[oslo_concurrency]
lock_path = {root}/locks
"""


def start_ironic(root: Path, venv: Path, port: int, rpc_port: int, database_url: str, *, inspect_wait_timeout: int,
                 deploy_callback_timeout: int, started: Callable[[str, int], None]):
    """Write ironic.conf under ``root``, create the schema, start ``ironic-conductor`` and ``ironic-api``
    (their PIDs to ``started``: 'ironic-conductor', 'ironic'); return the API's process once it answers
    and lists the conductor alive."""
    for sub in ("state", "locks"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    conf = root / "ironic.conf"
    conf.write_text(IRONIC_CONF.format(root=root, port=port, rpc_port=rpc_port, db=database_url,
                                       inspect_wait_timeout=inspect_wait_timeout,
                                       deploy_callback_timeout=deploy_callback_timeout))
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    run_once("ironic", [venv / "bin/ironic-dbsync", "--config-file", conf, "create_schema"],
             log_file=root / "ironic-dbsync.log", env=env)
    processes = {}
    for name, argv in ironic_commands(venv, root, [conf]).items():
        processes[name] = spawn(argv, log_file=root / "ironic-stdout.log", env=env)
        started(name, processes[name].pid)  # recorded before the wait: a service that never answers is still stopped
    api, conductor = processes["ironic"], processes["ironic-conductor"]
    logs = [root / "ironic.log", root / "ironic-conductor.log", root / "ironic-stdout.log"]
    wait_http("ironic", api, f"http://127.0.0.1:{port}/v1", logs=logs)
    _wait_registered(conductor, f"http://127.0.0.1:{port}", logs)
    return api


def _wait_registered(conductor, ironic_url: str, logs: list[Path], budget: float = 300) -> None:
    """Until the API lists a live conductor: before that, every node request would be answered
    'No valid host was found'. Fails early, with the logs' last lines, if the conductor exits."""
    wait = Deadline(budget, f"ironic-conductor registered at {ironic_url}", target="a live conductor", max_delay=0.5)
    try:
        for _ in wait:
            if conductor.poll() is not None:
                raise ServiceFailed(f"ironic-conductor exited with status {conductor.returncode} before it registered",
                                    evidence=tail_lines(*logs))
            try:
                alive = live_conductors(ironic_url, timeout=2)
            except (OSError, ValueError) as exc:
                wait.last_seen = str(exc)
                continue
            wait.last_seen = f"{len(alive)} live conductor(s)"
            if alive:
                return
    except StageTimeout as exc:
        raise ServiceFailed(exc.message, evidence=tail_lines(*logs)) from None
