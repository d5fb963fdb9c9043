"""The lab's overcloud nodes reporting their configuration to Heat, as os-collect-config did.

Each node of the lab's templates waits for a signal on its ``ConfigHandle``. A
real node sends it when its configuration has run; here one agent does it for
all nodes: SUCCESS after the configured time, or FAILURE with the reason a
``faults.stack_fail`` entry (stage ``deploy``) gives for that role and index,
so Heat fails that resource with that reason. It works whether or not the
``overcloud deploy`` command that started the stack is still connected.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from heatclient import client as heat_client

from . import config as labconfig

log = logging.getLogger("lab.config_agent")


def owner(resource) -> str:
    """``name/id`` of the (nested) stack a resource or event belongs to."""
    return next(link["href"] for link in resource.links if link["rel"] == "stack").split("/stacks/")[1]


class ConfigAgent:
    def __init__(self, lab_dir: Path, heat_url: str):
        self.lab_dir = lab_dir
        self.heat = heat_client.Client("1", endpoint=heat_url, token="lab-node-agent")
        self.answered: set[str] = set()

    def round(self) -> bool:
        """Answer the nodes of every stack in progress; whether any stack is."""
        busy = False
        for stack in self.heat.stacks.list():
            if stack.stack_status.endswith("IN_PROGRESS"):
                busy = True
                self._answer(stack.id)
        return busy

    def _answer(self, stack_id: str) -> None:
        resources = list(self.heat.resources.list(stack_id, nested_depth=3))
        configured = {owner(r) for r in resources
                      if r.resource_type == "OS::Heat::WaitCondition" and r.resource_status.endswith("_COMPLETE")}
        for handle in resources:
            nested = owner(handle)
            if (handle.resource_type != "OS::Heat::WaitConditionHandle" or handle.resource_status != "CREATE_COMPLETE"
                    or nested in configured or nested in self.answered):
                continue
            self.answered.add(nested)
            self._report(nested, handle.resource_name)

    def _report(self, nested: str, handle: str) -> None:
        knobs = labconfig.load(self.lab_dir)
        parameters = self.heat.stacks.get(nested.split("/")[1]).parameters
        role, index = parameters["Role"], int(parameters["Index"])
        failing = {(f.role, f.index): f.reason for f in knobs.faults.stack_fail if f.stage == "deploy"}
        time.sleep(knobs.timing.node_configure)  # the node runs its configuration
        reason = failing.get((role, index))
        status = {"status": "FAILURE", "reason": reason} if reason else {"status": "SUCCESS", "reason": "configured"}
        self.heat.resources.signal(nested, handle, data={**status, "id": "1", "data": f"{role}-{index}"})
        log.info("%s-%d: reported %s", role, index, status["status"])
