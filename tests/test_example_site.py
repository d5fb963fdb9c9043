"""The example site (deployments/sites/example.yaml), the template a RHOSP 17.1 user copies, runs the nightly
against the lab unchanged but for where its undercloud is.

The lab is the 17.1 undercloud the site describes: release wallaby, five nodes of which three have the control
profile, the account's home at /home/stack (lab.yaml ``undercloud_home``: each SSH session in a bubblewrap
sandbox that mounts the lab's home there) and the host named undercloud.example.com (lab.yaml ``hostname``).
The site file is copied as it is, with the lab's instackenv.json beside it in place of the example's (the
nodes' BMC addresses); the SSH host block it names, ``undercloud-example``, is saved with the lab's sshd, as a
user saves theirs. One value that is not an address changes: ``undercloud.minimums``' numbers, TripleO's
documented 8 CPUs, 24 GiB and 100 GB, which this 2-core machine does not have.

Stand-ins, for what cannot run here (docs/lab.md): the undercloud install and upgrade, ``overcloud node
provision`` (no Neutron), config-download's run on the nodes and the upgrade steps (no containers); and the
Tempest suite in ~/tempest is the lab's generated Tempest-like one (``suite.tempest: generated``): the site
runs the whole suite there (no include list), and the real Tempest's whole suite has tests of services the
lab does not run. The deploy's stack is the real python-tripleoclient's on the lab's reduced roles.
"""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
import yaml

from rdoflow.config.site import load_site
from rdoflow.deployments import SITES
from rdoflow.lab.inventory import INSTACKENV
from rdoflow.lab.process import alive
from rdoflow.waiting import Deadline
from tests.conftest import fast_knobs

EXAMPLE = SITES / "example.yaml"
HOME = "/home/stack"
HOSTNAME = "undercloud.example.com"  # the example's undercloud.hostname, which the lab's host answers
LAB_KNOBS = fast_knobs(nodes=5, controllers=3).model_copy(
    update={"release": "wallaby", "undercloud_home": HOME, "hostname": HOSTNAME})
# What this machine has to offer, shared with the lab's services: not TripleO's minimums.
MINIMUMS = {"cpus": 1, "ram_gb": 1, "disk_gb": 1}
# The module took 166 s to 301 s with the venvs cached on 2 cores (the nightly 133 s to 261 s, at load 4 to 7): 3x+.
pytestmark = [pytest.mark.timeout(1200), pytest.mark.slow]


def _leaves(document, path: str = "") -> dict[str, object]:
    """Every value of a YAML document by its dotted path (a list is one value)."""
    if not isinstance(document, dict):
        return {path: document}
    return {key: value for name, child in document.items()
            for key, value in _leaves(child, f"{path}.{name}" if path else str(name)).items()}


def _changed(before: dict, after: dict) -> set[str]:
    old, new = _leaves(before), _leaves(after)
    return {key for key in old.keys() | new.keys() if old.get(key, KeyError) != new.get(key, KeyError)}


@pytest.fixture(scope="module")
def example_copy(module_lab, tmp_path_factory) -> Path:
    """example.yaml copied with only the minimums' numbers changed, the lab's instackenv.json beside it."""
    site_dir = tmp_path_factory.mktemp("example-site")
    document = yaml.safe_load(EXAMPLE.read_text())
    document["undercloud"]["minimums"] |= MINIMUMS
    (site_dir / "example.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    shutil.copyfile(Path(module_lab.dir) / INSTACKENV, site_dir / "instackenv.json")
    return site_dir / "example.yaml"


@pytest.fixture(scope="module")
def nightly_run(module_lab, example_copy, prefect_server, tmp_path_factory):
    """The SSH host block the example names, saved with the lab's sshd; then the nightly on the copy."""
    from rdoflow.blocks import SSHHost
    from rdoflow.flows.nightly import nightly

    site = load_site(example_copy)
    SSHHost(**module_lab.sshd().endpoint().model_dump()).save(site.undercloud.ssh.block, overwrite=True)
    reports = tmp_path_factory.mktemp("example-reports")
    return nightly(site=site, report_dir=reports, return_state=True), reports


@pytest.fixture(scope="module")
def lab_host(module_lab):
    from rdoflow.blocks import SSHHost

    return SSHHost(**module_lab.sshd().endpoint().model_dump())


def test_a_session_starts_in_home_stack_on_a_host_named_by_its_fqdn_and_the_machine_is_left_alone(
        module_lab, lab_host, tmp_path):
    """Commands and SFTP alike: the lab's home is /home/stack inside each session, and only there."""
    from rdoflow.tasks.ssh.remote import put, run

    machine = {"home": sorted(path.name for path in Path(HOME).parent.iterdir()), "host": socket.gethostname()}
    seen = run(lab_host, ["sh", "-c", 'pwd; echo "$HOME"; hostname -f; ls -A /home']).stdout.splitlines()
    assert seen[:3] == [HOME, HOME, HOSTNAME]
    assert sorted(seen[3:]) == sorted(machine["home"] + ["stack"])  # the machine's own entries, and stack
    (tmp_path / "probe.txt").write_text("put over SFTP\n")
    put(lab_host, tmp_path / "probe.txt", f"{HOME}/probe.txt")
    assert (Path(module_lab.dir) / "home" / "probe.txt").read_text() == "put over SFTP\n"
    assert run(lab_host, ["cat", "probe.txt"]).stdout == "put over SFTP"
    assert sorted(path.name for path in Path(HOME).parent.iterdir()) == machine["home"]
    assert socket.gethostname() == machine["host"] != HOSTNAME


def test_a_command_that_times_out_is_killed_with_the_processes_it_started(module_lab, lab_host):
    """rdoflow kills a timed-out command's process group: each command is a session of its own in the sandbox."""
    from rdoflow.tasks.ssh.remote import run

    pid_file = Path(module_lab.dir) / "home" / "sleeper.pid"
    result = run(lab_host, ["sh", "-c", "sleep 600 & echo $! > sleeper.pid; wait"], timeout=5, check=False)
    assert result.status == "timeout"
    sleeper = int(pid_file.read_text())
    wait = Deadline(60, f"the command's child {sleeper}", target="gone")
    for _ in wait:
        wait.last_seen = "alive" if alive(sleeper) else "gone"
        if not alive(sleeper):
            break


def test_the_copy_differs_from_the_example_only_in_the_minimums_numbers(example_copy):
    example, copy = yaml.safe_load(EXAMPLE.read_text()), yaml.safe_load(example_copy.read_text())
    assert _changed(example, copy) == {"undercloud.minimums.cpus", "undercloud.minimums.ram_gb",
                                       "undercloud.minimums.disk_gb"}
    assert copy["undercloud"]["ssh"] == {"block": "undercloud-example"}
    assert copy["inventory"]["file"] == "instackenv.json"  # the lab's, beside the copy
    assert copy["overcloud"]["environment_files"] == [f"{HOME}/templates/network-environment.yaml",
                                                      f"{HOME}/templates/node-info.yaml"]


def test_the_nightly_passes_on_the_example_site(nightly_run):
    state, reports = nightly_run
    assert state.is_completed(), state.message
    summary = state.result()
    assert summary.verdict == "pass"
    assert [(s.stage, s.outcome) for s in summary.stages] == [
        ("package-review", "skip"), ("undercloud-bootstrap", "pass"), ("node-introspection", "pass"),
        ("overcloud-deploy", "pass"), ("upgrade-regression", "pass"), ("drop-review", "skip"), ("vote", "skip")]
    written = "\n".join(path.read_text() for path in reports.rglob("*.md"))
    assert f"| hostname | {HOSTNAME} | {HOSTNAME} | ✅ pass |" in written  # the preflight asked it of the host


def test_the_deploy_took_the_operator_s_environment_files_from_home_stack(module_lab, nightly_run):
    state = json.loads((Path(module_lab.dir) / "host-state.json").read_text())
    deployed = state["overcloud"]["overcloud"]
    assert deployed["environment_files"][-2:] == [f"{HOME}/templates/network-environment.yaml",
                                                  f"{HOME}/templates/node-info.yaml"]
    assert deployed["counts"] == {"Controller": 3, "Compute": 2}


def test_tempest_ran_in_home_stack_tempest(module_lab, nightly_run):
    """The site's workdir /home/stack/tempest is the lab's home/tempest: its stestr repository holds the
    runs before and after the upgrade."""
    repository = Path(module_lab.dir) / "home" / "tempest" / ".stestr"
    runs = [path for path in repository.iterdir() if path.name.isdigit()]
    assert len(runs) >= 2
