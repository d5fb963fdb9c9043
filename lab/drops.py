"""The lab's pre-release drops, published as a DLRN builder publishes its builds to RDO's trunk server.

``publish_drop`` builds each package asked for as real (empty, noarch) RPMs with rpmbuild, stages them with
their ``commit.yaml`` where the lab's web server serves them, and has the lab's DLRN import them
(``POST /api/remote/import``, what ``dlrnapi commit-import`` sends). DLRN's own post-build then makes the
build's repository: createrepo_c's metadata, ``delorean.repo`` (its baseurl is the build's directory),
``versions.csv`` (one row per package of the lab's rdoinfo, its last successful build) and
``commit.yaml``. The lab adds ``delorean.repo.md5`` beside them (DLRN writes one only for aggregates; RDO's
trunk serves one for every link), then promotes the drop's build to the link (``current-passed-ci``) with
DLRN's ``POST /api/promote``, which records the promotion and moves the link.

The first drop also builds, at its catalogue version, every package of the lab not built yet, so that each
drop's versions.csv lists them all; later drops rebuild only what they are given.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from rdoflow.errors import ConfigError, RdoflowError

from .dlrn_service import CATALOGUE, PACKAGE_CONFIGS, DlrnEndpoint, LabPackage

LEDGER = "drops.json"
DIST = "el9"
RPM_VERSION = re.compile(r"[0-9][0-9A-Za-z.+~^]*")
GIT_HASH = re.compile(r"[0-9a-f]{40}")


class DropPublishFailed(RdoflowError):
    reference = "lab-drop-failed"


@dataclass(frozen=True)
class PackageBuild:
    """A package's new build: its version and, when the caller chooses them, its source and distgit commits."""

    version: str
    commit_hash: str | None = None
    distro_hash: str | None = None


@dataclass(frozen=True)
class PublishedDrop:
    """A drop the lab published: the build the link now points at, and what it holds."""

    base_url: str  # DLRN's base URL: read_drop(base_url, link) reads the drop
    link: str
    full_hash: str
    commit_hash: str
    distro_hash: str
    repo_url: str  # the build's directory (delorean.repo's baseurl)
    path: Path
    built: int  # dt_build, seconds since the epoch
    changed: tuple[str, ...]  # the packages built for this drop, in order (the last one is the drop's build)
    nvrs: dict[str, str] = field(default_factory=dict)  # every package's source NVR in versions.csv

    @property
    def link_url(self) -> str:
        return f"{self.base_url}/{self.link}"


@dataclass
class _Build:
    package: LabPackage
    version: str
    commit_hash: str
    distro_hash: str
    built: int

    @property
    def release(self) -> str:
        """DLRN's release numbering (0.date.hash): 0.<build time>.<short source commit>.el9."""
        return f"0.{time.strftime('%Y%m%d%H%M%S', time.gmtime(self.built))}.{self.commit_hash[:7]}.{DIST}"

    @property
    def nvr(self) -> str:
        return f"{self.package.name}-{self.version}-{self.release}"

    @property
    def directory(self) -> str:
        """DLRN's sharded path of the build (a component's build sits under component/NAME/)."""
        c = self.commit_hash
        return f"component/{self.package.component}/{c[:2]}/{c[2:4]}/{c}_{self.distro_hash[:8]}"


def publish_drop(dlrn: DlrnEndpoint, packages: Mapping[str, str | PackageBuild] | None = None, *,
                 link: str = "current-passed-ci", timeout: float = 120) -> PublishedDrop:
    """Build ``packages`` (name -> version, or a PackageBuild), import them into the lab's DLRN and point
    ``link`` at the last one; return the drop. Names are the lab's source packages (``CATALOGUE``)."""
    with _locked(dlrn.root / f"{LEDGER}.lock"):
        ledger = _load(dlrn.root / LEDGER)
        builds = _plan(ledger, dict(packages or {}))
        with httpx.Client(auth=(dlrn.username, dlrn.password), timeout=timeout) as client:
            for build in builds:
                _import(client, dlrn, build)
                ledger["built"][build.package.name] = build.nvr
                ledger["clock"] = build.built
                _save(dlrn.root / LEDGER, ledger)
            last = builds[-1]
            _call(client, dlrn, "/api/promote", {"commit_hash": last.commit_hash, "distro_hash": last.distro_hash,
                                                 "promote_name": link}, what=f"promoting {last.nvr} to {link}")
    return PublishedDrop(base_url=dlrn.repos_url, link=link, full_hash=f"{last.commit_hash}_{last.distro_hash[:8]}",
                         commit_hash=last.commit_hash, distro_hash=last.distro_hash,
                         repo_url=f"{dlrn.repos_url}/{last.directory}", path=dlrn.data / "repos" / last.directory,
                         built=last.built, changed=tuple(b.package.name for b in builds), nvrs=dict(ledger["built"]))


def _plan(ledger: dict, asked: dict[str, str | PackageBuild]) -> list[_Build]:
    """The builds of this drop: on the first, the packages never built at their catalogue version; then those
    asked for, each a second later than the one before (DLRN skips a build no newer than the last one)."""
    problems = []
    wanted: list[tuple[LabPackage, PackageBuild]] = []
    for name, value in asked.items():
        build = PackageBuild(value) if isinstance(value, str) else value
        if name not in CATALOGUE:
            problems.append(f"packages: {name!r} is not a package of the lab; expected one of {', '.join(CATALOGUE)}")
            continue
        if not RPM_VERSION.fullmatch(build.version):
            problems.append(f"packages.{name}: version {build.version!r} is not an RPM version (e.g. 21.4.1)")
        for label, value_ in (("commit_hash", build.commit_hash), ("distro_hash", build.distro_hash)):
            if value_ is not None and not GIT_HASH.fullmatch(value_):
                problems.append(f"packages.{name}.{label}: {value_!r} is not a 40-character lowercase git hash")
        wanted.append((CATALOGUE[name], build))
    if not wanted and ledger["built"]:
        problems.append("packages: name at least one package to build (a drop is a new build)")
    if problems:
        raise ConfigError("publish_drop", problems)
    first = [(p, PackageBuild(p.version)) for name, p in CATALOGUE.items()
             if name not in ledger["built"] and name not in asked]
    clock = max(int(time.time()) - 1, ledger["clock"])
    builds = []
    for package, build in first + wanted:
        clock += 1
        seed = f"{package.name} {build.version} {clock}"
        builds.append(_Build(package, build.version,
                             build.commit_hash or hashlib.sha1(f"{seed} source".encode()).hexdigest(),
                             build.distro_hash or hashlib.sha1(f"{seed} distgit".encode()).hexdigest(), clock))
    return builds


def _import(client: httpx.Client, dlrn: DlrnEndpoint, build: _Build) -> None:
    """Stage the build's RPMs and commit.yaml where the web server serves them; DLRN imports them."""
    staging = dlrn.data / "builder" / build.directory.replace("/", "-")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        rpms = _rpmbuild(dlrn.root / "rpmbuild", build, staging)
        (staging / "commit.yaml").write_text(yaml.safe_dump({"commits": [_commit(build, rpms)]}, sort_keys=True))
        served = f"{dlrn.repos_url.rsplit('/', 1)[0]}/builder/{staging.name}"
        _call(client, dlrn, "/api/remote/import", {"repo_url": served}, what=f"importing {build.nvr}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    repo = dlrn.data / "repos" / build.directory
    if not (repo / "versions.csv").exists():
        raise DropPublishFailed(f"DLRN imported {build.nvr} but wrote no versions.csv in {repo}",
                                evidence=_tail(dlrn.root / "dlrn-api.log"))
    digest = hashlib.md5((repo / "delorean.repo").read_bytes()).hexdigest()
    (repo / "delorean.repo.md5").write_text(digest)


def _commit(build: _Build, rpms: list[str]) -> dict[str, str]:
    """The build as DLRN exports it in commit.yaml (every value a string)."""
    return {"commit_hash": build.commit_hash, "distro_hash": build.distro_hash, "extended_hash": "None",
            "commit_branch": "master", "component": build.package.component, "project_name": build.package.name,
            "dt_commit": f"{build.built - 60}.0", "dt_distro": str(build.built - 30), "dt_extended": "0",
            "dt_build": str(build.built), "status": "SUCCESS", "notes": "OK", "type": "rpm", "flags": "0",
            "repo_dir": f"/home/dlrn/data/{build.package.name}",
            "distgit_dir": f"/home/dlrn/data/{build.package.name}_distro/",
            "artifacts": ",".join(f"repos/{build.directory}/{rpm}" for rpm in rpms),
            "versions_csv": "None"}


SPEC = """\
Name: {name}
Version: {version}
Release: {release}
Summary: {name}, as the rdoflow lab's drops build it
License: Apache-2.0
URL: {url}
BuildArch: noarch

%description
{name} {version}: a lab build with no files, so that a drop is a real repository.
{subpackages}
"""


def _rpmbuild(topdir: Path, build: _Build, out: Path) -> list[str]:
    """The build's source and binary RPMs (empty noarch packages), moved to ``out``; their file names."""
    package = build.package
    shutil.rmtree(topdir, ignore_errors=True)
    (topdir / "SPECS").mkdir(parents=True)
    sections = "".join(f"\n%package -n {binary}\nSummary: {binary}\n\n%description -n {binary}\n{binary}.\n"
                       for binary in package.binaries if binary != package.name)
    files = "".join(f"\n%files -n {binary}\n" for binary in package.binaries if binary != package.name)
    if package.name in package.binaries:
        files = "\n%files\n" + files
    spec = topdir / "SPECS" / f"{package.name}.spec"
    spec.write_text(SPEC.format(name=package.name, version=build.version, release=build.release,
                                url=PACKAGE_CONFIGS[package.conf]["upstream"] % {"project": package.project},
                                subpackages=sections + files))
    argv = ["rpmbuild", "-ba", "--quiet", "--define", f"_topdir {topdir}", "--define", "dist %{nil}",
            "--define", "_binary_payload w.ufdio", "--define", "_source_payload w.ufdio", str(spec)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise DropPublishFailed(f"rpmbuild of {build.nvr} exited with status {done.returncode}",
                                evidence=(done.stdout + done.stderr).splitlines()[-10:])
    rpms = sorted(topdir.glob("SRPMS/*.src.rpm")) + sorted(topdir.glob("RPMS/noarch/*.rpm"))
    for rpm in rpms:
        shutil.move(rpm, out / rpm.name)
    shutil.rmtree(topdir, ignore_errors=True)
    return [rpm.name for rpm in rpms]


def _call(client: httpx.Client, dlrn: DlrnEndpoint, path: str, body: dict, *, what: str) -> None:
    answer = client.post(f"{dlrn.api_url}{path}", json=body)
    if answer.status_code != 201:
        raise DropPublishFailed(f"the lab's DLRN refused {what}: HTTP {answer.status_code} {answer.text[:300]}",
                                evidence=_tail(dlrn.root / "dlrn-api.log") + _tail(dlrn.root / "dlrn-stdout.log"))


def _load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {"clock": 0, "built": {}}


def _save(path: Path, ledger: dict) -> None:
    path.write_text(json.dumps(ledger, indent=2) + "\n")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One publisher at a time (DLRN's import holds a lock of its own; the ledger is the lab's)."""
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _tail(path: Path, lines: int = 8) -> list[str]:
    if not path.exists():
        return []
    return [f"{path.name}: {line}" for line in path.read_text(errors="replace").splitlines()[-lines:]]
