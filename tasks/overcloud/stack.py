"""The overcloud's Heat stack: observed, followed with progress, and diagnosed when it fails.

Plain functions over a python-heatclient client (built from the site's cloud through openstacksdk's
session, so clouds.yaml, Blocks and endpoint overrides work as for Ironic). A stack's *action* is one
create or update; ``action_since`` tells whether one began after a snapshot, which is how a retried
command knows that the stack already did (or failed) what it was asked.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

from heatclient import client as heat_client
from heatclient import exc as heat_exc

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import CloudSite
from rdoflow.tasks.overcloud.model import (
    FailedResource,
    ResourceCount,
    StackEvent,
    StackSnapshot,
)
from rdoflow.tasks.progress import StageProgress
from rdoflow.tasks.retries import is_transient
from rdoflow.tasks.undercloud.credentials import site_cloud
from rdoflow.waiting import Deadline

# Deep enough for TripleO's overcloud (role group → node stack → deployments → their nested stacks).
NESTED_DEPTH = 5
EVENTS_PER_RESOURCE = 5
POLL_MAX_DELAY = 2.0


def heat_for(cloud: CloudSite, host: SSHHost | None = None) -> Any:
    """A python-heatclient v1 client on the session openstacksdk builds for the site's cloud (``host``: the
    undercloud, for a cloud taken from its clouds.yaml)."""
    conn = site_cloud(cloud, host).connect()
    return heat_client.Client(
        "1",
        session=conn.session,
        endpoint_override=conn.config.get_endpoint("orchestration"),
        service_type="orchestration",
        interface=conn.config.get_interface(),
        region_name=conn.config.get_region_name("orchestration"),
    )


def observe(heat: Any, name: str) -> StackSnapshot:
    """The stack as it is now (a deleted stack counts as absent)."""
    try:
        stack = heat.stacks.get(name)
    except heat_exc.HTTPNotFound:
        return StackSnapshot(name=name)
    if stack.stack_status == "DELETE_COMPLETE":
        return StackSnapshot(name=name)
    return StackSnapshot(name=name, exists=True, id=stack.id, status=stack.stack_status,
                         reason=stack.stack_status_reason or "", creation_time=stack.creation_time,
                         updated_time=getattr(stack, "updated_time", None))


def action_since(before: StackSnapshot, now: StackSnapshot) -> bool:
    """Did a create or update of the stack begin after ``before`` was taken?

    Heat sets ``updated_time`` when an update starts, and a new stack has a new id, so a
    stack action shows in one of them, or at least in the status it left behind.
    """
    if not now.exists:
        return False
    if not before.exists:
        return True
    return (now.id, now.updated_time, now.status) != (before.id, before.updated_time, before.status)


def count_resources(heat: Any, stack_id: str, nested_depth: int = NESTED_DEPTH) -> ResourceCount:
    """Resources (nested ones included) in a *_COMPLETE state, out of all of them: one API call."""
    try:
        resources = list(heat.resources.list(stack_id, nested_depth=nested_depth))
    except heat_exc.HTTPNotFound:  # a nested stack vanishing mid-listing: count again next round
        return ResourceCount()
    done = sum(1 for r in resources if r.resource_status.endswith("_COMPLETE"))
    return ResourceCount(complete=done, total=len(resources))


def wait_settled(heat: Any, name: str, budget: float, progress: StageProgress | None = None,
                 nested_depth: int = NESTED_DEPTH) -> StackSnapshot:
    """Wait while the stack has an action in progress (a stack GET and a resources list per round)."""
    wait = Deadline(budget, f"stack {name}", target="not IN_PROGRESS", first_delay=0.5, max_delay=POLL_MAX_DELAY)
    for _ in wait:
        now = observe(heat, name)
        wait.last_seen = now.status or "absent"
        if not now.in_progress:
            return now
        report(heat, now, progress, nested_depth)
    raise AssertionError("unreachable: Deadline raises when the budget is spent")


def follow(heat: Any, before: StackSnapshot, budget: float, command: Future,
           progress: StageProgress | None = None, nested_depth: int = NESTED_DEPTH) -> StackSnapshot:
    """Poll the stack while ``command`` (the command that drives it) runs, reporting progress once
    its action began; returns the stack as it is once the command ended (the wait ends with it)."""
    ended = threading.Event()
    command.add_done_callback(lambda _: ended.set())
    wait = Deadline(budget, f"stack {before.name}", target="the command's end", first_delay=0.5,
                    max_delay=POLL_MAX_DELAY, wake=ended)
    for _ in wait:
        done = ended.is_set()  # read before the stack, so that the last look comes after the end
        try:
            now = observe(heat, before.name)
            wait.last_seen = now.status or "absent"
            if done:
                return now
            if action_since(before, now):
                report(heat, now, progress, nested_depth)
        # A transient fault tries again next round: the command, not the poll, drives the stack.
        except Exception as exc:
            if done or not is_transient(exc):
                raise
            wait.last_seen = f"Heat did not answer ({type(exc).__name__}: {exc})"
    raise AssertionError("unreachable: Deadline raises when the budget is spent")


def report(heat: Any, stack: StackSnapshot, progress: StageProgress | None, nested_depth: int) -> ResourceCount:
    """Send the stack's resources complete / total to ``progress``."""
    count = count_resources(heat, stack.id, nested_depth) if stack.exists else ResourceCount()
    if progress is not None and count.total:
        progress.update(count.complete, total=count.total, note=stack.status or "")
    return count


def stack_failures(heat: Any, stack: StackSnapshot, events: int = EVENTS_PER_RESOURCE) -> list[FailedResource]:
    """What `openstack stack failures list --long` shows: the failed resources found by descending
    into failed nested stacks, each with its reason and the last events of it and its parents."""
    found: list[FailedResource] = []
    _descend(heat, stack.id, [stack.name], [], found, events)
    return found


def _descend(heat: Any, stack_id: str, path: list[str], parents: list[tuple[str, str]],
             found: list[FailedResource], events: int) -> bool:
    """Add the failed resources of one (nested) stack; True when any was added below ``path``."""
    added = False
    for resource in heat.resources.list(stack_id):
        if not resource.resource_status.endswith("FAILED"):
            continue
        here = [*path, resource.resource_name]
        chain = [*parents, (stack_id, resource.resource_name)]
        nested = any(link.get("rel") == "nested" for link in resource.links) and resource.physical_resource_id
        below = False
        if nested:
            try:
                below = _descend(heat, resource.physical_resource_id, here, chain, found, events)
            except heat_exc.HTTPNotFound:  # the resource failed before its nested stack existed
                below = False
        if not below:
            found.append(FailedResource(
                path=".".join(here), type=resource.resource_type, status=resource.resource_status,
                reason=resource.resource_status_reason or "", physical_id=resource.physical_resource_id or "",
                events=_chain_events(heat, chain, path[:1], events),
            ))
        added = True
    return added


def _chain_events(heat: Any, chain: list[tuple[str, str]], root: list[str], events: int) -> list[StackEvent]:
    """The last ``events`` events of each resource of the chain, top stack first, oldest first."""
    collected: list[StackEvent] = []
    path = list(root)
    for stack_id, name in chain:
        path.append(name)
        try:
            listed = list(heat.events.list(stack_id, resource_name=name, sort_dir="desc", limit=events))
        except heat_exc.HTTPNotFound:
            continue
        collected += [StackEvent(time=e.event_time, resource=".".join(path), status=e.resource_status,
                                 reason=e.resource_status_reason or "") for e in reversed(listed)]
    return sorted(collected, key=lambda event: event.time)
