"""A small local webhook receiver: for trying subscriptions out, for tests and benchmarks.

It verifies Standard Webhooks signatures when given the secret, acknowledges with a
configurable status after an optional delay, and keeps what it received. With
``hold_after=N`` it keeps every request after the N-th waiting until ``release()`` (then
answers them 503, unrecorded): a receiver that hangs, for tests that must not depend on
timing.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mdm.publication import signing


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() when it arrived

    @property
    def event(self) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(self.body)
        return event


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, *, secret: str | None = None, status: int = 200,
                 delay: float = 0.0, on_event: Any = None, hold_after: int | None = None
                 ) -> None:
        self.secret, self.status, self.delay, self.on_event = secret, status, delay, on_event
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.hold_after = hold_after
        self.held = 0  # requests waiting for release()
        self.released = threading.Event()
        self._thread: threading.Thread | None = None
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def start(self) -> Receiver:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def release(self) -> None:
        """Stop holding: waiting requests are answered 503, later ones as usual."""
        self.released.set()

    def _hold(self) -> bool:
        """Wait if this request is one to hold; True when it was held."""
        with self.lock:
            if self.hold_after is None or self.released.is_set() \
                    or len(self.received) < self.hold_after:
                return False
            self.held += 1
        self.released.wait()
        return True

    def stop(self) -> None:
        self.released.set()
        self.shutdown()
        self.server_close()

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.event for r in self.received]


class _Handler(BaseHTTPRequestHandler):
    server: Receiver
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        srv = self.server
        if srv.delay:
            time.sleep(srv.delay)
        status = srv.status
        if srv._hold():
            status = 503
        elif len(body) != length:  # the sender went away mid-request
            status = 400
        elif srv.secret and not signing.verify(srv.secret, headers, body):
            status = 401
        elif 200 <= status < 300:
            with srv.lock:
                srv.received.append(Received(headers, body, time.time()))
            if srv.on_event:
                srv.on_event(json.loads(body))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass
