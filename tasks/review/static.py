"""The built-in static review: what can be decided from the spec, the SRPM and the tarball, on any host.

Every step where rpm parses the spec (facts, ``rpmbuild -bs``, rpmlint) runs in the sandbox of
tasks/review/sandbox.py with the project's macros file as ``~/.rpmmacros``; the tarball is only read
(tarfile, never extracted over links) and its files scanned by licensecheck in the sandbox.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from rdoflow.errors import ConfigError
from rdoflow.tasks.review.checks import (
    SpecFacts,
    Tarball,
    UpstreamComparison,
    check_rpmlint,
    evaluate,
)
from rdoflow.tasks.review.model import PackageReview, ReviewItem, lint_messages
from rdoflow.tasks.review.sandbox import (
    check_sandbox,
    require_tools,
    rpmlint_command,
    run_sandboxed,
)
from rdoflow.tasks.review.sources import (
    MACROS,
    RPMLINT_CONFIG,
    PackageSource,
    ReviewSettings,
    download,
)

SPECFACTS = Path(__file__).resolve().parent / "specfacts.py"
_DLRN_TEMPLATE = re.compile(r"^Version:\s*XXX\s*$", re.M)
BINARY_SUFFIXES = (".so", ".jar", ".whl", ".pyc", ".pyo", ".exe", ".dll", ".class", ".egg", ".a", ".o")


@dataclass
class Workspace:
    """One package's directories, laid out as rpmbuild's _topdir; the sandbox's only writable place."""

    root: Path
    spec: Path = field(init=False)

    @property
    def sources(self) -> Path:
        return self.root / "SOURCES"

    @property
    def srpms(self) -> Path:
        return self.root / "SRPMS"


def _layout(source: PackageSource) -> Workspace:
    space = Workspace(source.path.parent.parent / "work")
    for sub in ("SPECS", "SOURCES", "SRPMS"):
        (space.root / sub).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MACROS, space.root / ".rpmmacros")
    if source.kind == "distgit":
        for item in source.path.iterdir():
            if item.is_file() and item.suffix != ".spec":
                shutil.copyfile(item, space.sources / item.name)
        spec = next(source.path.glob("*.spec"))
    elif source.kind == "srpm":
        shutil.copyfile(source.path, space.srpms / source.path.name)
        unpack = 'cd SOURCES && rpm2cpio "$1" | cpio -idm --quiet --no-absolute-filenames --no-preserve-owner'
        unpacked = run_sandboxed(["sh", "-c", unpack, "sh", str(space.srpms / source.path.name)], space.root,
                                 timeout=120)
        specs = sorted(space.sources.glob("*.spec"))
        if unpacked.exit_status != 0 or len(specs) != 1:
            raise ConfigError(source.ref, [f"{source.ref}: not a source RPM with one spec file inside",
                                           *unpacked.tail(5)])
        spec = specs[0]
    else:
        spec = source.path
    space.spec = space.root / "SPECS" / spec.name
    space.spec.write_text(spec.read_text(errors="replace"))
    space.spec.chmod(0o644)
    return space


def dlrn_template(text: str, version: str | None) -> str | None:
    """A DLRN template spec (``Version: XXX``) made buildable as DLRN's build_srpm.sh does; None if not one."""
    if not _DLRN_TEMPLATE.search(text):
        return None
    if version is None:
        raise ConfigError("upstream_version", ["a DLRN template spec (Version: XXX) needs the upstream version: "
                                               "give upstream_version, or the tarball beside the spec"])
    text = _DLRN_TEMPLATE.sub(f"Version: {version}", text)
    text = re.sub(r"^Release:\s*XXX\s*$", "Release: 0.1%{?dist}", text, flags=re.M)
    return f"%define upstream_version {version}\n%global dlrn 1\n{text}"


def _tarball_version(sources: Path, name_hint: str) -> str | None:
    for tarball in sorted(sources.glob("*.tar.gz")):
        match = re.match(rf"{re.escape(name_hint)}-(.+)\.tar\.gz$", tarball.name)
        if match:
            return match.group(1)
    return None


def spec_facts(space: Workspace) -> SpecFacts:
    """Parse the spec in the sandbox; SpecFacts.error holds rpm's complaint when it does not parse."""
    ran = run_sandboxed([sys.executable, str(SPECFACTS), str(space.spec), str(space.sources)], space.root,
                        timeout=120, ro_binds=[SPECFACTS])
    try:
        data = json.loads(ran.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        data = {"error": "spec parser crashed or timed out: " + " | ".join(ran.tail(5))}
    stderr = [line for line in ran.stderr.splitlines() if line.startswith(("error:", "warning:"))]
    if "error" in data:  # rpmspec's own words (the line number of an unclosed macro, for one)
        queried = run_sandboxed(["rpmspec", "-q", "--srpm", "--qf", "%{name}\n", str(space.spec)], space.root,
                                timeout=60)
        stderr = [line for line in queried.stderr.splitlines() if line.startswith("error:")] + stderr
    return SpecFacts(data=data, text=space.spec.read_text(errors="replace"),
                     rpm_messages=stderr + data.get("messages", []))


def fetch_sources(facts: SpecFacts, space: Workspace, settings: ReviewSettings) -> list[str]:
    """Bring each Source not given beside the spec into SOURCES; returns the problems met."""
    problems = []
    for source in facts.sources:
        name = Path(urlparse(source["location"]).path).name
        if (space.sources / name).exists():
            continue
        if not _url(source["location"]) or not settings.fetch_sources:
            problems.append(f"Source{source['number']}: {name} not given beside the spec")
            continue
        try:
            _fetch(source["location"], space.sources / name, settings)
        except ConfigError as exc:
            problems.append(f"Source{source['number']}: {exc.message}")
    return problems


def _url(location: str) -> bool:
    """A location to download (http, https; any other scheme is refused by ``download``, saying why)."""
    return bool(urlparse(location).scheme)


def _fetch(location: str, destination: Path, settings: ReviewSettings) -> Path:
    return download(_source_url(location, settings), destination, timeout=settings.fetch_timeout,
                    allow_hosts=settings.allow_hosts, mirror=settings.source_mirror,
                    max_bytes=settings.max_source_bytes)


def _source_url(location: str, settings: ReviewSettings) -> str:
    if settings.source_mirror:
        return settings.source_mirror.rstrip("/") + "/" + Path(urlparse(location).path).name
    return location


def upstream_comparison(facts: SpecFacts, space: Workspace, settings: ReviewSettings,
                        given: set[str]) -> UpstreamComparison | None:
    """Source0 as packaged vs the upstream tarball at its URL (None when there is no Source0 file)."""
    if not facts.sources:
        return None
    location = facts.sources[0]["location"]
    local = space.sources / Path(urlparse(location).path).name
    if not local.exists():
        return None
    packaged = hashlib.sha256(local.read_bytes()).hexdigest()
    if local.name not in given:
        return UpstreamComparison(location, packaged, packaged, "fetched from upstream for this review")
    if not _url(location) or not settings.fetch_sources:
        return UpstreamComparison(location, packaged, None, "upstream not fetched (no URL, or fetching disabled)")
    try:
        upstream = _fetch(location, space.root / "upstream" / local.name, settings)
    except ConfigError as exc:
        return UpstreamComparison(location, packaged, None, exc.message)
    return UpstreamComparison(location, packaged, hashlib.sha256(upstream.read_bytes()).hexdigest(), "")


def scan_tarball(path: Path, space: Workspace) -> Tarball:
    """The tarball's member names, binaries inside it and licensecheck's verdicts (no code is run)."""
    scan = Tarball(path.name)
    try:
        with tarfile.open(path) as archive:
            members = archive.getmembers()
            scan.names = [member.name for member in members]
            for member in members:
                if member.isfile() and (member.name.endswith(BINARY_SUFFIXES) or _is_elf(archive, member)):
                    scan.binaries.append(member.name)
            unpacked = space.root / "unpacked"
            archive.extractall(unpacked, filter="data")
    except (tarfile.TarError, OSError) as exc:
        scan.error = f"{path.name}: cannot read as a tarball: {exc}"
        return scan
    ran = run_sandboxed(["licensecheck", "-r", "--shortname-scheme=spdx", "unpacked"], space.root, timeout=300)
    scan.licenses = sorted({line.rsplit(": ", 1)[-1] for line in ran.stdout.splitlines() if ": " in line})
    return scan


def _is_elf(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bool:
    stream = archive.extractfile(member)
    return stream is not None and stream.read(4) == b"\x7fELF"


def build_srpm(source: PackageSource, settings: ReviewSettings, space: Workspace | None = None):
    """``rpmbuild -bs`` in the sandbox: the SRPM's path, or a failed PackageReview saying why."""
    space = space or prepare(source, settings)[0]
    ran = run_sandboxed(["rpmbuild", "-bs", "--define", f"_topdir {space.root}", str(space.spec)], space.root,
                        timeout=300)
    built = sorted(space.srpms.glob("*.src.rpm"))
    if ran.exit_status != 0 or not built:
        return PackageReview(package=source.ref, backend=settings.backend, sha256=source.sha256,
                             error="rpmbuild -bs failed", items=[ReviewItem(
                                 check="CheckBuildSRPM", text="The SRPM builds with rpmbuild -bs.", status="fail",
                                 evidence=ran.tail(10) or ["rpmbuild timed out"])])
    return built[0]


def prepare(source: PackageSource, settings: ReviewSettings) -> tuple[Workspace, SpecFacts, list[str], set[str]]:
    """Lay out the package, make a DLRN template buildable, parse the spec, fetch the missing Sources."""
    require_tools()
    check_sandbox()
    space = _layout(source)
    given = {path.name for path in space.sources.iterdir()}
    text = space.spec.read_text(errors="replace")
    name_hint = re.search(r"^%global library (\S+)", text, re.M)
    version = settings.upstream_version or _tarball_version(space.sources, name_hint.group(1) if name_hint else "")
    templated = dlrn_template(text, version)
    if templated is not None:
        space.spec.write_text(templated)
    facts = spec_facts(space)
    facts.original_name = space.spec.name  # as given (inside the SRPM for an SRPM), before the rename below
    facts.dlrn_template = templated is not None
    problems = [] if facts.error else fetch_sources(facts, space, settings)
    if facts.name and space.spec.name != f"{facts.name}.spec":
        space.spec = space.spec.rename(space.spec.with_name(f"{facts.name}.spec"))
    return space, facts, problems, given


def static_review(source: PackageSource, settings: ReviewSettings) -> PackageReview:
    """The whole built-in review of one package."""
    space, facts, fetch_problems, given = prepare(source, settings)
    review = PackageReview(package=source.ref, backend="static", sha256=source.sha256, name=facts.name,
                           nevr=facts.nevr, notes=[f"settings fingerprint {settings.fingerprint()[:16]}"])
    if facts.error:
        review.error = f"the spec does not parse: {facts.error}"
        review.items = evaluate(facts, None, None, fetch_problems, built=None)
        return review
    # A given SRPM is linted as copied into the work directory: the sandbox sees nothing else.
    built = space.srpms / source.path.name if source.kind == "srpm" else build_srpm(source, settings, space)
    srpm = built if isinstance(built, Path) else None
    lint_target = str(srpm if srpm else space.spec)
    linted = run_sandboxed([*rpmlint_command(), "-c", str(RPMLINT_CONFIG), lint_target], space.root, timeout=300,
                           ro_binds=[RPMLINT_CONFIG])
    review.lint = lint_messages(linted.stdout)
    tarball_path = _source0(facts, space)
    tarball = scan_tarball(tarball_path, space) if tarball_path else None
    upstream = upstream_comparison(facts, space, settings, given)
    review.items = [*evaluate(facts, tarball, upstream, fetch_problems, built=built), check_rpmlint(linted)]
    if not isinstance(built, Path):
        review.error = built.error
    return review


def _source0(facts: SpecFacts, space: Workspace) -> Path | None:
    if not facts.sources:
        return None
    path = space.sources / Path(urlparse(facts.sources[0]["location"]).path).name
    return path if path.exists() and ".tar" in path.name else None
