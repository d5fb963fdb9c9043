"""The 'cloud' workload: a small Heat stack and an Ironic allocation, created through the site's cloud before
the upgrade, looked at throughout, compared after it and removed.

The probe runs on the machine that runs the flow, through openstacksdk and heatclient, as every other
stage reaches the undercloud's APIs: nothing is left running on the undercloud, and what it sees is what an
API user sees (an API that stops answering is an outage, not a probe that died with the host).
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from pydantic import BaseModel

from rdoflow.errors import RdoflowError
from rdoflow.waiting import Deadline

TAG = "rdoflow-workload"
TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "description": "rdoflow's workload across the upgrade: must come through unchanged",
    "resources": {"token": {"type": "OS::Heat::RandomString", "properties": {"length": 16}}},
    "outputs": {"token": {"value": {"get_attr": ["token", "value"]}}},
}
RELEASE_REASON = "rdoflow: removing its workload allocation from an active node"


class WorkloadNotStarted(RdoflowError):
    """The workload could not be set up or did not answer before the upgrade: rdoflow could not test (exit 3)."""

    reference = "workload-not-started"


class CloudWorkload(BaseModel):
    """What was created, and what each part looked like once created."""

    name: str
    stack_id: str | None = None
    allocation_id: str | None = None
    node_id: str | None = None
    node_was_active: bool = False
    baseline: dict[str, Any] = {}

    @property
    def what(self) -> str:
        return f"stack {self.name} and allocation {self.name} on node {self.node_id}"


def new_workload(check_name: str) -> CloudWorkload:
    """A workload yet to create; ``create_stack`` and ``create_allocation`` record each part as soon as it
    exists, so that ``remove`` takes away a half-made one."""
    return CloudWorkload(name=f"{TAG}-{check_name}-{uuid4().hex[:6]}")


def create_stack(heat: Any, workload: CloudWorkload, budget: float) -> None:
    created = heat.stacks.create(stack_name=workload.name, template=TEMPLATE, tags=TAG)
    workload.stack_id = created["stack"]["id"]
    stack = _stack_until(heat, workload, "CREATE_COMPLETE", budget)
    if stack.stack_status != "CREATE_COMPLETE":
        raise WorkloadNotStarted(f"the workload stack {workload.name} failed to create: "
                                 f"{stack.stack_status}: {stack.stack_status_reason}",
                                 hint="is the undercloud's Heat working? ('openstack stack list')")


def _stack_until(heat: Any, workload: CloudWorkload, target: str, budget: float) -> Any:
    """The workload's stack once it reached ``target`` or failed (StageTimeout past ``budget``)."""
    wait = Deadline(budget, f"workload stack {workload.name}", target=target, max_delay=2)
    for _ in wait:
        stack = heat.stacks.get(workload.stack_id)
        wait.last_seen = stack.stack_status
        if stack.stack_status == target or stack.stack_status.endswith("_FAILED"):
            return stack
    raise wait.timeout()  # not reached: the deadline raises once it runs out


def create_allocation(conn: Any, workload: CloudWorkload, budget: float) -> None:
    """An allocation on an available node; when there is none, one backfilled on a deployed node that has
    none (Ironic's way of recording an instance it did not place)."""
    nodes = [node for node in conn.baremetal.nodes(details=True) if not node.is_maintenance
             and not node.allocation_id]
    free = [node for node in nodes if node.provision_state == "available"]
    deployed = [node for node in nodes if node.provision_state == "active"]
    if free:
        node = free[0]
        allocation = conn.baremetal.create_allocation(name=workload.name, resource_class=node.resource_class,
                                                      candidate_nodes=[node.id])
    elif deployed:
        node = deployed[0]
        allocation = conn.baremetal.create_allocation(name=workload.name, node=node.id)
    else:
        raise WorkloadNotStarted("no node for the workload's allocation: none is available, and every deployed "
                                 "node already has an allocation",
                                 hint="leave one node available, or use a workload of kind 'command'")
    workload.allocation_id, workload.node_was_active = allocation.id, not free
    allocation = conn.baremetal.wait_for_allocation(allocation, timeout=budget)
    workload.node_id = allocation.node_id


def snapshot(conn: Any, heat: Any, workload: CloudWorkload) -> dict[str, Any]:
    """What must not change: the stack's id, status and outputs; the allocation's state and node; the
    node's provision state and maintenance."""
    stack = heat.stacks.get(workload.stack_id)
    allocation = conn.baremetal.get_allocation(workload.allocation_id)
    node = conn.baremetal.get_node(workload.node_id)
    return {
        "stack": stack.id, "stack status": stack.stack_status,
        "outputs": {o["output_key"]: o.get("output_value") for o in stack.outputs or []},
        "allocation": allocation.id, "allocation state": allocation.state, "node": allocation.node_id,
        "node state": node.provision_state,
        "maintenance": f"{node.is_maintenance}" + (f" ({node.maintenance_reason})" if node.is_maintenance else ""),
    }


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Each field that changed, as 'field: before -> after' (outputs by name, values not shown)."""
    changed = []
    for key, was in before.items():
        now = after.get(key)
        if key == "outputs" and now != was:
            names = sorted(k for k in set(was) | set(now or {}) if (now or {}).get(k) != was.get(k))
            changed.append(f"stack outputs changed: {', '.join(names)}")
        elif now != was:
            changed.append(f"{key}: {was} -> {now}")
    return changed


def probe(conn: Any, heat: Any, workload: CloudWorkload) -> tuple[bool, str]:
    """One look: up when nothing that must not change has changed; otherwise the first change, or the
    error of an API that did not answer."""
    try:
        changed = differences(workload.baseline, snapshot(conn, heat, workload))
    except Exception as exc:  # noqa: BLE001 - any failure to look is an outage seen, not the probe's end
        return False, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
    return (not changed), ("; ".join(changed) if changed else f"stack {workload.baseline['stack status']}, "
                           f"allocation {workload.baseline['allocation state']}")


def remove(conn: Any, heat: Any, workload: CloudWorkload, budget: float) -> list[str]:
    """Take away whatever was created; returns what could not be removed (empty: nothing is left)."""
    left = []
    if workload.allocation_id:
        try:
            _remove_allocation(conn, workload)
        except Exception as exc:  # noqa: BLE001 - the stack is still removed; the leftover is reported
            left.append(f"allocation {workload.name} ({workload.allocation_id}): {exc}")
    if workload.stack_id:
        try:
            heat.stacks.delete(workload.stack_id)
            stack = _stack_until(heat, workload, "DELETE_COMPLETE", budget)
            if stack.stack_status != "DELETE_COMPLETE":
                left.append(f"stack {workload.name} ({workload.stack_id}): {stack.stack_status}")
        except Exception as exc:  # noqa: BLE001
            if getattr(exc, "code", None) != 404:
                left.append(f"stack {workload.name} ({workload.stack_id}): {exc}")
    return left


def _remove_allocation(conn: Any, workload: CloudWorkload) -> None:
    """Ironic removes an active node's allocation only in maintenance: on for the removal, then off."""
    bm = conn.baremetal
    node = bm.get_node(workload.node_id) if workload.node_id else None
    hold = node is not None and node.provision_state == "active" and not node.is_maintenance
    if hold:
        bm.set_node_maintenance(node, RELEASE_REASON)
    try:
        bm.delete_allocation(workload.allocation_id, ignore_missing=True)
    finally:
        if hold:
            bm.unset_node_maintenance(node)
