"""The deployments end to end, as a team runs them: a real ``prefect server start`` (SQLite) on 127.0.0.1,
``rdoflow deploy`` registering everything, a ``prefect worker`` on the process pool, the nightly
triggered from the CLI as a CI job does, a drop seen by the watch starting the pipeline through its
event, and the Prefect UI, in headless Chromium, listing the deployments and showing the report.

Each nightly here is the deployment's default: a fresh built-in lab brought up by the run itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from rdoflow.waiting import Deadline
from tests.dlrn_tree import DlrnTree
from tests.loopback_http import serve_directory, signed_in_proxy
from tests.prefect_services import BIN, PROJECT, PrefectServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--virtual-time-budget=20000"]
# Where the UI's screenshots go (the README's picture is one); a temporary directory unless set.
SHOTS = os.environ.get("RDOFLOW_SCREENSHOTS")
COMMIT, DISTRO = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432", "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A Prefect server with rdoflow registered (``rdoflow deploy``) and one worker on its pool."""
    from prefect.settings import temporary_settings

    server = PrefectServer(home=tmp_path_factory.mktemp("prefect-server")).start()
    try:
        server.registration = server.rdoflow("deploy")
        assert server.registration.returncode == 0, server.registration.stdout + server.registration.stderr
        server.worker_log = server.start_worker("lab-worker")
        with temporary_settings(server.settings()):
            yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def ui(server):
    """The server's UI as a browser that has signed in with the auth string sees it; its root URL."""
    with signed_in_proxy(server.ui_url, server.auth_string) as url:
        yield url


def _client():
    from prefect.client.orchestration import get_client

    return get_client(sync_client=True)


def _deployment(name: str):
    with _client() as client:
        return client.read_deployment_by_name(name)


def _finished(flow_run_id, budget: float = 600):
    wait = Deadline(budget, f"flow run {flow_run_id}", target="a final state", max_delay=3)
    with _client() as client:
        for _ in wait:
            run = client.read_flow_run(flow_run_id)
            wait.last_seen = run.state.name if run.state else None
            if run.state and run.state.is_final():
                return run


def _run_tree(flow_run_id) -> list:
    """The flow run and every subflow run under it."""
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterParentFlowRunId,
    )

    with _client() as client:
        runs, frontier = [client.read_flow_run(flow_run_id)], [flow_run_id]
        while frontier:
            children = client.read_flow_runs(flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=frontier)))
            runs += children
            frontier = [child.id for child in children]
    return runs


def _artifacts(flow_run_ids) -> list:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with _client() as client:
        return client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=list(flow_run_ids))))


def _worker_of(flow_run_id, budget: float = 30) -> str:
    """The worker that submitted the run, from the event the worker emitted (which the server may store
    a few seconds after the run ended: it writes events in batches)."""
    from prefect.events.filters import EventFilter, EventNameFilter, EventRelatedFilter

    wanted = EventFilter(event=EventNameFilter(name=["prefect.worker.submitted-flow-run"]),
                         related=EventRelatedFilter(id=[f"prefect.flow-run.{flow_run_id}"]))
    wait = Deadline(budget, f"the worker's event for flow run {flow_run_id}", target="stored", max_delay=2)
    with _client() as client:
        for _ in wait:
            events = client.read_events(filter=wanted, limit=10).events
            if events:
                return events[0].resource.id.rsplit(".", 1)[-1]


def test_rdoflow_deploy_lists_the_deployments_with_their_schedules_and_triggers(server):
    lines = server.registration.stdout.splitlines()
    assert any(line.split()[:1] == ["nightly/nightly"] and "cron '0 2 * * *' (UTC)" in line for line in lines)
    assert any(line.split()[:1] == ["watch-prerelease/watch-prerelease"] and "every 15 min" in line
               for line in lines)
    assert any(line.split()[:1] == ["nightly/on-prerelease-drop"] and "on event rdoflow.prerelease.published" in line
               for line in lines)


def test_a_client_without_the_servers_auth_string_gets_401_and_no_secret(server):
    """The README's server hands a block's secrets only to a client that sends its auth string."""
    import base64

    import httpx

    from rdoflow.blocks import SSHHost

    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nrdoflow-test-key-5f3a9c\n-----END OPENSSH PRIVATE KEY-----\n"
    SSHHost(host="uc.example.com", private_key=key).save("auth-probe", overwrite=True)
    filtered = f"{server.api_url}/block_documents/filter"
    wrong = "Basic " + base64.b64encode(b"rdoflow:not-the-password").decode()
    for headers in ({}, {"Authorization": wrong}):
        answer = httpx.post(filtered, json={"include_secrets": True}, headers=headers, timeout=30)
        assert answer.status_code == 401, answer.text[:300]
        assert "rdoflow-test-key-5f3a9c" not in answer.text
    right = "Basic " + base64.b64encode(server.client_env()["PREFECT_API_AUTH_STRING"].encode()).decode()
    answer = httpx.post(filtered, json={"include_secrets": True}, headers={"Authorization": right}, timeout=30)
    assert answer.status_code == 200 and "rdoflow-test-key-5f3a9c" in answer.text


@pytest.mark.parametrize("name", ["nightly/nightly", "upgrade-regression/upgrade-regression",
                                  "package-review/package-review", "compare-runs/compare-runs",
                                  "watch-prerelease/watch-prerelease", "nightly/on-prerelease-drop"])
def test_each_deployment_users_need_is_on_the_process_pool(server, name):
    assert _deployment(name).work_pool_name == "rdoflow"


def test_the_nightly_runs_at_two_utc_against_the_built_in_lab_by_default(server):
    nightly = _deployment("nightly/nightly")
    [schedule] = nightly.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone, schedule.active) == ("0 2 * * *", "UTC", True)
    assert nightly.parameters == {"lab": {"nodes": 4}}
    lab = nightly.parameter_openapi_schema["definitions"]["LabOptions"]["properties"]
    assert all(field.get("description") for field in lab.values()), lab


def test_the_watch_runs_every_15_minutes_and_leaves_the_start_to_the_event_trigger(server):
    watch = _deployment("watch-prerelease/watch-prerelease")
    [schedule] = watch.schedules
    assert schedule.schedule.interval.total_seconds() == 900
    assert watch.parameters["deployment"] is None


def test_the_drop_deployment_is_triggered_by_the_prerelease_event_with_its_hash(server):
    drop_runs = _deployment("nightly/on-prerelease-drop")
    with _client() as client:
        automations = [a for a in client.read_automations()
                       if any(getattr(action, "deployment_id", None) == drop_runs.id for action in a.actions)]
    [automation] = automations
    assert automation.trigger.expect == {"rdoflow.prerelease.published"}
    assert automation.trigger.match.model_dump()["prefect.resource.id"] == "rdoflow.drop.*"
    assert automation.actions[0].parameters == {"drop": "{{ event.payload.hash }}"}


def test_deploying_again_updates_in_place(server):
    before = {name: _deployment(name).id for name in ("nightly/nightly", "nightly/on-prerelease-drop")}
    again = server.rdoflow("deploy")
    assert again.returncode == 0, again.stdout + again.stderr
    assert {name: _deployment(name).id for name in before} == before
    with _client() as client:
        assert len([a for a in client.read_automations() if a.name.startswith("on-prerelease-drop")]) == 1


def test_deploy_without_a_server_is_refused_with_what_to_set(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    done = subprocess.run([str(BIN / "rdoflow"), "deploy"], env=env | {"PREFECT_HOME": str(tmp_path)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "PREFECT_API_URL: not set" in done.stderr
    assert "export PREFECT_API_URL=" in done.stderr


def test_a_real_site_gets_a_nightly_of_its_own_with_the_site_as_its_form_defaults(server):
    from rdoflow.config.site import load_site

    site_file = PROJECT / "tests" / "sites" / "good.yaml"
    done = server.rdoflow("deploy", "--site", str(site_file))
    assert done.returncode == 0, done.stdout + done.stderr
    assert any(line.split()[:1] == ["nightly/rdo-lab-east"] for line in done.stdout.splitlines())
    east = _deployment("nightly/rdo-lab-east")
    assert east.parameters == {"site": load_site(site_file).model_dump(mode="json")}
    assert [(s.schedule.cron, s.schedule.timezone) for s in east.schedules] == [("0 2 * * *", "UTC")]
    assert east.work_pool_name == "rdoflow"


def test_a_bad_site_file_is_refused_before_anything_is_registered(server, tmp_path):
    bad = tmp_path / "west.yaml"
    bad.write_text("name: west\nundercloud:\n  ssh: {host: uc, port: ssh}\n")
    done = server.rdoflow("deploy", "--site", str(bad))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{bad}: undercloud.ssh.port: expected an integer, got 'ssh' (line 3)" in done.stderr
    with _client() as client:
        assert "west" not in {deployment.name for deployment in client.read_deployments()}


def test_a_site_may_not_take_the_name_of_a_deployment_of_prefect_yaml(server, tmp_path):
    clash = tmp_path / "nightly.yaml"
    clash.write_text("name: nightly\nundercloud: {ssh: {host: uc}}\n")
    done = server.rdoflow("deploy", "--site", str(clash))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "name: 'nightly' is the name of a deployment of prefect.yaml" in done.stderr
    assert _deployment("nightly/nightly").parameters == {"lab": {"nodes": 4}}


def test_a_ci_job_triggers_the_nightly_and_the_worker_runs_it_to_a_pass_with_every_artifact(server):
    """``rdoflow trigger --drop`` as CI runs it: the on-prerelease-drop deployment, run to its end by the worker."""
    done = server.rdoflow("trigger", "--drop", "abc123de_f0e1d2c3", "--wait", timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr + server.worker_log.read_text()[-4000:]
    flow_run_id = done.stdout.strip().rsplit("/", 1)[-1]
    assert done.stdout.startswith(f"{server.ui_url}/runs/flow-run/")
    runs = _run_tree(flow_run_id)
    nightly = runs[0]
    assert nightly.state.is_completed() and nightly.parameters["drop"] == "abc123de_f0e1d2c3"
    assert _worker_of(flow_run_id) == "lab-worker"
    keys = {artifact.key for artifact in _artifacts(run.id for run in runs)}
    assert {"lab", "nightly-summary", "undercloud-bootstrap", "node-introspection-nodes", "overcloud-deploy",
            "upgrade", "regression-run-pre", "regression-run-post", "upgrade-regression-summary"} <= keys
    server.nightly_run = flow_run_id


def test_a_new_drop_seen_by_the_watch_starts_the_pipeline_through_its_event(server, tmp_path):
    """The watch (run by the worker) sees a new drop behind the link and emits its event; the on-prerelease-drop
    deployment's trigger creates a run for that hash on the worker's pool. For the test the deployment sends its
    runs to a paused queue of that pool, and the run is deleted after: that the worker runs this deployment to its
    end is the test above (``rdoflow trigger``, the same deployment), which a second whole nightly would repeat."""
    from prefect.client.schemas.actions import DeploymentUpdate
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    drop_runs = _deployment("nightly/on-prerelease-drop")
    with _client() as client:
        client.create_work_queue("held", work_pool_name="rdoflow", is_paused=True)
        client.update_deployment(drop_runs.id, DeploymentUpdate(work_queue_name="held"))
        try:
            with serve_directory(tmp_path) as url:
                tree = DlrnTree(tmp_path, url)
                full_hash = tree.build(COMMIT, DISTRO, 1765000000)
                tree.promote(full_hash, "current-passed-ci")
                started = subprocess.run(
                    [str(BIN / "prefect"), "deployment", "run", "watch-prerelease/watch-prerelease",
                     "--param", f"base_url={url}", "--watch", "--watch-timeout", "300"],
                    env=server.client_env(), capture_output=True, text=True, timeout=400)
                assert started.returncode == 0, started.stdout + started.stderr
            wait = Deadline(120, "a run of nightly/on-prerelease-drop", target="created by the event trigger")
            for _ in wait:
                runs = [run for run in client.read_flow_runs(deployment_filter=DeploymentFilter(
                    id=DeploymentFilterId(any_=[drop_runs.id]))) if run.parameters.get("drop") == full_hash]
                if runs:
                    break
            [run] = runs
            assert (run.work_pool_name, run.work_queue_name) == ("rdoflow", "held")
            assert run.parameters["lab"] == {"nodes": 4} and not run.state.is_running()
            client.delete_flow_run(run.id)
        finally:
            client.update_deployment(drop_runs.id, DeploymentUpdate(work_queue_name=drop_runs.work_queue_name))


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: ./rdo test installs it")
def test_the_ui_lists_the_deployments_with_the_nightly_schedule(server, ui, tmp_path):
    dom = _chromium(tmp_path, f"{ui}/deployments", "--dump-dom").stdout
    with _client() as client:
        registered = client.read_deployments()
    assert f"{len(registered)} Deployments" in dom  # the UI's own count: all that are registered
    assert ">nightly<" in dom and "on-prerelease-drop" in dom  # the first page, in name order
    assert "At 02:00 AM every day" in dom
    _screenshot(tmp_path, f"{ui}/deployments", "ui-deployments.png")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: ./rdo test installs it")
def test_the_ui_shows_the_nightly_report_artifact(server, ui, tmp_path):
    run_id = getattr(server, "nightly_run", None)
    if run_id is None:
        pytest.skip("the nightly run above did not complete")
    [summary] = [a for a in _artifacts([run_id]) if a.key == "nightly-summary"]
    page = f"{ui}/artifacts/artifact/{summary.id}"
    dom = _chromium(tmp_path, page, "--dump-dom").stdout
    assert "nightly on lab, drop" in dom and "PASS" in dom and "upgrade-regression" in dom
    shot = _screenshot(tmp_path, page, "ui-nightly-report.png")
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one


def _chromium(tmp_path: Path, url: str, *action: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *action, url],
                          capture_output=True, text=True, timeout=120)


def _screenshot(tmp_path: Path, url: str, name: str) -> Path:
    shots = Path(SHOTS) if SHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    _chromium(tmp_path, url, f"--screenshot={shots / name}", "--window-size=1400,1000")
    assert (shots / name).exists(), f"Chromium wrote no screenshot of {url}"
    return shots / name


def test_the_run_form_of_every_deployment_has_help_text_for_each_field(server):
    from tests.test_deployments import _undescribed

    with _client() as client:
        flows = {flow.id: flow.name for flow in client.read_flows()}
        undescribed = {f"{flows[d.flow_id]}/{d.name}": _undescribed(d.parameter_openapi_schema)
                       for d in client.read_deployments()}
    assert len(undescribed) >= len(yaml.safe_load((PROJECT / "prefect.yaml").read_text())["deployments"])
    assert {name: fields for name, fields in undescribed.items() if fields} == {}
