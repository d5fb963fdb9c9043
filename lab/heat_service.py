"""Heat 27 for the lab, as TripleO ran its "ephemeral Heat": noauth, one process, fake:// messaging.

Three changes from TripleO's recipe, all measured (docs/lab.md, "What runs", says why):
the project's own one-process launcher (``heat_all.py``), because heat-all is
gone; a private PostgreSQL, because SQLite locks under the engine's threads;
and the legacy engine, because convergence sleeps a second per leaf resource.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from .process import run_once, spawn, wait_http

LAUNCHER = Path(__file__).with_name("heat_all.py")

# oslo.config: no inline comments in this file.
HEAT_CONF = """\
[DEFAULT]
debug = false
log_file = {root}/heat.log
transport_url = fake://
num_engine_workers = 1
executor_thread_pool_size = 64
rpc_response_timeout = 600
convergence_engine = false
deferred_auth_method = password
keystone_backend = heat.engine.clients.os.keystone.fake_keystoneclient.FakeKeystoneClient
stack_user_domain_name = heat_stack
stack_domain_admin = admin
stack_domain_admin_password = unused
max_resources_per_stack = -1
max_nested_stack_depth = 10
max_json_body_size = 8388608
environment_dir = {venv}/etc/heat/environment.d
template_dir = {venv}/etc/heat/templates
heat_metadata_server_url = http://127.0.0.1:{port}
heat_waitcondition_server_url = http://127.0.0.1:{port}/v1/waitcondition
default_deployment_signal_transport = HEAT_SIGNAL
client_retry_limit = 0
[database]
connection = {db}
[paste_deploy]
flavor = noauth
api_paste_config = {venv}/etc/heat/api-paste.ini
[noauth]
token_response = {root}/token.json
[oslo_policy]
enforce_scope = false
enforce_new_defaults = false
[oslo_concurrency]
lock_path = {root}/lock
[oslo_messaging_notifications]
driver = noop
"""

_USER = {"domain": {"id": "default", "name": "Default"}, "id": "admin", "name": "admin"}


def token(port: int) -> dict:
    """The token noauth hands every request; its catalog lets wait condition handles build signal URLs."""
    url = f"http://127.0.0.1:{port}/v1/admin"
    endpoints = [{"id": kind, "interface": kind, "region": "regionOne", "region_id": "regionOne", "url": url}
                 for kind in ("public", "internal", "admin")]
    catalog = [{"type": "orchestration", "name": "heat", "id": "heat", "endpoints": endpoints}]
    return {"token": {**TOKEN["token"], "catalog": catalog}}


TOKEN = {
    "token": {
        "methods": ["password"],
        "roles": [{"id": "admin", "name": "admin"}],
        "expires_at": "2099-01-01T00:00:00.000000Z",
        "issued_at": "2020-01-01T00:00:00.000000Z",
        "project": _USER,
        "user": _USER,
        "catalog": [],
    }
}


def start_heat(root: Path, venv: Path, port: int, database_url: str, *, started: Callable[[int], None]):
    """Write heat.conf under ``root``, sync the schema, start the launcher; return the process once it answers."""
    (root / "lock").mkdir(parents=True, exist_ok=True)
    conf = root / "heat.conf"
    conf.write_text(HEAT_CONF.format(root=root, venv=venv, port=port, db=database_url))
    (root / "token.json").write_text(json.dumps(token(port)))
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    run_once("heat", [venv / "bin/heat-manage", "--config-file", conf, "db_sync"],
             log_file=root / "heat-manage.log", env=env)
    process = spawn([venv / "bin/python", "-P", "-W", "ignore", LAUNCHER, "--port", port, "--",
                     "--config-file", conf], log_file=root / "heat-stdout.log", env=env)
    started(process.pid)  # recorded before the wait: a service that never answers is still stopped
    wait_http("heat", process, f"http://127.0.0.1:{port}/v1/admin/stacks",
              logs=[root / "heat.log", root / "heat-stdout.log"])
    return process
