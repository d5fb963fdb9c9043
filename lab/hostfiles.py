"""What the lab puts on its undercloud host: the commands on PATH, the templates, the test suites.

The commands are small shell scripts that run the lab's own implementations
(``lab.tripleo``) with the lab venv's Python, the host's "system" Python, so the
host side never imports rdoflow itself. For the wallaby and zed releases,
``openstack`` is ``lab.tripleo.dispatch``: the real python-tripleoclient from its
own venv where it runs here, the lab's commands for the rest; and the host has
what a Zed undercloud's install leaves for the client: ``~/.config/openstack/clouds.yaml``
and the deploy ramdisk's kernel and image (fake ones, in ``DIR/httpboot``).
"""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import yaml

from . import config as labconfig
from .ephemeral_heat import CTLPLANE_IP, install_deploy_host
from .rpms import install_package_root
from .scriptsuite import install_scripts
from .tripleo.client_env import HTTP_BOOT
from .tripleo.clients import CLOUD, clouds_yaml, undercloud_cloud

HERE = Path(__file__).resolve().parent
TEMPLATES = "share/openstack-tripleo-heat-templates"
SUITE_DIR = "home/tempest"

COMMAND = """\
#!/bin/sh
# {what}
export PYTHONPATH={project} RDOFLOW_LAB_DIR={lab_dir} PYTHONWARNINGS=ignore{extra}
exec {program} "$@"
"""
# The host's sudo: the lab's account may run any command as root, as an undercloud's stack user may (NOPASSWD).
# When the account is not root, the command runs as root in a user namespace of its own (real dnf refuses
# to run as anyone else); the options rdoflow and tripleoclient pass are taken, any other is refused.
SUDO = """\
#!/bin/sh
# The lab host's sudo: the command as root (in a user namespace when the lab's account is not root).
while [ $# -gt 0 ]; do
  case "$1" in
    -E|-H|-n|--preserve-env|--non-interactive) shift ;;
    --) shift; break ;;
    -*) echo "sudo (rdoflow lab): option $1 is not supported here" >&2; exit 1 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: sudo COMMAND [ARG...]" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] && exec "$@"
exec unshare --map-root-user -- "$@"
"""
# What the real client finds in /var/lib/ironic/httpboot on an undercloud: the deploy ramdisk's kernel and
# image. The lab's nodes never boot them (fake-hardware); only their paths reach Ironic.
DEPLOY_IMAGES = ("agent.kernel", "agent.ramdisk")
# What a real Zed undercloud's Neutron gives 'overcloud deploy', which the lab has not: the ctlplane network's
# attributes (tripleoclient's get_ctlplane_attrs()) and the ctlplane VIP that 'overcloud network vip provision'
# writes. lab/tripleo/real_deploy.py passes it as the deploy's first -e.
NEUTRON_ENVIRONMENT = "share/lab-undercloud-neutron.yaml"
NEUTRON_ENVIRONMENT_TEXT = f"""\
# What the undercloud's Neutron gives a real 'openstack overcloud deploy': this lab has no Neutron.
# Written by the rdoflow lab; the deploy's own -e files come after it and win.
parameter_defaults:
  # tripleoclient's utils.get_ctlplane_attrs() of undercloud.conf's default ctlplane network
  CtlplaneNetworkAttributes:
    network:
      name: ctlplane
      mtu: 1500
      dns_domain: ctlplane.localdomain.
      tags: []
    subnets:
      ctlplane-subnet:
        name: ctlplane-subnet
        cidr: 192.168.24.0/24
        gateway_ip: {CTLPLANE_IP}
        host_routes: []
        dns_nameservers: []
        ip_version: 4
  # tripleo_overcloud_network_vip_populate_environment's ctlplane VIP (vip_data_default.yaml)
  ControlPlaneVipData:
    name: control_virtual_ip
    network:
      tags: []
    fixed_ips:
    - ip_address: 192.168.24.5
    subnets:
    - ip_version: 4
"""


def install_host_files(lab_dir: Path, *, venv: Path, project_root: Path, ports: dict[str, int],
                       client_venv: Path | None = None, deploy_client_venv: Path | None = None,
                       tempest_venv: Path | None = None, rally_venv: Path | None = None, say=print) -> None:
    """The host's commands and files; ``client_venv`` (the real python-tripleoclient) for wallaby and zed,
    and ``deploy_client_venv``, the one its ``overcloud deploy`` runs where that is another;
    ``tempest_venv`` (the real Tempest) for ``suite.tempest: real``, whose workspace is made once Keystone
    answers (lab/tempest_workspace.py): the generated suite is then not copied; ``rally_venv`` (the real
    Rally) runs the host's ``rally`` commands but ``rally verify``, which stays the lab's stand-in."""
    bin_dir = lab_dir / "bin"
    bin_dir.mkdir(exist_ok=True)
    if client_venv is not None:
        deploy_env = install_deploy_host(lab_dir, venv=venv, postgres_port=ports["postgres"], say=say)
        deploy_env["RDOFLOW_LAB_TRIPLEOCLIENT"] = str(client_venv)
        if deploy_client_venv is not None and deploy_client_venv != client_venv:
            deploy_env["RDOFLOW_LAB_TRIPLEOCLIENT_DEPLOY"] = str(deploy_client_venv)
    openstack = (("The lab's python-tripleoclient: acts on the lab's real Ironic and Heat.",
                  f"{shlex.quote(str(venv / 'bin/python'))} -m lab.tripleo", "") if client_venv is None else
                 ("The undercloud's openstack: the real python-tripleoclient, or the lab's own where it cannot run.",
                  f"{shlex.quote(str(venv / 'bin/python'))} -m lab.tripleo.dispatch",
                  "".join(f" {name}={shlex.quote(value)}" for name, value in deploy_env.items())))
    # stestr and rally run the real Tempest venv's stestr in the real workspace
    tempest = f" RDOFLOW_LAB_TEMPEST_VENV={shlex.quote(str(tempest_venv))}" if tempest_venv is not None else ""
    rally = tempest + (f" RDOFLOW_LAB_RALLY_VENV={shlex.quote(str(rally_venv))}" if rally_venv is not None else "")
    commands = {
        "openstack": openstack,
        "stestr": ("stestr from the lab host's Python (under the ssh_drop fault).",
                   f"{shlex.quote(str(venv / 'bin/python'))} -m lab.tripleo.stestr_cmd", tempest),
        "rally": (("rally verify (start, list-verifier-tests, report) over the lab's Tempest suite; the real "
                   "Rally for the rest (rally task, env, db) where the lab has it."),
                  f"{shlex.quote(str(venv / 'bin/python'))} -m lab.tripleo.rally_cmd", rally),
        "rpm": ("The machine's rpm on the host's package root (DIR/root); without one, rpm -q python3-tripleoclient "
                "answers from the lab's record.",
                f"{shlex.quote(str(venv / 'bin/python'))} -m lab.tripleo.rpm_cmd", ""),
        "dnf": ("The machine's dnf on the host's package root (DIR/root), as an EL9 host's.",
                f"{shlex.quote(str(venv / 'bin/python'))} -m lab.tripleo.dnf_cmd", ""),
    }
    for name, (what, program, extra) in commands.items():
        script = bin_dir / name
        script.write_text(COMMAND.format(what=what, project=shlex.quote(str(project_root)),
                                         lab_dir=shlex.quote(str(lab_dir)), program=program, extra=extra))
        script.chmod(0o755)
    (bin_dir / "sudo").write_text(SUDO)
    (bin_dir / "sudo").chmod(0o755)
    install_package_root(lab_dir, labconfig.load(lab_dir).release, say=say)
    for name in ("tempest", "discover-tempest-config") if tempest_venv is not None else ():
        script = bin_dir / name  # as an undercloud with openstack-tempest and python3-tempestconf has them
        script.write_text(f"#!/bin/sh\n# The real {name} of the lab's Tempest venv (Tempest 47, python-tempestconf "
                          f"3.5.4).\nexec {shlex.quote(str(tempest_venv / 'bin' / name))} \"$@\"\n")
        script.chmod(0o755)
    templates = lab_dir / TEMPLATES
    shutil.rmtree(templates, ignore_errors=True)
    shutil.copytree(HERE / "tht", templates)
    suite = lab_dir / SUITE_DIR
    shutil.rmtree(suite, ignore_errors=True)
    if tempest_venv is None:
        shutil.copytree(HERE / "suite", suite, ignore=shutil.ignore_patterns("__pycache__"))
    install_scripts(lab_dir, venv=venv, project_root=project_root, count=labconfig.load(lab_dir).suite.scripts)
    services = {"baremetal": f"http://127.0.0.1:{ports['ironic']}",
                "orchestration": f"http://127.0.0.1:{ports['heat']}/v1/admin"}
    if "inspector" in ports:
        services["baremetal-introspection"] = f"http://127.0.0.1:{ports['inspector']}"
    (lab_dir / "endpoints.json").write_text(json.dumps(services) + "\n")
    if client_venv is not None:
        _install_undercloud_files(lab_dir, services)


def _install_undercloud_files(lab_dir: Path, services: dict[str, str]) -> None:
    """What a Zed undercloud's install leaves for the client: clouds.yaml (``OS_CLOUD=undercloud``) and the
    deploy images."""
    path = clouds_yaml(lab_dir / "home")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"clouds": {CLOUD: undercloud_cloud(services)}}, sort_keys=False))
    (lab_dir / NEUTRON_ENVIRONMENT).write_text(NEUTRON_ENVIRONMENT_TEXT)
    images = lab_dir / HTTP_BOOT
    images.mkdir(exist_ok=True)
    for name in DEPLOY_IMAGES:
        (images / name).write_text(f"rdoflow lab: a fake {name}; the lab's fake-hardware nodes never boot it\n")
