"""Watching the workload across the upgrade: set up and seen up before its first step, looked at throughout,
judged after its last, and always taken down (``watched``: a context manager whose exit removes what it made
and stops what it started, whatever happened inside)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from prefect.artifacts import create_markdown_artifact

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import SiteConfig
from rdoflow.config.upgrade_checks import WorkloadCheck
from rdoflow.reports.upgrade_checks import markdown
from rdoflow.tasks.overcloud.commands import upgrade_steps
from rdoflow.tasks.overcloud.model import StageReport
from rdoflow.tasks.overcloud.stack import heat_for
from rdoflow.tasks.undercloud.credentials import site_cloud
from rdoflow.tasks.workload import cloud
from rdoflow.tasks.workload.cloud import WorkloadNotStarted
from rdoflow.tasks.workload.judge import outages, step_windows
from rdoflow.tasks.workload.model import Probe, WorkloadReport
from rdoflow.tasks.workload.probe_command import CommandProbe
from rdoflow.waiting import Deadline

SETUP_BUDGET = 300.0


class Watch:
    """One workload watched: ``start`` (set up, first probe passed), ``finish`` (judged), ``close`` (taken down)."""

    def __init__(self, check: WorkloadCheck, site: SiteConfig, budget: float):
        self.check, self.site, self.budget = check, site, budget
        self.host = SSHHost.from_target(site.undercloud.ssh)
        self.started, self.started_at = time.monotonic(), time.time()
        self.baseline = ""
        self._stop = threading.Event()
        self._probes: list[Probe] = []
        self._poller: threading.Thread | None = None
        self._command: CommandProbe | None = None
        self._workload: cloud.CloudWorkload | None = None
        self._clients: tuple | None = None

    def now(self) -> float:
        return time.monotonic() - self.started

    def start(self) -> None:
        if self.check.kind == "cloud":
            self._start_cloud()
        else:
            self._start_command()

    def _start_cloud(self) -> None:
        conn = site_cloud(self.site.cloud, self.host).connect()
        heat = heat_for(self.site.cloud, self.host)
        self._clients = (conn, heat)
        self._workload = workload = cloud.new_workload(self.check.name)
        cloud.create_stack(heat, workload, SETUP_BUDGET)
        cloud.create_allocation(conn, workload, SETUP_BUDGET)
        workload.baseline = cloud.snapshot(conn, heat, workload)
        self.baseline = f"stack {workload.baseline['stack status']}, allocation {workload.baseline['allocation state']}" \
                        f" on node {workload.node_id} ({workload.baseline['node state']})"
        self.started, self.started_at = time.monotonic(), time.time()
        self._poller = threading.Thread(target=self._poll, name="rdoflow-workload-poll", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        conn, heat = self._clients
        while not self._stop.is_set():
            ok, detail = cloud.probe(conn, heat, self._workload)
            self._probes.append(Probe(at=self.now(), ok=ok, detail=detail))
            self._stop.wait(self.check.interval)

    def _start_command(self) -> None:
        self._command = probe = CommandProbe(self.host, self.check.command, self.check.output, self.budget)
        probe.start()
        wait = Deadline(self.check.start_timeout, f"the workload probe {' '.join(self.check.command)}",
                        target="answering", max_delay=1)
        for _ in wait:
            first = next((p for p in probe.probes if p.ok), None)
            if first is not None:
                self.baseline = f"first probe passed: {first.detail}"
                self.started, self.started_at = probe.started, time.time() - (time.monotonic() - probe.started)
                return
            if not probe.alive:
                break
            wait.last_seen = f"{len(probe.probes)} probes, none passed"
        self._not_started(probe)

    def _not_started(self, probe: CommandProbe) -> None:
        probe.stop()
        result = probe.result
        evidence = [*(result.tail(10) if result else []), *([f"{probe.error}"] if probe.error else [])]
        raise WorkloadNotStarted(
            f"the workload probe '{' '.join(self.check.command)}' on {self.host.address} did not pass a first probe "
            f"within {self.check.start_timeout:g} s" + (f" (it exited with status {result.exit_status})"
                                                         if result and not probe.alive else ""),
            evidence=evidence, hint="run the command on the undercloud by hand: it must print a line per probe "
                                    f"({self.check.output} output, docs/upgrade-checks.md); raise "
                                    "upgrade.workload.start_timeout if it is slow to start")

    def finish(self, report: StageReport) -> WorkloadReport:
        """Stop looking and judge: outages (each named by the upgrade step it began in), loss, and, for the
        cloud workload, what changed from before."""
        ended = self.now()
        changed: list[str] = []
        if self._command is not None:
            self._command.stop()
            probes, what = self._command.timeline(), f"probe '{' '.join(self.check.command)}'"
        else:
            self._stop_poller()
            conn, heat = self._clients
            changed = cloud.differences(self._workload.baseline, cloud.snapshot(conn, heat, self._workload))
            probes, what = list(self._probes), self._workload.what
        # The steps end when the last of them did, not when this is called: the stage's own end (its report, a
        # flow run's bookkeeping) would shift every window later, by seconds on a busy machine.
        last = max((step.finished_at for step in report.steps if step.finished_at), default=None)
        steps_ended = min(ended, last - self.started_at) if last is not None else ended
        windows = step_windows([(step.name, step.duration) for step in report.steps if step.duration], steps_ended)
        return WorkloadReport(name=self.check.name, kind=self.check.kind, what=what, baseline=self.baseline,
                              seconds=ended, probes=len(probes), failed=sum(not p.ok for p in probes),
                              outages=outages(probes, ended, windows), changed=changed,
                              max_downtime=self.check.max_downtime, max_loss=self.check.max_loss)

    def _stop_poller(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(60)

    def close(self) -> list[str]:
        """Stop the probe and remove the workload; what could not be removed (empty: nothing is left)."""
        self._stop_poller()
        if self._command is not None:
            self._command.stop()
        if self._workload is not None and self._clients is not None:
            return cloud.remove(*self._clients, self._workload, SETUP_BUDGET)
        return []


@contextmanager
def watched(site: SiteConfig) -> Iterator[Watch | None]:
    """The site's workload watched for the block (None: the site has none); taken down on the way out."""
    check = site.upgrade.workload
    if check is None:
        yield None
        return
    steps = upgrade_steps(site.overcloud, site.upgrade, site.undercloud.install_timeout, site.undercloud.release)
    watch = Watch(check, site, watch_budget([step.timeout for step in steps]))
    try:
        watch.start()
        yield watch
    finally:
        left = watch.close()
        if left:
            create_markdown_artifact("# Workload left behind\n\n" + "\n".join(f"- {line}" for line in left),
                                     key="workload-left-behind", description="what rdoflow could not remove")


def leave_report(report: WorkloadReport) -> None:
    create_markdown_artifact(markdown(report), key=f"workload-{report.name}",
                             description=f"workload {report.name}: {'pass' if report.passed else 'fail'}")


def watch_budget(steps: Sequence[float]) -> float:
    """The probe command's own time limit: the upgrade's steps' budgets, and an hour more."""
    return sum(steps) + 3600
