"""``lab up`` refuses to start twice; ``lab down`` leaves no process and no file behind; the CLI reports status."""

from __future__ import annotations

from pathlib import Path

import pytest

from rdoflow.lab.control import LabAlreadyRunning, LabState, down, up
from rdoflow.lab.process import alive
from tests.cli_runner import rdoflow
from tests.processes import processes_mentioning

pytestmark = pytest.mark.timeout(300)


@pytest.mark.timeout(900)  # 59 s on a quiet machine; 300 s ran out at load 20 (a whole lab up, then down)
def test_a_second_lab_up_is_refused_and_lab_down_leaves_nothing_behind(tmp_path):
    lab_dir = tmp_path / "lab"
    state = up(lab_dir, nodes=2, say=lambda line: None)
    pids = dict(state.pids)
    postgres_root = Path(state.postgres["root"])
    try:
        assert all(alive(pid) for pid in pids.values())
        status = rdoflow("lab", "status", "--dir", str(lab_dir))
        assert status.exit_code == 0, status.output
        assert "ironic" in status.output and "HTTP 200" in status.output
        assert "ironic-conduct" in status.output and "registered:" in status.output  # as Ironic's API lists it
        assert "keystone" in status.output  # suite.tempest: real, the default, runs it
        assert (lab_dir / "keystone" / "admin-password").stat().st_mode & 0o777 == 0o600
        with pytest.raises(LabAlreadyRunning, match="a lab already runs in"):
            up(lab_dir, say=lambda line: None)
        assert LabState.load(lab_dir).pids == pids  # the refused attempt changed nothing
    finally:
        down(lab_dir, say=lambda line: None)
    assert not any(alive(pid) for pid in pids.values())
    assert not lab_dir.exists()
    assert not postgres_root.exists()
    assert processes_mentioning(str(lab_dir)) == {}
    assert processes_mentioning(str(postgres_root)) == {}


def test_lab_status_of_a_directory_without_a_lab_names_the_command_to_start_one(tmp_path):
    result = rdoflow("lab", "status", "--dir", str(tmp_path / "nowhere"))
    assert result.exit_code == 3
    assert "no lab in" in result.output and "rdoflow lab up --dir" in result.output


def test_lab_up_refuses_a_directory_that_holds_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = rdoflow("lab", "up", "--dir", str(tmp_path))
    assert result.exit_code == 3
    assert "is not a lab directory" in result.output
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_bad_knob_in_lab_yaml_is_refused_naming_the_field_and_line(tmp_path):
    (tmp_path / "lab.yaml").write_text("nodes: 3\nfaults:\n  ssh_drop:\n    command: overcloud deploy\n"
                                       "    after: -1\n  inspect_fial: {}\n")
    result = rdoflow("lab", "up", "--dir", str(tmp_path))
    assert result.exit_code == 2
    assert "faults.ssh_drop.after" in result.output and "(line 5)" in result.output
    assert "faults.inspect_fial" in result.output and "inspect_fail" in result.output  # did you mean
    assert not (tmp_path / "lab.json").exists()


def test_an_undercloud_home_that_is_no_plain_path_and_a_short_hostname_are_refused(tmp_path):
    (tmp_path / "lab.yaml").write_text("undercloud_home: /home/../stack\nhostname: undercloud\n")
    result = rdoflow("lab", "up", "--dir", str(tmp_path))
    assert result.exit_code == 2
    assert "undercloud_home" in result.output and "(line 1)" in result.output and "e.g. /home/stack" in result.output
    assert "hostname" in result.output and "(line 2)" in result.output and "host.domain" in result.output
    assert not (tmp_path / "lab.json").exists()


@pytest.mark.slow
@pytest.mark.timeout(900)  # the lab's services may take minutes to answer on a busy machine
def test_lab_down_stops_the_lab_of_a_run_that_was_killed(tmp_path):
    """A run killed with SIGKILL takes nothing down: its lab's services are orphans. ``rdoflow lab down
    --dir`` stops them all by the PIDs in lab.json and removes the directory and the PostgreSQL cluster."""
    import os
    import signal
    import subprocess

    from tests.processes import (
        RDOFLOW,
        isolated_env,
        lab_started,
        nightly_in_its_own_process,
    )

    owner, lab_dir, prefect_home = nightly_in_its_own_process(tmp_path, stdout=subprocess.DEVNULL,
                                                              stderr=subprocess.DEVNULL)
    try:
        state = lab_started(owner, lab_dir)
        assert owner.poll() is None
        owner.kill()
        owner.wait(timeout=60)
        pids = state["pids"]
        assert all(alive(pid) for pid in pids.values())  # the owner is gone; its lab is not
        down_run = subprocess.run([RDOFLOW, "lab", "down", "--dir", str(lab_dir)], env=isolated_env(prefect_home),
                                  cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False)
        assert down_run.returncode == 0, down_run.stdout + down_run.stderr
        assert not any(alive(pid) for pid in pids.values())
        assert not lab_dir.exists()
        assert processes_mentioning(str(lab_dir)) == {}
        if state.get("postgres"):
            assert not Path(state["postgres"]["root"]).exists()
            assert processes_mentioning(state["postgres"]["root"]) == {}
    finally:
        owner.kill()
        # the killed run's Prefect server (uvicorn): ours to end
        for pid in processes_mentioning(str(prefect_home), anywhere=True):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if lab_dir.exists():
            down(lab_dir, say=lambda line: None)


def test_the_session_end_sweep_stops_a_left_lab_and_nothing_else(tmp_path):
    """A lab.json left behind (its test cut short) names two live processes: the one whose command line
    mentions the lab's directory is stopped, the other (a PID reused by an unrelated process) is not. The
    processes are ``sleep``s standing in for the lab's services: the sweep reads only lab.json and /proc."""
    import json
    import subprocess
    import sys

    from tests.processes import sweep_labs

    lab_dir = tmp_path / "lab"
    lab_dir.mkdir()
    ours = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", str(lab_dir / "ironic")],
                            start_new_session=True)
    other = subprocess.Popen(["sleep", "600"], start_new_session=True)
    try:
        (lab_dir / "lab.json").write_text(json.dumps({"dir": str(lab_dir), "venv": "", "pids": {
            "ironic": ours.pid, "heat": other.pid}}))
        stopped = sweep_labs(tmp_path)
        assert ours.wait(timeout=60) is not None
        assert other.poll() is None, "a process that does not mention the lab was stopped"
        assert stopped == [f"ironic ({ours.pid}) of {lab_dir}"]
    finally:
        for process in (ours, other):
            process.kill()
            process.wait()
