"""The ``openstack`` command of the lab host: the TripleO commands rdoflow's flows call.

Each acts on the lab's real Ironic and Heat, prints what python-tripleoclient
prints, and exits as it does: 0 on success, 1 on a failure (``ERROR: ...`` on
stderr), 2 on a usage error. Commands outside this set exit 2, naming the set.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TextIO

from .. import config as labconfig
from .console import CommandFailed, fail_line
from .hoststate import host_state, lab_dir

DEFAULT_TEMPLATES = "/usr/share/openstack-tripleo-heat-templates"
VERSION = "openstack 7.4.0 (rdoflow lab)"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="openstack", description="The lab's TripleO commands.")
    top.add_argument("--version", action="version", version=VERSION)
    groups = top.add_subparsers(dest="group", required=True)
    undercloud = groups.add_parser("undercloud").add_subparsers(dest="action", required=True)
    for action in ("install", "upgrade"):
        sub = undercloud.add_parser(action)
        sub.add_argument("-y", "--yes", action="store_true")
        sub.add_argument("--no-validations", action="store_true")
    overcloud = groups.add_parser("overcloud").add_subparsers(dest="action", required=True)
    _deploy_options(overcloud.add_parser("deploy"))
    steps = overcloud.add_parser("upgrade").add_subparsers(dest="step", required=True)
    for step in ("prepare", "run", "converge"):
        sub = steps.add_parser(step)
        _deploy_options(sub, templates_default=None)
        sub.add_argument("--limit", help="Role (or comma-separated roles) to upgrade ('run').")
        sub.add_argument("-y", "--yes", action="store_true")
    updates = overcloud.add_parser("update").add_subparsers(dest="step", required=True)
    for step in ("prepare", "run", "converge"):  # the stand-ins of lab/tripleo/update.py
        sub = updates.add_parser(step)
        _deploy_options(sub, templates_default=None)
        sub.add_argument("--limit", required=step == "run", help="Role(s) or node(s) to update ('run').")
        sub.add_argument("-y", "--yes", action="store_true")
    tripleo = groups.add_parser("tripleo").add_subparsers(dest="action", required=True)
    images = tripleo.add_parser("container").add_subparsers(dest="what", required=True)
    image = images.add_parser("image").add_subparsers(dest="step", required=True)
    prepare = image.add_parser("prepare")  # Train's stand-in (lab/tripleo/images.py)
    prepare.add_argument("-e", "--environment-file", dest="environment_files", action="append", default=[])
    prepare.add_argument("--output-env-file")
    prepare.add_argument("-r", "--roles-file")
    prepare.add_argument("--dry-run", action="store_true")
    return top


def _deploy_options(sub: argparse.ArgumentParser, templates_default: str | None = DEFAULT_TEMPLATES) -> None:
    sub.add_argument("--templates", nargs="?", const=DEFAULT_TEMPLATES, default=templates_default)
    sub.add_argument("-e", "--environment-file", dest="environment_files", action="append", default=[])
    sub.add_argument("--stack", default="overcloud")
    sub.add_argument("--timeout", type=int, default=240, help="Minutes.")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    words = " ".join(part for part in (args.group, args.action, getattr(args, "what", None),
                                       getattr(args, "step", None)) if part)
    if words == "overcloud upgrade converge" and labconfig.load(lab_dir()).release == "zed":
        return _not_a_command(words, ["overcloud upgrade prepare", "overcloud upgrade run"])
    try:
        _maybe_drop_session(words)
        if args.group == "undercloud":
            from .undercloud import install

            install(upgrade=args.action == "upgrade")
        elif args.group == "tripleo":
            from .images import prepare

            prepare(args.environment_files, args.output_env_file)
        elif args.action == "update":
            from .update import update

            templates = _templates(args.templates) if args.templates else None
            update(args.step, templates, _env_files(args.environment_files), args.stack, args.limit, args.timeout)
        elif args.action == "deploy":
            from .overcloud import deploy

            deploy(_templates(args.templates), _env_files(args.environment_files), args.stack, args.timeout)
        else:
            from .overcloud import upgrade

            templates = _templates(args.templates) if args.templates else None
            upgrade(args.step, templates, _env_files(args.environment_files), args.stack, args.limit, args.timeout)
    except CommandFailed as exc:
        fail_line(str(exc))
        return exc.status
    return 0


def _not_a_command(words: str, near: list[str]) -> int:
    """What cliff (openstack's command shell) answers for a command the client does not have: Zed's
    tripleoclient has no 'overcloud upgrade converge'."""
    print(f"openstack: '{words}' is not an openstack command. See 'openstack --help'.\nDid you mean one of these?")
    for command in near:
        print(f"  {command}")
    return 2


def _templates(value: str) -> Path:
    """The default templates directory of a real undercloud is the lab's own copy."""
    if value == DEFAULT_TEMPLATES:
        return lab_dir() / "share" / "openstack-tripleo-heat-templates"
    return Path(value).expanduser().resolve()


def _env_files(paths: list[str]) -> list[str]:
    missing = [p for p in paths if not Path(p).expanduser().is_file()]
    if missing:
        raise CommandFailed(f"Could not open environment file {missing[0]}: No such file or directory")
    return [str(Path(p).expanduser().resolve()) for p in paths]


def _maybe_drop_session(words: str) -> bool:
    """The ``ssh_drop`` fault: after N seconds, kill this command's sshd session (the client sees the
    connection reset), for the first ``times`` runs of the command. True when the timer is armed."""
    drop = labconfig.load(lab_dir()).faults.ssh_drop
    if drop is None or not words.startswith(drop.command):
        return False
    with host_state() as state:
        done = state.setdefault("ssh_drops", {}).get(drop.command, 0)
        if done >= drop.times:
            return False
        state["ssh_drops"][drop.command] = done + 1
    session = _sshd_session()
    if not session:
        return False
    timer = threading.Timer(drop.after, _cut, args=(session, drop.survives))
    timer.daemon = True
    timer.start()
    return True


def _cut(session: int, survives: bool) -> None:
    if not survives:
        os.kill(session, signal.SIGKILL)
        return
    # The command goes on, as tripleoclient's logging does when its terminal is gone: what it prints is
    # lost. Its output stays open until the session is dead (closing it first would show the client a
    # command that ended, not a dropped connection); a print in between fails quietly.
    sys.stdout, sys.stderr = _Unheard(sys.stdout), _Unheard(sys.stderr)
    os.kill(session, signal.SIGKILL)
    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, 1)
    os.dup2(nowhere, 2)


class _Unheard(io.TextIOBase):
    """A stream whose reader may be gone: a failed write or flush loses the text instead of raising."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        with contextlib.suppress(OSError):
            self.stream.write(text)
        return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError):
            self.stream.flush()


def _sshd_session() -> int | None:
    """The nearest ancestor that is an sshd process: the session that carries this command."""
    pid = os.getppid()
    while pid > 1:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat[stat.index("(") + 1 : stat.rindex(")")].startswith("sshd"):
            return pid
        pid = int(stat[stat.rindex(")") + 2 :].split()[1])
    return None


if __name__ == "__main__":
    sys.exit(main())
