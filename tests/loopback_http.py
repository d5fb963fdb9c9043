"""Real HTTP servers on 127.0.0.1 for the tests: a static file tree, and one that accepts and never answers."""

from __future__ import annotations

import functools
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002  (the stdlib's name)
        pass


@contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """Serve ``root`` (symlinks followed, as a DLRN web server does) until the block ends; yields its URL."""
    with _serving(ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))) as url:
        yield url


@contextmanager
def _serving(server: ThreadingHTTPServer) -> Iterator[str]:
    """``server`` answering in a thread of its own until the block ends; yields its URL."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def hanging_server() -> Iterator[str]:
    """A server that accepts connections and reads requests but never answers; yields its URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        listener.close()


@contextmanager
def answering(status: int) -> Iterator[str]:
    """A server that answers every request with ``status`` and a small JSON error body; yields its URL."""

    class Handler(_QuietHandler):
        def _answer(self) -> None:
            body = b'{"error": {"message": "as the test asked"}}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = _answer  # noqa: N815  (the stdlib's names)

    with _serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        yield url


@contextmanager
def flooding(size: int) -> Iterator[str]:
    """A server that answers every GET with 200 and ``size`` bytes that never end a JSON list; yields its URL."""

    class Handler(_QuietHandler):
        def do_GET(self) -> None:  # noqa: N802  (the stdlib's name)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"[" + b" " * size)

    with _serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        yield url


@contextmanager
def redirecting(location: str) -> Iterator[str]:
    """A server that answers every GET with a 302 to ``location`` plus the request's path; yields its URL."""

    class Handler(_QuietHandler):
        def do_GET(self) -> None:  # noqa: N802  (the stdlib's name)
            self.send_response(302)
            self.send_header("Location", location + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with _serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        yield url


@contextmanager
def signed_in_proxy(target: str, auth_string: str) -> Iterator[str]:
    """``target`` (a Prefect server's root URL) seen by a browser that has signed in with ``auth_string``.

    The Prefect UI keeps the auth string a user typed on its login page in the browser and sends it with
    every API request; headless Chromium cannot type it, so this proxy adds it to every request, and
    points the UI's settings at itself so the API requests pass through it too. Yields its URL."""
    import base64
    import json

    import httpx

    header = "Basic " + base64.b64encode(auth_string.encode()).decode()
    upstream = httpx.Client(base_url=target, timeout=60)

    class Handler(_QuietHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            answer = upstream.request(self.command, self.path, content=self.rfile.read(length) if length else None,
                                      headers=headers | {"Authorization": header})
            body = answer.content
            if self.path.split("?")[0].endswith("/ui-settings"):
                body = json.dumps(json.loads(body) | {"api_url": f"{own_url}/api"}).encode()
            self.send_response(answer.status_code)
            for key, value in answer.headers.items():
                if key.lower() not in ("content-length", "content-encoding", "transfer-encoding", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    own_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with _serving(server) as url:
            yield url
    finally:
        upstream.close()
