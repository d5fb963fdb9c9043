"""Ironic 39, all-in-one (API + conductor in one process), noauth, PostgreSQL, fake-hardware or redfish nodes.

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

from .process import run_once, spawn, wait_http

# oslo.config: no inline comments in this file.
IRONIC_CONF = """\
[DEFAULT]
auth_strategy = noauth
rpc_transport = none
host = undercloud
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
[database]
connection = {db}
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


def start_ironic(root: Path, venv: Path, port: int, database_url: str, *, inspect_wait_timeout: int,
                 deploy_callback_timeout: int, started: Callable[[int], None]):
    """Write ironic.conf under ``root``, create the schema, start ``ironic``; return the process once it answers."""
    for sub in ("state", "locks"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    conf = root / "ironic.conf"
    conf.write_text(IRONIC_CONF.format(root=root, port=port, db=database_url,
                                       inspect_wait_timeout=inspect_wait_timeout,
                                       deploy_callback_timeout=deploy_callback_timeout))
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    run_once("ironic", [venv / "bin/ironic-dbsync", "--config-file", conf, "create_schema"],
             log_file=root / "ironic-dbsync.log", env=env)
    process = spawn([venv / "bin/ironic", "--config-file", conf], log_file=root / "ironic-stdout.log", env=env)
    started(process.pid)  # recorded before the wait: a service that never answers is still stopped
    wait_http("ironic", process, f"http://127.0.0.1:{port}/v1",
              logs=[root / "ironic.log", root / "ironic-stdout.log"])
    return process
