"""Running RPM's tools on untrusted packages: inside bubblewrap, with no network and a hidden home.

Parsing a spec executes it: ``%(shell)`` and ``%{lua: ...}`` run under ``rpmspec``, ``rpmbuild -bs``
and ``rpmlint`` (even on an SRPM, which re-parses its spec). So every step that lets rpm parse a spec
runs here, never on the host. The sandbox starts from an empty root and gets, read-only, only what the
tools need (/usr, a few files of /etc, its own passwd and group, the interpreter and the venv); the
package's work directory is its only writable place. Nothing of the project, the user's home, the host's /tmp, /run or /proc, no network,
no capabilities, no environment. What the tools print is bounded while it is read (tasks/local.py) and
redacted before it is recorded. When bubblewrap does not work on a host the review refuses to run; there
is no fallback.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from rdoflow.errors import RdoflowError
from rdoflow.outcome import CommandResult
from rdoflow.redaction import redact
from rdoflow.tasks.local import run_local

# What each tool is called in the distributions' packages, for the error that names a missing one.
TOOL_PACKAGES: dict[str, str] = {
    "bwrap": "bubblewrap",
    "rpmbuild": "rpm (Debian) or rpm-build (Fedora)",
    "rpmspec": "rpm (Debian) or rpm-build (Fedora)",
    "rpm2cpio": "rpm2cpio (Debian) or rpm (Fedora)",
    "cpio": "cpio",
    "licensecheck": "licensecheck",
}
# The sandbox starts from an empty root; these are bound into it read-only, when the host has them.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# /etc as the tools need it: the loader, rpm's and perl's config, the time zone. Never passwd, group (the
# sandbox has its own: ACCOUNTS), shadow, gshadow, ssh/, ssl/ or anything else of the host's.
ETC_ENTRIES = ("nsswitch.conf", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives",
               "localtime", "os-release", "rpm", "perl", "xdg/rpmlint", "magic", "mime.types")


class ReviewToolMissing(RdoflowError):
    """A tool the package review needs is not installed on this machine."""

    reference = "review-tool-missing"


class SandboxUnavailable(RdoflowError):
    """bubblewrap is installed but cannot create a sandbox here: the review refuses to run."""

    reference = "sandbox-unavailable"


def require_tools(names: Sequence[str] = tuple(TOOL_PACKAGES)) -> None:
    """Raise ReviewToolMissing naming every absent tool and the package that provides it."""
    missing = [name for name in names if shutil.which(name) is None]
    try:
        import rpm  # noqa: F401  (the PyPI shim finds the system's python3-rpm)
    except ImportError:
        missing.append("python3-rpm")
    if missing:
        packages = sorted({TOOL_PACKAGES.get(name, name) for name in missing})
        raise ReviewToolMissing(
            f"the package review needs {', '.join(missing)}, not installed here",
            evidence=[f"{name}: package {TOOL_PACKAGES.get(name, name)}" for name in missing],
            hint=f"install {', '.join(packages)} (./rdo setup does it on Debian and Fedora)",
        )


def rpmlint_command() -> list[str]:
    """The venv's rpmlint (2.x from PyPI), else the system's."""
    beside = Path(sys.executable).with_name("rpmlint")
    found = str(beside) if beside.exists() else shutil.which("rpmlint")
    if found is None:
        raise ReviewToolMissing("the package review needs rpmlint, not installed here",
                                hint="pip install rpmlint (a dependency of rdoflow), or install the rpmlint package")
    return [found]


def _system_binds() -> list[str]:
    """The read-only system the tools need: /usr (and its top-level links), a minimal /etc, nothing else."""
    argv = []
    for top in SYSTEM_DIRS:
        path = Path(top)
        if path.is_symlink():  # merged /usr: /bin -> usr/bin
            argv += ["--symlink", os.readlink(path), top]
        elif path.is_dir():
            argv += ["--ro-bind", top, top]
    for name in ETC_ENTRIES:
        if (Path("/etc") / name).exists():
            argv += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    return argv


def _write_accounts(directory: Path, home: Path) -> list[str]:
    """The sandbox's own /etc/passwd and /etc/group, written into ``directory``: root, the build user (the
    one running the review, whose uid the sandbox keeps; its home is the work directory) and nobody. A
    spec reading them learns nothing of the host's accounts; rpm and the tools still map names and ids."""
    uid, gid = os.getuid(), os.getgid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = "builder"
    try:
        group = grp.getgrgid(gid).gr_name
    except KeyError:
        group = user
    users = {0: ("root", 0, "/root"), uid: (user, gid, str(home)), 65534: ("nobody", 65534, "/nonexistent")}
    groups = {0: "root", gid: group, 65534: "nobody"}
    (directory / "passwd").write_text("".join(f"{name}:x:{number}:{group_id}:{name}:{user_home}:/bin/sh\n"
                                              for number, (name, group_id, user_home) in users.items()))
    (directory / "group").write_text("".join(f"{name}:x:{number}:\n" for number, name in groups.items()))
    return ["--ro-bind", str(directory / "passwd"), "/etc/passwd", "--ro-bind", str(directory / "group"), "/etc/group"]


def _bwrap_argv(workdir: Path, ro_binds: Sequence[Path], accounts: Path) -> list[str]:
    argv = [shutil.which("bwrap") or "bwrap", *_system_binds(), *_write_accounts(accounts, workdir),
            "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp"]
    # The interpreter and the venv (for specfacts.py and rpmlint), and whatever one step needs, read-only.
    for path in dict.fromkeys([Path(sys.base_prefix).resolve(), Path(sys.prefix), *ro_binds]):
        argv += ["--ro-bind", str(path), str(path)]
    argv += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir),
             "--unshare-all", "--cap-drop", "ALL", "--die-with-parent", "--new-session", "--clearenv",
             "--setenv", "HOME", str(workdir), "--setenv", "PATH", os.defpath + ":" + str(Path(sys.executable).parent),
             "--setenv", "LANG", "C.UTF-8", "--setenv", "TMPDIR", "/tmp", "--setenv", "PYTHONDONTWRITEBYTECODE", "1"]
    return argv


def check_sandbox() -> None:
    """Raise SandboxUnavailable unless bubblewrap can build the sandbox on this host."""
    require_tools(["bwrap"])
    with tempfile.TemporaryDirectory(prefix="rdoflow-sandbox-") as workdir:
        probe = run_sandboxed(["true"], Path(workdir), timeout=30)
    if probe.exit_status != 0:
        raise SandboxUnavailable(
            "bubblewrap cannot create a sandbox on this host; rdoflow will not parse specs outside one",
            evidence=probe.stderr.splitlines()[-5:],
            hint="allow unprivileged user namespaces (kernel.unprivileged_userns_clone=1) or run as root",
        )


def run_sandboxed(argv: Sequence[str], workdir: Path, *, timeout: float = 300,
                  ro_binds: Sequence[Path] = ()) -> CommandResult:
    """Run ``argv`` in the sandbox with ``workdir`` as its only writable directory (and its cwd).

    A command still running after ``timeout`` seconds is killed (status timeout, no exit status); the
    result records ``argv`` as given, without the sandbox's own wrapper."""
    workdir = Path(workdir).resolve()
    # The accounts files sit outside the work directory (read-only inside), in a directory of this call's own.
    with tempfile.TemporaryDirectory(prefix="rdoflow-sandbox-etc-") as accounts:
        # bubblewrap's own process (pid 1 in the sandbox, /proc/1/environ) gets no environment either.
        ran = run_local([*_bwrap_argv(workdir, ro_binds, Path(accounts)), "--", *argv], timeout=timeout, env={},
                        recorded_argv=argv)
    return ran.model_copy(update={"stdout": redact(ran.stdout), "stderr": redact(ran.stderr)})
