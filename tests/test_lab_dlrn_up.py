"""A lab brought up with ``dlrn: true`` runs DLRN's API beside its other services, publishes drops through it,
and takes it down with the rest."""

from __future__ import annotations

import pytest

from rdoflow.lab import config as labconfig
from rdoflow.lab.control import LabState, down, up
from rdoflow.lab.drops import publish_drop
from rdoflow.lab.health import lab_status
from rdoflow.lab.process import alive
from rdoflow.tasks.prerelease.dlrn import read_drop
from tests.conftest import fast_knobs
from tests.processes import processes_mentioning

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_a_lab_with_dlrn_serves_its_drops_and_stops_dlrn_with_the_rest(tmp_path):
    lab_dir = tmp_path / "lab"
    lab_dir.mkdir()
    knobs = fast_knobs(nodes=2)
    knobs.dlrn = True
    labconfig.save(lab_dir, knobs)
    state = up(lab_dir, say=lambda line: None)
    pids = {name: state.pids[name] for name in ("dlrn", "dlrn-repos")}
    try:
        dlrn = LabState.load(lab_dir).dlrn()
        status = {service.name: service for service in lab_status(lab_dir)}
        assert (status["dlrn"].address, status["dlrn"].detail) == (dlrn.api_url, "HTTP 200")
        assert (status["dlrn-repos"].address, status["dlrn-repos"].detail) == (dlrn.repos_url, "HTTP 200")
        drop = publish_drop(dlrn, {"openstack-heat": "19.1.0"})
        assert read_drop(drop.base_url, "current-passed-ci", timeout=30).full_hash == drop.full_hash
        assert drop.nvrs["openstack-heat"].startswith("openstack-heat-19.1.0-0.")
    finally:
        down(lab_dir, say=lambda line: None)
    assert not any(alive(pid) for pid in pids.values())
    assert processes_mentioning(str(lab_dir)) == {}


def test_a_lab_without_the_knob_runs_no_dlrn(lab):
    assert lab.dlrn() is None and "dlrn" not in lab.pids
