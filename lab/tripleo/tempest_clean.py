"""What a real Tempest run leaves in the lab's cloud is removed when it ends: the next run starts clean.

``tempest cleanup`` knows neither Ironic nor Heat, and the pre- and post-upgrade runs share one cloud:
a node, deploy template, runbook or stack a run leaked (a failed test's cleanup, a run cut by an SSH
drop) could make the next run fail (``A deploy template with name CUSTOM_TEMPLATE_456 already
exists``) and read as a regression. So the host's ``stestr run`` in the real workspace notes what the
cloud holds before it starts (in ``.lab-clean.json`` beside ``.stestr``) and, once stestr has ended,
deletes what was added since: Ironic's allocations, nodes (their ports and volume records go with them),
port groups, chassis, deploy templates, runbooks and inspection rules; Heat's stacks, software
deployments and configs; Keystone's projects and users. A record left by a run that was killed before
its cleanup is cleaned against first. The lab's own nodes (``instackenv.json``) and the overcloud
stacks (``host-state.json``) are never touched, whenever they were made.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

RECORD = ".lab-clean.json"
IRONIC_VERSION = {"X-OpenStack-Ironic-API-Version": "latest"}
# Ironic's collections, in the order they are deleted (allocations before nodes, nodes before chassis).
IRONIC = ("allocations", "nodes", "portgroups", "ports", "chassis", "deploy_templates", "runbooks",
          "inspection_rules")
HEAT = ("stacks", "software_deployments", "software_configs")
KEYSTONE = ("projects", "users")
STACK_GONE_SECONDS = 120


def _call(method: str, url: str, headers: dict | None = None, body: dict | None = None):
    request = urllib.request.Request(url, method=method, headers={"Content-Type": "application/json",
                                                                   **(headers or {})},
                                     data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(request, timeout=60) as answer:
        text = answer.read()
    return json.loads(text) if text else {}


class Cloud:
    """The lab's Ironic, Heat and Keystone, as the lab directory names them."""

    def __init__(self, lab_dir: Path):
        self.lab_dir = lab_dir
        endpoints = json.loads((lab_dir / "endpoints.json").read_text())
        self.ironic, self.heat = endpoints["baremetal"], endpoints["orchestration"]
        self.keystone = json.loads((lab_dir / "lab.json").read_text())["ports"].get("keystone")
        self._token: str | None = None

    def keystone_headers(self) -> dict:
        if self._token is None:
            password = (self.lab_dir / "keystone" / "admin-password").read_text().strip()
            body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
                "name": "admin", "domain": {"id": "default"}, "password": password}}},
                "scope": {"system": {"all": True}}}}
            request = urllib.request.Request(f"http://127.0.0.1:{self.keystone}/v3/auth/tokens", method="POST",
                                             data=json.dumps(body).encode(),
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=60) as answer:
                self._token = answer.headers["X-Subject-Token"]
        return {"X-Auth-Token": self._token}

    def inventory(self) -> dict[str, dict[str, str]]:
        """Each collection's members: id -> name."""
        found: dict[str, dict[str, str]] = {}
        for kind in IRONIC:
            detail = "&detail=True" if kind in ("nodes", "ports", "portgroups") else ""
            items = _listed(self.ironic, f"/v1/{kind}?limit=1000{detail}", kind, IRONIC_VERSION)
            if items is not None:
                # a port, port group or allocation is known by its node's uuid after an '@'
                found[f"ironic:{kind}"] = {i["uuid"]: (i.get("name") or "") + (f"@{i['node_uuid']}" if
                                                                               i.get("node_uuid") else "")
                                           for i in items}
        for kind in HEAT:
            items = _listed(self.heat, f"/{kind}", kind)
            if items is not None:
                found[f"heat:{kind}"] = {i["id"]: f"{i.get('stack_name') or i.get('name') or ''}/{i['id']}"
                                         for i in items}
        if self.keystone:
            url = f"http://127.0.0.1:{self.keystone}/v3"
            for kind in KEYSTONE:
                items = _listed(url, f"/{kind}", kind, self.keystone_headers())
                if items is not None:
                    found[f"keystone:{kind}"] = {i["id"]: i["name"] for i in items}
        return found

    def protected(self) -> set[str]:
        """Names of what the lab itself made: its nodes, the overcloud stacks, Keystone's own accounts."""
        names = {"admin", "demo", "service"}
        try:
            names |= {node.get("name", "") for node in
                      json.loads((self.lab_dir / "instackenv.json").read_text()).get("nodes", [])}
        except (OSError, ValueError):
            pass
        try:
            names |= set(json.loads((self.lab_dir / "host-state.json").read_text()).get("overcloud", {}))
        except (OSError, ValueError):
            pass
        return names - {""}

    def remove(self, kind: str, key: str, name: str) -> None:
        service, collection = kind.split(":")
        if service == "ironic":
            if collection == "nodes":  # a node in any state can be deleted once in maintenance
                _quiet("PATCH", f"{self.ironic}/v1/nodes/{key}", IRONIC_VERSION,
                       [{"op": "replace", "path": "/maintenance", "value": True}])
            _quiet("DELETE", f"{self.ironic}/v1/{collection}/{key}", IRONIC_VERSION)
        elif service == "heat":
            path = f"stacks/{name}" if collection == "stacks" else f"{collection}/{key}"
            _quiet("DELETE", f"{self.heat}/{path}")
            if collection == "stacks":
                _wait_gone(f"{self.heat}/{path}")
        else:
            _quiet("DELETE", f"http://127.0.0.1:{self.keystone}/v3/{collection}/{key}", self.keystone_headers())


def _listed(base: str, path: str, key: str, headers: dict | None = None) -> list[dict] | None:
    try:
        return _call("GET", base + path, headers)[key]
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 406):  # a collection this API version lacks
            return None
        raise


def _quiet(method: str, url: str, headers: dict | None = None, body=None) -> None:
    try:
        if method == "PATCH":
            request = urllib.request.Request(url, method="PATCH", data=json.dumps(body).encode(),
                                             headers={"Content-Type": "application/json", **(headers or {})})
            urllib.request.urlopen(request, timeout=60).close()
        else:
            _call(method, url, headers)
    except urllib.error.HTTPError as exc:
        if exc.code != 404:  # gone already (a node's ports go with it)
            print(f"lab: could not {method} {url}: HTTP {exc.code}", file=sys.stderr)


def _wait_gone(url: str) -> None:
    deadline = time.monotonic() + STACK_GONE_SECONDS
    while time.monotonic() < deadline:
        try:
            stack = _call("GET", url)["stack"]
        except urllib.error.HTTPError:
            return
        if stack.get("stack_status") in ("DELETE_COMPLETE", "DELETE_FAILED"):
            return
        time.sleep(0.5)


def clean(cloud: Cloud, before: dict[str, dict[str, str]]) -> list[str]:
    """Delete what was added since ``before``; returns ``kind name`` of each deleted member."""
    protected = cloud.protected()
    now = cloud.inventory()
    protected |= {key for key, name in now.get("ironic:nodes", {}).items() if name in protected}
    removed = []
    for kind, members in now.items():
        for key, name in members.items():
            if key in before.get(kind, {}) or name.split("/")[0] in protected or name.partition("@")[2] in protected:
                continue
            cloud.remove(kind, key, name)
            removed.append(f"{kind} {name or key}")
    return removed


def begin(workspace: Path, lab_dir: Path) -> Cloud:
    """Before a run: clean up after a run that never finished its own cleanup, then record the cloud."""
    cloud = Cloud(lab_dir)
    record = workspace / RECORD
    if record.exists():
        clean(cloud, json.loads(record.read_text()))
    record.write_text(json.dumps(cloud.inventory()))
    return cloud


def end(workspace: Path, cloud: Cloud) -> list[str]:
    """After a run: delete what it added, then drop the record."""
    record = workspace / RECORD
    removed = clean(cloud, json.loads(record.read_text()))
    record.unlink()
    return removed


if __name__ == "__main__":  # by hand: python -m lab.tripleo.tempest_clean (in the workspace) cleans after a cut run
    here = Path.cwd()
    if (here / RECORD).exists():
        print("\n".join(end(here, Cloud(Path(os.environ["RDOFLOW_LAB_DIR"])))))
