"""Creating or updating the overcloud's Heat stack and following it to the end, as tripleoclient does.

The nodes report their configuration to Heat on their own (the lab's node
agent, ``lab/config_agent.py``), so a stack goes on when this command dies.
"""

from __future__ import annotations

import time
from pathlib import Path

from heatclient import exc as heat_exc
from heatclient.common import template_utils

from ..config_agent import owner
from .clients import orchestration
from .console import CommandFailed, say

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


def create_or_update(name: str, template, files, environment, timeout_minutes: int) -> None:
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
    _follow(heat, stack.id, name, action, timeout_minutes * 60)


def _follow(heat, stack_id: str, name: str, action: str, budget: float) -> None:
    seen_events: set[str] = set()
    end = time.monotonic() + budget
    while True:
        for event in reversed(list(heat.events.list(stack_id, nested_depth=3, sort_dir="desc", limit=200))):
            if event.id not in seen_events:
                seen_events.add(event.id)
                print(f"{event.event_time} [{owner(event).split('/')[0]}.{event.resource_name}]: "
                      f"{event.resource_status} {event.resource_status_reason}", flush=True)
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
