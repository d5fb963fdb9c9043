"""The overcloud domain's model: a stage's steps (the commands and what they did), the Heat stack as seen at
one moment, its failed resources and their events (plain types; renderers take them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from rdoflow.outcome import Outcome


class StackSnapshot(BaseModel):
    """What a stack looked like at one moment (``exists`` False when there is no such stack)."""

    name: str
    exists: bool = False
    id: str | None = None
    status: str | None = Field(None, description="stack_status, e.g. CREATE_COMPLETE.")
    reason: str = ""
    creation_time: str | None = None
    updated_time: str | None = None

    @property
    def in_progress(self) -> bool:
        return bool(self.status and self.status.endswith("_IN_PROGRESS"))

    @property
    def complete(self) -> bool:
        return bool(self.status and self.status.endswith("_COMPLETE") and not self.status.startswith("DELETE"))

    @property
    def failed(self) -> bool:
        return bool(self.status and self.status.endswith("_FAILED"))

    @property
    def shown(self) -> str:
        return f"stack {self.name} {self.status}" if self.exists else f"no stack {self.name}"


class StackEvent(BaseModel):
    time: str
    resource: str = Field(description="Dotted path of the resource the event belongs to.")
    status: str
    reason: str = ""

    @property
    def line(self) -> str:
        return f"{self.time} {self.resource} {self.status}: {self.reason}"


class FailedResource(BaseModel):
    """A failed resource at the bottom of the failed chain, as `openstack stack failures list` shows it."""

    path: str = Field(description="stack.Role.index.Resource, from the top stack down.")
    type: str
    status: str
    reason: str
    physical_id: str = ""
    events: list[StackEvent] = Field(default_factory=list, description="Last events of it and its parents.")


class ResourceCount(BaseModel):
    complete: int = 0
    total: int = 0


class StackStep(BaseModel):
    """One command of a stage, and what rdoflow watches while it runs."""

    name: str = Field(description="What the report calls it, e.g. 'upgrade run Compute'.")
    key: str = Field(description="Artifact-safe name (lowercase letters, digits, '-').")
    argv: list[str]
    stack: str
    timeout: float = Field(description="Seconds the command may run.")
    drives_stack: bool = Field(description="True when the command creates or updates the Heat stack.")
    hosts: int = Field(0, description="Nodes the command works on, for progress ('upgrade run').")
    leaves_status: bool = Field(False, description="The command writes its outcome to the deploy's working "
                                                   "directory (Wallaby's and Zed's deploy): a run that a dropped "
                                                   "session left going is judged from it, not run again.")


class NodeFailure(BaseModel):
    """A node the command names as failed: Ironic's provisioning, or an ansible host."""

    node: str
    state: str
    error: str




class StepResult(BaseModel):
    """What one step did: outcome, duration, the stack it left, and the first error with its evidence."""

    name: str
    command: str
    outcome: Outcome = Outcome.SKIP
    duration: float = 0.0
    command_seconds: float = Field(0.0, description="Time the command itself ran (this attempt).")
    finished_at: float | None = Field(None, description="When the step ended (seconds since the epoch): where a "
                                                        "watched workload places the steps in its own time.")
    attempts: int = 0
    stack_status: str | None = None
    resources: ResourceCount | None = None
    notes: list[str] = Field(default_factory=list)
    error: str | None = None
    error_kind: Literal["resource", "command", "timeout", "release"] | None = None
    evidence: list[str] = Field(default_factory=list)
    hint: str | None = None
    failures: list[FailedResource] = Field(default_factory=list)


class StageReport(BaseModel):
    """A deploy or upgrade stage: its steps in order (those after a failure 'not run') and the stack."""

    stage: str = Field(description="overcloud-deploy or upgrade.")
    site: str
    stack: str
    steps: list[StepResult]

    @property
    def passed(self) -> bool:
        return all(step.outcome == Outcome.PASS for step in self.steps)

    @property
    def failed_step(self) -> StepResult | None:
        return next((step for step in self.steps if step.outcome == Outcome.FAIL), None)

    @property
    def duration(self) -> float:
        return sum(step.duration for step in self.steps)

    @property
    def stack_status(self) -> str | None:
        return next((step.stack_status for step in reversed(self.steps) if step.stack_status), None)
