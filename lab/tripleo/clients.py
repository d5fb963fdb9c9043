"""The undercloud's API clients as tripleoclient gets them: from the clouds.yaml that install wrote."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .. import yamlfile
from .console import CommandFailed
from .hoststate import lab_dir

CLOUD = "undercloud"


def endpoints() -> dict[str, str]:
    return json.loads((lab_dir() / "endpoints.json").read_text())


def clouds_yaml(home: Path | None = None) -> Path:
    return Path(home or os.environ["HOME"]) / ".config" / "openstack" / "clouds.yaml"


def undercloud_cloud(services: dict[str, str]) -> dict:
    """The Keystone-less ``undercloud`` cloud a Zed undercloud's install writes, for ``services``
    (endpoints.json: baremetal, orchestration, and baremetal-introspection when the lab runs ironic-inspector)."""
    cloud = {"auth_type": "none", "baremetal_endpoint_override": services["baremetal"]}
    if "baremetal-introspection" in services:
        cloud["baremetal_introspection_endpoint_override"] = services["baremetal-introspection"]
    return cloud | {"orchestration_endpoint_override": services["orchestration"], "region_name": "regionOne"}


def installed_cloud() -> dict:
    """The undercloud's cloud entry; fails like an unauthenticated client when it was never installed."""
    path = clouds_yaml()
    if not path.exists():
        raise CommandFailed("Missing value auth-url required for auth plugin password "
                            f"(no {CLOUD!r} cloud in {path}: is the undercloud installed? run "
                            "'openstack undercloud install')")
    return yamlfile.read(path)["clouds"][CLOUD]


def baremetal():
    import openstack

    cloud = installed_cloud()
    conn = openstack.connect(auth_type="none", baremetal_endpoint_override=cloud["baremetal_endpoint_override"],
                             load_yaml_config=False, load_envvars=False)
    return conn.baremetal


def orchestration():
    from heatclient import client

    cloud = installed_cloud()
    return client.Client("1", endpoint=cloud["orchestration_endpoint_override"], token="lab-noauth")
