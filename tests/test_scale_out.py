"""Scale-out as the README's "Running at scale" describes it: one Prefect server on PostgreSQL (Debian's
postgresql, a private cluster this test starts on 127.0.0.1), two process workers pulling the runs of
the one pool at the same time, and one results store both reach through an fsspec URL.

That the workers run at the same time is shown by a rendezvous flow (``tests/rendezvous_flow.py``) whose
runs finish only once two of them run at once: comparing the run times of rdoflow's own runs could not
show it reliably, since a compare-runs run is over in under a second and each worker polls on its own clock.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from rdoflow.lab.postgres import start_postgres
from rdoflow.lab.sshd import free_ports
from tests.prefect_services import BIN, PROJECT, PrefectServer
from tests.test_deployments_server import _finished, _worker_of

FIXTURES = Path(__file__).parent / "fixtures" / "tempest"
RUNS = 4

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory):
    """rdoflow registered on a Prefect server whose database is PostgreSQL, and two workers (one run each)."""
    from prefect.settings import temporary_settings

    cluster = start_postgres(free_ports(1)[0], database="prefect")
    server = PrefectServer(home=tmp_path_factory.mktemp("prefect-pg"),
                           database_url=cluster.url_for("postgresql+asyncpg"))
    server.cluster = cluster
    try:
        server.start()
        registered = server.rdoflow("deploy")
        assert registered.returncode == 0, registered.stdout + registered.stderr
        rendezvous = subprocess.run(
            [str(BIN / "prefect"), "--no-prompt", "deploy", "tests/rendezvous_flow.py:rendezvous",
             "--name", "rendezvous", "--pool", "rdoflow"],
            cwd=PROJECT, env=server.client_env(), capture_output=True, text=True, timeout=300)
        assert rendezvous.returncode == 0, rendezvous.stdout + rendezvous.stderr
        for name in ("worker-a", "worker-b"):
            server.start_worker(name, limit=1)
        with temporary_settings(server.settings()):
            yield server
    finally:
        server.stop()
        cluster.stop()


def test_the_server_keeps_the_deployments_in_postgresql(pg_server):
    psql = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(pg_server.cluster.port), "-U", "heat", "-d", "prefect",
                           "-At", "-c", "select name from deployment"], capture_output=True, text=True, timeout=30)
    assert psql.returncode == 0, psql.stderr
    assert {"nightly", "on-prerelease-drop", "watch-prerelease"} <= set(psql.stdout.split())
    assert list((pg_server.home / "server").glob("*.db")) == []  # no SQLite database beside it


def test_the_two_workers_each_run_a_flow_run_of_the_pool_at_the_same_time(pg_server, tmp_path):
    from prefect.deployments import run_deployment

    runs = [run_deployment("rendezvous/rendezvous", timeout=0,
                           parameters={"directory": str(tmp_path / "arrived"), "peers": 2, "budget": 240})
            for _ in range(2)]
    finished = [_finished(run.id, budget=300) for run in runs]
    assert [run.state.name for run in finished] == ["Completed"] * 2, [run.state.message for run in finished]
    assert sorted(_worker_of(run.id) for run in finished) == ["worker-a", "worker-b"]


def test_runs_on_both_workers_store_their_results_in_one_shared_store(pg_server, tmp_path):
    from prefect.deployments import run_deployment

    from rdoflow.tasks.results.store import ResultsStore

    store = (tmp_path / "store").as_uri()  # an fsspec URL, as s3://... would be
    runs = [run_deployment("compare-runs/compare-runs", timeout=0, parameters={
        "pre": str(FIXTURES / "tacker-stestr-12"), "post": str(FIXTURES / "tacker-stestr-60"),
        "suite": f"scale-{i}", "store": store, "report_dir": str(tmp_path / f"reports-{i}")})
        for i in range(RUNS)]
    finished = [_finished(run.id, budget=300) for run in runs]
    assert [run.state.name for run in finished] == ["Completed"] * RUNS
    assert {_worker_of(run.id) for run in finished} == {"worker-a", "worker-b"}
    stored = ResultsStore(store)
    labels = [run["label"] for i in range(RUNS) for run in stored.runs(f"scale-{i}")]
    assert sorted(labels) == sorted(["post", "pre"] * RUNS)

