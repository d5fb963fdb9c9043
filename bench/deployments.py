"""What running through a Prefect server costs: registering, and a nightly triggered as CI triggers it.

    .venv/bin/python bench/deployments.py [--runs 1] [--database postgresql]

Starts ``prefect server start`` (SQLite, or a private PostgreSQL cluster) on 127.0.0.1, times
``rdoflow deploy`` (first and again), starts one worker, then times ``rdoflow trigger --deployment
nightly/nightly --wait`` (the nightly against a fresh built-in lab): the CLI's wall time, the run's
wait in the queue (created -> running: the worker's poll, every 10 s as Prefect's default, and the
subprocess start) and the run itself.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rdoflow.lab.postgres import start_postgres  # noqa: E402
from rdoflow.lab.sshd import free_ports  # noqa: E402
from tests.prefect_services import PrefectServer  # noqa: E402


def _timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def _flow_run(server: PrefectServer, flow_run_id: str):
    from prefect.client.orchestration import get_client
    from prefect.settings import temporary_settings

    with temporary_settings(server.settings()), get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="nightlies to trigger, one after the other")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    options = parser.parse_args()
    with TemporaryDirectory(prefix="rdoflow-bench-deploy-") as scratch:
        cluster = start_postgres(free_ports(1)[0], database="prefect") if options.database == "postgresql" else None
        server = PrefectServer(home=Path(scratch), database_url=cluster.url_for("postgresql+asyncpg") if cluster
                               else None)
        try:
            _, started = _timed(server.start)
            print(f"server ({options.database}) answering after {started:.1f} s")
            for attempt in ("first", "again"):
                done, seconds = _timed(lambda: server.rdoflow("deploy"))
                assert done.returncode == 0, done.stdout + done.stderr
                print(f"rdoflow deploy ({attempt}): {seconds:.1f} s")
            server.start_worker("bench", poll_seconds=10)  # Prefect's default
            walls, queued, running = [], [], []
            for index in range(options.runs):
                done, wall = _timed(lambda: server.rdoflow("trigger", "--drop", f"be0c{index:04d}_00000000",
                                                            "--deployment", "nightly/nightly", "--wait",
                                                            timeout=1800))
                assert done.returncode == 0, done.stdout + done.stderr
                run = _flow_run(server, done.stdout.strip().rsplit("/", 1)[-1])
                walls.append(wall)
                queued.append((run.start_time - run.created).total_seconds())
                running.append(run.total_run_time.total_seconds())
                print(f"nightly {index}: trigger --wait {wall:.1f} s; queued {queued[-1]:.1f} s; "
                      f"run {running[-1]:.1f} s")
            if options.runs > 1:
                print(f"median: trigger --wait {statistics.median(walls):.1f} s; queued "
                      f"{statistics.median(queued):.1f} s; run {statistics.median(running):.1f} s")
        finally:
            server.stop()
            if cluster is not None:
                cluster.stop()


if __name__ == "__main__":
    main()
