"""Starting the pipeline for a drop, for real: the Prefect test server, a deployment served by a real
runner (tests/drop_probe.py, standing in for the nightly, which needs an undercloud), events and Variables.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rdoflow.tasks.prerelease.trigger import EVENT, variable_name
from rdoflow.waiting import Deadline
from tests.dlrn_tree import DlrnTree
from tests.loopback_http import serve_directory

PROJECT = Path(__file__).resolve().parent.parent
RDOFLOW = str(Path(sys.executable).with_name("rdoflow"))
PROBE = "drop-probe/probe"
COMMIT_A, DISTRO_A = "587ffdd6ff4e8ad6a36bb3bd55d2bd6ab2ee4b93", "8170b8686a01cdb3b9b8d0a7b3c3e3f7aabbccdd"
COMMIT_B, DISTRO_B = "0bf9d805e1b0a4b9c1f2a5d3e6b7c8d9e0f1a2b3", "1122334455667788990011223344556677889900"


def _api_env() -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    return os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value(), "PREFECT_RUNNER_POLL_FREQUENCY": "1",
                         "PREFECT_LOGGING_LEVEL": "WARNING"}


@pytest.fixture(scope="module")
def probe_deployment(prefect_server):
    """``drop-probe/probe`` registered and served by a real runner process until the module ends."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    runner = subprocess.Popen([sys.executable, "tests/drop_probe.py"], cwd=PROJECT, env=_api_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        wait = Deadline(60, "deployment drop-probe/probe", target="registered")
        with get_client(sync_client=True) as client:
            for _ in wait:
                try:
                    yield client.read_deployment_by_name(PROBE)
                    break
                except ObjectNotFound:
                    assert runner.poll() is None, "the runner exited"
    finally:
        runner.terminate()
        try:
            runner.wait(timeout=15)
        except subprocess.TimeoutExpired:
            runner.kill()
            runner.wait()


def _flow_run(flow_run_id):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id)


def _finished(flow_run_id, budget: float = 90):
    wait = Deadline(budget, f"flow run {flow_run_id}", target="final")
    for _ in wait:
        run = _flow_run(flow_run_id)
        wait.last_seen = run.state.name if run.state else None
        if run.state and run.state.is_final():
            return run


def _published(full_hash: str) -> list:
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    wanted = EventFilter(event=EventNameFilter(name=[EVENT]),
                         resource=EventResourceFilter(id=[f"rdoflow.drop.{full_hash}"]))
    wait = Deadline(30, f"event {EVENT} for {full_hash}", target="stored")
    with get_client(sync_client=True) as client:
        for _ in wait:
            events = client.read_events(filter=wanted, limit=50).events  # the default 100 is over the server max
            if events:
                return events


def test_a_new_drop_starts_the_deployment_with_its_hash_and_is_announced(probe_deployment, tmp_path):
    from prefect.variables import Variable

    from rdoflow.flows.watch_prerelease import watch_prerelease

    with serve_directory(tmp_path) as url:
        tree = DlrnTree(tmp_path, url)
        first_hash = tree.build(COMMIT_A, DISTRO_A, 1732520000)
        tree.promote(first_hash, "current-passed-ci")
        first = watch_prerelease(base_url=url, link="current-passed-ci", deployment=PROBE, timeout=5)
        again = watch_prerelease(base_url=url, link="current-passed-ci", deployment=PROBE, timeout=5)
        second_hash = tree.build(COMMIT_B, DISTRO_B, 1732606400)
        tree.promote(second_hash, "current-passed-ci")
        second = watch_prerelease(base_url=url, link="current-passed-ci", deployment=PROBE, timeout=5)
    assert (first.change, again.change, second.change) == ("first", "unchanged", "new")
    assert again.flow_run_id is None and second.previous_hash == first_hash
    run = _finished(second.flow_run_id)
    assert run.deployment_id == probe_deployment.id
    assert (run.parameters, run.state.is_completed()) == ({"drop": second_hash}, True)
    [event] = _published(second_hash)
    assert (event.payload["hash"], event.payload["flow_run_id"]) == (second_hash, str(second.flow_run_id))
    assert Variable.get(variable_name("current-passed-ci"))["hash"] == second_hash


def test_a_link_moved_back_to_an_older_build_starts_nothing(probe_deployment, tmp_path):
    from rdoflow.flows.watch_prerelease import watch_prerelease

    with serve_directory(tmp_path) as url:
        tree = DlrnTree(tmp_path, url)
        old, new = tree.build(COMMIT_A, DISTRO_A, 1732520000), tree.build(COMMIT_B, DISTRO_B, 1732606400)
        tree.promote(new, "consistent")
        watch_prerelease(base_url=url, link="consistent", deployment=PROBE, timeout=5)
        tree.promote(old, "consistent")
        back = watch_prerelease(base_url=url, link="consistent", deployment=PROBE, timeout=5)
    assert (back.change, back.flow_run_id) == ("rollback", None)


def _trigger(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RDOFLOW, "trigger", *args], env=_api_env(), capture_output=True, text=True, timeout=180)


def test_trigger_waits_for_a_completed_run_and_prints_its_url(probe_deployment):
    done = _trigger("--drop", "abc1234_def45678", "--deployment", PROBE, "--wait")
    assert done.returncode == 0, done.stderr
    flow_run_id = done.stdout.strip().rstrip("/").split("/")[-1]
    run = _flow_run(flow_run_id)
    assert (run.parameters, run.state.is_completed()) == ({"drop": "abc1234_def45678"}, True)


def test_trigger_exits_1_when_the_pipeline_fails(probe_deployment):
    done = _trigger("--drop", "deadbeef_00000000", "--deployment", PROBE, "--wait")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Failed" in done.stderr


def test_trigger_without_wait_returns_a_scheduled_run(probe_deployment):
    done = _trigger("--drop", "abc1234_00000000", "--deployment", PROBE)
    assert done.returncode == 0, done.stderr
    assert _flow_run(done.stdout.strip().split("/")[-1]).parameters == {"drop": "abc1234_00000000"}


@pytest.mark.parametrize("deployment, message", [
    ("nightly", "deployment 'nightly': expected FLOW-NAME/DEPLOYMENT-NAME, e.g. nightly/on-prerelease-drop"),
    ("drop-probe/nope", "deployment 'drop-probe/nope' is not registered on the Prefect server"),
])
def test_trigger_with_an_unknown_deployment_is_bad_input(probe_deployment, deployment, message):
    done = _trigger("--drop", "abc1234_def45678", "--deployment", deployment)
    assert (done.returncode, done.stderr.strip().splitlines()[0]) == (2, message)


def _closed_port_url() -> str:
    import socket

    with socket.socket() as probe:  # bound, then closed: nothing listens there afterwards
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/api"


def test_trigger_with_no_server_at_the_api_url_exits_3_naming_the_url():
    url = _closed_port_url()
    done = subprocess.run([RDOFLOW, "trigger", "--drop", "abc123de_f0e1d2c3"], env=_api_env() | {
        "PREFECT_API_URL": url}, capture_output=True, text=True, timeout=180)
    assert done.returncode == 3, done.stdout + done.stderr
    assert f"the Prefect server at {url} does not answer" in done.stderr
    assert "Traceback" not in done.stderr and "unexpected error" not in done.stderr


@pytest.mark.parametrize("drop", ["latest", "abc123de", "abc123de_f0e1d2c3;id", "$(id)_f0e1d2c3", ""])
def test_trigger_refuses_a_drop_that_is_not_a_dlrn_hash_before_talking_to_any_server(drop):
    done = subprocess.run([RDOFLOW, "trigger", "--drop", drop], env=_api_env() | {
        "PREFECT_API_URL": _closed_port_url()}, capture_output=True, text=True, timeout=180)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith(f"--drop: {drop!r} is not a DLRN hash"), done.stderr


def test_trigger_without_a_prefect_server_configured_is_bad_input_and_starts_none(tmp_path):
    env = {key: value for key, value in _api_env().items() if not key.startswith("PREFECT_")}
    done = subprocess.run([RDOFLOW, "trigger", "--drop", "abc123de_f0e1d2c3"], env=env | {
        "PREFECT_HOME": str(tmp_path)}, capture_output=True, text=True, timeout=180)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "PREFECT_API_URL: not set" in done.stderr
    assert not (tmp_path / "prefect.db").exists()  # no temporary server was started
