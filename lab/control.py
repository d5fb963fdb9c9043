"""``rdoflow lab up | status | down``: the lab's services, started once and recorded by PID.

Layout of a lab directory::

    lab.yaml  lab.json  site.yaml  clouds.yaml  instackenv.json
    ssh/        the undercloud host's sshd: keys, known_hosts, sshd_config, log (and with undercloud_home or
                hostname, the sessions' sandbox command and hosts file: lab/undercloud_home.py)
    home/       the undercloud account's home (HOME and the SFTP start directory)
    bin/        what the lab puts first on the host's PATH: openstack, stestr, rally
    share/      openstack-tripleo-heat-templates (the lab's overcloud templates)
    ironic/ heat/ nodes/   configs, databases and logs of each service (nodes: ramdisk + config agent)
    redfish/    the Redfish emulator's config, state and log (bmc: redfish only)
    inspector/  ironic-inspector's (release wallaby and zed only)
    keystone/   Keystone's config, fernet keys, logs and the lab's admin and demo passwords (suite.tempest: real)
    dlrn/       DLRN's API: api.cfg, projects.ini, its database, the lab's rdoinfo, data/repos (the drops),
                logs and the CI account's password (dlrn: true)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pydantic import ValidationError

from rdoflow.config.yamlsource import raise_problems, read_yaml, validation_problems
from rdoflow.errors import RdoflowError

from . import config as labconfig
from .bmc_service import SUSHY, start_bmc
from .dlrn_service import DLRN, DlrnEndpoint, start_dlrn
from .dlrn_service import endpoint as dlrn_endpoint
from .heat_service import start_heat
from .hostfiles import install_host_files
from .inspector_service import INSPECTOR, start_inspector
from .inventory import INSTACKENV, write_instackenv
from .ironic_service import start_ironic
from .keystone_service import KEYSTONE, start_keystone
from .postgres import PostgresCluster, start_postgres
from .process import alive, spawn, stop_tree
from .rally_venv import RALLY
from .site import SITE_FILE, write_site_files
from .sshd import LoopbackSSHD, free_ports, start_sshd
from .tempest_venv import TEMPEST
from .tempest_workspace import install_workspace
from .tripleoclient_venv import CLIENTS, DEPLOY_CLIENTS
from .undercloud_home import install_operator_files, install_session, sandboxed
from .venv import ensure_venv

STATE_FILE = "lab.json"
REAL_CLIENT_RELEASES = tuple(CLIENTS)  # lab.yaml's releases whose host runs the real python-tripleoclient (its own)
# The directory holding this package as ``lab``: the lab host's programs run from it as ``python -m lab.…``
# in the lab's own venv, where rdoflow is not installed (a checkout's root; an install's rdoflow/).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class LabAlreadyRunning(RdoflowError):
    reference = "lab-already-running"


class LabNotFound(RdoflowError):
    reference = "lab-not-found"


@dataclass
class LabState:
    """What ``lab up`` started, as recorded in lab.json (what ``status`` and ``down`` read)."""

    dir: str
    venv: str
    client_venv: str = ""  # the real python-tripleoclient's venv (releases wallaby and zed)
    tempest_venv: str = ""  # the real Tempest's venv (suite.tempest: real)
    rally_venv: str = ""  # the real Rally's venv, for 'rally task' (suite.tempest: real: it needs Keystone)
    deploy_client_venv: str = ""  # the one that runs 'overcloud deploy' (wallaby: Zed's; lab/tripleoclient_venv.py)
    ports: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    postgres: dict = field(default_factory=dict)
    username: str = ""
    started_at: float = 0.0

    @property
    def ironic_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['ironic']}"

    @property
    def heat_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['heat']}/v1/admin"

    @property
    def inspector_url(self) -> str | None:
        """ironic-inspector's API, when the lab runs one (release wallaby or zed)."""
        return f"http://127.0.0.1:{self.ports['inspector']}" if "inspector" in self.ports else None

    @property
    def keystone_url(self) -> str | None:
        """Keystone's v3 API, when the lab runs one (suite.tempest: real)."""
        return f"http://127.0.0.1:{self.ports['keystone']}/v3" if "keystone" in self.ports else None

    def dlrn(self) -> DlrnEndpoint | None:
        """The lab's DLRN (its API, its repositories, the CI account), when it runs one (dlrn: true)."""
        if "dlrn" not in self.ports:
            return None
        return dlrn_endpoint(Path(self.dir) / "dlrn", self.ports["dlrn"], self.ports["dlrn-repos"])

    def sshd(self) -> LoopbackSSHD:
        """The running sshd, as the site config and tests reach it."""
        return LoopbackSSHD(root=Path(self.dir) / "ssh", port=self.ports["ssh"], process=None,
                            username=self.username)

    def save(self) -> None:
        path = Path(self.dir) / STATE_FILE
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, lab_dir: Path) -> LabState:
        path = Path(lab_dir) / STATE_FILE
        if not path.exists():
            raise LabNotFound(f"no lab in {lab_dir} ({STATE_FILE} is missing)",
                              hint=f"start one: 'rdoflow lab up --dir {lab_dir}'")
        return cls(**json.loads(path.read_text()))

    def running(self) -> dict[str, bool]:
        return {name: alive(pid) for name, pid in self.pids.items()}


def up(lab_dir: Path, *, nodes: int | None = None, results: Path | str | None = None, say=print,
       tempest_selection: str | None = None) -> LabState:
    """Bring the lab up in ``lab_dir``; refuse when one already runs there."""
    lab_dir = Path(lab_dir).resolve()
    _refuse_second_lab(lab_dir)
    lab_dir.mkdir(parents=True, exist_ok=True)
    knobs = checked_knobs(lab_dir)
    if nodes is not None:
        knobs = knobs.model_copy(update={"nodes": nodes})
    if tempest_selection is not None:
        knobs.suite.selection = tempest_selection
    labconfig.save(lab_dir, knobs)
    started = time.monotonic()
    venv = ensure_venv(say=say)
    client_venv = ensure_venv(CLIENTS[knobs.release], say=say) if knobs.release in CLIENTS else None
    deploy_venv = ensure_venv(DEPLOY_CLIENTS[knobs.release], say=say) if knobs.release in DEPLOY_CLIENTS else None
    if uses_inspector(knobs):
        inspector_venv(say)  # created (the first time) before any service starts
    tempest_venv = rally_venv = None
    if real_tempest(knobs):  # created (the first time) before any service starts
        ensure_venv(KEYSTONE, say=say)
        tempest_venv = ensure_venv(TEMPEST, say=say)
        rally_venv = ensure_venv(RALLY, say=say)
    if knobs.dlrn:
        ensure_venv(DLRN, say=say)
    state = LabState(dir=str(lab_dir), venv=str(venv), client_venv=str(client_venv or ""),
                     deploy_client_venv=str(deploy_venv or ""), tempest_venv=str(tempest_venv or ""),
                     rally_venv=str(rally_venv or ""),
                     started_at=time.time())
    try:
        _start_services(state, knobs, say)
        write_site_files(state.sshd(), lab_dir, state.ports, results)
    except BaseException:
        _stop_services(state)
        raise
    say(f"lab up in {time.monotonic() - started:.1f} s: {lab_dir}")
    return state


def checked_knobs(lab_dir: Path) -> labconfig.LabConfig:
    """lab.yaml, checked with the site config's rigour: every problem, with its field and line."""
    path = lab_dir / labconfig.CONFIG_FILE
    if not path.exists():
        knobs = labconfig.LabConfig()
        # The suite of a lab whose lab.yaml does not exist yet: the test suite's processes that run a whole
        # nightly for something other than Tempest (workers, signals) ask for the quick generated one.
        if os.environ.get("RDOFLOW_LAB_TEMPEST") in ("real", "generated"):
            knobs.suite.tempest = os.environ["RDOFLOW_LAB_TEMPEST"]
        return knobs
    document = read_yaml(path)
    try:
        return labconfig.LabConfig.model_validate(document.data or {})
    except ValidationError as exc:
        raise_problems(str(path), document.problems + validation_problems(exc, document, labconfig.LabConfig))


def _refuse_second_lab(lab_dir: Path) -> None:
    if (lab_dir / STATE_FILE).exists():
        state = LabState.load(lab_dir)
        live = [name for name, up_ in state.running().items() if up_]
        if live:
            raise LabAlreadyRunning(
                f"a lab already runs in {lab_dir} ({', '.join(live)} running)",
                hint=f"see it with 'rdoflow lab status --dir {lab_dir}'; stop it with 'rdoflow lab down --dir {lab_dir}'",
            )
        _stop_services(state)  # the remains of a lab whose processes died: clear them first
    elif lab_dir.exists() and any(p.name != labconfig.CONFIG_FILE for p in lab_dir.iterdir()):
        raise LabNotFound(f"{lab_dir} exists and is not a lab directory; 'lab down' would remove it",
                          hint="choose an empty or new directory with --dir")


def _start_services(state: LabState, knobs: labconfig.LabConfig, say) -> None:
    lab_dir, venv = Path(state.dir), Path(state.venv)
    redfish, inspector, keystone = knobs.bmc == "redfish", uses_inspector(knobs), real_tempest(knobs)
    for sub in ("ironic", "heat", "nodes", "home", *(["redfish"] if redfish else []),
                *(["inspector"] if inspector else [])):
        (lab_dir / sub).mkdir(exist_ok=True)
    services = ("ssh", "postgres", "ironic", "ironic-rpc", "heat", *(["redfish"] if redfish else []),
                *(["inspector"] if inspector else []), *(["keystone"] if keystone else []),
                *(["dlrn", "dlrn-repos"] if knobs.dlrn else []))
    state.ports = dict(zip(services, free_ports(len(services))))
    write_instackenv(lab_dir / INSTACKENV, knobs.nodes, knobs.controllers,
                     ports_form=knobs.release in REAL_CLIENT_RELEASES, redfish_port=state.ports.get("redfish"),
                     bmc_down=knobs.faults.bmc_down)
    bmc_venv = ensure_venv(SUSHY, say=say) if redfish else None
    install_host_files(lab_dir, venv=venv, project_root=PROJECT_ROOT, ports=state.ports,
                       client_venv=Path(state.client_venv) if state.client_venv else None,
                       deploy_client_venv=Path(state.deploy_client_venv) if state.deploy_client_venv else None,
                       tempest_venv=Path(state.tempest_venv) if state.tempest_venv else None,
                       rally_venv=Path(state.rally_venv) if state.rally_venv else None, say=say)
    session, sftp = "", None
    if sandboxed(knobs):  # each session in a sandbox: the home at undercloud_home, the host named hostname
        (lab_dir / "ssh").mkdir(exist_ok=True)
        session, sftp = install_session(lab_dir, knobs)
    if knobs.undercloud_home:
        install_operator_files(lab_dir, knobs)
    sshd = start_sshd(lab_dir / "ssh", port=state.ports["ssh"], home=lab_dir / "home", sftp=sftp,
                      extra_config=_session_environment(lab_dir, knobs.undercloud_home) + session)
    state.pids["sshd"], state.username = sshd.process.pid, sshd.username
    state.save()
    say(f"undercloud host: sshd on 127.0.0.1:{sshd.port}")
    postgres = start_postgres(state.ports["postgres"])
    state.postgres = {"root": str(postgres.root), "port": postgres.port, "bindir": str(postgres.bindir)}
    state.save()
    timing = knobs.timing
    lock = threading.Lock()

    def started(name: str):
        def record(pid: int) -> None:
            with lock:
                state.pids[name] = pid
                state.save()
        return record

    with ThreadPoolExecutor(4) as pool:
        futures = [
            pool.submit(start_ironic, lab_dir / "ironic", venv, state.ports["ironic"], state.ports["ironic-rpc"],
                        postgres.create_database("ironic"),
                        inspect_wait_timeout=labconfig.inspect_wait_timeout(knobs),
                        deploy_callback_timeout=timing.deploy_callback_timeout,
                        started=lambda name, pid: started(name)(pid)),
            pool.submit(start_heat, lab_dir / "heat", venv, state.ports["heat"], postgres.url,
                        started=started("heat")),
        ]
        if redfish:
            futures.append(pool.submit(start_bmc, lab_dir / "redfish", bmc_venv, PROJECT_ROOT, state.ports["redfish"],
                                       lab_dir / INSTACKENV, power_seconds=timing.bmc_power,
                                       started=started("redfish")))
        if inspector:  # it needs Ironic only once nodes are introspected: it starts beside it
            futures.append(pool.submit(start_inspector, lab_dir / "inspector", inspector_venv(say),
                                       state.ports["inspector"], state.ironic_url, started=started("inspector")))
        if keystone:  # its catalog names Ironic and Heat; nothing asks it before Tempest runs
            catalog = {"baremetal": state.ironic_url,
                       "orchestration": f"http://127.0.0.1:{state.ports['heat']}/v1/%(project_id)s"}
            futures.append(pool.submit(start_keystone, lab_dir / "keystone", ensure_venv(KEYSTONE, say=say),
                                       state.ports["keystone"], postgres, catalog, started=started("keystone")))
        if knobs.dlrn:  # nothing else asks it: it starts beside the others
            futures.append(pool.submit(start_dlrn, lab_dir / "dlrn", ensure_venv(DLRN, say=say), state.ports["dlrn"],
                                       state.ports["dlrn-repos"], started=lambda name, pid: started(name)(pid)))
        for future in futures:
            future.result()
    say(f"ironic: {state.ironic_url}   heat: {state.heat_url}"
        + (f"   redfish BMCs: http://127.0.0.1:{state.ports['redfish']}" if redfish else "")
        + (f"   ironic-inspector: {state.inspector_url}" if inspector else "")
        + (f"   keystone: {state.keystone_url}" if keystone else "")
        + (f"   dlrn: http://127.0.0.1:{state.ports['dlrn']}" if knobs.dlrn else ""))
    if keystone:
        install_workspace(lab_dir, Path(state.tempest_venv), ports=state.ports, say=say)
    bridge = ["--inspector", state.inspector_url] if inspector else []
    nodes = spawn([venv / "bin/python", "-m", "lab.nodes", "--lab-dir", lab_dir,
                   "--ironic", state.ironic_url, "--heat", state.heat_url, *bridge],
                  log_file=lab_dir / "nodes" / "nodes.log",
                    env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin", "PYTHONWARNINGS": "ignore"})
    state.pids["nodes"] = nodes.pid
    state.save()


def uses_inspector(knobs: labconfig.LabConfig) -> bool:
    """Wallaby and Zed underclouds introspect through ironic-inspector; Train's lab does without."""
    return knobs.release in ("wallaby", "zed")


def real_tempest(knobs: labconfig.LabConfig) -> bool:
    """The real Tempest in ~/tempest, and Keystone for it (``suite.tempest: real``)."""
    return knobs.suite.tempest == "real"


def inspector_venv(say=print) -> Path:
    return ensure_venv(INSPECTOR, say=say)


def home_alias(lab_dir: Path) -> Path | None:
    """A dot-free name for the account's home when the lab's directory has a dot in it (.rdoflow/lab):
    tripleo-common 18 adds '.yaml' to config-download's playbooks only when their whole path has no dot
    (tripleo_common/utils/config.py, ``if '.' not in conf_path``), so a deploy under a dotted home writes
    'deploy_steps_playbook' and its run fails. A real undercloud's /home/stack has none (a user named
    'j.doe' would meet the same bug). The alias is a link in the temporary directory, removed by 'down'."""
    if "." not in str(lab_dir / "home"):
        return None
    return Path(tempfile.gettempdir()) / f"rdoflow-home-{hashlib.sha256(str(lab_dir).encode()).hexdigest()[:12]}"


def _session_environment(lab_dir: Path, undercloud_home: str | None = None) -> str:
    """What an SSH session on the lab host sees: the account's home (``undercloud_home`` when the sessions
    run in the sandbox that mounts it there) and the lab's commands first on PATH."""
    path = f"{lab_dir}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    home = lab_dir / "home"
    alias = home_alias(lab_dir)
    if undercloud_home:
        home = undercloud_home
    elif alias is not None:
        alias.unlink(missing_ok=True)
        alias.symlink_to(home)
        home = alias
    return f"SetEnv HOME={home} PATH={path} RDOFLOW_LAB_DIR={lab_dir}\n"


def _stop_services(state: LabState) -> None:
    order = ["nodes", "inspector", "keystone", "dlrn", "dlrn-repos", "heat", "ironic", "ironic-conductor", "redfish", "sshd"]  # clients of a service stop before it
    for name in sorted(state.pids, key=lambda n: order.index(n) if n in order else -1):
        stop_tree(state.pids[name])
    if state.postgres:
        PostgresCluster(Path(state.postgres["root"]), state.postgres["port"], Path(state.postgres["bindir"])).stop()


def down(lab_dir: Path, *, say=print) -> None:
    """Stop every process the lab started (by PID) and remove the lab directory."""
    lab_dir = Path(lab_dir).resolve()
    state = LabState.load(lab_dir)
    _stop_services(state)
    alias = home_alias(lab_dir)
    if alias is not None and alias.is_symlink():
        alias.unlink()
    shutil.rmtree(lab_dir)
    say(f"lab down: stopped {', '.join(state.pids) or 'nothing'}; removed {lab_dir}")


@contextmanager
def running_lab(root: Path, *, nodes: int | None = None, results: Path | None = None) -> Iterator[Path]:
    """A fresh lab under ``root`` for the duration of the block; yields its site config file."""
    up(root, nodes=nodes, results=results)
    try:
        yield root.resolve() / SITE_FILE
    finally:
        down(root)
