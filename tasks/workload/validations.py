"""Validations on the undercloud before and after the upgrade: the site's commands (exit status 0 is a pass)
and, where it is installed, a group of the validations framework (``validation run --group``)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import SiteConfig
from rdoflow.config.upgrade_checks import Validations
from rdoflow.outcome import CommandResult
from rdoflow.tasks.retries import TRANSIENT_RETRIES
from rdoflow.tasks.ssh.remote import RemoteFileNotFound, get, run
from rdoflow.tasks.workload.judge import validation_id
from rdoflow.tasks.workload.model import CheckResult

FRAMEWORK = "validation"
STAGING = ".rdoflow"
STATUSES = {"PASSED": "pass", "FAILED": "fail"}  # validations-libs' result statuses; any other is a skip


def run_validations(host: SSHHost, validations: Validations, phase: str) -> list[CheckResult]:
    """The phase's ('pre' or 'post') validations, one result each: its commands, then its group's."""
    commands = validations.pre if phase == "pre" else validations.post
    group = validations.pre_group if phase == "pre" else validations.post_group
    results = [command_result(validation_id(command.name),
                              run(host, command.command, timeout=validations.timeout, check=False))
               for command in commands]
    if group:
        results += run_group(host, group, phase, validations.timeout)
    return results


def command_result(test_id: str, result: CommandResult) -> CheckResult:
    """A validation command's row: pass on exit status 0; otherwise its last lines, then why (the last line)."""
    if result.status == "pass":
        return CheckResult(test_id=test_id, status="pass", duration=result.duration)
    why = (f"killed after {result.duration:.0f} s (timeout)" if result.status == "timeout"
           else f"exit status {result.exit_status}")
    return CheckResult(test_id=test_id, status="fail", duration=result.duration,
                       reason="\n".join([*result.tail(10), f"{result.command} failed on {result.host}: {why}"]))


def run_group(host: SSHHost, group: str, phase: str, timeout: int) -> list[CheckResult]:
    """``validation run --group GROUP --output-log FILE``: each validation of the group a row. Where the
    framework is not installed (no 'validation' on the PATH), one skipped row that says so."""
    found = run(host, ["sh", "-c", 'command -v "$1"', "rdoflow-which", FRAMEWORK], timeout=60, check=False,
                log_output=False)
    if found.exit_status != 0:
        return [CheckResult(test_id=validation_id(group), status="skip",
                            reason=f"group {group}: the validations framework is not installed on {found.host} "
                                   f"('{FRAMEWORK}' is not on the PATH)")]
    log = f"{STAGING}/validations-{phase}-{group}.json"
    run(host, ["mkdir", "-p", STAGING], timeout=60, log_output=False)
    result = run(host, [FRAMEWORK, "run", "--group", group, "--output-log", log], timeout=timeout, check=False)
    with tempfile.TemporaryDirectory(prefix="rdoflow-validations-") as scratch:
        local = Path(scratch) / "results.json"
        unread = f"group {group}: '{FRAMEWORK} run' wrote no list of results to {log}"
        try:
            get(host, log, local)
            entries = json.loads(local.read_text())
        except (RemoteFileNotFound, ValueError) as exc:  # no log: the run said nothing of each validation
            entries = None
            unread = f"group {group}: '{FRAMEWORK} run' left no readable {log} ({exc})"
    if not isinstance(entries, list):
        failed = command_result(validation_id(group), result)
        return [failed if failed.status == "fail" else failed.model_copy(update={"status": "fail",
                                                                                 "reason": unread})]
    return framework_results(entries, group)


def framework_results(entries: list[dict], group: str) -> list[CheckResult]:
    """validations-libs' results (its ``--output-log`` JSON) as rows, one per validation."""
    rows = []
    for entry in entries:
        status = STATUSES.get(str(entry.get("Status", "")).upper(), "skip")
        hosts = entry.get("Status_by_Host") or ""
        unreachable = entry.get("Unreachable_Hosts") or ""
        reason = "" if status == "pass" else (f"group {group}: {entry.get('Validations')} {entry.get('Status')}"
                                               + (f" on {hosts}" if hosts else "")
                                               + (f"; unreachable: {unreachable}" if unreachable else ""))
        rows.append(CheckResult(test_id=validation_id(str(entry.get("Validations"))), status=status,
                                duration=_seconds(entry.get("Duration")), reason=reason))
    return rows


def _seconds(duration: object) -> float | None:
    """validations-libs writes durations as 'H:MM:SS.fff'."""
    try:
        hours, minutes, seconds = str(duration).split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return None


@task(name="validations", task_run_name="validations-{phase}", cache_policy=NO_CACHE, **TRANSIENT_RETRIES)
def validations_task(site: SiteConfig, phase: str) -> list[CheckResult]:
    """The site's validations of the phase ('pre' or 'post'; none: nothing is run), retried on transient SSH
    faults only."""
    validations = site.upgrade.validations
    if validations.empty:
        return []
    return run_validations(SSHHost.from_target(site.undercloud.ssh), validations, phase)
