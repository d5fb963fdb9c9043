"""The undercloud host: facts read over SSH and the preflight checks made before `openstack undercloud install`."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import UndercloudSite
from rdoflow.errors import ResourceFailed
from rdoflow.outcome import Outcome
from rdoflow.reports.preflight import render_preflight
from rdoflow.tasks.artifacts import leave_markdown
from rdoflow.tasks.retries import TRANSIENT_RETRIES
from rdoflow.tasks.ssh.remote import run
from rdoflow.tasks.undercloud.model import Check, HostFacts, Preflight

KIB_PER_GIB = 1024 * 1024


def parse_meminfo(text: str) -> float:
    """MemTotal in GiB from /proc/meminfo."""
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / KIB_PER_GIB
    raise ValueError("/proc/meminfo has no MemTotal line")


def parse_df_available(text: str) -> float:
    """Available GiB from the data line of ``df -Pk PATH``."""
    lines = text.strip().splitlines()
    if len(lines) < 2:
        raise ValueError(f"unexpected df output: {text!r}")
    return int(lines[-1].split()[3]) / KIB_PER_GIB


def parse_os_release(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.partition("=")[2].strip().strip('"')
    return "unknown"


def gather_facts(host: SSHHost, disk_path: str) -> HostFacts:
    """Read hostname, OS, CPUs, memory and free disk from the host, one short command each."""

    def read(*argv: str) -> str:
        return run(host, list(argv), timeout=30, log_output=False).stdout

    # 'hostname -f' fails when the name does not resolve: a finding for the checks, not an error here.
    fqdn = run(host, ["hostname", "-f"], timeout=30, check=False, log_output=False)
    return HostFacts(
        address=host.address,
        hostname=read("hostname").strip(),
        fqdn=fqdn.stdout.strip() if fqdn.status == Outcome.PASS else None,
        fqdn_error="" if fqdn.status == Outcome.PASS else (fqdn.stderr.strip() or f"exit status {fqdn.exit_status}"),
        os_release=parse_os_release(read("cat", "/etc/os-release")),
        cpus=int(read("nproc").strip()),
        ram_gib=parse_meminfo(read("cat", "/proc/meminfo")),
        disk_path=disk_path,
        disk_free_gib=parse_df_available(read("df", "-Pk", disk_path)),
    )


def _at_least(name: str, found: float, minimum: float, unit: str) -> Check:
    return Check(name=name, expected=f">= {minimum:g} {unit}", found=f"{f'{found:.1f}'.removesuffix('.0')} {unit}",
                 outcome="pass" if found >= minimum else "fail")


def check_facts(facts: HostFacts, undercloud: UndercloudSite) -> Preflight:
    """Compare the facts with the site's minimums and hostname rules."""
    wanted = undercloud.minimums
    checks = [
        _at_least("CPUs", facts.cpus, wanted.cpus, "CPUs"),
        _at_least("memory", facts.ram_gib, wanted.ram_gb, "GiB"),
        _at_least(f"free disk on {facts.disk_path}", facts.disk_free_gib, wanted.disk_gb, "GiB"),
    ]
    name = facts.fqdn or f"{facts.hostname} (does not resolve: {facts.fqdn_error})"
    if undercloud.require_fqdn:
        outcome = "pass" if facts.fqdn and "." in facts.fqdn.strip(".") else "fail"
        checks.append(Check(name="hostname is an FQDN", expected="host.domain, resolvable", found=name,
                            outcome=outcome))
    else:
        checks.append(Check(name="hostname is an FQDN", expected="not required by this site", found=name,
                            outcome="skip"))
    if undercloud.hostname:
        outcome = "pass" if facts.fqdn == undercloud.hostname else "fail"
        checks.append(Check(name="hostname", expected=undercloud.hostname, found=name, outcome=outcome))
    return Preflight(facts=facts, checks=checks)


def require_passed(preflight: Preflight) -> None:
    """Fail the stage when a check failed, listing each one."""
    if preflight.passed:
        return
    raise ResourceFailed(
        f"undercloud {preflight.facts.address} failed {len(preflight.failed)} preflight check(s)",
        evidence=[f"{c.name}: expected {c.expected}, found {c.found}" for c in preflight.failed],
        hint="give the undercloud what the checks ask, or lower the site's undercloud.minimums",
    )


@task(name="undercloud-facts", cache_policy=NO_CACHE, **TRANSIENT_RETRIES)
def undercloud_facts(host: SSHHost, disk_path: str) -> HostFacts:
    """``gather_facts`` as a task, retried on transient SSH errors."""
    return gather_facts(host, disk_path)


@task(name="preflight-checks", cache_policy=NO_CACHE)
def preflight_checks(facts: HostFacts, undercloud: UndercloudSite, report_dir: Path | None = None) -> Preflight:
    """``check_facts``, leaving the Markdown report as an artifact (and a file when ``report_dir`` is set)."""
    preflight = check_facts(facts, undercloud)
    markdown = render_preflight(preflight)
    leave_markdown(markdown, key="undercloud-preflight", report_dir=report_dir,
                   description=f"Preflight of {facts.address}: {'pass' if preflight.passed else 'fail'}")
    return preflight
