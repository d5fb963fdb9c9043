"""Why a deploy or upgrade step failed: the first real error, its evidence and what to do next.

Fills a ``StepResult`` from Heat's failed resources or from the command's own output, and turns a
failed step into the rdoflow error the flow raises (after it wrote its report).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdoflow.errors import (
    ConfigError,
    RdoflowError,
    RemoteCommandFailed,
    ResourceFailed,
    StageTimeout,
)
from rdoflow.outcome import CommandResult, Outcome
from rdoflow.tasks.overcloud.commands import (
    ansible_failures,
    error_lines,
    missing_command,
    node_failures,
    recap_failed,
)
from rdoflow.tasks.overcloud.model import FailedResource, StackSnapshot

if TYPE_CHECKING:
    from rdoflow.tasks.overcloud.model import StepResult

TAIL_LINES = 15
MAX_FAILURES_SHOWN = 5


def _lines(command: CommandResult | None) -> list[str]:
    return [] if command is None else command.stdout.splitlines() + command.stderr.splitlines()


def _rerun(result: StepResult) -> str:
    return f"then re-run the stage (on the undercloud: {result.command})"


def diagnose_stack(result: StepResult, stack: StackSnapshot, failures: list[FailedResource],
                   command: CommandResult | None) -> None:
    """A stack that ended *_FAILED (or not complete): the first failed resource and its reason."""
    result.outcome, result.error_kind, result.failures = Outcome.FAIL, "resource", failures
    if failures:
        first = failures[0]
        result.error = f"stack {stack.name} {stack.status}: {first.path} ({first.type}): {first.reason}"
    else:
        result.error = f"stack {stack.name} {stack.status}: {stack.reason or 'no failed resource listed'}"
    evidence = []
    for failure in failures[:MAX_FAILURES_SHOWN]:
        evidence.append(f"{failure.path} {failure.status}: {failure.reason}")
        evidence += [f"  event {event.line}" for event in failure.events]
    if len(failures) > MAX_FAILURES_SHOWN:
        evidence.append(f"... and {len(failures) - MAX_FAILURES_SHOWN} more failed resource(s)")
    evidence += [f"command: ERROR: {line}" for line in error_lines(_lines(command))]
    result.evidence = evidence
    where = failures[0].path if failures else f"stack {stack.name}"
    result.hint = (f"fix what {where} reports (the node, or the templates and environment files), "
                   f"{_rerun(result)}; the full diagnosis: openstack stack failures list {stack.name} --long")


def diagnose_command(result: StepResult, command: CommandResult) -> None:
    """A command that failed without a failed stack: Ironic's node error, ansible's fatal host,
    the ERROR line, or the timeout, in that order of precedence."""
    result.outcome = Outcome.FAIL
    lines = _lines(command)
    errors, nodes, hosts = error_lines(lines), node_failures(lines), ansible_failures(command.stdout.splitlines())
    if command.status == "timeout":
        result.error_kind = "timeout"
        result.error = f"{result.name} did not finish within {command.duration:.0f} s and was stopped"
        result.evidence = command.tail(TAIL_LINES)
        result.hint = "look at what the command was doing last; raise overcloud.timeout if it was only slow"
    elif nodes:
        node = nodes[0]
        result.error_kind = "resource"
        result.error = f"node {node.node} reached failure state \"{node.state}\": {node.error}"
        result.evidence = [f"ERROR: {line}" for line in errors] or command.tail(TAIL_LINES)
        result.hint = (f"check the node (openstack baremetal node show {node.node.split()[0]}: power, BMC, "
                       f"boot, disks), make it available again, {_rerun(result)}")
    elif hosts:
        host = hosts[0]
        result.error_kind = "resource"
        result.error = f"{result.name}: {host.node} {host.state}: {host.error}"
        recap = recap_failed(command.stdout.splitlines())
        result.evidence = [f"fatal: [{h.node}]: {h.state}: {h.error}" for h in hosts] + \
            [f"PLAY RECAP {line}" for line in recap] + [f"ERROR: {line}" for line in errors]
        result.hint = (f"fix {host.node} (see its failed task in the step's log), {_rerun(result)}; "
                       "the nodes already upgraded stay upgraded")
    elif missing := missing_command(lines):
        result.error_kind = "release"
        result.error = (f"site: undercloud.release: the undercloud's tripleoclient has no '{missing}', which "
                        f"this release's steps run; expected the release the undercloud runs")
        result.evidence = command.tail(TAIL_LINES)
        result.hint = ("set undercloud.release in the site config to the undercloud's release (Zed's "
                       "tripleoclient has no 'overcloud upgrade converge'; docs/releases.md), then re-run the stage")
    else:
        result.error_kind = "command"
        status = command.exit_status if command.exit_status is not None else "a signal"
        result.error = errors[0] if errors else f"{result.command} exited with {status}"
        result.evidence = [f"ERROR: {line}" for line in errors[1:]] + command.tail(TAIL_LINES)
        result.hint = f"read the command's output (the step's log), fix what it reports, {_rerun(result)}"


def step_error(result: StepResult) -> RdoflowError:
    """The rdoflow error a failed step raises: ResourceFailed for a failed resource, node or host
    (do not retry blindly), StageTimeout, ConfigError for a command the site's release has and the
    undercloud's does not, or RemoteCommandFailed for any other exit."""
    if result.error_kind == "release":  # the site describes another release than the undercloud's: bad input
        return ConfigError("site", [result.error or result.name], hint=result.hint, evidence=result.evidence)
    kind = {"resource": ResourceFailed, "timeout": StageTimeout}.get(result.error_kind or "", RemoteCommandFailed)
    return kind(result.error or f"{result.name} failed", evidence=result.evidence, hint=result.hint)
