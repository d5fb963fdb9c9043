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


def drop_steps(site: SiteConfig, images_file: str) -> list[StackStep]:
    """The overcloud's steps once the undercloud runs the drop: the minor update with the drop's images
    (``drop.apply: update``), or the site's major upgrade with them added to its environment files."""
    release, timeout = site.undercloud.release, site.undercloud.install_timeout
    if site.drop.apply == "update":
        return update_steps(site.overcloud, site.upgrade, timeout, release, [images_file])
    plan = site.upgrade.model_copy(update={"environment_files": [*site.upgrade.environment_files, images_file]})
    return upgrade_steps(site.overcloud, plan, timeout, release)
