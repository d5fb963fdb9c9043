"""The TripleO releases rdoflow speaks, and what each one changes in how a stage talks to the undercloud.

Read from python-tripleoclient's stable branches (docs/releases.md has the sources and how each release
was exercised). A site names its release in ``undercloud.release``; the bootstrap checks it against the
tripleoclient package the undercloud has installed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Release(StrEnum):
    TRAIN = "train"
    WALLABY = "wallaby"
    ZED = "zed"


@dataclass(frozen=True)
class Profile:
    """How one release's director works, as far as rdoflow's stages see it."""

    release: Release
    title: str
    client_majors: range  # python-tripleoclient's major versions of the release
    # A Heat service runs on the undercloud and keeps the overcloud stack. Since Wallaby the default is
    # an ephemeral Heat the deploy command starts and stops; its state lives in ~/overcloud-deploy/<stack>/.
    persistent_heat: bool
    # Nodes are provisioned by 'overcloud node provision' (metalsmith) before the deploy, which then takes
    # them as deployed servers; before Wallaby the deploy provisioned them itself through Nova.
    provision_before_deploy: bool
    # 'openstack overcloud upgrade converge' exists (removed in Zed's tripleoclient).
    upgrade_converge: bool
    # Nodes are enrolled by 'openstack overcloud node import' on the undercloud, which sets TripleO's
    # defaults (deploy images, boot mode, capabilities); otherwise through Ironic's API. Train's import
    # works through Mistral, which the lab does not run: the lab's Train enrolls through the API.
    node_import: bool
    # 'openstack overcloud update converge' exists: Train's tripleoclient 12 has it; Wallaby's 16.5.0 and
    # Zed's 20.0.0 do not (their minor update ends with the last 'update run').
    update_converge: bool = False


PROFILES = {
    Release.TRAIN: Profile(Release.TRAIN, "Train (RHOSP 16.2)", range(12, 14), persistent_heat=True,
                           provision_before_deploy=False, upgrade_converge=True, node_import=False,
                           update_converge=True),
    Release.WALLABY: Profile(Release.WALLABY, "Wallaby (RHOSP 17.1)", range(16, 17), persistent_heat=False,
                             provision_before_deploy=True, upgrade_converge=True, node_import=True),
    Release.ZED: Profile(Release.ZED, "Zed", range(18, 21), persistent_heat=False,
                         provision_before_deploy=True, upgrade_converge=False, node_import=True),
}

_CLIENT_PACKAGE = re.compile(r"^python3?-tripleoclient-(?P<major>\d+)\.\d+")


def profile(release: Release | str) -> Profile:
    return PROFILES[Release(release)]


def release_of_client(version: str | None) -> Release | None:
    """The release a ``rpm -q python3-tripleoclient`` (or ``openstack --version``) answer belongs to.

    ``openstack --version`` prints python-openstackclient's version, not tripleoclient's: it tells
    nothing of the release, so only the package's answer is read."""
    match = _CLIENT_PACKAGE.match((version or "").strip())
    if not match:
        return None
    major = int(match["major"])
    return next((p.release for p in PROFILES.values() if major in p.client_majors), None)
