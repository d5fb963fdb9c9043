"""What a drop changed: its versions.csv read into a typed model, and the difference with the last drop tested.

DLRN writes ``versions.csv`` beside ``commit.yaml`` in every build's directory (and in the aggregate of a
component promotion): a full snapshot, one row per package with its last successful build. Two drops are
compared by Project on Source Sha, Dist Sha, Extended Sha and Pkg NVR; a Status that moves alone (a build
that failed keeps its last good row) is reported too, since a release engineer wants to know.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime, timezone

import httpx
from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import ValidationError

from rdoflow.errors import ConfigError, TransientError
from rdoflow.tasks.prerelease.dlrn import (
    MAX_FILE_BYTES,
    Drop,
    DropNotFound,
    _get,
    check_base_url,
    read_drop,
)
from rdoflow.tasks.prerelease.model import (
    COMPARED,
    VERSIONS_HEADER,
    DropVersions,
    PackageChange,
    PackageVersion,
)
from rdoflow.tasks.retries import TRANSIENT_RETRIES

MAX_PROBLEMS = 20  # a file with more bad rows names the first ones and counts the rest
_SHA = re.compile(r"[0-9a-f]{7,64}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+~^-]{0,255}")
_TOKEN = re.compile(r"[A-Za-z0-9._-]{1,128}")
_URL_CHARS = re.compile(r"[^\x00-\x20\x7f]{1,1024}")


class DropMoved(TransientError):
    """The link moved to another drop between two reads (commit.yaml, then versions.csv): read it again."""

    reference = "drop-moved"


_RULES = {  # column: (pattern, what was expected, required)
    "Project": (_NAME, "a package name (letters, digits and ._+~^-)", True),
    "Source Repo": (_URL_CHARS, "a repository URL (no spaces or control characters)", False),
    "Source Sha": (_SHA, "a git commit hash (7 to 64 lowercase hex digits)", True),
    "Dist Repo": (_URL_CHARS, "a repository URL (no spaces or control characters)", False),
    "Dist Sha": (_SHA, "a git commit hash (7 to 64 lowercase hex digits) or None", False),
    "Component": (_TOKEN, "a component name or None", False),
    "Extended Sha": (_TOKEN, "an extended hash (letters, digits, ._-) or None", False),
    "Pkg NVR": (_NAME, "a source package NVR (name-version-release) or empty", False),
}


def _row(values: dict[str, str]) -> tuple[PackageVersion | None, list[str]]:
    """The row as a PackageVersion, or the problems with its columns (by DLRN's names)."""
    problems, clean = [], {}
    for column, raw in values.items():
        value = None if raw in ("None", "") else raw
        rule = _RULES.get(column)
        if rule is not None:
            pattern, expected, required = rule
            if value is None and required:
                problems.append(f"{column}: required, found {raw!r}")
            elif value is not None and not pattern.fullmatch(value):
                problems.append(f"{column}: expected {expected}, found {_shown(raw)}")
        clean[column] = value
    if clean["Status"] not in ("SUCCESS", "FAILED", "RETRY"):
        problems.append(f"Status: expected SUCCESS, FAILED or RETRY, found {_shown(values['Status'])}")
    stamp = clean["Last Success Timestamp"]
    if stamp is not None:
        try:
            clean["Last Success Timestamp"] = datetime.fromtimestamp(int(stamp), tz=timezone.utc)
        except (ValueError, OverflowError, OSError):
            problems.append(f"Last Success Timestamp: expected seconds since 1970 or None, found {_shown(stamp)}")
    if problems:
        return None, problems
    try:
        return PackageVersion.model_validate(clean), []
    except ValidationError as exc:  # the rules above should leave nothing for here; say it plainly if they do
        return None, [f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()]


def _shown(value: str, limit: int = 80) -> str:
    return repr(value if len(value) <= limit else value[:limit - 3] + "...")


def parse_versions_csv(text: str, source: str) -> DropVersions:
    """versions.csv as DLRN writes it, into ``DropVersions``; ConfigError names ``source``, the line and the column
    of every bad row (the first MAX_PROBLEMS of them)."""
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    problems: list[str] = []
    packages: dict[str, PackageVersion] = {}
    first_line: dict[str, int] = {}
    try:
        header = next(reader, None)
        if header is None or tuple(header) != VERSIONS_HEADER:
            raise ConfigError(source, [f"{source}: line 1: expected DLRN's header {','.join(VERSIONS_HEADER)}, "
                                       f"found {_shown(','.join(header or []), 240)}"])
        for row in reader:
            line = reader.line_num
            if len(problems) > MAX_PROBLEMS:
                continue  # keep counting lines, stop describing them
            if len(row) != len(VERSIONS_HEADER):
                problems.append(f"{source}: line {line}: expected {len(VERSIONS_HEADER)} columns "
                                f"({','.join(VERSIONS_HEADER)}), found {len(row)}")
                continue
            version, found = _row(dict(zip(VERSIONS_HEADER, row)))
            problems += [f"{source}: line {line}: {problem}" for problem in found]
            if version is None:
                continue
            if version.project in packages:
                problems.append(f"{source}: line {line}: Project: {version.project!r} already on line "
                                f"{first_line[version.project]}")
                continue
            packages[version.project], first_line[version.project] = version, line
    except csv.Error as exc:
        problems.append(f"{source}: line {reader.line_num}: not CSV as DLRN writes it: {exc}")
    if problems:
        shown = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"{source}: ... and more bad rows after line {reader.line_num - 1}")
        raise ConfigError(source, shown, hint="versions.csv is written by DLRN; was the file cut short, or is "
                                              "this not a DLRN repository?")
    return DropVersions(source=source, packages=packages)


def read_versions(base_url: str, location: str, *, timeout: float = 30,
                  max_bytes: int = MAX_FILE_BYTES) -> DropVersions:
    """``<base_url>/<location>/versions.csv`` (a link, or a build's directory); bounded, errors as read_drop's."""
    check_base_url(base_url)
    url = f"{base_url.rstrip('/')}/{location.strip('/')}/versions.csv"
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        return parse_versions_csv(_get(client, url, max_bytes=max_bytes), url)


def drop_location(drop_hash: str, component: str | None = None) -> str:
    """A build's directory under DLRN's base URL, as DLRN's ``getshardedcommitdir`` makes it (a build with a
    component sits under ``component/NAME/``)."""
    prefix = f"component/{component}/" if component else ""
    return f"{prefix}{drop_hash[:2]}/{drop_hash[2:4]}/{drop_hash}"


def check_consistent(drop: Drop, versions: DropVersions) -> None:
    """The drop's own package must show, in versions.csv, the commit and distro hashes commit.yaml gave; if not,
    the link moved between the two reads (DropMoved: read both again)."""
    first = drop.components[0]
    row = versions.packages.get(first.project)
    if row is not None and (row.source_sha, row.dist_sha) != (first.commit_hash, first.distro_hash):
        raise DropMoved(f"{versions.source}: {first.project} is at {row.source_sha[:12]}/{(row.dist_sha or '')[:12]},"
                        f" commit.yaml said {first.commit_hash[:12]}/{first.distro_hash[:12]}: the link moved while "
                        "it was read", hint="read the drop again")


def read_drop_versions(base_url: str, link: str, drop_hash: str | None = None, *,
                       timeout: float = 30) -> tuple[Drop, DropVersions]:
    """The drop behind ``link`` and its versions.csv; with ``drop_hash`` (the drop under test), that build's even
    when the link has moved on since: looked for in the directory of the link's component, then in none."""
    drop = read_drop(base_url, link, timeout=timeout)
    location = link
    if drop_hash and drop.full_hash != drop_hash:
        component = drop.components[0].component if drop.components else None
        candidates = list(dict.fromkeys([drop_location(drop_hash, component), drop_location(drop_hash)]))
        for location in candidates:
            try:
                drop = read_drop(base_url, location, timeout=timeout).model_copy(update={"link": link})
                break
            except DropNotFound:
                continue
        else:
            raise DropNotFound(f"drop {drop_hash}: {link} now points at {drop.full_hash}, and the build is not at "
                               f"{' nor '.join(candidates)} under {base_url}",
                               hint="DLRN may have purged the build; review the drop behind the link instead")
    versions = read_versions(base_url, location, timeout=timeout)
    check_consistent(drop, versions)
    return drop, versions


def diff_versions(old: DropVersions | None, new: DropVersions) -> list[PackageChange]:
    """Every package added, removed or changed from ``old`` to ``new``, by project name; [] without ``old``."""
    if old is None:
        return []
    changes = []
    for project in sorted(old.packages.keys() | new.packages.keys()):
        before, after = old.packages.get(project), new.packages.get(project)
        if before is None:
            changes.append(PackageChange(project=project, kind="added", new=after, fields=list(COMPARED)))
        elif after is None:
            changes.append(PackageChange(project=project, kind="removed", old=before))
        else:
            fields = [name for name in COMPARED if before.compared()[name] != after.compared()[name]]
            fields += ["Status"] if before.status != after.status else []
            if fields:
                changes.append(PackageChange(project=project, kind="changed", old=before, new=after, fields=fields))
    return changes


def everything_added(versions: DropVersions) -> list[PackageChange]:
    """Every package of ``versions`` as added (a first drop reviewed whole)."""
    return [PackageChange(project=name, kind="added", new=row, fields=list(COMPARED))
            for name, row in sorted(versions.packages.items())]


@task(name="read-drop-versions", task_run_name="read versions.csv of {link} at {base_url}", cache_policy=NO_CACHE,
      **TRANSIENT_RETRIES)
def drop_versions(base_url: str, link: str, drop_hash: str | None = None,
                  timeout: float = 30) -> tuple[Drop, DropVersions]:
    """``read_drop_versions`` as a task: an unanswering server or a link that moved is retried, bad files are not."""
    return read_drop_versions(base_url, link, drop_hash, timeout=timeout)
