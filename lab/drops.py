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

Each package has a distgit of its own, a real git repository served over loopback by the same web server
(``/distgits/<project>-distgit.git``, git's dumb HTTP: ``git update-server-info`` after each commit), which the
lab's rdoinfo names, so versions.csv's Dist Repo is fetchable. A build commits its spec there (Name, Version,
License, URL, Source0, BuildRequires, its binary packages) and is built from that spec: its Dist Sha is that
commit. Its Source0 tarball is served under ``/sources/`` (the lab's source mirror, for a review). A build may
change the spec's tags (``PackageBuild(..., tags={"License": "ASL 2.0"})``), so that a drop can flip a
review's check.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import re
import shutil
import subprocess
import tarfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from rdoflow.errors import ConfigError, RdoflowError

from .dlrn_service import (
    CATALOGUE,
    DISTGITS,
    PACKAGE_CONFIGS,
    SOURCES,
    DlrnEndpoint,
    LabPackage,
)
from .process import tail_lines

LEDGER = "drops.json"
DIST = "el9"
RPM_VERSION = re.compile(r"[0-9][0-9A-Za-z.+~^]*")
GIT_HASH = re.compile(r"[0-9a-f]{40}")
SPEC_TAG = re.compile(r"[A-Z][A-Za-z]*[0-9]*")
DEFAULT_LICENSE = "Apache-2.0"
GIT_IDENTITY = ["-c", "user.name=rdoflow lab", "-c", "user.email=lab@rdoflow.invalid", "-c", "init.defaultBranch=rpm-master"]


class DropPublishFailed(RdoflowError):
    reference = "lab-drop-failed"


@dataclass(frozen=True)
class PackageBuild:
    """A package's new build: its version and, when the caller chooses them, its source and distgit commits
    (a chosen distgit commit is what DLRN records; the spec is still committed to the lab's distgit), and the
    spec's tags this build changes or adds (``{"License": "ASL 2.0"}``)."""

    version: str
    commit_hash: str | None = None
    distro_hash: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


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
    distro_hash: str | None  # None: the commit of the spec in the lab's distgit (set by publish_drop)
    built: int
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def release_base(self) -> str:
        """DLRN's release numbering (0.date.hash) before the dist tag: 0.<build time>.<short source commit>."""
        return f"0.{time.strftime('%Y%m%d%H%M%S', time.gmtime(self.built))}.{self.commit_hash[:7]}"

    @property
    def release(self) -> str:
        return f"{self.release_base}.{DIST}"

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
                spec = _spec(build)
                _tarball(dlrn.data / SOURCES, build)
                committed = commit_distgit(dlrn, build.package, spec, f"{build.package.name} {build.version}")
                build.distro_hash = build.distro_hash or committed
                _import(client, dlrn, build, spec)
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
        for tag, text in build.tags.items():
            if not SPEC_TAG.fullmatch(tag) or not text or "\n" in text or "%" in text:
                problems.append(f"packages.{name}.tags.{tag}: expected a spec tag (License, Summary...) and a "
                                "one-line value without macros")
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
                             build.distro_hash, clock, dict(build.tags)))
    return builds


def _import(client: httpx.Client, dlrn: DlrnEndpoint, build: _Build, spec: str) -> None:
    """Stage the build's RPMs and commit.yaml where the web server serves them; DLRN imports them."""
    staging = dlrn.data / "builder" / build.directory.replace("/", "-")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        rpms = _rpmbuild(dlrn.root / "rpmbuild", build, spec, dlrn.data / SOURCES / _tarball_name(build), staging)
        (staging / "commit.yaml").write_text(yaml.safe_dump({"commits": [_commit(build, rpms)]}, sort_keys=True))
        served = f"{dlrn.repos_url.rsplit('/', 1)[0]}/builder/{staging.name}"
        _call(client, dlrn, "/api/remote/import", {"repo_url": served}, what=f"importing {build.nvr}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    repo = dlrn.data / "repos" / build.directory
    if not (repo / "versions.csv").exists():
        raise DropPublishFailed(f"DLRN imported {build.nvr} but wrote no versions.csv in {repo}",
                                evidence=tail_lines(dlrn.root / "dlrn-api.log", lines=8))
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
Name:           {name}
Version:        {version}
Release:        {release}%{{?dist}}
Summary:        {summary}
License:        {license}
URL:            {url}
Source0:        {source0}
BuildArch:      noarch

BuildRequires:  git-core
{tags}
%description
A build of the rdoflow lab's drops: its binary packages hold the license file.

%prep
%setup -q -n {tarball_dir}

%build

%install
{subpackages}
%changelog
"""


def _upstream(package: LabPackage) -> str:
    return PACKAGE_CONFIGS[package.conf]["upstream"] % {"project": package.project}


def _tarball_dir(build: _Build) -> str:
    return f"{_upstream(build.package).rsplit('/', 1)[-1]}-{build.version}"


def _tarball_name(build: _Build) -> str:
    return f"{_tarball_dir(build)}.tar.gz"


def _spec(build: _Build) -> str:
    """The build's spec, as committed to its distgit and built: tags the build names replace the lab's."""
    package = build.package
    upstream = _upstream(package)
    defaults = {"Summary": f"{package.name}, as the rdoflow lab builds it", "License": DEFAULT_LICENSE}
    tags = {**defaults, **build.tags}
    extra = "".join(f"{tag}: {text}\n" for tag, text in build.tags.items() if tag not in defaults)
    sections = "".join(f"\n%package -n {binary}\nSummary: {binary}\n\n%description -n {binary}\n{binary}.\n"
                       for binary in package.binaries if binary != package.name)
    files = "".join(f"\n%files -n {binary}\n%license LICENSE\n" for binary in package.binaries
                    if binary != package.name)
    if package.name in package.binaries:
        files = "\n%files\n%license LICENSE\n" + files
    return SPEC.format(name=package.name, version=build.version, release=build.release_base, summary=tags["Summary"],
                       license=tags["License"], url=upstream, tags=extra, tarball_dir=_tarball_dir(build),
                       source0=f"https://tarballs.opendev.org/openstack/{upstream.rsplit('/', 1)[-1]}/"
                               f"{_tarball_name(build)}",
                       subpackages=sections + files)


def _tarball(sources: Path, build: _Build) -> Path:
    """The build's Source0 (its LICENSE and a PKG-INFO), made once per name and version (a tarball never
    changes once served: a review compares it with the mirror's)."""
    path = sources / _tarball_name(build)
    if path.exists():
        return path
    sources.mkdir(parents=True, exist_ok=True)
    files = {"LICENSE": "Apache License, Version 2.0\n",
             "PKG-INFO": f"Metadata-Version: 2.1\nName: {_tarball_dir(build).rsplit('-', 1)[0]}\n"
                         f"Version: {build.version}\nLicense: Apache-2.0\n"}
    partial = path.with_suffix(".partial")
    with tarfile.open(partial, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{_tarball_dir(build)}/{name}")
            info.size, info.mtime, info.mode = len(data), build.built, 0o644
            tar.addfile(info, io.BytesIO(data))
    partial.rename(path)
    return path


def distgit_path(dlrn: DlrnEndpoint, package: LabPackage) -> Path:
    """The package's distgit as served (a bare repository), under DLRN's data directory."""
    return dlrn.data / DISTGITS / f"{package.project}-distgit.git"


def commit_distgit(dlrn: DlrnEndpoint, package: LabPackage, spec: str, message: str) -> str:
    """Commit ``spec`` as ``<name>.spec`` to the package's distgit (branch rpm-master, as RDO's) and publish it
    for git's dumb HTTP; return the commit's hash."""
    work = dlrn.root / "distgit-work" / package.project
    bare = distgit_path(dlrn, package)
    if not (work / ".git").exists():
        work.mkdir(parents=True, exist_ok=True)
        _git(work, "init", "-q")
        _git(bare.parent, "init", "-q", "--bare", bare.name)
    (work / f"{package.name}.spec").write_text(spec)
    _git(work, "add", f"{package.name}.spec")
    _git(work, "commit", "-q", "--allow-empty", "-m", message)
    _git(work, "push", "-q", str(bare), "HEAD:refs/heads/rpm-master")
    _git(bare, "symbolic-ref", "HEAD", "refs/heads/rpm-master")
    _git(bare, "update-server-info")
    return _git(work, "rev-parse", "HEAD").strip()


def _git(cwd: Path, *args: str) -> str:
    cwd.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["git", *GIT_IDENTITY, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise DropPublishFailed(f"git {args[0]} in {cwd} exited with status {done.returncode}",
                                evidence=(done.stdout + done.stderr).splitlines()[-8:])
    return done.stdout


def _rpmbuild(topdir: Path, build: _Build, spec_text: str, tarball: Path, out: Path) -> list[str]:
    """The build's source and binary RPMs (noarch packages holding the license file), built from its distgit's
    spec and moved to ``out``; their file names."""
    shutil.rmtree(topdir, ignore_errors=True)
    (topdir / "SPECS").mkdir(parents=True)
    (topdir / "SOURCES").mkdir()
    shutil.copy(tarball, topdir / "SOURCES" / tarball.name)
    spec = topdir / "SPECS" / f"{build.package.name}.spec"
    spec.write_text(spec_text)
    argv = ["rpmbuild", "-ba", "--quiet", "--nodeps", "--define", f"_topdir {topdir}", "--define", f"dist .{DIST}",
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
                                evidence=tail_lines(dlrn.root / "dlrn-api.log", dlrn.root / "dlrn-stdout.log", lines=8))


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

