"""The lab's RPM packages: tiny noarch RPMs built with rpmbuild, and yum repositories of them made with createrepo_c.

A pre-release drop in the lab is a real repository: ``drop_repo(directory, {name: "version-release"})``
writes the RPMs and createrepo_c's ``repodata/`` into ``directory``, and the lab host's real dnf installs
from it (lab/tripleo/packages.py). Each RPM (``name-version-release.noarch.rpm``, holding one small file
``/usr/share/rdoflow-lab/<name>/version``) is built once for its name and version and kept under the
lab's cache (``$RDOFLOW_CACHE/lab-rpms``): a repository is hard links to them plus its metadata.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from rdoflow.errors import ConfigError, RdoflowError

from .tripleo import packages
from .venv import cache_root

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
VERSION_RELEASE = re.compile(r"(?P<version>[A-Za-z0-9._+~^]+)-(?P<release>[A-Za-z0-9._+~^]+)")
TOOLS = {"rpmbuild": "rpm (apt) or rpm-build (dnf)", "createrepo_c": "createrepo-c (apt) or createrepo_c (dnf)"}
HOST_TOOLS = {"rpm": "rpm", "dnf": "dnf (apt: Debian's python3-dnf) or dnf"}
SPEC_HEAD = """\
Name: rdoflow-lab-packages
Version: 1
Release: 1
Summary: Packages of the rdoflow lab
License: Apache-2.0
BuildArch: noarch

%description
Stand-ins for the packages of an undercloud, built by the rdoflow lab.
"""
SUBPACKAGE = """
%package -n {name}
Version: {version}
Release: {release}
Summary: The rdoflow lab's {name}

%description -n {name}
A stand-in for {name}, built by the rdoflow lab: it holds its own version.

%files -n {name}
/usr/share/rdoflow-lab/{name}
"""


class RpmToolMissing(RdoflowError):
    reference = "rpm-tool-missing"


def missing_tools(tools: Mapping[str, str] = TOOLS) -> list[str]:
    """The tools of ``tools`` this machine lacks, each with the package that brings it."""
    return [f"{tool} (package {package})" for tool, package in tools.items() if shutil.which(tool) is None]


def rpm_name(name: str, version_release: str) -> str:
    return f"{name}-{version_release}.noarch.rpm"


def _checked(versions: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    problems, checked = [], {}
    for name, version_release in versions.items():
        match = VERSION_RELEASE.fullmatch(str(version_release))
        if not NAME.fullmatch(str(name)):
            problems.append(f"versions: {name!r} is not an RPM package name (letters, digits, '._+-')")
        elif match is None:
            problems.append(f"versions.{name}: {version_release!r} is not VERSION-RELEASE, e.g. 20.0.1-1.el9")
        else:
            checked[name] = (match["version"], match["release"])
    if problems or not checked:
        raise ConfigError("versions", problems or ["versions: no package given; expected {name: version-release}"])
    return checked


def built_rpms(versions: Mapping[str, str]) -> dict[str, Path]:
    """``{name: cached RPM}``, building in one rpmbuild run the ones the cache does not have yet."""
    checked = _checked(versions)
    cache = cache_root() / "lab-rpms"
    cache.mkdir(parents=True, exist_ok=True)
    wanted = {name: cache / rpm_name(name, f"{version}-{release}") for name, (version, release) in checked.items()}
    missing = {name: checked[name] for name, path in wanted.items() if not path.exists()}
    if missing:
        with open(cache / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another lab building the same RPMs: wait for it
            missing = {name: checked[name] for name, path in wanted.items() if not path.exists()}
            if missing:
                _build(missing, cache)
    return wanted


def _build(packages_: dict[str, tuple[str, str]], cache: Path) -> None:
    if missing := missing_tools():
        raise RpmToolMissing(f"cannot build the lab's RPMs: no {', '.join(missing)} on this machine",
                             hint="install them (./rdo setup does), then try again")
    spec = SPEC_HEAD + "".join(SUBPACKAGE.format(name=name, version=version, release=release)
                               for name, (version, release) in packages_.items())
    spec += "\n%install\n" + "".join(
        f"mkdir -p %{{buildroot}}/usr/share/rdoflow-lab/{name}\n"
        f"echo {name}-{version}-{release} > %{{buildroot}}/usr/share/rdoflow-lab/{name}/version\n"
        for name, (version, release) in packages_.items())
    with tempfile.TemporaryDirectory(prefix="rdoflow-rpmbuild-") as scratch:
        top = Path(scratch)
        (top / "lab.spec").write_text(spec)
        argv = ["rpmbuild", "-bb", "--quiet", "--define", f"_topdir {top}", "--define", f"_rpmdir {top}/out",
                "--define", "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm",
                "--define", "_build_id_links none", str(top / "lab.spec")]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RpmToolMissing("rpmbuild could not build the lab's RPMs",
                                 evidence=(result.stderr or result.stdout).splitlines()[-10:])
        for built in (top / "out").iterdir():
            staging = cache / f".{built.name}.partial"
            shutil.copyfile(built, staging)
            staging.replace(cache / built.name)


def drop_repo(directory: Path, versions: Mapping[str, str]) -> Path:
    """A yum repository in ``directory`` with one RPM per ``{name: "version-release"}`` (noarch), and its
    repodata (createrepo_c); RPMs already in ``directory`` stay in the repository. Returns ``directory``."""
    return _repository(directory, built_rpms(versions).values())


def _repository(directory: Path, rpms: Iterable[Path]) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for cached in rpms:
        target = directory / cached.name
        if not target.exists():
            try:
                os.link(cached, target)
            except OSError:  # another file system than the cache's
                shutil.copyfile(cached, target)
    result = subprocess.run(["createrepo_c", "--quiet", str(directory)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RpmToolMissing(f"createrepo_c failed on {directory}",
                             evidence=(result.stderr or result.stdout).splitlines()[-10:])
    return directory


def install_package_root(lab_dir: Path, release: str, *, say=print) -> bool:
    """The lab host's package root and its release repository (lab/tripleo/packages.py); False (and said
    why) when this machine cannot build RPMs or run rpm and dnf: the host's rpm then answers from the record."""
    if missing := missing_tools({**TOOLS, **HOST_TOOLS}):
        say(f"lab: no {', '.join(missing)} here: the host's packages are not real "
            "(rpm -q python3-tripleoclient answers from the lab's record; no drop can be applied)")
        return False
    repo = lab_dir / packages.CURRENT_REPO
    shutil.rmtree(repo, ignore_errors=True)
    installed, updated = packages.installed_versions(release), packages.updated_versions(release)
    _repository(repo, [*built_rpms(installed).values(), *built_rpms(updated).values()])
    packages.make_root(lab_dir, release)
    return True
