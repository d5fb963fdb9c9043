"""Where a drop's packages come from: rdoinfo (read with distroinfo) maps each to its distgit, upstream,
maintainers and component; without rdoinfo, the drop's own columns (Dist Repo, Source Repo, Component) say it.

rdoinfo is loaded once per run (~1.5 s for rdo-full.yml's 1,300 packages). It is read safely: distroinfo's own
loader builds any Python object a YAML tag names, so its files are parsed here with PyYAML's safe loader
(and rdoflow's alias-bounded one when a file uses aliases), only from inside the rdoinfo directory, and
without distroinfo's remote-info includes (they would fetch from elsewhere with that loader).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml
from distroinfo import exception as distroinfo_errors
from distroinfo import fetch, query
from distroinfo.info import DistroInfo
from prefect import task
from prefect.cache_policies import NO_CACHE

from rdoflow.config.yamlsource import parse_yaml
from rdoflow.errors import ConfigError
from rdoflow.tasks.prerelease.distgit import (
    DEFAULT_PROTOCOLS,
    DistgitFetchFailed,
    clone,
)
from rdoflow.tasks.prerelease.model import PackageChange, PackageOrigin

MAX_INFO_FILE_BYTES = 16 << 20
DEFAULT_INFO_FILES = "rdo-full.yml"


class _SafeInfo(fetch.InfoFetcher):
    """distroinfo's local fetcher, reading with a safe YAML loader and only under its directory."""

    def __init__(self, root: Path, location: str):
        super().__init__(str(root))
        self.root, self.location = root.resolve(), location

    def get_file_content(self, fn: str) -> str:
        path = (self.root / str(fn)).resolve()
        if not path.is_relative_to(self.root):
            raise ConfigError(self.location, [f"{self.location}: import {fn!r} is outside the rdoinfo directory"])
        if not path.is_file():
            raise ConfigError(self.location, [f"{self.location}: {fn}: no such file"])
        if path.stat().st_size > MAX_INFO_FILE_BYTES:
            raise ConfigError(self.location, [f"{self.location}: {fn}: larger than {MAX_INFO_FILE_BYTES} bytes"])
        return path.read_text(encoding="utf-8", errors="replace")

    def get_file_data(self, fn: str) -> object:
        text, source = self.get_file_content(fn), f"{self.location}/{fn}"
        try:
            aliased = any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.CSafeLoader))
            data = parse_yaml(text, source).data if aliased else yaml.load(text, Loader=yaml.CSafeLoader)  # noqa: S506
        except yaml.YAMLError as exc:
            raise ConfigError(source, [f"{source}: not valid YAML: {exc}"]) from None
        if isinstance(data, dict):
            data.pop("remote-info", None)  # no fetching from elsewhere
        return data


def rdoinfo_directory(location: str, workroot: Path, *, protocols: Sequence[str] = DEFAULT_PROTOCOLS,
                      timeout: float = 120) -> Path:
    """The rdoinfo directory: ``location`` itself when it is a path, else a clone of its git URL's default branch
    in ``workroot``."""
    if "://" not in location:
        path = Path(location).expanduser()
        if not path.is_dir():
            raise ConfigError(location, [f"{location}: no such directory; expected an rdoinfo checkout or a git "
                                         "URL (e.g. https://github.com/redhat-openstack/rdoinfo)"])
        return path
    try:
        return clone(location, workroot / "rdoinfo", protocols=protocols, timeout=timeout)
    except DistgitFetchFailed as exc:
        raise ConfigError(location, [f"{location}: the rdoinfo repository could not be fetched: {exc}"],
                          evidence=exc.evidence) from exc


def load_rdoinfo(directory: Path, *, info_files: str = DEFAULT_INFO_FILES, release: str | None = None,
                 location: str | None = None) -> dict:
    """rdoinfo's parsed info (``packages`` with the release's tag applied); ConfigError names what is wrong."""
    source = location or str(directory)
    try:
        return DistroInfo(info_files=info_files, fetcher=_SafeInfo(directory, source)).get_info(apply_tag=release)
    except distroinfo_errors.DistroInfoException as exc:
        raise ConfigError(source, [f"{source}: {info_files}: distroinfo cannot read it: "
                                   f"{type(exc).__name__}: {exc}"]) from None


def origin_from_drop(change: PackageChange) -> PackageOrigin:
    """What the drop itself says of a package: its distgit, upstream and component columns."""
    row = change.new or change.old
    return PackageOrigin(project=change.project, distgit=row.dist_repo, upstream=row.source_repo,
                         component=row.component, known_from="drop")


def origin_from_rdoinfo(change: PackageChange, info: dict) -> PackageOrigin:
    """The package in rdoinfo, with the drop's Dist Repo as the distgit fetched (DLRN built its sha there);
    the drop's columns when rdoinfo does not know the package."""
    from_drop = origin_from_drop(change)
    package = query.get_package(info, change.project)
    if package is None:
        return from_drop
    rdoinfo_distgit = package.get("master-distgit") or package.get("distgit")
    return PackageOrigin(
        project=change.project, distgit=from_drop.distgit or rdoinfo_distgit,
        upstream=package.get("upstream") or from_drop.upstream,
        maintainers=[str(m) for m in package.get("maintainers") or []],
        component=package.get("component") or from_drop.component, review_origin=package.get("review-origin"),
        rdoinfo_distgit=rdoinfo_distgit if rdoinfo_distgit != from_drop.distgit else None, known_from="rdoinfo")


def package_origins(changes: Iterable[PackageChange], rdoinfo: str | None, *, info_files: str = DEFAULT_INFO_FILES,
                    release: str | None = None,
                    protocols: Sequence[str] = DEFAULT_PROTOCOLS) -> dict[str, PackageOrigin]:
    """Each change's origin, by project: rdoinfo (``rdoinfo``: a directory or a git URL), loaded once, else the
    drop's own columns."""
    changes = list(changes)
    if not rdoinfo:
        return {change.project: origin_from_drop(change) for change in changes}
    with tempfile.TemporaryDirectory(prefix="rdoflow-rdoinfo-") as workroot:
        directory = rdoinfo_directory(rdoinfo, Path(workroot), protocols=protocols)
        info = load_rdoinfo(directory, info_files=info_files, release=release, location=rdoinfo)
    return {change.project: origin_from_rdoinfo(change, info) for change in changes}


@task(name="map-origins", task_run_name="map {rdoinfo} to the changed packages", cache_policy=NO_CACHE)
def map_origins(changes: list[PackageChange], rdoinfo: str | None, info_files: str = DEFAULT_INFO_FILES,
                release: str | None = None, protocols: list[str] = list(DEFAULT_PROTOCOLS)) -> dict[str, PackageOrigin]:
    """``package_origins`` as a task: rdoinfo loaded once for the whole drop."""
    return package_origins(changes, rdoinfo, info_files=info_files, release=release, protocols=protocols)
