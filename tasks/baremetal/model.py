"""What introspection leaves: each node's outcome and hardware, the partition by outcome, the verdict per role."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel, Field

from rdoflow.outcome import Outcome

GIB = 2**30


class Disk(BaseModel):
    name: str
    size_gb: float = Field(description="Size in GiB (the ramdisk reports bytes).")
    rotational: bool | None = None


class Nic(BaseModel):
    name: str
    mac: str
    ipv4: str | None = None


class Hardware(BaseModel):
    """A node's hardware as inspection found it (properties, then the inventory for disks and NICs)."""

    cpus: int | None = None
    memory_mb: int | None = None
    local_gb: int | None = None
    cpu_arch: str | None = None
    disks: list[Disk] = Field(default_factory=list)
    nics: list[Nic] = Field(default_factory=list)

    @classmethod
    def from_ironic(cls, properties: dict[str, Any], inventory: dict[str, Any] | None) -> Hardware:
        """From a node's properties and its inspection data, when there is some: Ironic's inventory
        (``GET /v1/nodes/{id}/inventory``) or ironic-inspector's data, both with the ramdisk's ``inventory``."""
        data = (inventory or {}).get("inventory") or {}
        disks = [Disk(name=str(disk.get("name")), size_gb=round(int(disk.get("size") or 0) / GIB, 1),
                      rotational=disk.get("rotational")) for disk in data.get("disks") or []]
        nics = [Nic(name=str(nic.get("name")), mac=str(nic.get("mac_address", "")).lower(),
                    ipv4=nic.get("ipv4_address")) for nic in data.get("interfaces") or []]
        return cls(cpus=_whole(properties.get("cpus")), memory_mb=_whole(properties.get("memory_mb")),
                   local_gb=_whole(properties.get("local_gb")), cpu_arch=properties.get("cpu_arch"),
                   disks=disks, nics=nics)


def _whole(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def capability_pairs(capabilities: Any) -> dict[str, str]:
    """Ironic's capabilities (``"profile:control,boot_option:local"``, or a mapping) as a mapping."""
    if isinstance(capabilities, dict):
        return {str(key): str(value) for key, value in capabilities.items()}
    return dict(item.split(":", 1) for item in str(capabilities or "").split(",") if ":" in item)


def profile_of(properties: dict[str, Any] | None) -> str | None:
    """The ``profile`` capability."""
    return capability_pairs((properties or {}).get("capabilities")).get("profile")


NODE_OUTCOMES = {Outcome.PASS: "available", Outcome.FAIL: "failed", Outcome.TIMEOUT: "timed out"}


class NodeResult(BaseModel):
    """One node's outcome, with the evidence: the state Ironic showed last and its last_error."""

    uuid: str
    name: str | None
    profile: str | None = None
    outcome: Outcome
    state: str | None = Field(description="Ironic's provision_state when the node was last seen.")
    last_error: str | None = None
    attempts: int = Field(0, description="Inspections started for the node in this run (0: not re-inspected).")
    hardware: Hardware | None = None

    @property
    def said(self) -> str:
        """The outcome in the stage's words: a node whose introspection passed is available."""
        return NODE_OUTCOMES[self.outcome]

    @property
    def label(self) -> str:
        return f"{self.name} ({self.uuid})" if self.name else self.uuid


class Enrollment(BaseModel):
    created: list[str] = Field(default_factory=list, description="Nodes created (name or MAC).")
    updated: list[str] = Field(default_factory=list, description="Existing nodes whose fields were patched.")
    unchanged: list[str] = Field(default_factory=list)
    ports_created: int = 0
    warnings: list[str] = Field(default_factory=list)
    uuids: list[str] = Field(default_factory=list, description="The inventory's nodes in Ironic, in file order.")


class Introspection(BaseModel):
    """The stage's result: every node keyed by UUID, partitioned by outcome, and what it cost."""

    site: str
    source: str = Field(description="The inventory file.")
    required: dict[str, int] = Field(default_factory=dict)
    enrollment: Enrollment = Field(default_factory=Enrollment)
    succeeded: dict[str, NodeResult] = Field(default_factory=dict)
    failed: dict[str, NodeResult] = Field(default_factory=dict)
    timed_out: dict[str, NodeResult] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list, description="What the stage noticed and did not "
                                                                   "fail for, e.g. a command that misreported.")
    requests: int = Field(0, description="HTTP requests this run sent to Ironic (polling included).")
    requests_by_method: dict[str, int] = Field(default_factory=dict)
    seconds: float = 0.0

    @property
    def nodes(self) -> list[NodeResult]:
        return [*self.succeeded.values(), *self.failed.values(), *self.timed_out.values()]

    @property
    def available_by_profile(self) -> Counter:
        return Counter(node.profile for node in self.succeeded.values())

    @property
    def shortfall(self) -> dict[str, tuple[int, int]]:
        """Profiles with fewer usable nodes than required: profile -> (have, need)."""
        have = self.available_by_profile
        return {profile: (have[profile], need) for profile, need in self.required.items() if have[profile] < need}

    @property
    def passed(self) -> bool:
        return not self.shortfall

    def add(self, result: NodeResult) -> None:
        {Outcome.PASS: self.succeeded, Outcome.FAIL: self.failed,
         Outcome.TIMEOUT: self.timed_out}[result.outcome][result.uuid] = result
