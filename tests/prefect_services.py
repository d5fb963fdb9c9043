"""A real Prefect server (``prefect server start``) and process workers (``prefect worker start``), each a
process of its own on 127.0.0.1, as a user runs them: for the tests of the deployments end to end.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rdoflow.lab.process import spawn, stop_tree, wait_http
from rdoflow.lab.sshd import free_ports

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass
class PrefectServer:
    """``prefect server start`` with a home (and SQLite database, unless ``database_url``) of its own.

    It requires API authentication, as docs/prefect-server.md sets it up: the server gets
    PREFECT_SERVER_API_AUTH_STRING, each client (the CLI, the workers, the test itself) the matching
    PREFECT_API_AUTH_STRING."""

    home: Path
    port: int = 0
    database_url: str | None = None
    auth_string: str = field(default_factory=lambda: f"rdoflow:{secrets.token_urlsafe(24)}")
    process: subprocess.Popen | None = None
    workers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client_env(self) -> dict[str, str]:
        """The environment of a client (the CLI, a worker) of this server."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
        return env | {"PREFECT_API_URL": self.api_url, "PREFECT_API_AUTH_STRING": self.auth_string,
                      "PREFECT_HOME": str(self.home / "client"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                      "PATH": f"{BIN}:{env.get('PATH', '')}",
                      # the workers' nightlies test deployments, events and workers: the lab's quick suite
                      "RDOFLOW_LAB_TEMPEST": "generated"}

    def settings(self) -> dict:
        """Prefect settings for a client in the test's own process (``temporary_settings``)."""
        from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL

        return {PREFECT_API_URL: self.api_url, PREFECT_API_AUTH_STRING: self.auth_string}

    def start(self) -> PrefectServer:
        self.home.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_ports(1)[0]
        env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
        env |= {"PREFECT_HOME": str(self.home / "server"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_SERVER_UI_API_URL": self.api_url, "PREFECT_SERVER_API_AUTH_STRING": self.auth_string}
        if self.database_url:
            env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = self.database_url
        log = self.home / "server.log"
        self.process = spawn([BIN / "prefect", "server", "start", "--host", "127.0.0.1", "--port", self.port],
                             log_file=log, env=env)
        wait_http("prefect server", self.process, f"{self.api_url}/health", logs=[log], budget=120)
        return self

    def start_worker(self, name: str, *, pool: str = "rdoflow", limit: int | None = None,
                     poll_seconds: int = 2) -> Path:
        """A process worker on ``pool``, started from the project directory; returns its log file.

        It polls every ``poll_seconds`` (PREFECT_WORKER_QUERY_SECONDS; Prefect's default is 10): the tests
        wait less."""
        log = self.home / f"worker-{name}.log"
        argv = [BIN / "prefect", "worker", "start", "--pool", pool, "--name", name]
        if limit:
            argv += ["--limit", limit]
        env = self.client_env() | {"PREFECT_WORKER_QUERY_SECONDS": str(poll_seconds)}
        with log.open("ab") as out:
            self.workers.append(subprocess.Popen([str(a) for a in argv], cwd=PROJECT, env=env, stdout=out,
                                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                 start_new_session=True))
        return log

    def rdoflow(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """The ``rdoflow`` command, as a CI job runs it against this server."""
        return subprocess.run([str(BIN / "rdoflow"), *args], cwd=PROJECT, env=self.client_env(),
                              capture_output=True, text=True, timeout=timeout)

    def stop(self) -> None:
        for worker in self.workers:
            stop_tree(worker.pid)
        if self.process is not None:
            stop_tree(self.process.pid)
