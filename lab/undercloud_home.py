"""The lab host as a real undercloud's account sees it (lab.yaml's ``undercloud_home`` and ``hostname``).

A real 17.1 undercloud's account is ``stack``, its home ``/home/stack``, where the operator keeps
``templates/`` and ``tempest/``, and its host has a fully qualified name. The lab's home is DIR/home and its
host is this machine. With either knob set, sshd runs every session (a command, a shell, the SFTP subsystem)
through a command the lab writes (``ForceCommand``), which starts the client's command
(``SSH_ORIGINAL_COMMAND``) with the account's shell inside a bubblewrap sandbox: DIR/home mounted at the
knob's path (the other entries of its parent directory mounted back over a tmpfs, so that nothing is made on
the machine's own), HOME naming it and the session starting there; the host name set in a UTS namespace of
the session's own, and resolved by an /etc/hosts of the lab's. Processes the session starts (the ephemeral
Heat, a command that outlives its session) stay in its sandbox; the lab's services run outside it.
A command's session is its own (``--new-session``): its process group is the one rdoflow kills on a timeout.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path, PurePosixPath

import yaml

from rdoflow.errors import RdoflowError

from . import config as labconfig

SESSION_COMMAND = "ssh/session"  # sshd's ForceCommand
HOSTS_FILE = "ssh/hosts"  # the sessions' /etc/hosts (hostname)
SFTP_SERVER_CANDIDATES = ("/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server",
                          "/usr/libexec/sftp-server", "/usr/lib/ssh/sftp-server")
# What a 17.1 operator has in ~/templates beside the roles' counts (tripleo-heat-templates 18 takes these
# parameter_defaults; nothing uses their values here, since the lab's nodes run no configuration).
NETWORK_ENVIRONMENT = {"parameter_defaults": {"DnsServers": ["192.168.24.1"], "NtpServer": ["pool.ntp.org"]}}

SESSION = """\
#!/bin/sh
# The lab host's SSH sessions ({knobs}), written by 'rdoflow lab up'.
# sshd runs this for each session (ForceCommand); it runs the client's command (SSH_ORIGINAL_COMMAND) with
# the account's shell, as sshd would, in a bubblewrap sandbox (lab/undercloud_home.py). A session without
# a terminal is a session of its own (--new-session), whose process group rdoflow kills on a timeout; one
# with a terminal keeps it as its controlling terminal.
set --
{rebind}set -- {bwrap} "$@" {sandbox}
[ -n "${{SSH_TTY:-}}" ] || set -- "$@" --new-session
if [ -z "${{SSH_ORIGINAL_COMMAND+set}}" ]; then
  exec "$@" -- "${{SHELL:-/bin/sh}}" -l
fi
exec "$@" -- "${{SHELL:-/bin/sh}}" -c "$SSH_ORIGINAL_COMMAND"
"""
# The entries of the home's parent directory, each mounted back over the tmpfs that hides the parent.
REBIND = """\
for entry in {parent}/* {parent}/.[!.]* {parent}/..?*; do
  [ "$entry" = {home} ] && continue
  if [ -L "$entry" ]; then set -- "$@" --symlink "$(readlink -- "$entry")" "$entry"
  elif [ -e "$entry" ]; then set -- "$@" --bind "$entry" "$entry"
  fi
done
"""


class LabSandboxUnavailable(RdoflowError):
    reference = "lab-sandbox-unavailable"


def sandboxed(knobs: labconfig.LabConfig) -> bool:
    """Whether the lab's SSH sessions run in the sandbox."""
    return bool(knobs.undercloud_home or knobs.hostname)


def find_sftp_server() -> Path:
    """OpenSSH's sftp-server, which the sandbox runs for the SFTP subsystem (sshd's in-process one cannot)."""
    for candidate in SFTP_SERVER_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return Path(candidate)
    raise LabSandboxUnavailable(
        "OpenSSH's sftp-server is not installed (looked for " + ", ".join(SFTP_SERVER_CANDIDATES) + ")",
        hint="install openssh-sftp-server (Debian) or openssh-server (Fedora), or unset lab.yaml's "
             "undercloud_home and hostname")


def _bwrap() -> str:
    found = shutil.which("bwrap")
    if found is None:
        raise LabSandboxUnavailable(
            "bubblewrap (bwrap) is not installed: lab.yaml's undercloud_home and hostname run the lab's SSH "
            "sessions in its sandbox", hint="'apt-get install bubblewrap' or 'dnf install bubblewrap'; "
                                            "'./rdo setup' does this for you")
    return found


def install_session(lab_dir: Path, knobs: labconfig.LabConfig) -> tuple[str, str]:
    """Write the session command (and the hosts file); return sshd's settings for it: the lines for
    sshd_config, and the SFTP subsystem's command."""
    lab_dir = Path(lab_dir)
    home = knobs.undercloud_home or str(lab_dir / "home")
    sandbox: list[str] = []
    rebind, head = "", [_bwrap(), "--dev-bind", "/", "/"]
    if knobs.undercloud_home:
        parent = PurePosixPath(knobs.undercloud_home).parent
        if not Path(parent).is_dir():
            raise LabSandboxUnavailable(
                f"lab.yaml's undercloud_home {knobs.undercloud_home}: its parent directory {parent} does not "
                "exist on this machine", hint="choose a path whose parent exists, e.g. /home/stack")
        head += ["--tmpfs", str(parent)]
        rebind = REBIND.format(parent=shlex.quote(str(parent)), home=shlex.quote(knobs.undercloud_home))
        sandbox += ["--bind", str(lab_dir / "home"), knobs.undercloud_home, "--chdir", knobs.undercloud_home]
    if knobs.hostname:
        hosts = lab_dir / HOSTS_FILE
        machine = Path("/etc/hosts").read_text() if Path("/etc/hosts").exists() else "127.0.0.1 localhost\n"
        short = knobs.hostname.split(".")[0]
        hosts.write_text(machine.rstrip("\n") + f"\n# the lab host's name (lab.yaml hostname)\n"
                                                f"127.0.0.1 {knobs.hostname} {short}\n")
        sandbox += ["--ro-bind", str(hosts), "/etc/hosts", "--unshare-uts", "--hostname", knobs.hostname]
    named = [name for name in ("undercloud_home", "hostname") if getattr(knobs, name)]
    script = lab_dir / SESSION_COMMAND
    script.write_text(SESSION.format(knobs="lab.yaml: " + ", ".join(f"{name} {getattr(knobs, name)}" for name in named),
                                     rebind=rebind, bwrap=shlex.join(head), sandbox=shlex.join(sandbox)))
    script.chmod(0o755)
    return f"ForceCommand {script}\n", f"{find_sftp_server()} -d {home}"


def install_operator_files(lab_dir: Path, knobs: labconfig.LabConfig) -> None:
    """What a 17.1 operator keeps in the home (``undercloud_home``): templates/node-info.yaml with the roles'
    counts and templates/network-environment.yaml. The Tempest workspace is already home/tempest."""
    templates = Path(lab_dir) / "home" / "templates"
    templates.mkdir(parents=True, exist_ok=True)
    counts = {"ControllerCount": knobs.controllers, "ComputeCount": knobs.nodes - knobs.controllers}
    header = "# Written by the rdoflow lab, as an operator keeps it in ~/templates.\n"
    (templates / "node-info.yaml").write_text(
        header + yaml.safe_dump({"parameter_defaults": counts}, sort_keys=False))
    (templates / "network-environment.yaml").write_text(header + yaml.safe_dump(NETWORK_ENVIRONMENT, sort_keys=False))
