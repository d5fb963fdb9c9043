"""`openstack undercloud install` on the host: what the host runs now, the install itself, and its marker.

The host keeps a marker (``~/.rdoflow/undercloud-installed.json``) written after a successful install,
with the sha256 of the undercloud.conf it installed. The undercloud "runs" a rendered config when
its ``~/undercloud.conf`` and the marker both carry that config's sha256 and ``~/stackrc`` exists:
then the stage verifies instead of installing again. A changed config installs again, as TripleO
re-runs the install to apply config changes.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections import deque
from datetime import datetime, timezone
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import ValidationError

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import UndercloudSite
from rdoflow.errors import RemoteCommandFailed, StageTimeout
from rdoflow.outcome import Outcome
from rdoflow.tasks.progress import StageProgress
from rdoflow.tasks.resume import STAGE_CACHE_EXPIRATION, digest, resumable
from rdoflow.tasks.retries import TRANSIENT_RETRIES
from rdoflow.tasks.ssh.processes import wait_until_ended
from rdoflow.tasks.ssh.remote import put, read_remote, run
from rdoflow.tasks.undercloud.conf import CONF_FILE, compare_confs
from rdoflow.tasks.undercloud.model import (
    HostUndercloud,
    InstallMarker,
    InstallOutcome,
    RenderedConf,
)

MARKER = ".rdoflow/undercloud-installed.json"
STACKRC = "stackrc"
INSTALL = ["openstack", "undercloud", "install", "-y"]  # reads undercloud.conf from its cwd: the home
TAIL_LINES = 30
# Progress: tripleoclient's own INFO lines and the ansible tasks of the install's playbooks
# (plain 'TASK [...]' or the tripleo profile callback's '| TASK |' lines).
STEP = re.compile(r"\|\s*INFO\s*\|\s*tripleoclient[\w.]*\s*\||^TASK \[|\|\s*TASK\s*\|")
# The first real error, most specific first: a logger's ERROR line (tripleoclient's console format,
# then oslo.log's), an ansible task's fatal, then cliff's final 'ERROR: ...'.
ERROR_LINES = (
    re.compile(r"\|\s*(?:ERROR|CRITICAL)\s*\|\s*[\w.]+\s*\|\s*(?P<message>\S.*)$"),
    re.compile(r"^\S+ \S+ \d+ (?:ERROR|CRITICAL) [\w.]+ (?:\[[^\]]*\] )?(?P<message>\S.*)$"),
    re.compile(r"^fatal: \[[^\]]+\]: (?P<message>\S.*)$"),
    re.compile(r"^(?:ERROR|CRITICAL):? (?P<message>\S.*)$"),
)


def _marker(raw: bytes | None) -> tuple[InstallMarker | None, str]:
    if raw is None:
        return None, ""
    try:
        return InstallMarker.model_validate_json(raw), ""
    except ValidationError as exc:
        return None, f"~/{MARKER} is unreadable: {exc.errors()[0]['msg']}"


def observe(host: SSHHost, conf: RenderedConf) -> HostUndercloud:
    """Read ~/undercloud.conf (only its sha256 and the names of the keys ``conf`` changes are kept),
    the marker, whether ~/stackrc exists and the undercloud's version."""
    current = read_remote(host, CONF_FILE)
    sha256 = hashlib.sha256(current).hexdigest() if current is not None else None
    marker, problem = _marker(read_remote(host, MARKER))
    return HostUndercloud(
        address=host.address,
        conf_sha256=sha256,
        changes=(compare_confs(current.decode(errors="replace"), conf.text)
                 if current is not None and sha256 != conf.sha256 else None),
        marker=marker, marker_problem=problem,
        stackrc=read_remote(host, STACKRC) is not None,
        version=installed_version(host),
    )


class InstallLog:
    """The install's output as it streams: steps counted for progress, the first error of each kind, the tail."""

    def __init__(self, progress: StageProgress, expected_steps: int | None):
        self.progress, self.expected = progress, expected_steps or 0
        self.steps = 0
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.errors: list[str | None] = [None] * len(ERROR_LINES)

    def line(self, stream: str, line: str) -> None:
        self.tail.append(line)
        for index, pattern in enumerate(ERROR_LINES):
            found = pattern.search(line)
            if found and self.errors[index] is None:
                self.errors[index] = found["message"].strip()
        if STEP.search(line):
            self.steps += 1
            # Without an earlier install to go by, the total stays one step ahead until the end.
            step = line.rsplit(" | ", 1)[-1].strip()  # the message, without the log line's time and level
            self.progress.update(self.steps, total=max(self.expected, self.steps + 1), note=step[:80])

    @property
    def first_error(self) -> str | None:
        return next((error for error in self.errors if error), None)


def _install_failed(log: InstallLog, address: str, exit_status: int | None) -> RemoteCommandFailed:
    why = f"exit status {exit_status}" if exit_status is not None else "killed by a signal"
    message = log.first_error or f"openstack undercloud install failed on {address} with {why}"
    if exit_status == 127:
        hint = "the host has no 'openstack' command: install python3-tripleoclient on the undercloud"
    else:
        hint = ("if the error is about undercloud.conf, fix undercloud.conf in the site config and run the "
                "stage again; otherwise read the whole log in this run's logs or ~/install-undercloud.log")
    return RemoteCommandFailed(f"openstack undercloud install failed: {message}", evidence=list(log.tail),
                               hint=hint)


def installed_version(host: SSHHost) -> str | None:
    """The undercloud's version: tripleoclient's package when rpm knows it, else what `openstack --version` says."""
    for argv in (["rpm", "-q", "python3-tripleoclient"], ["openstack", "--version"]):
        result = run(host, argv, timeout=60, check=False, log_output=False)
        text = (result.stdout or result.stderr).strip()
        if result.status == Outcome.PASS and text:
            return text.splitlines()[0]
    return None


def write_marker(host: SSHHost, marker: InstallMarker) -> None:
    run(host, ["mkdir", "-p", str(Path(MARKER).parent)], timeout=60, log_output=False)
    with tempfile.TemporaryDirectory(prefix="rdoflow-uc-") as scratch:
        local = Path(scratch) / "marker.json"
        local.write_text(marker.model_dump_json(indent=2) + "\n")
        put(host, local, MARKER)


def install(host: SSHHost, conf: RenderedConf, *, timeout: float, expected_steps: int | None = None) -> InstallOutcome:
    """Upload ``conf`` to ~/undercloud.conf, run the install in the home, then leave the marker.

    A failure raises RemoteCommandFailed with the first real error line as its message and the log's
    tail as evidence; a timeout StageTimeout; a dropped connection SSHConnectionLost (transient).
    """
    # An install a dropped session left running goes on; a second one beside it would break both.
    waited = wait_until_ended(host, INSTALL, budget=timeout, what="openstack undercloud install")
    with tempfile.TemporaryDirectory(prefix="rdoflow-uc-") as scratch:
        local = Path(scratch) / CONF_FILE
        local.write_text(conf.text)
        put(host, local, CONF_FILE, mode=0o644)
    progress = StageProgress("undercloud-install", f"openstack undercloud install on {host.address}",
                             total=expected_steps or 1)
    log = InstallLog(progress, expected_steps)
    result = run(host, INSTALL, timeout=timeout, check=False, on_line=log.line)
    if result.status == "timeout":
        raise StageTimeout(f"openstack undercloud install on {host.address} did not finish within {timeout:g} s "
                           "and was stopped", evidence=list(log.tail),
                           hint="raise undercloud.install_timeout in the site config if the host is slow, or "
                                "look at where the log stopped")
    if result.status == Outcome.FAIL:
        raise _install_failed(log, host.address, result.exit_status)
    progress.finish(note=f"{log.steps} steps")
    marker = InstallMarker(conf_sha256=conf.sha256, installed_at=datetime.now(timezone.utc),
                           version=installed_version(host), steps=log.steps, seconds=round(result.duration, 1))
    write_marker(host, marker)
    return InstallOutcome(ran=True, why="", seconds=marker.seconds, steps=log.steps, version=marker.version,
                          waited_for_earlier=waited)


@task(name="observe-undercloud", task_run_name="observe the undercloud on {host.host}", cache_policy=NO_CACHE,
      **TRANSIENT_RETRIES)
def observe_undercloud(host: SSHHost, conf: RenderedConf) -> HostUndercloud:
    """``observe`` as a task, retried on transient SSH errors."""
    return observe(host, conf)


def _install_key(context, parameters: dict) -> str:
    # The stage's inputs only: what is observed decides (through ``resumable``) whether this entry may be reused.
    return "undercloud-install-" + digest(parameters["conf"].text, parameters["host"].address, parameters["drop"])


@task(name="undercloud-install", task_run_name="undercloud install on {host.host}", cache_key_fn=_install_key,
      cache_expiration=STAGE_CACHE_EXPIRATION, persist_result=True, **TRANSIENT_RETRIES)
def install_undercloud(host: SSHHost, conf: RenderedConf, observed: HostUndercloud, timeout: float,
                       drop: str | None = None, force: bool = False) -> InstallOutcome:
    """``install``, unless the host already runs ``conf`` (and no ``force``): then it is left as it is."""
    if observed.runs(conf) and not force:
        return InstallOutcome(ran=False, why=observed.state(conf), version=observed.marker.version)
    expected = observed.marker.steps if observed.marker else None
    outcome = install(host, conf, timeout=timeout, expected_steps=expected)
    outcome.why = f"refresh asked for; {observed.state(conf)}" if force else observed.state(conf)
    return outcome


def install_stage(host: SSHHost, conf: RenderedConf, observed: HostUndercloud, *, timeout: float,
                  drop: str | None, refresh: bool) -> InstallOutcome:
    """The install task, its earlier result reused while the host still runs ``conf`` (and no ``refresh``)."""
    stage = resumable(install_undercloud, settled=observed.runs(conf), refresh=refresh)
    state = stage(host, conf, observed, timeout, drop, refresh, return_state=True)
    outcome = state.result()
    if state.name == "Cached":
        return outcome.model_copy(update={"ran": False, "cached": True, "seconds": 0.0, "why": (
            f"{observed.state(conf)}; an earlier run's result for these inputs was reused")})
    return outcome


def container_images_command(path: str) -> list[str]:
    """What the undercloud's documentation has the operator run before the install, to write the file."""
    return ["openstack", "tripleo", "container", "image", "prepare", "default", "--local-push-destination",
            "--output-env-file", path]


@task(name="container-images-file", task_run_name="container images file on {host.host}", cache_policy=NO_CACHE,
      **TRANSIENT_RETRIES)
def ensure_container_images_file(host: SSHHost, undercloud: UndercloudSite) -> str | None:
    """The container_images_file undercloud.conf names, written by TripleO's own 'container image prepare
    default' when the host has none (the install fails without it); the file's path, or None when the
    conf names none. An existing file, perhaps edited by hand, is left as it is."""
    path = str(undercloud.conf.get("DEFAULT", {}).get("container_images_file") or "")
    if not path:
        return None
    if read_remote(host, path) is not None:
        return path
    result = run(host, container_images_command(path), timeout=600, check=False)
    if result.status != Outcome.PASS:
        raise RemoteCommandFailed(
            f"the container images file {path} is missing and 'openstack tripleo container image prepare "
            f"default' could not write it (exit {result.exit_status})", evidence=result.tail(15),
            hint="write the file on the undercloud (see the command above), or fix undercloud.conf's "
                 "container_images_file in the site config")
    return path
