"""``lab up`` refuses to start twice; ``lab down`` leaves no process and no file behind; the CLI reports status."""

from __future__ import annotations

from pathlib import Path

import pytest

from rdoflow.lab.control import LabAlreadyRunning, LabState, down, up
from rdoflow.lab.process import alive
from tests.cli_runner import rdoflow

pytestmark = pytest.mark.timeout(300)


def processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                found.append(cmdline)
    return found


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
        with pytest.raises(LabAlreadyRunning, match="a lab already runs in"):
            up(lab_dir, say=lambda line: None)
        assert LabState.load(lab_dir).pids == pids  # the refused attempt changed nothing
    finally:
        down(lab_dir, say=lambda line: None)
    assert not any(alive(pid) for pid in pids.values())
    assert not lab_dir.exists()
    assert not postgres_root.exists()
    assert processes_mentioning(str(lab_dir)) == []
    assert processes_mentioning(str(postgres_root)) == []


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
