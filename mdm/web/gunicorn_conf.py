"""gunicorn settings for the hub, chosen on purpose (README, "Configuration"):
``gunicorn -c python:mdm.web.gunicorn_conf "mdm.app:create_app()"`` (scripts/serve, Dockerfile).

The app refuses oversize URLs and headers itself, in the hub's JSON error format
(mdm.web.guard); gunicorn's own limits sit above the app's so that the app answers first.
Whatever gunicorn still refuses by itself (a request line beyond 8,190 bytes, a header beyond
16 KiB, a malformed request, a worker stopped at the timeout) is answered in the same JSON
format instead of gunicorn's HTML page. Command-line options and GUNICORN_CMD_ARGS override
every value here.
"""
from __future__ import annotations

import json
import os
import socket
from typing import Any

from gunicorn import util

from mdm.web.errors import HTTP_CODES
from mdm.web.guard import MAX_HEADER_BYTES, MAX_HEADERS, MAX_URL_BYTES

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = "-"
# A request is stopped after 120 s. The slowest documented request is a 10,000-record bulk
# load: 13 s on SQLite, 30 s on PostgreSQL on a busy 2-core machine; 120 s leaves four times
# that. A stopped request's transaction is rolled back (nothing half-written).
timeout = 120
graceful_timeout = 30
# gunicorn's maximum request line (its hard ceiling); the app's own limit is MAX_URL_BYTES.
limit_request_line = 8190
limit_request_field_size = 2 * MAX_HEADER_BYTES
limit_request_fields = 2 * MAX_HEADERS
assert limit_request_line > MAX_URL_BYTES  # the app must answer first

_aborted = False


def _json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's write_error, in the hub's error format."""
    if _aborted:  # the worker is being stopped at the timeout: say so
        status_int, reason = 503, "Service Unavailable"
        mesg = (f"The request did not finish within {timeout} s and was stopped; "
                "nothing of it was saved. Retry, or send less at once.")
    code = HTTP_CODES.get(status_int, reason.lower().replace(" ", "_"))
    body = json.dumps({"status": status_int, "code": code, "message": mesg or reason,
                       "request_id": None}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


def post_worker_init(worker: Any) -> None:
    # gunicorn writes its own error responses through util.write_error; each worker writes
    # them in JSON instead.
    util.write_error = _json_error


def worker_abort(worker: Any) -> None:
    # Called on SIGABRT, which the arbiter sends to a worker past its timeout, just before
    # gunicorn answers the request it was serving with a 500.
    global _aborted
    _aborted = True
