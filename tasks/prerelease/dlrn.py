"""Pre-release drops: which DLRN build a promotion link (current-passed-ci, current-tripleo...) points at.

DLRN publishes each build as a repo under a hash path and promotes hashes to named links; under a
link sit ``commit.yaml`` (the commits of the build), ``delorean.repo`` (the yum repo, its baseurl
ends in the hash path) and ``delorean.repo.md5``. A new drop is a change of the full hash behind the
link; a drop older than the last one seen is a rollback, not a new drop.
"""

from __future__ import annotations

import configparser
import re
from datetime import datetime, timezone
from typing import Literal

import httpx
from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rdoflow.config.yamlsource import parse_yaml, raise_problems, validation_problems
from rdoflow.errors import ConfigError, RdoflowError, TransientError
from rdoflow.tasks.retries import TRANSIENT_RETRIES


class DropNotFound(RdoflowError):
    """The DLRN server answered, but has no such link or file (HTTP 404 and other 4xx)."""

    reference = "drop-not-found"


class DropServerUnavailable(TransientError):
    """The DLRN server did not answer in time, refused the connection, or failed (5xx): try again later."""

    reference = "drop-server-unavailable"


# Every file read from a DLRN server is read no further than this (RDO master's versions.csv: ~0.5 MB).
MAX_FILE_BYTES = 16 << 20
NOT_FOUND_HINT = "check the DLRN base URL and the promotion link name (e.g. current-passed-ci)"

# DLRN's full hash: a git commit hash, then 8 hex digits of the distro hash, and of the extended hash
# for a component build ("commit_distro[_extended]", as in its repo paths).
DLRN_HASH = re.compile(r"[0-9a-f]{7,40}_[0-9a-f]{8}(_[0-9a-f]{8})?")


def check_drop_hash(value: str, source: str = "--drop") -> str:
    """``value`` when it is a DLRN full hash; otherwise ConfigError naming ``source``."""
    if not DLRN_HASH.fullmatch(value):
        raise ConfigError(source, [f"{source}: {value!r} is not a DLRN hash; expected "
                                   "COMMIT_DISTRO[_EXTENDED] in lowercase hex, e.g. 587ffdd6_8170b868"])
    return value


def check_base_url(base_url: str) -> str:
    """``base_url`` when it is an http(s) URL with a host; otherwise ConfigError (bad input, never retried)."""
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host or " " in base_url:
        raise ConfigError("base_url", [f"base_url: {base_url!r} is not an http(s) URL; expected the DLRN "
                                       "server's base, e.g. https://trunk.rdoproject.org/centos9-master"])
    return base_url


class CommitRecord(BaseModel):
    """One entry of commit.yaml's ``commits`` (DLRN writes every value as a string)."""

    model_config = ConfigDict(coerce_numbers_to_str=True, allow_inf_nan=False)  # dt_build '1e999' is no date

    commit_hash: str = Field(min_length=7)
    distro_hash: str = Field(min_length=8)
    extended_hash: str | None = None
    component: str | None = None
    project_name: str
    commit_branch: str | None = None
    dt_build: float

    @field_validator("extended_hash", "component", mode="before")
    @classmethod
    def _none_string(cls, value: object) -> object:
        return None if value in ("None", "") else value


class CommitYaml(BaseModel):
    commits: list[CommitRecord] = Field(min_length=1)


class Component(BaseModel):
    project: str
    component: str | None
    commit_hash: str
    distro_hash: str
    extended_hash: str | None = None  # a vote on the build names it whole (its path has 8 characters of it)
    branch: str | None
    built: datetime


class Drop(BaseModel):
    """A pre-release drop: the build a promotion link points at."""

    base_url: str
    link: str
    full_hash: str = Field(description="<commit_hash>_<distro_hash[:8]>[_<extended_hash[:8]>], as in DLRN's paths.")
    timestamp: datetime = Field(description="When DLRN built it (dt_build of the first commit).")
    components: list[Component]
    repo_url: str | None = Field(None, description="baseurl of delorean.repo's first section.")
    md5: str | None = Field(None, description="delorean.repo.md5, when the server publishes it.")


Change = Literal["first", "unchanged", "new", "rollback"]


def full_hash(commit: CommitRecord) -> str:
    """DLRN's full hash of a build: commit hash, 8 characters of the distro hash, 8 of the extended one."""
    parts = [commit.commit_hash, commit.distro_hash[:8]]
    if commit.extended_hash:
        parts.append(commit.extended_hash[:8])
    return "_".join(parts)


def _get(client: httpx.Client, url: str, *, optional: bool = False,
         max_bytes: int = MAX_FILE_BYTES) -> str | None:
    """The text at ``url``; read no further than ``max_bytes`` (a larger answer is a ConfigError naming it)."""
    try:
        with client.stream("GET", url) as response:
            if response.status_code >= 500:
                raise DropServerUnavailable(f"{url}: HTTP {response.status_code}",
                                            evidence=[_bounded(response, 200, url, refuse=False)])
            if response.status_code >= 400:
                if optional:
                    return None
                raise DropNotFound(f"{url}: HTTP {response.status_code}", hint=NOT_FOUND_HINT)
            return _bounded(response, max_bytes, url, refuse=True)
    except httpx.TimeoutException as exc:
        raise DropServerUnavailable(f"{url}: no answer within {client.timeout.read:g} s",
                                    hint="the DLRN server may be overloaded; the watch tries again") from exc
    except httpx.TransportError as exc:
        raise DropServerUnavailable(f"{url}: {type(exc).__name__}: {exc}") from exc


def _bounded(response: httpx.Response, limit: int, url: str, *, refuse: bool) -> str:
    """At most ``limit`` bytes of the body as text; a longer body is refused (ConfigError), or cut."""
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > limit:
            if refuse:
                raise ConfigError(url, [f"{url}: larger than {limit} bytes; expected a DLRN metadata file"])
            del body[limit:]
            break
    return body.decode(response.encoding or "utf-8", errors="replace")


def parse_commit_yaml(text: str, source: str) -> CommitYaml:
    """commit.yaml as a model; ConfigError names the URL, the field and the line."""
    document = parse_yaml(text, source)
    if not isinstance(document.data, dict):
        raise ConfigError(source, [f"{source}: expected a mapping with 'commits', found {type(document.data).__name__}"])
    try:
        return CommitYaml.model_validate(document.data)
    except ValidationError as exc:
        raise_problems(source, document.problems + validation_problems(exc, document, CommitYaml))


def repo_baseurl(text: str) -> str | None:
    """baseurl of the first section of a delorean.repo (INI)."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    for section in parser.sections():
        if parser.has_option(section, "baseurl"):
            return parser.get(section, "baseurl")
    return None


def read_drop(base_url: str, link: str, *, timeout: float = 30) -> Drop:
    """The drop behind ``link`` under ``base_url``: hash, build time, components, repo URL and md5."""
    check_base_url(base_url)
    root = f"{base_url.rstrip('/')}/{link.strip('/')}"
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        commits = parse_commit_yaml(_get(client, f"{root}/commit.yaml"), f"{root}/commit.yaml")
        repo = _get(client, f"{root}/delorean.repo", optional=True)
        md5 = _get(client, f"{root}/delorean.repo.md5", optional=True)
    first = commits.commits[0]
    return Drop(base_url=base_url, link=link, full_hash=full_hash(first),
                timestamp=datetime.fromtimestamp(first.dt_build, tz=timezone.utc),
                components=[Component(project=c.project_name, component=c.component, commit_hash=c.commit_hash,
                                      distro_hash=c.distro_hash, extended_hash=c.extended_hash,
                                      branch=c.commit_branch,
                                      built=datetime.fromtimestamp(c.dt_build, tz=timezone.utc))
                            for c in commits.commits],
                repo_url=repo_baseurl(repo) if repo else None, md5=md5.split()[0] if md5 and md5.split() else None)


def compare(drop: Drop, last_seen: dict | None) -> Change:
    """How ``drop`` relates to the last one seen ({"hash", "timestamp"} as stored in the Variable)."""
    if not last_seen:
        return "first"
    if last_seen.get("hash") == drop.full_hash:
        return "unchanged"
    seen_at = datetime.fromisoformat(last_seen["timestamp"]) if last_seen.get("timestamp") else None
    if seen_at is not None and drop.timestamp < seen_at:
        return "rollback"
    return "new"


@task(name="read-drop", task_run_name="read {link} at {base_url}", cache_policy=NO_CACHE, **TRANSIENT_RETRIES)
def current_drop(base_url: str, link: str, timeout: float = 30) -> Drop:
    """``read_drop`` as a task: an unresponsive server is retried with backoff, a 404 or bad file is not."""
    return read_drop(base_url, link, timeout=timeout)
