"""What a deploy leaves for the overcloud's users: ``~/<stack>rc`` and the ``<stack>`` cloud of clouds.yaml.

A real deploy writes ``~/<stack>rc`` and ``~/overcloud-deploy/<stack>/<stack>rc`` (tripleoclient's
``deployment.create_overcloudrc`` with tripleo-common's ``_create_overcloudrc_from_outputs``: the lines
below are its lines, in its order) and copies ``/etc/openstack/clouds.yaml``, where config-download put
the ``<stack>`` cloud, to ``~/.config/openstack/`` (``utils.copy_clouds_yaml``). The rc names that cloud
(``OS_CLOUD``), so a client that honours it needs the clouds.yaml entry too.

The lab's overcloud has no Keystone of its own: its Keystone (``suite.tempest: real``) answers for it,
with the lab's admin account. Without one (``suite.tempest: generated``) nothing is written, as no client
could use it.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import yaml

CLEAR_ENV = """# Clear any old environment that may conflict.
for key in $( set | awk '{FS=\"=\"}  /^OS_/ {print $1}' ); do unset $key ; done
"""
CLOUDPROMPT = """
if [ -z "${CLOUDPROMPT_ENABLED:-}" ]; then
    export PS1=${PS1:-""}
    export PS1=\\${OS_CLOUD:+"(\\$OS_CLOUD)"}\\ $PS1
    export CLOUDPROMPT_ENABLED=1
fi
"""
REGION = "regionOne"


def write_overcloud_credentials(lab_dir: Path, home: Path, stack: str, working_dir: Path | None = None) -> bool:
    """The rc files and the clouds.yaml entry for ``stack``; False when the lab runs no Keystone."""
    ports = json.loads((lab_dir / "lab.json").read_text()).get("ports", {})
    password_file = lab_dir / "keystone" / "admin-password"
    if "keystone" not in ports or not password_file.exists():
        return False
    endpoint, password = f"http://127.0.0.1:{ports['keystone']}", password_file.read_text().strip()
    params = {
        "OS_USERNAME": "admin", "OS_PROJECT_NAME": "admin", "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default", "OS_NO_CACHE": "True", "OS_CLOUD": stack, "no_proxy": "127.0.0.1",
        "PYTHONWARNINGS": "ignore:Certificate has no, ignore:A true SSLContext object is not available",
        "OS_AUTH_TYPE": "password", "OS_PASSWORD": password, "OS_AUTH_URL": endpoint,
        "OS_IDENTITY_API_VERSION": "3", "OS_COMPUTE_API_VERSION": "2.latest", "OS_IMAGE_API_VERSION": "2",
        "OS_VOLUME_API_VERSION": "3", "OS_REGION_NAME": REGION,
    }
    text = CLEAR_ENV + "".join(f"export {key}={shlex.quote(value)}\n" for key, value in params.items()) + CLOUDPROMPT
    for directory in (home, *([working_dir] if working_dir else [])):
        directory.mkdir(parents=True, exist_ok=True)
        _private(directory / f"{stack}rc", text)
    clouds_file = home / ".config" / "openstack" / "clouds.yaml"
    clouds = (yaml.safe_load(clouds_file.read_text()) if clouds_file.exists() else None) or {}
    clouds.setdefault("clouds", {})[stack] = {
        "auth": {"auth_url": endpoint, "password": password, "project_domain_name": "Default",
                 "project_name": "admin", "user_domain_name": "Default", "username": "admin"},
        "identity_api_version": "3", "region_name": REGION,
    }
    clouds_file.parent.mkdir(parents=True, exist_ok=True)
    _private(clouds_file, yaml.safe_dump(clouds, sort_keys=False))
    return True


def _private(path: Path, text: str) -> None:
    staging = path.with_name(path.name + ".lab")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(staging, path)
