"""The lab host's packages: a real RPM database and yum repositories, under a root of the lab's own.

The undercloud host's "/" for packages is ``DIR/root``: its RPM database (``var/lib/rpm``, as on an EL
host), ``etc/yum.repos.d`` and ``etc/dnf/dnf.conf``. The host's ``rpm`` and ``dnf`` (lab/tripleo/rpm_cmd.py,
dnf_cmd.py) are the machine's real rpm and dnf on that root; ``sudo`` runs its command as root in a user
namespace when the lab's account is not root (dnf refuses to run otherwise). ``lab up`` makes the root and
the release's own repository (``DIR/packages/current``: each package at its installed and its updated
version, lab/rpms.py); ``openstack undercloud install`` installs the release's packages there (as a real
undercloud has them before its install) and ``undercloud upgrade`` updates them with dnf, as tripleoclient
does. Without rpm and dnf on the machine, the root is not made and the host's ``rpm -q python3-tripleoclient``
answers from the lab's record instead (lab/tripleo/rpm_cmd.py).

Runs on the lab host (the lab venv's Python): the standard library only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = "root"  # the host's package root, in the lab directory
CURRENT_REPO = "packages/current"  # the release's own repository (what the host's delorean.repo names first)
RPM_HOME = "packages/rpm-home"  # HOME of the host's dnf: its .rpmmacros puts the RPM database where EL has it
DBPATH = "/var/lib/rpm"
SYSTEM_RPM, SYSTEM_DNF = "/usr/bin/rpm", "/usr/bin/dnf"
CLIENT = "python3-tripleoclient"
# What 'openstack undercloud upgrade' updates first (tripleoclient 20's constants.UNDERCLOUD_EXTRA_PACKAGES).
UNDERCLOUD_EXTRA_PACKAGES = ("python3-tripleoclient", "openstack-tripleo-common", "openstack-tripleo-heat-templates",
                             "openstack-tripleo-validations", "tripleo-ansible")
# The packages of the lab's undercloud, installed at each release's version (the client's is the one the
# lab's record has always said: lab/tripleo/undercloud.py's VERSIONS). The release's repository also holds
# each one's next patch version: what 'undercloud upgrade' moves to before any drop is applied.
RELEASE_PACKAGES = {
    "train": {"python3-tripleoclient": "12.6.1", "openstack-tripleo-common": "11.7.0",
              "openstack-tripleo-heat-templates": "11.6.0", "openstack-tripleo-validations": "11.6.0",
              "tripleo-ansible": "0.8.0", "openstack-ironic-api": "13.0.7", "openstack-heat-engine": "13.1.0"},
    "wallaby": {"python3-tripleoclient": "16.5.0", "openstack-tripleo-common": "15.4.0",
                "openstack-tripleo-heat-templates": "14.3.0", "openstack-tripleo-validations": "14.3.0",
                "tripleo-ansible": "3.3.0", "openstack-ironic-api": "17.1.0", "openstack-heat-engine": "16.1.0"},
    "zed": {"python3-tripleoclient": "20.0.0", "openstack-tripleo-common": "18.0.0",
            "openstack-tripleo-heat-templates": "18.0.0", "openstack-tripleo-validations": "16.0.0",
            "tripleo-ansible": "6.0.0", "openstack-ironic-api": "21.1.0", "openstack-heat-engine": "19.0.0"},
}
RELEASE_TAG = "1.el9"  # what the lab's record has always answered: python3-tripleoclient-20.0.0-1.el9.noarch
# EL9's /etc/dnf/dnf.conf (Debian's dnf skips an unreachable repository; EL's fails on it).
DNF_CONF = """[main]
gpgcheck=1
installonly_limit=3
clean_requirements_on_remove=True
best=True
skip_if_unavailable=False
"""


def next_patch(version: str) -> str:
    head, _, last = version.rpartition(".")
    return f"{head}.{int(last) + 1}" if last.isdigit() else f"{version}.1"


def installed_versions(release: str) -> dict[str, str]:
    """``{name: version-release}`` of what the lab's undercloud install leaves on the host."""
    return {name: f"{version}-{RELEASE_TAG}" for name, version in RELEASE_PACKAGES[release].items()}


def updated_versions(release: str) -> dict[str, str]:
    """``{name: version-release}``: the release repository's updates (what 'undercloud upgrade' moves to)."""
    return {name: f"{next_patch(version)}-{RELEASE_TAG}" for name, version in RELEASE_PACKAGES[release].items()}


def root(lab_dir: Path) -> Path:
    return lab_dir / ROOT


def real(lab_dir: Path) -> bool:
    """Whether the host's packages are real: the package root was made at lab up, and rpm and dnf are here."""
    return (root(lab_dir) / "etc/yum.repos.d").is_dir() and os.access(SYSTEM_RPM, os.X_OK) \
        and os.access(SYSTEM_DNF, os.X_OK)


def rpm_argv(lab_dir: Path, *args: str) -> list[str]:
    """The machine's rpm on the host's package root."""
    return [SYSTEM_RPM, "--root", str(root(lab_dir)), "--dbpath", DBPATH, *args]


def dnf_argv(lab_dir: Path, *args: str) -> list[str]:
    """The machine's dnf on the host's package root, as an EL9 host's (its release version, its dnf.conf)."""
    return [SYSTEM_DNF, f"--installroot={root(lab_dir)}", "--releasever=9", *args]


def dnf_environment(lab_dir: Path, environ: dict[str, str]) -> dict[str, str]:
    """libdnf reads rpm's macros again itself: the RPM database's place can only come from ~/.rpmmacros."""
    return {**environ, "HOME": str(lab_dir / RPM_HOME)}


def as_root(argv: list[str]) -> list[str]:
    """``argv`` run as root: directly when the account is root, else in a user namespace where it is."""
    return argv if os.geteuid() == 0 else ["unshare", "--map-root-user", "--", *argv]


def version_of(lab_dir: Path, name: str) -> str | None:
    """The installed version of ``name`` in the host's RPM database (None: not installed)."""
    result = subprocess.run(rpm_argv(lab_dir, "-q", "--qf", "%{VERSION}", name), capture_output=True, text=True,
                            check=False)
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else None


def install_release_packages(lab_dir: Path, release: str) -> bool:
    """The release's packages installed into the host's RPM database, unless the client already is (a
    second install leaves the packages as they are). True when it installed them."""
    if not real(lab_dir) or version_of(lab_dir, CLIENT) is not None:
        return False
    repo = lab_dir / CURRENT_REPO
    files = [str(repo / f"{name}-{version}.noarch.rpm") for name, version in installed_versions(release).items()]
    result = subprocess.run(as_root(rpm_argv(lab_dir, "-i", "--nodeps", *files)), capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"rpm -i of the release's packages failed: {(result.stderr or result.stdout).strip()}")
    return True


def update_command(packages: tuple[str, ...] = UNDERCLOUD_EXTRA_PACKAGES) -> list[str]:
    """What tripleoclient's 'undercloud upgrade' runs first (``_update_extra_packages``)."""
    return ["sudo", "dnf", "upgrade", "-y", *packages]


def make_root(lab_dir: Path, release: str) -> None:
    """The host's package root: EL9's dnf.conf, an empty RPM database's directory, and the release's
    repository as its delorean.repo (``DIR/packages/current``, which lab/rpms.py fills)."""
    base = root(lab_dir)
    shutil.rmtree(base, ignore_errors=True)
    (base / "etc/yum.repos.d").mkdir(parents=True)
    (base / "etc/dnf").mkdir(parents=True)
    (base / "etc/dnf/dnf.conf").write_text(DNF_CONF)
    (base / DBPATH.lstrip("/")).mkdir(parents=True)
    (base / "etc/yum.repos.d/delorean.repo").write_text(
        f"[delorean]\nname=delorean-{release}-current (the rdoflow lab's release repository)\n"
        f"baseurl=file://{lab_dir / CURRENT_REPO}\nenabled=1\ngpgcheck=0\npriority=1\n")
    home = lab_dir / RPM_HOME
    home.mkdir(parents=True, exist_ok=True)
    (home / ".rpmmacros").write_text(f"%_dbpath {DBPATH}\n")
