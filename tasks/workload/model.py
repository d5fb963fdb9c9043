"""The upgrade checks' model: a workload's probes, its outages and its verdict; a validation's result (plain types)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

WORKLOAD_PREFIX = "workload."
VALIDATION_PREFIX = "validation."


class Probe(BaseModel):
    """One look at the workload: did it answer, and what was seen."""

    at: float = Field(description="Seconds since the watch started.")
    ok: bool
    detail: str = Field("", description="What was seen: a reply line, a stack's status, an error.")


class Outage(BaseModel):
    """Failed probes in a row: from the first to the next probe that passed (or the end of the watch)."""

    start: float = Field(description="Seconds since the watch started.")
    seconds: float
    probes: int = Field(description="Failed probes in it.")
    detail: str = Field(description="What the first failed probe saw.")
    during: str = Field("", description="The upgrade step that ran when it started; empty: before or after them.")

    @property
    def shown(self) -> str:
        when = f" during '{self.during}'" if self.during else ""
        return f"down {self.seconds:.1f} s{when} ({self.probes} failed probes): {self.detail}"


class StepWindow(BaseModel):
    """When one upgrade step ran, in the watch's seconds."""

    name: str
    start: float
    end: float


class WorkloadReport(BaseModel):
    """A workload watched across the upgrade, judged against the site's thresholds."""

    name: str
    kind: str
    what: str = Field(description="The workload: the stack and allocation, or the probe's command.")
    baseline: str = Field(description="What it was before the upgrade (the first probe that passed).")
    seconds: float = Field(description="How long it was watched.")
    probes: int
    failed: int
    outages: list[Outage] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list, description="What differs after the upgrade from before.")
    max_downtime: float
    max_loss: float | None = None

    @property
    def loss(self) -> float:
        return 100.0 * self.failed / self.probes if self.probes else 100.0

    @property
    def longest(self) -> Outage | None:
        return max(self.outages, key=lambda outage: outage.seconds, default=None)

    @property
    def problems(self) -> list[str]:
        """Why the workload did not come through, each in one line (none: it did)."""
        found = []
        longest = self.longest
        if longest is not None and longest.seconds > self.max_downtime:
            found.append(f"workload {self.name}: {longest.shown} (threshold {self.max_downtime:g} s)")
        if self.max_loss is not None and self.loss > self.max_loss:
            found.append(f"workload {self.name}: {self.loss:.1f}% of {self.probes} probes failed "
                         f"(threshold {self.max_loss:g}%)")
        return found + [f"workload {self.name}: {change}" for change in self.changed]

    @property
    def passed(self) -> bool:
        return not self.problems


class CheckResult(BaseModel):
    """One row the upgrade checks add to a run's results table."""

    test_id: str
    status: Literal["pass", "fail", "skip"]
    duration: float | None = None
    reason: str = ""
