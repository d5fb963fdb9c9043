"""Keystone 30 for the lab (``suite.tempest: real``): the identity the real Tempest authenticates against.

Standalone, as /work/shared/notes/real-tempest.md verified it: a database of its own in the lab's
PostgreSQL cluster (SQLite locks under two workers), fernet tokens, scope and new defaults enforced,
``keystone-manage bootstrap`` (region ``regionOne``) with an admin password made for each lab and kept
in ``DIR/keystone/admin-password`` (mode 0600; never printed). Keystone 30 has no
``keystone-wsgi-public`` script: gunicorn serves ``keystone.wsgi.api:application``. Its sync workers
close each connection after the answer (``Connection: close``), which is what made uwsgi's reused
connections work in the note (uwsgi itself compiles for 2.5 minutes).

Registered over Keystone's own API: ``baremetal`` (the lab's Ironic) and ``orchestration`` (its Heat,
``/v1/%(project_id)s``) in the catalog, the roles Heat's tests need, and a ``demo`` project and user.
Ironic and Heat stay noauth: they ignore the token Tempest sends.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .process import ServiceFailed, run_once, spawn, tail_lines, wait_http
from .venv import VenvSpec

KEYSTONE = VenvSpec("keystone", "Keystone 30.0.0, gunicorn",
                    ("keystone==30.0.0", "gunicorn==27.0.1", "psycopg2-binary==2.9.13"))
REGION = "regionOne"
DATABASE = "keystone"
ADMIN_PASSWORD_FILE = "admin-password"
DEMO_PASSWORD_FILE = "demo-password"
ROLES = ("member", "reader", "heat_stack_owner", "heat_stack_user")
DEMO_ROLES = ("member", "reader", "heat_stack_owner")
KEY_REPOSITORIES = ("fernet-keys", "receipt-keys", "credential-keys")
WORKERS = 2

# oslo.config: no inline comments in this file.
KEYSTONE_CONF = """\
[DEFAULT]
debug = false
log_file = {root}/keystone.log
[database]
connection = {db}
[token]
provider = fernet
[fernet_tokens]
key_repository = {root}/fernet-keys
[fernet_receipts]
key_repository = {root}/receipt-keys
[credential]
key_repository = {root}/credential-keys
[oslo_policy]
enforce_scope = true
enforce_new_defaults = true
"""

GUNICORN_CONF = """\
# gunicorn's settings for the lab's Keystone (lab/keystone_service.py): sync workers answer one request per
# connection and close it.
import sys

wsgi_app = "keystone.wsgi.api:application"
bind = "127.0.0.1:{port}"
workers = {workers}
timeout = 120
errorlog = "{log}"
control_socket_disable = True


def post_fork(server, worker):
    # Keystone's oslo.config parses the command line when the worker loads it: gunicorn's is not its own.
    del sys.argv[1:]
"""


@dataclass(frozen=True)
class Identity:
    """What a client of the lab's Keystone needs: its v3 URL and the two accounts' passwords."""

    url: str
    admin_password: str
    demo_password: str


def lab_password(path: Path) -> str:
    """A password made once for this lab, in a file only its owner reads."""
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(password + "\n")
    return password


def read_identity(root: Path, port: int) -> Identity:
    return Identity(f"http://127.0.0.1:{port}/v3", (root / ADMIN_PASSWORD_FILE).read_text().strip(),
                    (root / DEMO_PASSWORD_FILE).read_text().strip())


def start_keystone(root: Path, venv: Path, port: int, postgres, services: dict[str, str], *,
                   started: Callable[[int], None]):
    """Write keystone.conf under ``root`` (a database of its own in ``postgres``), sync and bootstrap it,
    start gunicorn, register ``services`` (catalog type -> URL), the roles and the demo account; return the
    process once it answers."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    for sub in KEY_REPOSITORIES:
        (root / sub).mkdir(exist_ok=True)
    admin_password = lab_password(root / ADMIN_PASSWORD_FILE)
    demo_password = lab_password(root / DEMO_PASSWORD_FILE)
    conf = root / "keystone.conf"
    conf.write_text(KEYSTONE_CONF.format(root=root, db=postgres.create_database(DATABASE)))
    env = dict(os.environ, PYTHONWARNINGS="ignore", OS_KEYSTONE_CONFIG_FILES=str(conf))
    manage = [venv / "bin/keystone-manage", "--config-file", conf]
    user, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    log = root / "keystone-manage.log"
    url = f"http://127.0.0.1:{port}/v3"
    run_once("keystone", [*manage, "db_sync"], log_file=log, env=env)
    for setup in ("fernet_setup", "credential_setup"):
        run_once("keystone", [*manage, setup, "--keystone-user", user, "--keystone-group", group], log_file=log,
                 env=env)
    # The password goes by the environment, not the command line that ps shows.
    run_once("keystone", [*manage, "bootstrap", "--bootstrap-region-id", REGION, "--bootstrap-admin-url", url,
                          "--bootstrap-internal-url", url, "--bootstrap-public-url", url],
             log_file=log, env=dict(env, OS_BOOTSTRAP_PASSWORD=admin_password))
    server_conf = root / "gunicorn.conf.py"
    server_conf.write_text(GUNICORN_CONF.format(port=port, workers=WORKERS, log=root / "gunicorn.log"))
    process = spawn([venv / "bin/gunicorn", "--config", server_conf], log_file=root / "keystone-stdout.log", env=env)
    started(process.pid)  # recorded before the wait: a service that never answers is still stopped
    logs = [root / "keystone.log", root / "gunicorn.log", root / "keystone-stdout.log"]
    wait_http("keystone", process, url, logs=logs)
    try:
        register(Identity(url, admin_password, demo_password), services)
    except (OSError, KeyError, ValueError) as exc:
        raise ServiceFailed(f"keystone: registering the lab's services failed: {exc}",
                            evidence=tail_lines(*logs)) from None
    return process


class _Client:
    """Keystone's v3 API with a system-scoped admin token (what enforce_scope asks for catalog changes)."""

    def __init__(self, url: str, password: str):
        self.url = url
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": password}}},
            "scope": {"system": {"all": True}}}}
        request = urllib.request.Request(f"{url}/auth/tokens", data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            self.token = answer.headers["X-Subject-Token"]

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.url}{path}", data=json.dumps(body).encode() if body is not None else None, method=method,
            headers={"Content-Type": "application/json", "X-Auth-Token": self.token})
        with urllib.request.urlopen(request, timeout=60) as answer:
            text = answer.read()
        return json.loads(text) if text else {}

    def ensure(self, collection: str, kind: str, attributes: dict, **query: str) -> str:
        """The id of the ``kind`` whose attributes ``query`` names; created with ``attributes`` if absent."""
        search = "&".join(f"{k}={v}" for k, v in query.items())
        found = self.call("GET", f"/{collection}?{search}")[collection]
        if found:
            return found[0]["id"]
        return self.call("POST", f"/{collection}", {kind: attributes})[kind]["id"]


def register(identity: Identity, services: dict[str, str]) -> None:
    """The catalog entries (each interface, ``regionOne``), the roles and the demo project and user."""
    client = _Client(identity.url, identity.admin_password)
    names = {"baremetal": "ironic", "orchestration": "heat"}
    for kind, url in services.items():
        service = client.ensure("services", "service", {"type": kind, "name": names.get(kind, kind)}, type=kind)
        for interface in ("public", "internal", "admin"):
            client.call("POST", "/endpoints", {"endpoint": {
                "service_id": service, "interface": interface, "url": url, "region_id": REGION}})
    roles = {name: client.ensure("roles", "role", {"name": name}, name=name) for name in ROLES}
    project = client.ensure("projects", "project", {"name": "demo", "domain_id": "default"}, name="demo")
    user = client.ensure("users", "user", {"name": "demo", "domain_id": "default", "password": identity.demo_password,
                                           "default_project_id": project}, name="demo")
    for name in DEMO_ROLES:
        client.call("PUT", f"/projects/{project}/users/{user}/roles/{roles[name]}")

