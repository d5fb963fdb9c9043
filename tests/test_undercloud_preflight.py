"""The undercloud preflight: facts parsed from the host's own files, checks, the flow and the main job's CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rdoflow.config.site import SiteConfig, UndercloudSite
from rdoflow.errors import ResourceFailed
from rdoflow.lab.site import lab_site_config
from rdoflow.tasks.undercloud.model import HostFacts
from rdoflow.tasks.undercloud.preflight import (
    check_facts,
    parse_df_available,
    parse_meminfo,
    parse_os_release,
)

RDOFLOW = str(Path(sys.executable).with_name("rdoflow"))

DF_OUTPUT = """\
Filesystem     1024-blocks     Used Available Capacity Mounted on
/dev/vda         263174212 22450260 227270712      9% /
"""


def _facts(**changes) -> HostFacts:
    facts = dict(address="stack@uc:22", hostname="undercloud", fqdn="undercloud.lab.example",
                 os_release="CentOS Stream 9",
                 cpus=8, ram_gib=32.0, disk_path="/", disk_free_gib=120.0)
    return HostFacts(**(facts | changes))


def _undercloud(**changes) -> UndercloudSite:
    settings = {"ssh": {"host": "uc"}, "minimums": {"cpus": 8, "ram_gb": 24, "disk_gb": 100}} | changes
    return UndercloudSite.model_validate(settings)


def test_memory_comes_from_memtotal_in_gib():
    assert parse_meminfo(Path("/proc/meminfo").read_text()) > 0
    assert parse_meminfo("MemFree: 1 kB\nMemTotal:       25165824 kB\n") == 24.0


def test_meminfo_without_memtotal_is_an_error():
    with pytest.raises(ValueError, match="no MemTotal"):
        parse_meminfo("MemFree: 1 kB\n")


def test_free_disk_is_the_available_column_of_df():
    assert parse_df_available(DF_OUTPUT) == pytest.approx(227270712 / 1024 / 1024)


def test_os_release_gives_its_pretty_name():
    assert parse_os_release('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n') == \
        "Debian GNU/Linux 12 (bookworm)"


def test_a_host_that_meets_every_minimum_passes():
    preflight = check_facts(_facts(), _undercloud())
    assert preflight.passed and {c.outcome for c in preflight.checks} == {"pass"}


def test_each_shortfall_is_a_failed_check_with_expected_and_found():
    preflight = check_facts(_facts(cpus=4, ram_gib=16.0, fqdn="undercloud"), _undercloud())
    failed = {c.name: (c.expected, c.found) for c in preflight.failed}
    assert failed == {"CPUs": (">= 8 CPUs", "4 CPUs"), "memory": (">= 24 GiB", "16 GiB"),
                      "hostname is an FQDN": ("host.domain, resolvable", "undercloud")}


def test_a_hostname_that_does_not_resolve_fails_the_fqdn_check_with_the_reason():
    facts = _facts(fqdn=None, fqdn_error="hostname: Name or service not known")
    [failed] = check_facts(facts, _undercloud()).failed
    assert failed.found == "undercloud (does not resolve: hostname: Name or service not known)"


def test_a_site_may_waive_the_fqdn_rule_and_pin_the_hostname():
    preflight = check_facts(_facts(fqdn="vm"), _undercloud(require_fqdn=False, hostname="uc.lab"))
    outcomes = {c.name: c.outcome for c in preflight.checks}
    assert outcomes["hostname is an FQDN"] == "skip" and outcomes["hostname"] == "fail"


@pytest.mark.usefixtures("prefect_server")
def test_the_preflight_flow_passes_on_the_lab_host_and_leaves_its_report(sshd, tmp_path):
    from prefect.artifacts import Artifact

    from rdoflow.flows.undercloud_preflight import undercloud_preflight

    site = SiteConfig.model_validate(lab_site_config(sshd))
    preflight = undercloud_preflight(site, tmp_path)
    assert preflight.passed and preflight.facts.cpus == os.cpu_count()
    artifact = Artifact.get("undercloud-preflight")
    assert artifact.type == "markdown" and artifact.data.startswith("# Undercloud preflight: PASS")
    assert (tmp_path / "undercloud-preflight.md").read_text() == artifact.data


@pytest.mark.usefixtures("prefect_server")
def test_the_preflight_flow_fails_naming_each_shortfall(sshd, tmp_path):
    from rdoflow.flows.undercloud_preflight import undercloud_preflight

    config = lab_site_config(sshd)
    config["undercloud"]["minimums"]["cpus"] = 4096
    state = undercloud_preflight(SiteConfig.model_validate(config), tmp_path, return_state=True)
    assert state.is_failed()
    with pytest.raises(ResourceFailed) as caught:
        state.result()
    assert caught.value.evidence == [f"CPUs: expected >= 4096 CPUs, found {os.cpu_count()} CPUs"]
    assert "FAIL (1 check(s) failed)" in (tmp_path / "undercloud-preflight.md").read_text()


def _rdoflow(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    from prefect.settings import PREFECT_API_URL

    env = os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value()}
    # With the real Tempest the nightly takes 5.5 minutes on a quiet machine; before it, 104 s quiet took over
    # 300 s on a busy CI machine: 3x and more. Past that, SIGTERM (as a CI job's cancel): the run takes its lab
    # down and exits, where subprocess.run's SIGKILL left the lab's services running after the suite.
    process = subprocess.Popen([RDOFLOW, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        stdout, stderr = process.communicate(timeout=1800)
    except subprocess.TimeoutExpired:
        process.terminate()
        stdout, stderr = process.communicate(timeout=300)
        raise AssertionError(f"rdoflow {' '.join(args)} took over 1800 s; stopped with SIGTERM (exit "
                             f"{process.returncode})\n{stdout}{stderr}") from None
    finally:
        process.kill()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.usefixtures("prefect_server")
@pytest.mark.timeout(2200)
def test_the_main_job_runs_the_nightly_against_the_built_in_lab(tmp_path):
    done = _rdoflow("nightly", "--lab-dir", "lab", "--reports", "reports", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "nightly: PASS" in done.stdout
    [html] = [line.split(": ", 1)[1] for line in done.stdout.splitlines() if line.startswith("HTML report: ")]
    assert "<title>rdoflow: PASS" in (tmp_path / html).read_text()  # where the README says to look
    [report] = (tmp_path / "reports").glob("nightly-*/undercloud-preflight.md")
    assert report.read_text().startswith("# Undercloud preflight: PASS")
    # Taken down: its directory removed and no process of it left (found by what they run, not by the
    # PID files, which went with the directory).
    assert not (tmp_path / "lab").exists()
    assert _processes_of(tmp_path / "lab") == {}


def _processes_of(lab: Path) -> dict[int, str]:
    """Processes whose command line or working directory is in ``lab``: PID -> command line."""
    found = {}
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(proc / "cwd")
        except (OSError, ValueError):  # not a process, or gone, or not ours
            continue
        if str(lab) in argv or cwd.startswith(str(lab)):
            found[int(proc.name)] = argv
    return found


@pytest.mark.usefixtures("prefect_server")
def test_a_failed_stage_exits_1_with_the_failed_checks(sshd, tmp_path):
    config = lab_site_config(sshd)
    config["undercloud"]["minimums"]["ram_gb"] = 100000
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(config))
    done = _rdoflow("run", "undercloud-preflight", "--site", "site.yaml", "--reports", "r", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "error[resource-failed]: undercloud" in done.stderr
    assert "memory: expected >= 100000 GiB" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_site_file_exits_2_before_any_flow_runs(tmp_path):
    (tmp_path / "site.yaml").write_text("name: lab\nundercloud:\n  ssh:\n    host: uc\n    port: ssh\n")
    done = subprocess.run([RDOFLOW, "run", "undercloud-preflight", "--site", "site.yaml"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "site.yaml: undercloud.ssh.port: expected an integer, got 'ssh'" in done.stderr
