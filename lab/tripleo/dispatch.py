"""The lab host's ``openstack`` for the wallaby and zed releases: the real python-tripleoclient where it runs.

``overcloud deploy`` is the real client's for the stack, then a stand-in for config-download's
playbooks (lab/tripleo/real_deploy.py says what the lab adds to its arguments); on wallaby it is Zed's
client (``RDOFLOW_LAB_TRIPLEOCLIENT_DEPLOY``): Wallaby's own does not get through here (lab/tripleoclient_venv.py).
``overcloud node provision`` is a stand-in (lab/tripleo/node_provision.py): metalsmith needs Neutron.
What cannot run on this host at all (no containers, no VMs) stays the lab's own (``lab.tripleo``):
``undercloud install|upgrade``, ``overcloud upgrade ...`` and ``overcloud update prepare|run``
(lab/tripleo/update.py; ``update converge`` is the real client's: it has none). Every other command, ``--version`` and
``help`` included, is the real
``openstack`` of the client's venv (lab/tripleoclient_venv.py), run as on a Zed undercloud after its
install: ``OS_CLOUD=undercloud`` and ``~/.config/openstack/clouds.yaml``. The deploy images it looks for
under /var/lib/ironic/httpboot are the lab's fake ones in ``DIR/httpboot`` (``HTTP_BOOT``, which
``overcloud node import`` reads for its ``--http-boot`` default). Set by the command's script::

    RDOFLOW_LAB_DIR=DIR RDOFLOW_LAB_TRIPLEOCLIENT=VENV python -m lab.tripleo.dispatch ARGS...
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .client_env import client_environment

LAB_COMMANDS = (
    ("undercloud", "install"), ("undercloud", "upgrade"), ("overcloud", "deploy"), ("overcloud", "upgrade"),
    ("overcloud", "node", "provision"), ("overcloud", "update", "prepare"), ("overcloud", "update", "run"),
)
REAL_DEPLOY = ("overcloud", "deploy")
PROVISION = ("overcloud", "node", "provision")


def split_global_options(argv: list[str]) -> tuple[list[str], list[str]]:
    """The global options before the command (``--os-cloud NAME``, ``--debug``...), and the command."""
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        option = argv[index]
        # --os-* and --log-file take a value, unless it is given as --option=value
        index += 2 if "=" not in option and (option.startswith("--os-") or option == "--log-file") else 1
    return argv[:index], argv[index:]


def _words(argv: list[str]) -> tuple[str, ...]:
    return tuple(arg for arg in split_global_options(argv)[1] if not arg.startswith("-"))


def is_lab_command(argv: list[str]) -> bool:
    """The commands the real client does not run here, or not alone: the lab's, or the lab's stand-ins."""
    return any(_words(argv)[: len(command)] == command for command in LAB_COMMANDS)


def main(argv: list[str]) -> int:
    words = _words(argv)
    if is_lab_command(argv) and not (words[:2] == REAL_DEPLOY or words[:3] == PROVISION):
        from .__main__ import main as lab_main

        return lab_main(split_global_options(argv)[1])  # the lab's parser knows no global option
    from .__main__ import _maybe_drop_session

    armed = _maybe_drop_session(" ".join(words))  # the lab's own commands arm it themselves
    if words[:2] == REAL_DEPLOY or words[:3] == PROVISION:
        global_options, command = split_global_options(argv)
        # Wallaby's lab deploys with Zed's client (lab/tripleoclient_venv.py, DEPLOY_CLIENTS)
        client = os.environ.get("RDOFLOW_LAB_TRIPLEOCLIENT_DEPLOY") or os.environ["RDOFLOW_LAB_TRIPLEOCLIENT"]
        lab_dir, client = Path(os.environ["RDOFLOW_LAB_DIR"]), Path(client)
        if words[:2] == REAL_DEPLOY:
            from .real_deploy import deploy

            return deploy(global_options, command, lab_dir, client, dict(os.environ))
        from .node_provision import main as provision

        return provision(command[3:], lab_dir, client, dict(os.environ))
    client = Path(os.environ["RDOFLOW_LAB_TRIPLEOCLIENT"])
    env = client_environment(Path(os.environ["RDOFLOW_LAB_DIR"]), client, dict(os.environ))
    if armed:  # the fault's timer lives in this process: the client runs as its child
        from .relay import run_relayed

        return run_relayed([str(client / "bin/openstack"), *argv], env)
    sys.stdout.flush()
    os.execve(client / "bin/openstack", ["openstack", *argv], env)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
