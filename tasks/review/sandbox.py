"""Running RPM's tools on untrusted packages: inside bubblewrap, with no network and a hidden home.

Parsing a spec executes it: ``%(shell)`` and ``%{lua: ...}`` run under ``rpmspec``, ``rpmbuild -bs``
and ``rpmlint`` (even on an SRPM, which re-parses its spec). So every step that lets rpm parse a spec
runs here, never on the host: the root file system read-only, /root /home /tmp replaced by empty
tmpfs, no network, a clean environment, and only the package's work directory writable. When
bubblewrap does not work on a host the review refuses to run; there is no fallback.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from rdoflow.errors import RdoflowError
from rdoflow.outcome import CommandResult
from rdoflow.tasks.local import run_local

PROJECT = Path(__file__).resolve().parents[2]
# What each tool is called in the distributions' packages, for the error that names a missing one.
TOOL_PACKAGES: dict[str, str] = {
    "bwrap": "bubblewrap",
    "rpmbuild": "rpm (Debian) or rpm-build (Fedora)",
    "rpmspec": "rpm (Debian) or rpm-build (Fedora)",
    "rpm2cpio": "rpm2cpio (Debian) or rpm (Fedora)",
    "cpio": "cpio",
    "licensecheck": "licensecheck",
}
# Host paths that may hold secrets: hidden even read-only.
HIDDEN = ("/root", "/home", "/tmp", "/etc/ssh", "/var/lib/prefect")


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


def _bwrap_argv(workdir: Path, ro_binds: Sequence[Path]) -> list[str]:
    argv = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for hidden in HIDDEN:
        if Path(hidden).is_dir():
            argv += ["--tmpfs", hidden]
    # The interpreter, the venv and this project may live under a hidden path: give them back, read-only.
    for path in dict.fromkeys([Path(sys.base_prefix).resolve(), Path(sys.prefix), PROJECT, *ro_binds]):
        argv += ["--ro-bind", str(path), str(path)]
    argv += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir),
             "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
             "--setenv", "HOME", str(workdir), "--setenv", "PATH", os.defpath + ":" + str(Path(sys.executable).parent),
             "--setenv", "LANG", "C.UTF-8", "--setenv", "PYTHONDONTWRITEBYTECODE", "1"]
    return argv


def check_sandbox() -> None:
    """Raise SandboxUnavailable unless bubblewrap can build the sandbox on this host."""
    require_tools(["bwrap"])
    probe = run_local(["bwrap", "--ro-bind", "/", "/", "--unshare-all", "--", "true"], timeout=30)
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
    return run_local([*_bwrap_argv(workdir, ro_binds), "--", *argv], timeout=timeout, recorded_argv=argv)
