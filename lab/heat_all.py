"""Heat's engine and REST API in one process, with in-process (fake://) messaging.

Heat 27 dropped heat-all, and fake:// messaging only reaches within one process,
so the lab runs this launcher with the lab venv's Python. It calls Heat's own
modules; it copies none of Heat's code. Two uses::

    python heat_all.py --port N [--host 127.0.0.1] -- --config-file heat.conf
    python heat_all.py --native --config-file heat.conf      (as ``heat-all``)

The first is the lab's persistent Heat (lab/heat_service.py). The second is the
``heat-all`` that the real python-tripleoclient's ``HeatNativeLauncher`` execs
for an ephemeral Heat (``overcloud deploy --heat-type native``), after its own
``heat-manage db_sync``. TripleO's heat.conf cannot serve here as written, so the
native mode changes, in this order (docs/lab.md, "overcloud deploy on wallaby and
zed", says what each one fixes):

1. it binds ``[heat_api] bind_port`` at once: the client gives the API about 5 s
   after its fork, and the schema is made afterwards, on that bound socket;
2. the database is a fresh one in the lab's PostgreSQL (``RDOFLOW_LAB_HEAT_DB``: its URL;
   the name gets a suffix of the launcher's directory), not TripleO's SQLite file in that
   directory, which locks under the engine's threads. Like that file, which the client
   removes with the directory when it stops Heat, it starts empty at each deploy: every
   Zed deploy is a stack create;
3. an extra config file (after TripleO's, so it wins): that database, the
   ``[oslo_policy]`` defaults the noauth ``admin`` role passes, and the engine
   settings of ``RDOFLOW_LAB_HEAT_ENGINE`` (``legacy``: ``convergence_engine = false``);
4. yaql 2.0.1 first on ``sys.path`` (``RDOFLOW_LAB_HEAT_YAQL``: its site-packages):
   tripleo-heat-templates 18 call ``format`` on strings, which yaql 3 removed;
5. yaql parses one at a time: the parser Heat shares between threads is not
   thread-safe under the threading backend;
6. the engine's task steps wait ``RDOFLOW_LAB_HEAT_STEP`` seconds (default 0.1) instead of
   Heat's 1 s: a legacy-engine stack waits a step for each nested stack it polls, and most
   of TripleO's resources are nested stacks (docs/lab.md has the measured difference).
"""

import argparse
import configparser
import faulthandler
import hashlib
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from wsgiref import simple_server

from oslo_service import backend

backend.init_backend(backend.BackendType.THREADING)  # before any other Heat import

STOP_GRACE_SECONDS = 5  # EngineService.stop() joins in-flight work and can block for ever

NATIVE_CONF = """\
[DEFAULT]
convergence_engine = {convergence}
num_engine_workers = 1
executor_thread_pool_size = 64
max_resources_per_stack = -1
[database]
connection = {database}
[oslo_policy]
enforce_scope = false
enforce_new_defaults = false
[oslo_messaging_notifications]
driver = noop
"""


class ThreadingServer(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True


class BoundServer(ThreadingServer):
    """A server on a socket bound (and listening) before Heat was ready to answer on it."""

    def __init__(self, sock: socket.socket, handler):
        super().__init__(sock.getsockname()[:2], handler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.server_bind_done()

    def server_bind_done(self):
        host, port = self.socket.getsockname()[:2]
        self.server_name, self.server_port = socket.getfqdn(host), port
        self.setup_environ()


class QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        """Heat's own log records each request; no second access log on stderr."""


def _start_heat(config_args: list[str]):
    """Heat's configuration read, its engine started: return the paste app to serve."""
    from heat import version
    from heat.common import config, messaging
    from heat.rpc import api as rpc_api
    from oslo_config import cfg
    from oslo_log import log as logging

    logging.register_options(cfg.CONF)
    cfg.CONF(config_args, project="heat", prog="heat-api", version=version.version_info.version_string())
    logging.setup(cfg.CONF, "heat-all")
    config.set_config_defaults()
    messaging.setup()
    from heat.engine import (
        service as engine,  # registers the options startup_sanity_check reads
    )

    config.startup_sanity_check()
    engine_service = engine.EngineService(cfg.CONF.host, rpc_api.ENGINE_TOPIC)
    engine_service.start()
    return engine_service, config.load_paste_app("heat-api")


def _serve(engine_service, httpd) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    faulthandler.register(signal.SIGUSR2, all_threads=True)  # `kill -USR2` dumps every thread's stack
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(f"heat-all ready: http://{httpd.server_address[0]}:{httpd.server_address[1]}/v1/admin", flush=True)
    stop.wait()
    httpd.shutdown()
    stopping = threading.Thread(target=engine_service.stop, daemon=True)
    stopping.start()
    stopping.join(STOP_GRACE_SECONDS)
    sys.stdout.flush()
    os._exit(0)


def persistent(args) -> None:
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    engine_service, app = _start_heat(rest)
    httpd = simple_server.make_server(args.host, args.port, app, server_class=ThreadingServer,
                                      handler_class=QuietHandler)
    _serve(engine_service, httpd)


def native(args) -> None:
    """``heat-all --config-file CONF`` as HeatNativeLauncher execs it."""
    tripleo = configparser.ConfigParser(interpolation=None, strict=False)
    tripleo.read(args.config_file)
    host = tripleo.get("heat_api", "bind_host", fallback="127.0.0.1")
    port = tripleo.getint("heat_api", "bind_port", fallback=8006)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(64)  # the client's connect succeeds from now on; requests wait in the backlog
    install_dir = os.path.dirname(os.path.abspath(args.config_file[0]))
    server, name = os.environ["RDOFLOW_LAB_HEAT_DB"].rsplit("/", 1)
    name = f"{name}_{hashlib.sha256(install_dir.encode()).hexdigest()[:12]}"
    database = f"{server}/{name}"
    lab_conf = os.path.join(install_dir, "heat-lab.conf")
    with open(lab_conf, "w") as out:
        legacy = os.environ.get("RDOFLOW_LAB_HEAT_ENGINE", "legacy") == "legacy"
        out.write(NATIVE_CONF.format(convergence="false" if legacy else "true", database=database))
    _create_database(server, name)
    config_args = [arg for path in args.config_file for arg in ("--config-file", path)]
    config_args += ["--config-file", lab_conf]
    sync = subprocess.run([os.path.join(os.path.dirname(sys.executable), "heat-manage"), *config_args, "db_sync"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    if sync.returncode:
        print(f"heat-all: heat-manage db_sync failed:\n{sync.stderr[-2000:]}", file=sys.stderr, flush=True)
        os._exit(1)
    _follow_parent()
    _serialize_yaql()
    _shorten_steps(float(os.environ.get("RDOFLOW_LAB_HEAT_STEP", "0.1")))
    engine_service, app = _start_heat(config_args)
    httpd = BoundServer(sock, QuietHandler)
    httpd.set_app(app)
    _serve(engine_service, httpd)


def _follow_parent() -> None:
    """Ends with the client that forked it: tripleoclient kills its Heat when it is done, but a client
    killed itself (a cut SSH session) would leave this process, and the port, behind."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _create_database(server: str, name: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def _serialize_yaql() -> None:
    from heat.engine.hot import functions

    lock = threading.Lock()
    parse = functions.Yaql._parse

    def _parse(self, expression):
        with lock:
            return parse(self, expression)

    functions.Yaql._parse = _parse


def _shorten_steps(seconds: float) -> None:
    """Heat's TaskRunner sleeps ``wait_time`` (1 s by default) between the steps of a task."""
    from heat.engine import scheduler

    sleep = scheduler.TaskRunner._sleep

    def _sleep(self, wait_time):
        return sleep(self, None if wait_time is None else min(wait_time, seconds))

    scheduler.TaskRunner._sleep = _sleep


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--native", action="store_true", help="as heat-all for tripleoclient's HeatNativeLauncher")
    parser.add_argument("--config-file", action="append", default=[])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.native:
        yaql = os.environ.get("RDOFLOW_LAB_HEAT_YAQL")
        if yaql:
            sys.path.insert(0, yaql)  # before Heat imports yaql
        native(args)
    else:
        persistent(args)


if __name__ == "__main__":
    main()
