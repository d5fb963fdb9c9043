"""Provisioning the overcloud's nodes through the lab's Ironic, as ``overcloud node provision`` does.

Nodes are chosen by their ``profile`` capability, named ``overcloud-<role>-<i>``
through ``instance_info.display_name`` and deployed (``active``). A node named in
``faults.deploy_fail`` is switched to the agent deploy interface first: no
agent ever calls back, so Ironic itself fails the deploy and records last_error.
"""

from __future__ import annotations

import time

from .. import config as labconfig
from .clients import baremetal
from .console import CommandFailed, say
from .hoststate import lab_dir

PROFILES = {"Controller": "control", "Compute": "compute"}
POLL_SECONDS = 0.5


def hostname(stack: str, role: str, index: int) -> str:
    """TripleO's node names: overcloud-controller-0 for the stack 'overcloud'."""
    return f"{stack}-{role.lower()}-{index}"


def _profile(node) -> str | None:
    capabilities = (node.properties or {}).get("capabilities") or ""
    if isinstance(capabilities, dict):
        return capabilities.get("profile")
    pairs = dict(item.split(":", 1) for item in capabilities.split(",") if ":" in item)
    return pairs.get("profile")


def provision(stack: str, counts: dict[str, int], timeout: float) -> dict[str, list[str]]:
    """Deploy ``counts[role]`` nodes per role; return the hostnames per role, in index order."""
    bm = baremetal()
    knobs = labconfig.load(lab_dir())
    nodes = list(bm.nodes(details=True))
    by_name = {(n.instance_info or {}).get("display_name"): n for n in nodes if n.provision_state == "active"}
    wanted, to_deploy = {}, []
    for role, count in counts.items():
        free = [n for n in nodes if n.provision_state == "available" and _profile(n) == PROFILES.get(role, role.lower())]
        wanted[role] = [hostname(stack, role, i) for i in range(count)]
        missing = [name for name in wanted[role] if name not in by_name]
        if len(free) < len(missing):
            raise CommandFailed(f"Not enough nodes - available: {len(free)}, requested: {len(missing)} "
                                f"(role {role}, profile {PROFILES.get(role, role.lower())})")
        to_deploy += list(zip(missing, free))
    deploy_nodes(bm, to_deploy, timeout, knobs.faults.deploy_fail)
    return wanted


def deploy_nodes(bm, to_deploy: list[tuple[str, object]], timeout: float, deploy_fail=(), *,
                 announce: bool = True) -> None:
    """Deploy each ``(hostname, node)``: the hostname in ``instance_info.display_name``, the node ``active``.
    A node named in ``deploy_fail`` gets an agent deploy interface no agent calls back: Ironic fails it."""
    for name, node in to_deploy:
        patch = [{"op": "add", "path": "/instance_info/display_name", "value": name}]
        if node.name in deploy_fail:
            patch.append({"op": "replace", "path": "/deploy_interface", "value": "custom-agent"})
        bm.patch_node(node, patch)
        bm.set_node_provision_state(node, "active")
        if announce:
            say(f"Provisioning {name} on node {node.name} ({node.id})", logger="tripleoclient.provision")
    _wait_active(bm, {node.id: name for name, node in to_deploy}, timeout, announce)


def _wait_active(bm, deploying: dict[str, str], timeout: float, announce: bool = True) -> None:
    end = time.monotonic() + timeout
    while deploying:
        states = {n.id: n for n in bm.nodes(details=True) if n.id in deploying}
        for uuid, node in states.items():
            if node.provision_state == "active":
                name = deploying.pop(uuid)
                if announce:
                    say(f"{name}: active on node {node.name}", logger="tripleoclient.provision")
            elif node.provision_state.endswith("failed") and node.last_error:  # Ironic saves the error after the state
                raise CommandFailed(f"Node {node.name} ({uuid}) reached failure state \"{node.provision_state}\"; "
                                    f"the last error is: {node.last_error}")
        if deploying and time.monotonic() > end:
            raise CommandFailed(f"Timed out waiting for nodes to deploy: {', '.join(sorted(deploying.values()))}")
        if deploying:
            time.sleep(POLL_SECONDS)
