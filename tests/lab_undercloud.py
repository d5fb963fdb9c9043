"""A module lab made ready for the overcloud: undercloud installed, every instackenv node available.

A stand-in for the undercloud-bootstrap and node-introspection stages (built elsewhere), done with
the same real calls: ``openstack undercloud install`` over SSH, an openstacksdk loop on Ironic.
"""

from __future__ import annotations

import json
from pathlib import Path

import openstack

from blocks import SSHHost
from lab.inventory import INSTACKENV
from rdoflow.site import SiteConfig, load_site
from rdoflow.waiting import Deadline
from tasks.ssh import run


def _wait(bm, ids: list[str], target: str, budget: float = 120.0) -> None:
    wait = Deadline(budget, f"{len(ids)} nodes", target=target, max_delay=0.5)
    for _ in wait:
        states = {n.provision_state for n in bm.nodes(details=True) if n.id in ids}
        wait.last_seen = str(sorted(states))
        if states == {target}:
            return


def ready_undercloud(lab) -> SiteConfig:
    """Install the lab's undercloud and make its nodes available; the lab's site config."""
    site = load_site(Path(lab.dir) / "site.yaml")
    run(SSHHost.from_target(site.undercloud.ssh), ["openstack", "undercloud", "install"], timeout=300)
    bm = openstack.connect(auth_type="none", baremetal_endpoint_override=lab.ironic_url,
                           load_yaml_config=False, load_envvars=False).baremetal
    ids = []
    for entry in json.loads((Path(lab.dir) / INSTACKENV).read_text())["nodes"]:
        node = bm.create_node(name=entry["name"], driver=entry["pm_type"],
                              driver_info={"fake_address": entry["pm_addr"]},
                              properties={"capabilities": entry["capabilities"]})
        bm.create_port(node_uuid=node.id, address=entry["mac"][0])
        ids.append(node.id)
    for action, target in (("manage", "manageable"), ("inspect", "manageable"), ("provide", "available")):
        for uuid in ids:
            bm.set_node_provision_state(uuid, action)
        _wait(bm, ids, target)
    return site


def with_stack(site: SiteConfig, stack: str, controllers: int, computes: int) -> SiteConfig:
    """The site with its overcloud renamed and sized: each test deploys a stack of its own."""
    overcloud = site.overcloud.model_copy(update={"stack": stack,
                                                  "roles": {"Controller": controllers, "Compute": computes}})
    return site.model_copy(update={"overcloud": overcloud})
