"""A drop's packages on the undercloud: the pin of what the host has, the drop's repository installed (the
earlier file kept), the packages updated, and what changed (name, old NVR, new NVR).

The host keeps a marker (``~/.rdoflow/drop-packages.json``) after a successful update: the drop's hash,
the installed set's digest and the repo file's sha256. The host still "runs" the drop while its packages
and repo file are what the marker says: then an earlier run's result is reused (``resumable``).
"""

from __future__ import annotations

import configparser
import fnmatch
import hashlib
import re
import tempfile
import time
from pathlib import Path

import httpx
from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ValidationError

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import DropSite
from rdoflow.errors import (
    ConfigError,
    RdoflowError,
    RemoteCommandFailed,
    ResourceFailed,
    StageTimeout,
)
from rdoflow.outcome import CommandResult, Outcome
from rdoflow.redaction import REDACTED
from rdoflow.tasks.prerelease.dlrn import Drop, DropNotFound, DropServerUnavailable
from rdoflow.tasks.prerelease.model import (
    InstalledChange,
    Package,
    PackagePin,
    PackagesOutcome,
    RepoFile,
)
from rdoflow.tasks.progress import StageProgress
from rdoflow.tasks.resume import STAGE_CACHE_EXPIRATION, digest, resumable
from rdoflow.tasks.retries import TRANSIENT_RETRIES
from rdoflow.tasks.ssh.remote import put, read_remote, run

MARKER = ".rdoflow/drop-packages.json"
DROPS_DIR = ".rdoflow/drops"  # per drop, in the home: its repo file as uploaded and the pin of the host before
PREVIOUS_SUFFIX = ".rdoflow-previous"
QUERY = ["rpm", "-qa", "--qf", "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\n"]
REPO_LIMIT = 64 << 10  # bytes of the drop's repo file read
KEEP_LINES = 100_000  # packages of a host's rpm -qa (an undercloud has about 1,500)
TAIL_LINES = 15
# dnf's transaction lines: "  Upgrading        : python3-tripleoclient-20.0.1-1.el9.noarch     1/4"
_TRANSACTION = re.compile(r"^\s{2}(?P<action>[A-Z][a-z]+(?: [a-z]+)?)\s*: (?P<package>\S+)\s+"
                          r"(?P<done>\d+)/(?P<total>\d+)\s*$")
# dnf's answer when a repository's metadata cannot be fetched, and libcurl's line saying why.
_REPO_FAILED = re.compile(r"^Error: Failed to download metadata for repo '(?P<repo>[^']+)'")
_FETCH_FAILED = re.compile(r"^\s*- (?P<why>Curl error \(\d+\): [^[]+?|Status code: \d+) for (?P<url>\S+)")
_DNF_ERROR = re.compile(r"^Error: (?P<message>.+)$")
# A repository URL's password (https://user:password@host/...), which yum and dnf accept: never recorded.
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^/@:\s]*):[^/@\s]*@", re.IGNORECASE)


def masked(text: str) -> str:
    """``text`` with the password of any URL in it masked."""
    return _URL_PASSWORD.sub(rf"\g<scheme>\g<user>:{REDACTED}@", text)


class PackagesMarker(BaseModel):
    drop: str
    packages_sha256: str
    repo_sha256: str


def parse_packages(text: str) -> list[Package]:
    """``rpm -qa --qf`` lines of QUERY's format; rpm's gpg-pubkey entries (no arch) are not packages."""
    found = []
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) != 5 or fields[4] == "(none)":
            continue
        name, epoch, version, release, arch = fields
        found.append(Package(name=name, epoch=None if epoch in ("(none)", "0", "") else epoch, version=version,
                             release=release, arch=arch))
    return found


def read_packages(host: SSHHost) -> list[Package]:
    result = run(host, QUERY, timeout=600, log_output=False, keep_lines=KEEP_LINES)
    if result.dropped_lines:
        raise ResourceFailed(f"rpm -qa on {host.address} listed more than {KEEP_LINES} packages; rdoflow reads at "
                             "most that many", hint="check what the host's RPM database holds")
    return parse_packages(result.stdout)


def repo_baseurls(text: str, source: str) -> list[str]:
    """The baseurl of each enabled section of a repo file; ConfigError when it is not one."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text, source=source)
    except configparser.Error as exc:
        raise ConfigError(source, [f"{source}: not a yum repository file: {str(exc).splitlines()[0]}"]) from None
    return [masked(parser.get(section, "baseurl").split()[0]) for section in parser.sections()
            if parser.has_option(section, "baseurl") and parser.get(section, "baseurl").strip()
            and parser.get(section, "enabled", fallback="1").strip() not in ("0", "false", "False", "no")]


def read_repos(host: SSHHost, repos_dir: str) -> list[RepoFile]:
    """The host's ``*.repo`` files in ``repos_dir``: name, sha256, baseurls (none when it does not parse)."""
    listing = run(host, ["ls", "-1", "--", repos_dir], timeout=60, check=False, log_output=False)
    repos = []
    for name in sorted(line for line in listing.stdout.splitlines() if line.endswith(".repo")):
        raw = read_remote(host, f"{repos_dir}/{name}")
        if raw is None:
            continue
        try:
            urls = repo_baseurls(raw.decode(errors="replace"), f"{repos_dir}/{name}")
        except ConfigError:
            urls = []
        repos.append(RepoFile(name=name, sha256=hashlib.sha256(raw).hexdigest(), baseurls=urls))
    return repos


def pin(host: SSHHost, site: DropSite) -> PackagePin:
    """What the host has installed, and its repository files."""
    return PackagePin(packages=read_packages(host), repos=read_repos(host, site.repos_dir))


def changes(before: list[Package], after: list[Package], patterns: list[str]) -> list[InstalledChange]:
    """Packages whose installed versions differ, by name (and arch): old and new NVRs; only those matching
    ``patterns`` when there are any."""
    def by_name(packages: list[Package]) -> dict[str, str]:
        grouped: dict[str, list[str]] = {}
        for package in packages:
            grouped.setdefault(package.name if package.arch == "noarch" else f"{package.name}.{package.arch}",
                               []).append(package.nvr)
        return {name: ", ".join(sorted(nvrs)) for name, nvrs in grouped.items()}

    old, new = by_name(before), by_name(after)
    found = [InstalledChange(name=name, old=old.get(name), new=new.get(name)) for name in sorted(old.keys() | new.keys())
             if old.get(name) != new.get(name)]
    if patterns:
        found = [change for change in found if any(fnmatch.fnmatchcase(change.name, p) for p in patterns)]
    return found


def fetch_repo_file(drop: Drop, *, timeout: float = 30) -> str:
    """The drop's delorean.repo as DLRN publishes it beside commit.yaml; its first baseurl must be the one
    read with the drop (otherwise the link moved meanwhile)."""
    url = f"{drop.base_url.rstrip('/')}/{drop.link.strip('/')}/delorean.repo"
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client, client.stream("GET", url) as answer:
            if answer.status_code >= 500:
                raise DropServerUnavailable(f"{url}: HTTP {answer.status_code}")
            if answer.status_code >= 400:
                raise DropNotFound(f"{url}: HTTP {answer.status_code}",
                                   hint="a drop to apply must publish its delorean.repo (DLRN writes it beside "
                                        "commit.yaml)")
            body = b""
            for chunk in answer.iter_bytes():
                body += chunk
                if len(body) > REPO_LIMIT:
                    raise ConfigError(url, [f"{url}: larger than {REPO_LIMIT} bytes; a delorean.repo is a few lines"])
    except httpx.TransportError as exc:
        raise DropServerUnavailable(f"{url}: {type(exc).__name__}: {exc}") from exc
    text = body.decode(errors="replace")
    urls = repo_baseurls(text, url)
    if not urls:
        raise ConfigError(url, [f"{url}: no enabled section with a baseurl; expected DLRN's [delorean] section"])
    if drop.repo_url and urls[0] != masked(drop.repo_url):
        raise DropNotFound(f"{url}: its baseurl {urls[0]} is not the drop's {drop.repo_url}: the link moved "
                           "while the drop was read", hint="run the stage again: it reads the link anew")
    return text


class RepoSwap(BaseModel):
    """What installing the drop's repo file did: whether it replaced the host's file, and where the earlier
    one was kept (None: the host had no file of that name)."""

    replaced: bool
    previous: str | None = None


def install_repo(host: SSHHost, site: DropSite, drop_hash: str, text: str, repos: list[RepoFile]) -> RepoSwap:
    """The drop's repo file as ``repos_dir/repo_file``, the host's earlier file of that name kept beside it
    (``.rdoflow-previous``). A host that already has the drop's file (a retried run) is left as it is, and
    so is the file kept by the run that installed it."""
    staging = f"{DROPS_DIR}/{drop_hash}/{site.repo_file}"
    target = f"{site.repos_dir}/{site.repo_file}"
    run(host, ["mkdir", "-p", "--", str(Path(staging).parent)], timeout=60, log_output=False)
    with tempfile.TemporaryDirectory(prefix="rdoflow-drop-") as scratch:
        local = Path(scratch) / site.repo_file
        local.write_text(text)
        put(host, local, staging, mode=0o644)
    earlier = next((repo for repo in repos if repo.name == site.repo_file), None)
    if earlier is not None and earlier.sha256 == hashlib.sha256(text.encode()).hexdigest():
        return RepoSwap(replaced=False)
    previous = None
    if earlier is not None:
        previous = target + PREVIOUS_SUFFIX
        run(host, ["sudo", "cp", "-p", "--", target, previous], timeout=120)
    run(host, ["sudo", "install", "-m", "0644", "--", staging, target], timeout=120)
    return RepoSwap(replaced=True, previous=previous)


def restore_repo(host: SSHHost, site: DropSite, swap: RepoSwap) -> None:
    """The host's repo file as it was before the drop's (removed when there was none)."""
    if not swap.replaced:
        return
    target = f"{site.repos_dir}/{site.repo_file}"
    argv = ["sudo", "cp", "-p", "--", swap.previous, target] if swap.previous else ["sudo", "rm", "-f", "--", target]
    run(host, argv, timeout=120, check=False)


class PackageLog:
    """An update command's output as it streams: dnf's transaction counted for progress."""

    def __init__(self, progress: StageProgress):
        self.progress = progress

    def line(self, stream: str, line: str) -> None:
        found = _TRANSACTION.match(line)
        if found:
            self.progress.update(int(found["done"]), total=int(found["total"]),
                                 note=f"{found['action']} {found['package']}"[:80])


def update_failed(command: CommandResult, previous_kept: bool) -> RdoflowError:
    """Why an update command failed: the repository it could not reach (named by URL), dnf's own error,
    or its exit; with the output's tail as evidence."""
    lines = command.stderr.splitlines() + command.stdout.splitlines()
    tail = [masked(line) for line in command.tail(TAIL_LINES)]
    put_back = "; the host's previous repo file was put back" if previous_kept else ""
    if command.status == Outcome.TIMEOUT:
        return StageTimeout(f"{command.command} did not finish within {command.duration:.0f} s and was stopped",
                            evidence=tail,
                            hint=f"raise drop.timeout in the site config if the host is only slow{put_back}")
    repo = next((m["repo"] for line in lines if (m := _REPO_FAILED.match(line))), None)
    fetch = next((m for line in lines if (m := _FETCH_FAILED.match(line))), None)
    if repo and fetch:
        url = masked(fetch["url"].removesuffix("/repodata/repomd.xml"))
        return RemoteCommandFailed(
            f"{command.command} could not reach the repository '{repo}' at {url}: {fetch['why'].strip()}",
            evidence=tail,
            hint=f"check that {url} is served and that the undercloud can reach it (proxy, DNS, firewall), then "
                 f"run the stage again{put_back}")
    error = next((m["message"] for line in lines if (m := _DNF_ERROR.match(line.strip()))), None)
    why = f"exit status {command.exit_status}" if command.exit_status is not None else "a signal"
    return RemoteCommandFailed(f"{command.command} failed: {masked(error)}" if error else f"{command.command} ended with {why}",
                               evidence=tail,
                               hint=f"read the command's output (the stage's log), fix what it reports, then run "
                                    f"the stage again{put_back}")


def run_updates(host: SSHHost, site: DropSite, progress: StageProgress, previous_kept: bool) -> list[str]:
    """Run the site's update commands in order; the first failure raises its diagnosis."""
    log = PackageLog(progress)
    ran = []
    for argv in site.update_commands:
        result = run(host, argv, timeout=site.timeout, check=False, on_line=log.line)
        ran.append(result.command)
        if result.status != Outcome.PASS:
            raise update_failed(result, previous_kept)
    return ran


def _marker(host: SSHHost) -> PackagesMarker | None:
    raw = read_remote(host, MARKER)
    try:
        return PackagesMarker.model_validate_json(raw) if raw is not None else None
    except ValidationError:
        return None


def write_json(host: SSHHost, remote: str, text: str) -> None:
    run(host, ["mkdir", "-p", "--", str(Path(remote).parent)], timeout=60, log_output=False)
    with tempfile.TemporaryDirectory(prefix="rdoflow-drop-") as scratch:
        local = Path(scratch) / Path(remote).name
        local.write_text(text)
        put(host, local, remote)


def apply_packages(host: SSHHost, drop: Drop, site: DropSite, report_dir: Path | None = None) -> PackagesOutcome:
    """Pin the host, install the drop's repo file, update the packages, and say what changed. A failed
    update puts the host's earlier repo file back and raises its diagnosis."""
    started = time.monotonic()
    before = pin(host, site)
    pin_text = before.model_dump_json(indent=2)
    pin_on_host = f"{DROPS_DIR}/{drop.full_hash}/pin-before.json"
    write_json(host, pin_on_host, pin_text)
    pin_file = None
    if report_dir is not None:
        report_dir.mkdir(parents=True, exist_ok=True)
        pin_file = str(report_dir / f"drop-pin-{drop.full_hash}.json")
        Path(pin_file).write_text(pin_text + "\n")
    text = fetch_repo_file(drop)
    swap = install_repo(host, site, drop.full_hash, text, before.repos)
    progress = StageProgress("drop-packages", f"packages of drop {drop.full_hash} on {host.address}", 1)
    try:
        commands = run_updates(host, site, progress, swap.replaced)
    except RdoflowError:
        restore_repo(host, site, swap)
        raise
    progress.finish()
    after = read_packages(host)
    digest_after = PackagePin(packages=after, repos=[]).digest
    outcome = PackagesOutcome(
        drop=drop.full_hash, repo_url=repo_baseurls(text, site.repo_file)[0],
        repo_path=f"{site.repos_dir}/{site.repo_file}", previous=swap.previous, commands=commands,
        before=len(before.packages), after=len(after), changes=changes(before.packages, after, site.packages),
        packages_sha256=digest_after, seconds=round(time.monotonic() - started, 1), pin_file=pin_file,
        pin_on_host=f"~/{pin_on_host}")
    marker = PackagesMarker(drop=drop.full_hash, packages_sha256=digest_after,
                            repo_sha256=hashlib.sha256(text.encode()).hexdigest())
    write_json(host, MARKER, marker.model_dump_json(indent=2) + "\n")
    return outcome


def runs_drop(host: SSHHost, drop_hash: str, site: DropSite) -> bool:
    """Whether the host still runs what an update to this drop left: the marker names the drop, and the
    installed packages and the repo file are the ones it recorded."""
    marker = _marker(host)
    if marker is None or marker.drop != drop_hash:
        return False
    now = pin(host, site)
    repo = next((r for r in now.repos if r.name == site.repo_file), None)
    return repo is not None and repo.sha256 == marker.repo_sha256 and now.digest == marker.packages_sha256


def _packages_key(context, parameters: dict) -> str:
    site = parameters["site"]
    return "drop-packages-" + digest(parameters["drop"].full_hash, parameters["host"].address,
                                     site.model_dump(exclude={"containers"}))


@task(name="drop-packages", task_run_name="packages of drop {drop.full_hash}", cache_key_fn=_packages_key,
      cache_expiration=STAGE_CACHE_EXPIRATION, persist_result=True, **TRANSIENT_RETRIES)
def drop_packages(host: SSHHost, drop: Drop, site: DropSite, report_dir: Path | None = None) -> PackagesOutcome:
    """``apply_packages`` as a task: retried when the SSH session drops, cached on the drop and the site's
    settings while the host still runs what it left."""
    return apply_packages(host, drop, site, report_dir)


@task(name="observe-drop-packages", task_run_name="does the undercloud run drop {drop_hash}",
      cache_policy=NO_CACHE, **TRANSIENT_RETRIES)
def observe_packages(host: SSHHost, drop_hash: str, site: DropSite) -> bool:
    return runs_drop(host, drop_hash, site)


def packages_stage(host: SSHHost, drop: Drop, site: DropSite, *, report_dir: Path | None,
                   refresh: bool) -> PackagesOutcome:
    """The packages task, its earlier result reused while the host still runs the drop (and no ``refresh``)."""
    settled = observe_packages(host, drop.full_hash, site)
    state = resumable(drop_packages, settled=settled, refresh=refresh)(host, drop, site, report_dir,
                                                                       return_state=True)
    outcome = state.result()
    if state.name == "Cached":
        return outcome.model_copy(update={"cached": True})
    return outcome
