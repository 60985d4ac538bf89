"""A webhook receiver in a thread, for tests and ``kontor bench replies``: it records every
request (with the time it arrived) and answers by path: ``/ok`` 200, ``/fail`` 500, ``/slow``
after ``slow_seconds``, ``/redirect`` 302 to ``/ok``, ``/flaky`` 503 for the first
``flaky_failures`` requests and 200 after."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    slow_seconds: float = 2.0
    flaky_failures: int = 2
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as receivers in production answer

        def log_message(self, *_: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            path = self.path.split("?")[0]
            with state.lock:
                state.requests.append(Received(path, dict(self.headers), body, time.time()))
                flaky = sum(1 for r in state.requests if r.path == "/flaky")
            if path == "/slow":
                time.sleep(state.slow_seconds)
            status = {"/ok": 200, "/fail": 500, "/slow": 200, "/redirect": 302}.get(path, 404)
            if path == "/flaky":
                status = 503 if flaky <= state.flaky_failures else 200
            answer = b"received" if status < 300 else b"nope " * 300
            self.send_response(status)
            if status == 302:
                self.send_header("Location", "/ok")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
