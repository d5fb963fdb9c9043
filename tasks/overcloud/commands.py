"""The TripleO commands of the deploy and upgrade stages: their argument lists, and what their output says
when they fail (``ERROR:`` lines, Ironic's failure of a node, ansible's ``fatal:`` lines and PLAY RECAP).

Since Wallaby, tripleoclient runs its playbooks with tripleo-ansible's ``tripleo_dense`` stdout callback:
``<time> | <task uuid> |      FATAL | <task> | <host> | error={...}`` instead of ``fatal: [host]: FAILED!``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import yaml

from rdoflow.config.releases import Release, profile
from rdoflow.config.site import OvercloudSite, UpgradePlan
from rdoflow.tasks.overcloud.model import NodeFailure, StackStep

# Past the deploy's own --timeout: the command prints its failure and exits before ssh gives up on it.
COMMAND_MARGIN_SECONDS = 600

_ERROR = re.compile(r"^(?:stderr: |stdout: )?ERROR:\s*(?P<message>.+)$")
# The oslo.log ERROR line of the command's end, as cliff logs why it failed: "<date> <time> <pid> ERROR
# openstack [-] Will not overwrite existing file: ...". (tripleoclient's own ERROR lines are not all fatal:
# a deploy logs "Exception archiving deploy artifacts" and goes on.)
_LOGGED_ERROR = re.compile(r"^\S+ \S+ \d+ ERROR openstack \[[^\]]*\] (?P<message>.+)$")
_NODE_FAILED = re.compile(r"Node (?P<node>.+?) reached failure state \"(?P<state>[^\"]+)\";? "
                          r"the last error is:? (?P<error>.*)$")
_FATAL = re.compile(r"^(?:fatal|failed): \[(?P<host>[^\]]+)\]: (?P<kind>FAILED|UNREACHABLE)! => (?P<data>.*)$")
# tripleo_dense: time | task uuid | state (right-aligned) | task | host [| item=...] [| error=...]
_DENSE = re.compile(r"^[\d-]+ [\d:.]+ \| [0-9a-f-]+ \|\s+(?P<state>FATAL|UNREACHABLE|OK|CHANGED|SKIPPED) \| "
                    r"(?P<task>[^|]*?) \| (?P<host>[^|\s]+)(?: \| item=[^|]*)?(?: \| error=(?P<data>.*))?$")
_RECAP = re.compile(r"^(?P<host>\S+)\s*:\s*ok=\d+\s+changed=\d+\s+unreachable=(?P<unreachable>\d+)\s+"
                    r"failed=(?P<failed>\d+)")
# cliff's answer (exit 2) to a command the undercloud's client does not have.
_NOT_A_COMMAND = re.compile(r"^openstack: '(?P<command>[^']+)' is not an openstack command")
_HOST_DONE = re.compile(r"^(?:ok|changed|fatal|failed|skipping): \[(?P<host>[^\]]+)\]")


def roles_environment(roles: dict[str, int]) -> str:
    """The environment file that sets each role's node count, as TripleO's node-info.yaml does."""
    return yaml.safe_dump({"parameter_defaults": {f"{role}Count": count for role, count in roles.items()}},
                          sort_keys=False)


def roles_file_name(stack: str) -> str:
    return f"rdoflow-roles-{stack}.yaml"


def _environment_args(files: Sequence[str]) -> list[str]:
    return [arg for name in files for arg in ("-e", name)]


# The Ironic profile of TripleO's default roles (their nodes' 'profile' capability).
DEFAULT_PROFILES = {"Controller": "control", "Compute": "compute", "CephStorage": "ceph-storage",
                    "ObjectStorage": "swift-storage", "BlockStorage": "block-storage"}


def profile_of_role(overcloud: OvercloudSite, role: str) -> str:
    return overcloud.profiles.get(role) or DEFAULT_PROFILES.get(role) or role.lower()


def baremetal_deployment(overcloud: OvercloudSite) -> str:
    """The ``baremetal_deployment.yaml`` 'overcloud node provision' takes (Wallaby and later): each role
    with nodes, its count and the profile its nodes are chosen by."""
    roles = [{"name": role, "count": count, "defaults": {"profile": profile_of_role(overcloud, role)}}
             for role, count in overcloud.roles.items() if count]
    return yaml.safe_dump(roles, sort_keys=False)


def deployment_file_name(stack: str) -> str:
    return f"rdoflow-baremetal-deployment-{stack}.yaml"


def provisioned_file_name(stack: str) -> str:
    """The environment 'overcloud node provision --output' writes, which the deploy then takes."""
    return f"overcloud-baremetal-deployed-{stack}.yaml"


def deploy_files(overcloud: OvercloudSite, release: Release = Release.TRAIN) -> list[str]:
    """The -e files of the deploy, in order. Train: the site's, then the role counts (when the site sets
    them). Wallaby and later: the provisioned nodes' environment (which holds the counts), then the site's."""
    if profile(release).provision_before_deploy:
        return [*([provisioned_file_name(overcloud.stack)] if overcloud.roles else []), *overcloud.environment_files]
    return [*overcloud.environment_files, *([roles_file_name(overcloud.stack)] if overcloud.roles else [])]


def provision_step(overcloud: OvercloudSite) -> StackStep:
    """'overcloud node provision' of the site's roles (metalsmith deploys the nodes before the deploy)."""
    stack = overcloud.stack
    # -y: the output of an earlier run is overwritten (without it the command refuses, exit 1).
    argv = ["openstack", "overcloud", "node", "provision", "--stack", stack, "-y",
            "--output", provisioned_file_name(stack), deployment_file_name(stack)]
    return StackStep(name="node provision", key="node-provision", argv=argv, stack=stack,
                     timeout=overcloud.timeout * 60 + COMMAND_MARGIN_SECONDS, drives_stack=False,
                     hosts=sum(overcloud.roles.values()))


def deploy_steps(overcloud: OvercloudSite, release: Release = Release.TRAIN) -> list[StackStep]:
    """The deploy stage's commands: Train's one deploy, which provisions the nodes through Nova and whose
    persistent Heat is followed; Wallaby's and Zed's node provision, then the deploy on the provisioned
    nodes, its ephemeral Heat gone when it ends (followed through its output: ansible's hosts)."""
    persistent = profile(release).persistent_heat
    argv = ["openstack", "overcloud", "deploy", "--templates", overcloud.templates,
            *_environment_args(deploy_files(overcloud, release)), "--stack", overcloud.stack,
            "--timeout", str(overcloud.timeout), *overcloud.extra_args]
    deploy = StackStep(name="overcloud deploy", key="overcloud-deploy", argv=argv, stack=overcloud.stack,
                       timeout=overcloud.timeout * 60 + COMMAND_MARGIN_SECONDS, drives_stack=persistent,
                       hosts=0 if persistent else sum(overcloud.roles.values()), leaves_status=not persistent)
    provision = [provision_step(overcloud)] if profile(release).provision_before_deploy and overcloud.roles else []
    return [*provision, deploy]


def deploy_step(overcloud: OvercloudSite) -> StackStep:
    """Train's deploy (the one command of its stage)."""
    return deploy_steps(overcloud)[-1]


def upgrade_steps(overcloud: OvercloudSite, plan: UpgradePlan, undercloud_timeout: float,
                  release: Release = Release.TRAIN) -> list[StackStep]:
    """undercloud upgrade (when asked), prepare, run --limit ROLE for each role in order, then converge
    where the release has it (Zed's tripleoclient has none: the last 'run' ends the upgrade)."""
    stack, budget = overcloud.stack, overcloud.timeout * 60 + COMMAND_MARGIN_SECONDS
    files = _environment_args([*deploy_files(overcloud, release), *plan.environment_files])
    persistent = profile(release).persistent_heat  # otherwise no Heat to follow: prepare and converge are commands
    steps = []
    if plan.undercloud:
        steps.append(StackStep(name="undercloud upgrade", key="undercloud-upgrade",
                               argv=["openstack", "undercloud", "upgrade", "-y"], stack=stack,
                               timeout=undercloud_timeout, drives_stack=False))
    for step in ("prepare", "converge"):
        argv = ["openstack", "overcloud", "upgrade", step, "--templates", overcloud.templates, *files,
                "--stack", stack, "--timeout", str(overcloud.timeout), "-y"]
        steps.append(StackStep(name=f"upgrade {step}", key=f"upgrade-{step}", argv=argv, stack=stack,
                               timeout=budget, drives_stack=persistent))
    converge = steps.pop()
    for role in plan.roles_order:
        steps.append(StackStep(
            name=f"upgrade run {role}", key=f"upgrade-run-{_slug(role)}",
            argv=["openstack", "overcloud", "upgrade", "run", "--limit", role, "--stack", stack, "-y"],
            stack=stack, timeout=budget, drives_stack=False, hosts=overcloud.roles.get(role, 0),
        ))
    return [*steps, converge] if profile(release).upgrade_converge else steps


def update_steps(overcloud: OvercloudSite, plan: UpgradePlan, undercloud_timeout: float,
                 release: Release = Release.TRAIN, environment_files: Sequence[str] = ()) -> list[StackStep]:
    """The minor update within a release: undercloud upgrade (when the plan asks: it updates the client's
    packages, then the undercloud), 'overcloud update prepare' with the deploy's arguments and
    ``environment_files`` (the drop's container images), 'update run --limit ROLE' for each role in the
    plan's order, then 'update converge' where the release has it (Train; Wallaby's and Zed's clients have none)."""
    stack, budget = overcloud.stack, overcloud.timeout * 60 + COMMAND_MARGIN_SECONDS
    persistent = profile(release).persistent_heat
    files = _environment_args([*deploy_files(overcloud, release), *environment_files])
    steps = []
    if plan.undercloud:
        steps.append(StackStep(name="undercloud upgrade", key="undercloud-upgrade",
                               argv=["openstack", "undercloud", "upgrade", "-y"], stack=stack,
                               timeout=undercloud_timeout, drives_stack=False))
    deploy_args = ["--templates", overcloud.templates, *files, "--stack", stack, "--timeout", str(overcloud.timeout),
                   *overcloud.extra_args, "-y"]
    steps.append(StackStep(name="update prepare", key="update-prepare", stack=stack, timeout=budget,
                           argv=["openstack", "overcloud", "update", "prepare", *deploy_args], drives_stack=persistent))
    for role in plan.roles_order:
        steps.append(StackStep(
            name=f"update run {role}", key=f"update-run-{_slug(role)}",
            argv=["openstack", "overcloud", "update", "run", "--limit", role, "--stack", stack, "-y"],
            stack=stack, timeout=budget, drives_stack=False, hosts=overcloud.roles.get(role, 0),
        ))
    if profile(release).update_converge:
        steps.append(StackStep(name="update converge", key="update-converge", stack=stack, timeout=budget,
                               argv=["openstack", "overcloud", "update", "converge", *deploy_args],
                               drives_stack=persistent))
    return steps


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def error_lines(lines: Sequence[str]) -> list[str]:
    """The ``ERROR: ...`` messages a TripleO command printed, in order."""
    return [m["message"].strip() for line in lines
            if (m := _ERROR.match(line.strip()) or _LOGGED_ERROR.match(line.strip()))]


def node_failures(lines: Sequence[str]) -> list[NodeFailure]:
    """Nodes that Ironic failed while the command provisioned them, with their last_error."""
    return [NodeFailure(node=m["node"], state=m["state"], error=m["error"].strip())
            for line in lines if (m := _NODE_FAILED.search(line))]


def ansible_failures(lines: Sequence[str]) -> list[NodeFailure]:
    """Hosts an ansible run failed: each ``fatal: [host]: FAILED! => {...}`` (or tripleo_dense's ``FATAL``
    and ``UNREACHABLE`` lines) with its message."""
    found = []
    for line in lines:
        dense = _DENSE.match(line.strip())
        if dense and dense["state"] in ("FATAL", "UNREACHABLE"):
            data = dense["data"] or ""
            try:
                message = json.loads(data).get("msg") or data
            except (ValueError, AttributeError):
                message = data or dense["task"]
            kind = "FAILED" if dense["state"] == "FATAL" else "UNREACHABLE"
            found.append(NodeFailure(node=dense["host"], state=kind, error=str(message)))
            continue
        match = _FATAL.match(line.strip())
        if match:
            try:
                data = json.loads(match["data"])
                message = data.get("msg") or data.get("stderr") or match["data"]
            except (ValueError, AttributeError):
                message = match["data"]
            found.append(NodeFailure(node=match["host"], state=match["kind"], error=str(message)))
    return found


def recap_failed(lines: Sequence[str]) -> list[str]:
    """The PLAY RECAP lines of hosts with failed or unreachable tasks."""
    return [" ".join(line.split()) for line in lines
            if (m := _RECAP.match(line.strip())) and (int(m["failed"]) or int(m["unreachable"]))]


def missing_command(lines: Sequence[str]) -> str | None:
    """The command the client said it does not have, if it said so."""
    return next((m["command"] for line in lines if (m := _NOT_A_COMMAND.match(line.strip()))), None)


def host_reported(line: str) -> str | None:
    """The host an ansible result line is about (``changed: [host]``, or tripleo_dense's), if it is one."""
    match = _HOST_DONE.match(line.strip()) or _DENSE.match(line.strip())
    return match["host"] if match else None

