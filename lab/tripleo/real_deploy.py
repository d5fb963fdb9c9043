"""``openstack overcloud deploy`` on a wallaby or zed lab host: the real python-tripleoclient's, for the stack.

The command is run as the user gave it, with what this host needs added when it is not given:

- ``--heat-type native``: there is no podman for the ephemeral Heat's pod; tripleoclient's
  ``HeatNativeLauncher`` execs ``heat-all`` and ``heat-manage``, the lab's (``DIR/deploy-bin``,
  lab/ephemeral_heat.py), on a free port instead of 8006 (lab/tripleoclient_deploy.py);
- ``--stack-only``: config-download's playbooks configure the nodes over SSH with containers, which
  the lab's nodes have not; a stand-in (lab/tripleo/config_download.py) does that part instead;
- ``--disable-validations``, ``-r`` the lab's reduced roles (lab/tht-roles/roles_data_lab.yaml),
  ``--overcloud-ssh-key ~/.ssh/id_rsa_tripleo``;
- a first ``-e``: what the undercloud's Neutron gives a real deploy (``CtlplaneNetworkAttributes``,
  ``ControlPlaneVipData``), which this lab has not; the user's own files come after it and win;
- /usr/share/openstack-tripleo-heat-templates, wherever it is named, is tripleo-heat-templates
  18.0.0's sdist, unpacked in the lab's cache.

The client runs in a session of its own: when its Heat's schema fails, tripleoclient kills its
heat process with pid 0, ``os.kill(0, SIGKILL)``, which is its whole process group.
"""

from __future__ import annotations

import signal
import socket
import sys
import time
from pathlib import Path

from .client_env import client_environment
from .hoststate import host_state
from .overcloudrc import write_overcloud_credentials
from .relay import run_relayed

DEFAULT_TEMPLATES = "/usr/share/openstack-tripleo-heat-templates"
ROLES_FILE = Path(__file__).resolve().parent.parent / "tht-roles" / "roles_data_lab.yaml"
CLIENT_PROGRAM = Path(__file__).resolve().parent.parent / "tripleoclient_deploy.py"
NEUTRON_ENVIRONMENT = "share/lab-undercloud-neutron.yaml"
TRIPLEO_KEY = ".ssh/id_rsa_tripleo"
VALUE_OPTIONS = ("--templates", "--stack", "--working-dir", "--heat-type", "-r", "--roles-file",
                 "--overcloud-ssh-key", "--output-dir", "--config-dir")


def _option(args: list[str], *names: str) -> str | None:
    """The value of the last ``--name VALUE`` or ``--name=VALUE`` among ``args``."""
    found = None
    for index, arg in enumerate(args):
        for name in names:
            if arg == name and index + 1 < len(args) and not args[index + 1].startswith("-"):
                found = args[index + 1]
            elif arg.startswith(name + "=") and name.startswith("--"):
                found = arg.split("=", 1)[1]
    return found


def _has(args: list[str], *names: str) -> bool:
    return any(arg in names or arg.split("=", 1)[0] in names for arg in args)


def client_argv(command: list[str], lab_dir: Path, templates: Path, home: Path) -> tuple[list[str], bool]:
    """The real client's ``overcloud deploy`` arguments for ``command`` (the words after ``openstack``,
    global options first); and whether config-download's stand-in runs after it."""
    mapped = [arg.replace(DEFAULT_TEMPLATES, str(templates)) for arg in command]
    if _has(mapped, "-h", "--help"):
        return mapped, False
    at = mapped.index("deploy") + 1
    head, rest = mapped[:at], mapped[at:]
    for index, arg in enumerate(rest):
        if arg == "--templates" and (index + 1 == len(rest) or rest[index + 1].startswith("-")):
            rest.insert(index + 1, str(templates))
            break
    added = ["-e", str(lab_dir / NEUTRON_ENVIRONMENT)]
    if not _has(rest, "--heat-type"):
        added += ["--heat-type", "native"]
    steps_only = _has(rest, "--stack-only", "--setup-only", "--config-download-only")
    if not steps_only:
        added += ["--stack-only"]
    if not _has(rest, "--disable-validations"):
        added += ["--disable-validations"]
    if not _has(rest, "-r", "--roles-file"):
        added += ["-r", str(ROLES_FILE)]
    if not _has(rest, "--overcloud-ssh-key"):
        added += ["--overcloud-ssh-key", str(home / TRIPLEO_KEY)]
    return head + added + rest, not (steps_only or _has(rest, "--dry-run"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def deploy(global_options: list[str], command: list[str], lab_dir: Path, client: Path,
           environ: dict[str, str]) -> int:
    templates = Path(environ["RDOFLOW_LAB_THT"])
    home = Path(environ.get("HOME") or Path.home())
    argv, config_download = client_argv(command, lab_dir, templates, home)
    stack = _option(argv, "--stack") or environ.get("OVERCLOUD_STACK_NAME") or "overcloud"
    working_dir = Path(_option(argv, "--working-dir") or home / "overcloud-deploy" / stack)
    env = client_environment(lab_dir, client, environ)
    env["PATH"] = f"{environ['RDOFLOW_LAB_DEPLOY_BIN']}:{env['PATH']}"
    env["RDOFLOW_LAB_HEAT_API_PORT"] = str(free_port())
    started = time.monotonic()
    status = _run_in_own_session([str(client / "bin/python"), "-P", str(CLIENT_PROGRAM), "run",
                                  *global_options, *argv], env)
    with host_state(lab_dir) as state:
        runs = state.setdefault("real_deploys", {}).get(stack, {}).get("runs", 0) + 1
        state["real_deploys"][stack] = {"working_dir": str(working_dir), "exit_status": status, "runs": runs,
                                        "stack_seconds": round(time.monotonic() - started, 1)}
    if status != 0 or not config_download:
        return status
    from .config_download import run_config_download

    status = run_config_download(stack, working_dir, lab_dir, client, env)
    if status == 0:  # what the lab's upgrade stand-ins go by, as after the lab's own deploy
        write_overcloud_credentials(lab_dir, home, stack, working_dir)
        with host_state(lab_dir) as state:
            state.setdefault("overcloud", {})[stack] = {
                "templates": str(templates), "environment_files": _environment_files(argv, home),
                "counts": _role_counts(_environment_files(argv, home)), "upgrade": None, "upgraded": False}
    return status


def _environment_files(argv: list[str], home: Path) -> list[str]:
    files = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg in ("-e", "--environment-file")]
    return [str(home / path) if not Path(path).is_absolute() else path for path in files]


def _role_counts(files: list[str]) -> dict[str, int]:
    """Each role's <Role>Count as the environment files set it, the last one winning (as Heat merges them)."""
    import yaml

    counts: dict[str, int] = {}
    for name in files:
        try:
            defaults = (yaml.safe_load(Path(name).read_text()) or {}).get("parameter_defaults") or {}
        except (OSError, yaml.YAMLError, AttributeError):
            continue
        counts |= {key.removesuffix("Count"): int(value) for key, value in defaults.items()
                   if key.endswith("Count") and isinstance(value, int)}
    return counts


def _run_in_own_session(argv: list[str], env: dict[str, str]) -> int:
    status = run_relayed(argv, env)
    if status < 0:
        print(f"ERROR: the deploy's process group ended with signal {-status} "
              f"({signal.Signals(-status).name}); see the ephemeral Heat's log in the working directory's "
              "heat-launcher/", file=sys.stderr, flush=True)
        return 1
    return status
