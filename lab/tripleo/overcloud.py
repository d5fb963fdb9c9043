"""``openstack overcloud deploy`` and ``openstack overcloud upgrade prepare | run | converge`` on the lab host."""

from __future__ import annotations

import json
import time
from pathlib import Path

from .. import config as labconfig
from .clients import baremetal
from .console import CommandFailed, say
from .hoststate import host_state, lab_dir
from .overcloudrc import write_overcloud_credentials
from .provision import hostname, provision
from .stack import create_or_update, load_environment
from .undercloud import upgraded_version
from .upgrade_faults import after_upgrade

ROLES = ("Controller", "Compute")
WORKLOAD_PREFIX = "rdoflow-workload-"  # the names rdoflow gives its workload's stack and allocation


def deploy(templates: Path, env_files: list[str], stack: str, timeout_minutes: int) -> None:
    template, files, environment = load_environment(templates, env_files, {})
    counts = {role: int(environment["parameter_defaults"].get(f"{role}Count", 1)) for role in ROLES}
    say(f"Deploying stack {stack}: " + ", ".join(f"{role} x{count}" for role, count in counts.items()))
    names = provision(stack, counts, timeout=timeout_minutes * 60)
    extra = {f"{role}Hostnames": names[role] for role in ROLES}
    extra["DeployIdentifier"] = str(int(time.time()))
    environment["parameter_defaults"].update(extra)
    _record(stack, templates, env_files, counts)
    create_or_update(stack, template, files, environment, timeout_minutes)
    write_overcloud_credentials(lab_dir(), Path.home(), stack)
    print("Overcloud Endpoint: https://overcloud.localdomain:13000\nOvercloud Deployed without error", flush=True)


def upgrade(step: str, templates: Path | None, env_files: list[str], stack: str, limit: str | None,
            timeout_minutes: int) -> None:
    with host_state() as state:
        deployed = state.get("overcloud", {}).get(stack)
    if not deployed:
        raise CommandFailed(f"The stack {stack} is not deployed; deploy it before upgrading it")
    if step == "run":
        _upgrade_role(stack, limit, deployed)
        return
    if labconfig.load(lab_dir()).release != "train":
        # STAND-IN: Wallaby's and Zed's prepare and converge update the stack with an ephemeral Heat and
        # run config-download, which the lab's nodes cannot; the lab records the step and says so as the
        # real command ends.
        with host_state() as state:
            state["overcloud"][stack]["upgrade"] = step
            state["overcloud"][stack]["upgraded"] = step == "converge"
        if step == "converge":
            after_upgrade()
        print(f"Completed Overcloud Upgrade {step.capitalize()} for stack {stack}", flush=True)
        return
    templates = templates or Path(deployed["templates"])
    env = [*deployed["environment_files"], *env_files]
    template, files, environment = load_environment(templates, env, {})
    environment["parameter_defaults"].update(
        {f"{role}Hostnames": [hostname(stack, role, i) for i in range(deployed["counts"][role])] for role in ROLES}
        | {f"{role}Count": deployed["counts"][role] for role in ROLES}
        | {"UpgradeStage": step, "DeployIdentifier": str(int(time.time()))}
    )
    create_or_update(stack, template, files, environment, timeout_minutes)
    with host_state() as state:
        state["overcloud"][stack]["upgrade"] = step
        state["overcloud"][stack]["upgraded"] = step == "converge"
    if step == "converge":
        after_upgrade()
    print(f"Completed Overcloud Upgrade {step.capitalize()} for stack {stack}", flush=True)


def _upgrade_role(stack: str, limit: str | None, deployed: dict) -> None:
    """``upgrade run --limit ROLE``: node by node, as the upgrade playbooks do; a stack_fail fault of
    stage 'upgrade' fails its node the way ansible reports it."""
    if not limit:
        raise CommandFailed("--limit is required: name the role (or nodes) to upgrade", status=2)
    if deployed.get("upgrade") not in ("prepare", "run"):
        raise CommandFailed(f"Run 'openstack overcloud upgrade prepare' for {stack} first")
    knobs = labconfig.load(lab_dir())
    failing = {(f.role, f.index): f.reason for f in knobs.faults.stack_fail if f.stage == "upgrade"}
    roles = [role for role in ROLES if role.lower() in {part.strip().lower() for part in limit.split(",")}]
    if not roles:
        raise CommandFailed(f"--limit {limit}: no such role in stack {stack} (roles: {', '.join(ROLES)})")
    active = {(n.instance_info or {}).get("display_name"): n for n in baremetal().nodes(details=True)}
    print(f"PLAY [Upgrade {', '.join(roles)}] " + "*" * 40, flush=True)
    outage = knobs.faults.workload_outage
    if outage is not None and outage.role in roles:
        _workload_outage(outage.role, outage.seconds)
    recap = {}
    for role in roles:
        for index, name in enumerate(_hostnames(stack, role, deployed["counts"][role])):
            print(f"TASK [Upgrade {name}] " + "*" * 40, flush=True)
            time.sleep(knobs.timing.node_configure)
            reason = failing.get((role, index))
            if reason:
                print(f'fatal: [{name}]: FAILED! => {json.dumps({"changed": False, "msg": reason})}', flush=True)
                recap[name] = "ok=3    changed=1    unreachable=0    failed=1"
                break
            node = active.get(name)
            if node is not None:
                baremetal().patch_node(node, [{"op": "add", "path": "/extra/upgraded_to", "value": upgraded_version()}])
            print(f"changed: [{name}]", flush=True)
            recap[name] = "ok=12   changed=4    unreachable=0    failed=0"
    print("PLAY RECAP " + "*" * 40 + "\n" + "\n".join(f"{name:<28}: {line}" for name, line in recap.items()))
    if any("failed=1" in line for line in recap.values()):
        raise CommandFailed(f"Upgrade run --limit {limit} failed: see the failed task above")
    with host_state() as state:
        stack_state = state["overcloud"][stack]
        stack_state["upgrade"] = "run"
        stack_state.setdefault("upgraded_roles", []).extend(roles)
        # Zed has no converge: the upgrade is over once every role with nodes has run.
        every_role = {role for role, count in stack_state["counts"].items() if count}
        stack_state["upgraded"] = knobs.release == "zed" and every_role <= set(stack_state["upgraded_roles"])
        upgraded = stack_state["upgraded"]
    if upgraded:
        after_upgrade()


def _workload_outage(role: str, seconds: float) -> None:
    """The fault workload_outage: each node holding an allocation of rdoflow's workload goes into maintenance
    for ``seconds``, as if this role's upgrade rebooted it, then comes back."""
    bm = baremetal()
    held = [a.node_id for a in bm.allocations() if (a.name or "").startswith(WORKLOAD_PREFIX) and a.node_id]
    for node in held:
        bm.set_node_maintenance(node, f"lab fault workload_outage: rebooted by upgrade run {role}")
    try:
        time.sleep(seconds)
    finally:
        for node in held:
            bm.unset_node_maintenance(node)


def _hostnames(stack: str, role: str, count: int) -> list[str]:
    """The role's nodes as the deploy named them: on Wallaby and Zed, the hostnames ``overcloud node
    provision`` gave them (THT's formats: overcloud-novacompute-0 for Compute); on Train, the lab's own."""
    with host_state() as state:
        roles = state.get("provisioned_roles", {}).get(stack)
    if not roles:
        return [hostname(stack, role, index) for index in range(count)]
    return sorted((name for name, of in roles.items() if of == role), key=_natural)[:count]


def _natural(name: str) -> tuple[str, int]:
    stem, _, index = name.rpartition("-")
    return (stem, int(index)) if index.isdigit() else (name, -1)


def _record(stack: str, templates: Path, env_files: list[str], counts: dict[str, int]) -> None:
    with host_state() as state:
        state.setdefault("overcloud", {})[stack] = {
            "templates": str(templates), "environment_files": env_files, "counts": counts, "upgrade": None,
        }
