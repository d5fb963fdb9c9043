"""Applying a drop: where its files are under the DLRN server, and the overcloud's steps after its packages
and images (the site's choice: the minor update, or the major upgrade)."""

from __future__ import annotations

import re

from rdoflow.config.site import SiteConfig
from rdoflow.errors import ConfigError
from rdoflow.tasks.overcloud.commands import update_steps, upgrade_steps
from rdoflow.tasks.overcloud.model import StackStep
from rdoflow.tasks.prerelease.dlrn import DLRN_HASH

_LINK = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*")


def drop_path(drop: str) -> str:
    """The path under the DLRN base URL of a drop given as a promotion link (current-passed-ci,
    component/tripleo/current) or as its full hash (DLRN's ``<c[:2]>/<c[2:4]>/<hash>`` directory)."""
    if DLRN_HASH.fullmatch(drop):
        return f"{drop[:2]}/{drop[2:4]}/{drop}"
    if not _LINK.fullmatch(drop) or ".." in drop.split("/"):
        raise ConfigError("--drop", [f"--drop: {drop!r} is neither a DLRN hash nor a promotion link; expected "
                                     "e.g. current-passed-ci or 587ffdd6ff4e8ad6a36bb3bd55d2bd6ab2ee4b93_8170b868"])
    return drop


def locate_drop(base_url: str, drop: str, *, link: str = "current-passed-ci", timeout: float = 30) -> str:
    """``drop_path``, found on the server: a full hash's build is at the top (``<c[:2]>/<c[2:4]>/<hash>``) or, when
    DLRN built it for a component (component mode, or an import whose commit.yaml names one), under
    ``component/NAME/``, NAME read from ``link``'s commit.yaml (as the drop review finds it). DropNotFound
    names the places looked in."""
    from rdoflow.tasks.prerelease.dlrn import DLRN_HASH, DropNotFound, read_drop

    path = drop_path(drop)
    if not DLRN_HASH.fullmatch(drop):
        return path
    candidates = [path]
    try:
        read_drop(base_url, path, timeout=timeout)
        return path
    except DropNotFound:
        behind = read_drop(base_url, link, timeout=timeout)
    for component in dict.fromkeys(c.component for c in behind.components if c.component):
        candidates.append(f"component/{component}/{path}")
        try:
            read_drop(base_url, candidates[-1], timeout=timeout)
            return candidates[-1]
        except DropNotFound:
            continue
    raise DropNotFound(f"drop {drop}: no build at {' nor '.join(candidates)} under {base_url} (the components "
                       f"tried are those of {link})", hint="DLRN may have purged the build, or it is a build of a "
                                                          "component the link does not point at")


def drop_steps(site: SiteConfig, images_file: str) -> list[StackStep]:
    """The overcloud's steps once the undercloud runs the drop: the minor update with the drop's images
    (``drop.apply: update``), or the site's major upgrade with them added to its environment files."""
    release, timeout = site.undercloud.release, site.undercloud.install_timeout
    if site.drop.apply == "update":
        return update_steps(site.overcloud, site.upgrade, timeout, release, [images_file])
    plan = site.upgrade.model_copy(update={"environment_files": [*site.upgrade.environment_files, images_file]})
    return upgrade_steps(site.overcloud, plan, timeout, release)
