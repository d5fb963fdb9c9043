"""The undercloud's own clouds.yaml as the site's cloud (``cloud.from_undercloud``).

The undercloud's install writes ``~/.config/openstack/clouds.yaml``: on Wallaby a
Keystone password, on Zed (no Keystone) endpoint overrides with ``auth_type: none``.
With ``from_undercloud`` each stage reads that file over SSH, in memory and never
logged, instead of a copy kept on the machine that runs the flow, which goes stale
when the undercloud is reinstalled. A CA certificate the cloud names (``cacert``, a
path on the undercloud) is fetched beside rdoflow's cache: it is public, and the
TLS library reads it from a file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from rdoflow.blocks.openstack import OpenStackCloud
from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import CloudSite
from rdoflow.config.yamlsource import parse_yaml
from rdoflow.errors import ConfigError, ResourceFailed
from rdoflow.tasks.ssh.remote import read_remote

CLOUDS_YAML = ".config/openstack/clouds.yaml"  # relative to the SSH user's home, where the install writes it
CACERT_LIMIT = 1 << 20


def site_cloud(cloud: CloudSite, host: SSHHost | None) -> OpenStackCloud:
    """The OpenStackCloud the site's ``cloud`` section names: a saved block, a local clouds.yaml, or (with
    ``from_undercloud``) the one on ``host``, the undercloud."""
    if not cloud.from_undercloud:
        return OpenStackCloud.from_site(cloud)
    if host is None:
        raise ValueError("cloud.from_undercloud needs the undercloud's SSH host")
    return OpenStackCloud(entry=undercloud_entry(host, cloud.cloud, cloud.region))


def undercloud_entry(host: SSHHost, name: str, region: str | None = None) -> dict:
    """Cloud ``name`` of the undercloud's clouds.yaml, its ``cacert`` made a local path."""
    where = f"{host.address}:~/{CLOUDS_YAML}"
    raw = read_remote(host, CLOUDS_YAML)
    if raw is None:
        raise ResourceFailed(
            f"{where} does not exist: the site takes its cloud from it (cloud.from_undercloud)",
            hint="install the undercloud first (the undercloud-bootstrap flow writes it), or give the site "
                 "cloud.clouds_yaml: a copy on this machine")
    document = parse_yaml(raw, where)
    clouds = document.data.get("clouds") if isinstance(document.data, dict) else None
    if not isinstance(clouds, dict):
        raise ConfigError(where, [f"{where}: clouds: expected a mapping of cloud names, found "
                                  f"{type(clouds).__name__ if clouds is not None else 'nothing'}"])
    entry = clouds.get(name)
    if not isinstance(entry, dict):
        names = ", ".join(sorted(str(key) for key in clouds)) or "none"
        raise ConfigError(where, [f"{where}: clouds.{name}: no such cloud (it has: {names})"],
                          hint="set the site's cloud.cloud to one of these")
    entry = dict(entry)
    if region:
        entry["region_name"] = region
    if isinstance(entry.get("cacert"), str):
        entry["cacert"] = str(_local_cacert(host, entry["cacert"], where))
    return entry


def _local_cacert(host: SSHHost, remote: str, where: str) -> Path:
    """The undercloud's CA certificate, kept by content under rdoflow's cache directory."""
    pem = read_remote(host, remote, limit=CACERT_LIMIT)
    if pem is None:
        raise ResourceFailed(f"{where} names cacert {remote}, which is not on {host.address}",
                             hint="check the undercloud's TLS settings (its install writes that certificate)")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rdoflow" / "cacerts"
    cache.mkdir(parents=True, exist_ok=True)
    local = cache / f"{hashlib.sha256(pem).hexdigest()[:16]}.pem"
    if not local.exists():
        staging = local.with_suffix(f".{os.getpid()}")
        staging.write_bytes(pem)
        staging.replace(local)
    return local
