"""What a site checks across its upgrade: a workload watched from before the upgrade to after it, and the
validations run before and after (the ``upgrade.workload`` and ``upgrade.validations`` sections)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

SECTION = ConfigDict(extra="forbid", allow_inf_nan=False)
CHECK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _check_name(name: str) -> str:
    if not CHECK_NAME.match(name):
        raise ValueError(f"expected a name of letters, digits, '-', '_' and '.' (it becomes a result id), "
                         f"got {name!r}")
    return name


CheckName = Annotated[str, AfterValidator(_check_name)]
Argv = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]


class WorkloadCheck(BaseModel):
    """A workload that must survive the upgrade: watched from before its first step to after its last."""

    model_config = SECTION

    name: CheckName = Field("workload", description="Names its result: 'workload.<name>' in the results table.")
    kind: Literal["cloud", "command"] = Field(
        ..., description="'cloud': rdoflow creates a small Heat stack (OS::Heat::RandomString) and an Ironic "
        "allocation on a deployed node through the site's cloud, polls both from the machine that runs the flow, "
        "and removes them after; they must come through unchanged (needs a Heat that outlives a deploy: the "
        "lab, a Train undercloud). 'command': the site's own probe, a command on the undercloud that runs "
        "throughout (e.g. ping -i 1 GUEST), stopped with SIGINT after the upgrade.",
    )
    command: list[str] = Field(
        default_factory=list, description="'command' only: the probe's argument list, e.g. [ping, -i, '1', "
        "10.0.0.5]; run as given, never through a shell.",
    )
    output: Literal["ping", "lines"] = Field(
        "lines", description="How the command's output is read: 'ping' (each reply line is a probe that "
        "answered; a missing icmp_seq one that did not; the interval is -i's, 1 s by default), or 'lines' (one "
        "line per probe that starts with 'ok' or 'fail', the rest of the line its evidence; other lines are "
        "ignored).",
    )
    interval: float = Field(1.0, gt=0, le=60, description="'cloud' only: seconds between two polls.")
    max_downtime: float = Field(5.0, ge=0, description="Longest outage allowed, in seconds: from the first "
                                "failed probe to the next one that passed.")
    max_loss: float | None = Field(None, ge=0, le=100, description="Most failed probes allowed, in percent of "
                                   "all; empty: only the downtime is judged.")
    start_timeout: float = Field(60, gt=0, description="Seconds the workload has to answer its first probe "
                                 "before the upgrade starts; none in time: rdoflow could not test (exit 3).")

    @model_validator(mode="after")
    def _command_for_its_kind(self) -> WorkloadCheck:
        if self.kind == "command" and not self.command:
            raise ValueError("kind 'command' needs 'command': the probe's argument list, e.g. [ping, -i, '1', "
                             "10.0.0.5]")
        if self.kind == "cloud" and self.command:
            raise ValueError("kind 'cloud' takes no 'command' (rdoflow makes its own workload): remove it, or "
                             "set kind: command")
        return self


class ValidationCommand(BaseModel):
    """A validation of the site's own: a command on the undercloud; exit status 0 is a pass."""

    model_config = SECTION

    name: CheckName = Field(..., description="Names its result: 'validation.<name>' in the results table.")
    command: Argv = Field(..., description="The argument list, e.g. [openstack, baremetal, node, list]; run "
                                           "as given, never through a shell.")


def _unique_names(commands: list[ValidationCommand]) -> list[ValidationCommand]:
    names = [command.name for command in commands]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"each validation name may appear once in a list; repeated: {', '.join(repeated)}")
    return commands


Commands = Annotated[list[ValidationCommand], AfterValidator(_unique_names)]


class Validations(BaseModel):
    """Checks run on the undercloud before the upgrade and after it; each a result of its own."""

    model_config = SECTION

    pre: Commands = Field(default_factory=list, description="Run before the upgrade (after the pre-upgrade "
                                                            "suite). A name also in 'post' is compared.")
    post: Commands = Field(default_factory=list, description="Run after the upgrade (after the post-upgrade "
                                                             "suite).")
    pre_group: str | None = Field(
        None, min_length=1, description="A group of the validations framework run before the upgrade "
        "('validation run --group GROUP', e.g. pre-upgrade), each validation a result. Where 'validation' is "
        "not installed on the undercloud, the group is one skipped result that says so.",
    )
    post_group: str | None = Field(None, min_length=1, description="The same, after the upgrade (e.g. "
                                                                   "post-upgrade).")
    timeout: int = Field(600, gt=0, description="Seconds one validation command (or one group) may take.")

    @property
    def empty(self) -> bool:
        return not (self.pre or self.post or self.pre_group or self.post_group)
