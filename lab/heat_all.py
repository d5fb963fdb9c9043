"""Heat's engine and REST API in one process, with in-process (fake://) messaging.

Heat 27 dropped heat-all, and fake:// messaging only reaches within one process,
so the lab runs this launcher with the lab venv's Python. It calls Heat's own
modules; it copies none of Heat's code. Usage::

    python heat_all.py --port N [--host 127.0.0.1] -- --config-file heat.conf
"""

import argparse
import faulthandler
import os
import signal
import socketserver
import sys
import threading
import wsgiref.simple_server as simple_server

from oslo_service import backend

backend.init_backend(backend.BackendType.THREADING)  # before any other Heat import

from heat import version  # noqa: E402
from heat.common import config, messaging  # noqa: E402
from heat.rpc import api as rpc_api  # noqa: E402
from oslo_config import cfg  # noqa: E402
from oslo_log import log as logging  # noqa: E402

STOP_GRACE_SECONDS = 5  # EngineService.stop() joins in-flight work and can block for ever


class ThreadingServer(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True


class QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        """Heat's own log records each request; no second access log on stderr."""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    logging.register_options(cfg.CONF)
    cfg.CONF(rest, project="heat", prog="heat-api", version=version.version_info.version_string())
    logging.setup(cfg.CONF, "heat-all")
    config.set_config_defaults()
    messaging.setup()
    from heat.engine import (
        service as engine,  # registers the options startup_sanity_check reads
    )

    config.startup_sanity_check()
    engine_service = engine.EngineService(cfg.CONF.host, rpc_api.ENGINE_TOPIC)
    engine_service.start()
    httpd = simple_server.make_server(args.host, args.port, config.load_paste_app("heat-api"),
                                      server_class=ThreadingServer, handler_class=QuietHandler)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    faulthandler.register(signal.SIGUSR2, all_threads=True)  # `kill -USR2` dumps every thread's stack
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(f"heat-all ready: http://{args.host}:{args.port}/v1/admin", flush=True)
    stop.wait()
    httpd.shutdown()
    stopping = threading.Thread(target=engine_service.stop, daemon=True)
    stopping.start()
    stopping.join(STOP_GRACE_SECONDS)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
