"""Creating or updating the overcloud's Heat stack and following it to the end, as tripleoclient does.

While the stack runs, each node's configuration step is answered: the wait
condition handle of ``<Role>-<index>`` is signalled SUCCESS after the
configured time, or FAILURE with the reason a ``stack_fail`` fault gives, so
Heat records that reason on the failed resource (as it did for os-collect-config).
"""

from __future__ import annotations

import time
from pathlib import Path

from heatclient import exc as heat_exc
from heatclient.common import template_utils

from lab import config as labconfig
from lab.tripleo.clients import orchestration
from lab.tripleo.console import CommandFailed, say
from lab.tripleo.hoststate import lab_dir

REGISTRY = "overcloud-resource-registry.yaml"
POLL_SECONDS = 0.5


def load_environment(templates: Path, env_files: list[str], extra: dict):
    """Template, files and merged environment, exactly as ``-e`` files are processed by the client."""
    if not (templates / "overcloud.yaml").exists():
        raise CommandFailed(f"No overcloud.yaml in the templates directory {templates}")
    try:
        files, template = template_utils.get_template_contents(str(templates / "overcloud.yaml"))
        env_paths = [str(templates / REGISTRY), *env_files]
        env_files_map, environment = template_utils.process_multiple_environments_and_files(env_paths=env_paths)
    except Exception as exc:  # heatclient raises bare Exceptions and URLErrors for unreadable files
        raise CommandFailed(f"Could not load the deployment's templates or environment files: {exc}") from exc
    files.update(env_files_map)
    defaults = environment.setdefault("parameter_defaults", {})
    defaults.update(extra)
    return template, files, environment


def create_or_update(name: str, template, files, environment, timeout_minutes: int, stage: str) -> None:
    heat = orchestration()
    action = "UPDATE"
    try:
        stack = heat.stacks.get(name)
        if stack.stack_status == "DELETE_COMPLETE":
            raise heat_exc.HTTPNotFound()
        heat.stacks.update(stack.id, template=template, files=files, environment=environment,
                           timeout_mins=timeout_minutes)
    except heat_exc.HTTPNotFound:
        action = "CREATE"
        try:
            created = heat.stacks.create(stack_name=name, template=template, files=files, environment=environment,
                                         timeout_mins=timeout_minutes)
        except heat_exc.HTTPException as exc:
            raise CommandFailed(f"Heat refused the stack: {exc}") from exc
        stack = heat.stacks.get(created["stack"]["id"])
    except heat_exc.HTTPException as exc:
        raise CommandFailed(f"Heat refused the stack update: {exc}") from exc
    say(f"Stack {name} {action} started")
    _follow(heat, stack.id, name, action, timeout_minutes * 60, stage)


def _follow(heat, stack_id: str, name: str, action: str, budget: float, stage: str) -> None:
    seen_events: set[str] = set()
    answered: set[tuple[str, str]] = set()
    end = time.monotonic() + budget
    while True:
        for event in reversed(list(heat.events.list(stack_id, nested_depth=3, sort_dir="desc", limit=200))):
            if event.id not in seen_events:
                seen_events.add(event.id)
                print(f"{event.event_time} [{event.stack_name}.{event.resource_name}]: "
                      f"{event.resource_status} {event.resource_status_reason}", flush=True)
        _answer_nodes(heat, stack_id, answered, stage)
        stack = heat.stacks.get(stack_id)
        if not stack.stack_status.endswith("IN_PROGRESS"):
            break
        if time.monotonic() > end:
            raise CommandFailed(f"Timed out waiting for stack {name} ({stack.stack_status})")
        time.sleep(POLL_SECONDS)
    if stack.stack_status != f"{action}_COMPLETE":
        print(f"Stack {name}/{stack_id} {stack.stack_status}", flush=True)
        for resource in heat.resources.list(stack_id, nested_depth=3):
            if resource.resource_status.endswith("FAILED"):
                print(f"{resource.resource_name}: {resource.resource_status}: {resource.resource_status_reason}")
        raise CommandFailed(f"Heat Stack {action.lower()} failed.")
    say(f"Stack {name}/{stack_id} {stack.stack_status}")


def _answer_nodes(heat, stack_id: str, answered: set, stage: str) -> None:
    """Signal each node's configuration handle once it exists: the node reports how its configuration went."""
    knobs = labconfig.load(lab_dir())
    failing = {(f.role, f.index): f.reason for f in knobs.faults.stack_fail if f.stage == "deploy"}
    resources = list(heat.resources.list(stack_id, nested_depth=3))
    configured = {_owner(r) for r in resources
                  if r.resource_type == "OS::Heat::WaitCondition" and r.resource_status.endswith("_COMPLETE")}
    for resource in resources:
        if resource.resource_type != "OS::Heat::WaitConditionHandle" or resource.resource_status != "CREATE_COMPLETE":
            continue
        nested = _owner(resource)
        if (nested, resource.resource_name) in answered or nested in configured:
            continue
        answered.add((nested, resource.resource_name))
        parameters = heat.stacks.get(nested.split("/")[1]).parameters
        node = (parameters["Role"], int(parameters["Index"]))
        time.sleep(knobs.timing.node_configure)
        reason = failing.get(node) if stage == "deploy" else None
        status = {"status": "FAILURE", "reason": reason} if reason else {"status": "SUCCESS", "reason": "configured"}
        heat.resources.signal(nested, resource.resource_name, data={**status, "id": "1", "data": "lab"})


def _owner(resource) -> str:
    """``name/id`` of the (nested) stack a resource belongs to."""
    return next(link["href"] for link in resource.links if link["rel"] == "stack").split("/stacks/")[1]
