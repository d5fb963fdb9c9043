"""Running the deploy and upgrade commands on the undercloud while Heat is followed, and judging each step.

A step's command runs over SSH in a worker thread while this thread polls the stack, so progress moves
while the command runs. A dropped session is retried (``SSHConnectionLost`` is transient), but each
attempt first waits for what an earlier one left running (its command on the host, then the stack's
action); when that action already finished, the command is not run again.
"""

from __future__ import annotations

import contextvars
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.releases import Release, profile
from rdoflow.config.site import CloudSite, OvercloudSite
from rdoflow.config.yamlsource import parse_yaml
from rdoflow.errors import ConfigError
from rdoflow.outcome import CommandResult, Outcome
from rdoflow.reports.orchestration import render_stage
from rdoflow.tasks.artifacts import leave_markdown
from rdoflow.tasks.overcloud import stack as heat_stack
from rdoflow.tasks.overcloud.commands import (
    baremetal_deployment,
    deploy_steps,
    deployment_file_name,
    host_reported,
    roles_environment,
    roles_file_name,
)
from rdoflow.tasks.overcloud.diagnosis import (
    diagnose_command,
    diagnose_stack,
    step_error,
)
from rdoflow.tasks.overcloud.model import (
    StackSnapshot,
    StackStep,
    StageReport,
    StepResult,
)
from rdoflow.tasks.progress import StageProgress
from rdoflow.tasks.resume import STAGE_CACHE_EXPIRATION, digest
from rdoflow.tasks.retries import TRANSIENT_RETRIES
from rdoflow.tasks.ssh.processes import wait_until_ended
from rdoflow.tasks.ssh.remote import put, read_remote, run


def _attempt() -> int:
    context = TaskRunContext.get()
    return context.task_run.run_count if context else 1


def _in_thread(function: Any, *args: Any, **kwargs: Any) -> tuple[ThreadPoolExecutor, Future]:
    """Run ``function`` in a worker thread that sees this thread's Prefect context (run logger)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rdoflow-command")
    return pool, pool.submit(contextvars.copy_context().run, function, *args, **kwargs)


def run_stack_step(host: SSHHost, heat: Any, step: StackStep, before: StackSnapshot,
                   progress: StageProgress | None = None) -> StepResult:
    """Run a command that creates or updates the stack, following the stack until the command ends."""
    started, attempt = time.monotonic(), _attempt()
    result = StepResult(name=step.name, command=" ".join(step.argv), attempts=attempt)
    if wait_until_ended(host, step.argv, budget=step.timeout, what=step.name):
        result.notes.append(f"attempt {attempt}: waited for the command an earlier session left running")
    now = heat_stack.wait_settled(heat, step.stack, step.timeout, progress)
    if heat_stack.action_since(before, now):
        result.notes.append(f"attempt {attempt}: the stack action an earlier attempt started ended "
                            f"{now.status}; the command was not run again")
        return _judged(heat, result, now, None, started, progress)
    if attempt > 1:
        result.notes.append(f"attempt {attempt}: the earlier attempt's session dropped before the stack "
                            "action began; the command was run again")
    pool, command = _in_thread(run, host, step.argv, timeout=step.timeout, check=False)
    try:
        now = heat_stack.follow(heat, before, step.timeout + 60, command, progress)
        outcome = command.result()  # raises SSHConnectionLost when the session dropped: retried
    finally:
        pool.shutdown(wait=False)
    return _judged(heat, result, now if heat_stack.action_since(before, now) else None, outcome, started, progress)


def _judged(heat: Any, result: StepResult, stack: StackSnapshot | None, command: CommandResult | None,
            started: float, progress: StageProgress | None) -> StepResult:
    """The step's outcome from the stack its action left (None: no action began) and the command's result."""
    result.duration, result.finished_at = time.monotonic() - started, time.time()
    result.command_seconds = command.duration if command is not None else 0.0
    if stack is not None:
        result.stack_status = stack.status
        result.resources = heat_stack.report(heat, stack, progress, heat_stack.NESTED_DEPTH)
    command_ok = command is None or command.status == Outcome.PASS
    if stack is not None and stack.failed:
        diagnose_stack(result, stack, heat_stack.stack_failures(heat, stack), command)
    elif not command_ok:
        diagnose_command(result, command)
    elif stack is not None and not stack.complete:
        diagnose_stack(result, stack, [], command)
    else:
        result.outcome = Outcome.PASS
        if progress is not None:
            progress.finish(note=stack.status if stack else "done")
    return result


def run_command_step(host: SSHHost, step: StackStep, progress: StageProgress | None = None) -> StepResult:
    """Run a command that leaves the stack alone (undercloud upgrade, upgrade run), counting the
    hosts it reports on for progress; a dropped session re-runs it once the first one ended."""
    started, attempt = time.monotonic(), _attempt()
    result = StepResult(name=step.name, command=" ".join(step.argv), attempts=attempt)
    if wait_until_ended(host, step.argv, budget=step.timeout, what=step.name):
        result.notes.append(f"attempt {attempt}: waited for the command an earlier session left running")
        if step.leaves_status and _ended_well(host, step, result):
            result.duration, result.finished_at = time.monotonic() - started, time.time()
            if progress is not None:
                progress.finish(note="DEPLOY_SUCCESS")
            return result
    if attempt > 1:
        result.notes.append(f"attempt {attempt}: run again after the session dropped")
    hosts: set[str] = set()

    def count(stream: str, line: str) -> None:
        name = host_reported(line)
        if name and progress is not None and name not in hosts:
            hosts.add(name)
            progress.update(min(len(hosts), step.hosts or len(hosts)), note=name)

    outcome = run(host, step.argv, timeout=step.timeout, check=False, on_line=count)
    result.duration, result.command_seconds = time.monotonic() - started, outcome.duration
    result.finished_at = time.time()
    if outcome.status != Outcome.PASS:
        diagnose_command(result, outcome)
    else:
        result.outcome = Outcome.PASS
        if progress is not None:
            progress.finish()
    return result


@task(name="observe-stack", task_run_name="observe stack {stack}", cache_policy=NO_CACHE,
      **TRANSIENT_RETRIES)
def settled_stack(cloud: CloudSite, stack: str, budget: float, host: SSHHost | None = None) -> StackSnapshot:
    """The stack before a step, once any action in progress ended (a step's baseline)."""
    return heat_stack.wait_settled(heat_stack.heat_for(cloud, host), stack, budget)


@task(name="stack-step", task_run_name="{step.name}", cache_policy=NO_CACHE, **TRANSIENT_RETRIES)
def stack_step(host: SSHHost, cloud: CloudSite, step: StackStep, before: StackSnapshot) -> StepResult:
    """``run_stack_step`` as a task; a dropped SSH session is retried, never a failed stack."""
    # One unit until Heat lists the resources: an empty total would read as 100%.
    progress = StageProgress(f"{step.key}-progress", f"{step.name}: stack {step.stack} resources complete", 1)
    return run_stack_step(host, heat_stack.heat_for(cloud, host), step, before, progress)


@task(name="command-step", task_run_name="{step.name}", cache_policy=NO_CACHE, **TRANSIENT_RETRIES)
def command_step(host: SSHHost, step: StackStep) -> StepResult:
    """``run_command_step`` as a task; a dropped SSH session is retried."""
    progress = StageProgress(f"{step.key}-progress", f"{step.name}: nodes done", step.hosts) if step.hosts else None
    return run_command_step(host, step, progress)


def run_step(host: SSHHost, cloud: CloudSite, step: StackStep) -> StepResult:
    """One step as its task: a stack step from the settled stack as its baseline, or a plain command."""
    if step.drives_stack:
        return stack_step(host, cloud, step, settled_stack(cloud, step.stack, step.timeout, host))
    return command_step(host, step)


def run_steps(host: SSHHost, cloud: CloudSite, steps: list[StackStep]) -> list[StepResult]:
    """The steps in order until one fails; the rest are reported 'not run'."""
    results: list[StepResult] = []
    for step in steps:
        if results and results[-1].outcome == Outcome.FAIL:
            results.append(StepResult(name=step.name, command=" ".join(step.argv)))
        else:
            results.append(run_step(host, cloud, step))
    return results


@task(name="upload-roles-environment", task_run_name="upload role counts of {overcloud.stack}",
      cache_policy=NO_CACHE, **TRANSIENT_RETRIES)
def upload_roles_environment(host: SSHHost, overcloud: OvercloudSite, release: Release = Release.TRAIN) -> str | None:
    """Put the site's role counts in the undercloud user's home (None: no roles): Train's environment
    file of counts, or Wallaby's and Zed's baremetal_deployment.yaml for 'overcloud node provision'."""
    if not overcloud.roles:
        return None
    if profile(release).provision_before_deploy:
        name, text = deployment_file_name(overcloud.stack), baremetal_deployment(overcloud)
    else:
        name, text = roles_file_name(overcloud.stack), roles_environment(overcloud.roles)
    with tempfile.TemporaryDirectory(prefix="rdoflow-") as scratch:
        local = Path(scratch) / name
        local.write_text(text)
        put(host, local, name)
    return name


@task(name="stage-report", task_run_name="{report.stage} report", cache_policy=NO_CACHE)
def publish_report(report: StageReport, report_dir: Path | None = None) -> StageReport:
    """Leave the stage's Markdown report as an artifact, and as ``report_dir/<stage>.md`` when asked."""
    markdown = render_stage(report)
    outcome = "pass" if report.passed else f"fail at {report.failed_step.name}" if report.failed_step else "fail"
    leave_markdown(markdown, key=report.stage, report_dir=report_dir,
                   description=f"{report.stage} of stack {report.stack}: {outcome}")
    return report


def require_succeeded(report: StageReport) -> None:
    """Raise the failed step's error (its first real error, evidence and hint)."""
    failed = report.failed_step
    if failed is not None:
        raise step_error(failed)


def _deploy_key(context: Any, parameters: dict[str, Any]) -> str:
    # The deploy's inputs only: a nightly resumed after a failed upgrade finds the same key.
    return "overcloud-deploy-" + digest(parameters["overcloud"], parameters["cloud"], parameters["host"].address,
                                        parameters["environment"], parameters.get("release", Release.TRAIN))


@task(name="environment-files", task_run_name="read environment files of {overcloud.stack}", cache_policy=NO_CACHE,
      **TRANSIENT_RETRIES)
def environment_files_digest(host: SSHHost, overcloud: OvercloudSite) -> str:
    """A sha256 of the environment files' content on the host, so that an edited file is a new input of
    the deploy (a missing one counts as missing: the deploy then says so)."""
    if not overcloud.environment_files:
        return ""
    # The commands run in the home, so "~/x" is "x" (argv is quoted: the shell expands no "~").
    paths = [path.removeprefix("~/") for path in overcloud.environment_files]
    summed = run(host, ["sha256sum", "--", *paths], check=False, timeout=120, log_output=False)
    return digest(summed.stdout, summed.exit_status)


def _ended_well(host: SSHHost, step: StackStep, result: StepResult) -> bool:
    """Whether the deploy that a dropped session left running ended in DEPLOY_SUCCESS, as its working
    directory says: then it is not run again (a real deploy takes an hour). Noted either way."""
    status = deployment_status(host, step.stack)
    where = f"~/{deployment_status_file(step.stack)}"
    if status == "DEPLOY_SUCCESS":
        result.outcome = Outcome.PASS
        result.notes.append(f"that {step.name} ended with DEPLOY_SUCCESS ({where}): not run again")
        return True
    result.notes.append(f"that {step.name} ended with {status or 'no status'} ({where}): run again")
    return False


def deployment_status_file(stack: str) -> str:
    """Where Wallaby's and Zed's deploy keeps its outcome (tripleoclient's working directory, in the home)."""
    return f"overcloud-deploy/{stack}/{stack}-deployment_status.yaml"


def deployment_status(host: SSHHost, stack: str) -> str | None:
    """DEPLOY_SUCCESS, DEPLOY_FAILED, DEPLOYING as the last deploy left it (None: no deploy, or unreadable)."""
    raw = read_remote(host, deployment_status_file(stack))
    if raw is None:
        return None
    try:
        data = parse_yaml(raw, f"~/{deployment_status_file(stack)}").data
    except ConfigError:
        return None
    status = data.get("deployment_status") if isinstance(data, dict) else None
    return status if isinstance(status, str) else None


@task(name="stack-deployed", task_run_name="is stack {stack} deployed", cache_policy=NO_CACHE,
      **TRANSIENT_RETRIES)
def stack_deployed(cloud: CloudSite, stack: str, host: SSHHost | None = None,
                   release: Release = Release.TRAIN) -> bool:
    """Whether a deploy's outcome still holds: Train's stack is CREATE_COMPLETE or UPDATE_COMPLETE now;
    since Wallaby (no Heat left after the deploy), its working directory says DEPLOY_SUCCESS."""
    if not profile(release).persistent_heat:
        return host is not None and deployment_status(host, stack) == "DEPLOY_SUCCESS"
    return heat_stack.observe(heat_stack.heat_for(cloud, host), stack).status in ("CREATE_COMPLETE", "UPDATE_COMPLETE")


@task(name="deploy-overcloud", task_run_name="deploy stack {overcloud.stack}", cache_key_fn=_deploy_key,
      cache_expiration=STAGE_CACHE_EXPIRATION)
def deploy_stage(host: SSHHost, cloud: CloudSite, overcloud: OvercloudSite, site_name: str,
                 report_dir: Path | None = None, environment: str = "",
                 release: Release = Release.TRAIN) -> StageReport:
    """The whole deploy (role counts uploaded, the release's steps), cached on its inputs (``environment``:
    the environment files' digest) when it succeeds; a failure writes its report and raises, so that it
    is never reused."""
    upload_roles_environment(host, overcloud, release)
    report = StageReport(stage="overcloud-deploy", site=site_name, stack=overcloud.stack,
                         steps=run_steps(host, cloud, deploy_steps(overcloud, release)))
    if not report.passed:
        publish_report(report, report_dir)
        require_succeeded(report)
    return report
