"""The hub behind gunicorn, as scripts/serve and the Dockerfile run it (mdm/web/gunicorn_conf.py):
every limit and every refusal gunicorn makes itself answers in the hub's JSON error format."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mdm.web import gunicorn_conf
from mdm.web.guard import MAX_HEADER_BYTES, MAX_URL_BYTES

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    from mdm import migrate

    folder = tmp_path_factory.mktemp("served")
    url = f"sqlite:///{folder / 'hub.sqlite3'}"
    migrate.upgrade(url)
    port = _free_port()
    env = {**os.environ, "MDM_DATABASE_URL": url, "MDM_LOG_LEVEL": "WARNING",
           "WEB_CONCURRENCY": "1", "PYTHONPATH": str(ROOT)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = folder / "gunicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:mdm.web.gunicorn_conf",
             "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null",
             "mdm.app:create_app()"],
            env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                status, _, _ = _send(port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                if status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _send(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP/1.1 exchange (a client library would refuse to send the bad requests)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":
        body = _unchunk(body)
    return int(lines[0].split()[1]), headers, body


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size, _, rest = body.partition(b"\r\n")
        n = int(size, 16)
        if n == 0:
            break
        out, body = out + rest[:n], rest[n + 2:]
    return out


def _assert_hub_error(status: int, headers: dict[str, str], body: bytes, expected: int) -> dict:
    assert status == expected, body[:300]
    assert headers["content-type"].startswith("application/json"), headers
    error = json.loads(body)
    assert error["status"] == expected and error["code"] and error["message"], error
    return error


def _get(path: str, *extra: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: hub", "Connection: close", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def test_limits_are_ordered_so_the_app_answers_first() -> None:
    assert gunicorn_conf.limit_request_line > MAX_URL_BYTES
    assert gunicorn_conf.limit_request_field_size > MAX_HEADER_BYTES
    assert gunicorn_conf.timeout >= 120  # a 10,000-record bulk request must fit


@pytest.mark.parametrize("length", [MAX_URL_BYTES + 100, 8000, 9000])
def test_long_urls_are_414_json(server: int, length: int) -> None:
    path = "/domains?q=" + "a" * length
    _assert_hub_error(*_send(server, _get(path)), expected=414)


@pytest.mark.parametrize("length", [MAX_HEADER_BYTES + 100, 3 * MAX_HEADER_BYTES])
def test_long_headers_are_431_json(server: int, length: int) -> None:
    _assert_hub_error(*_send(server, _get("/health", "X-Long: " + "a" * length)), expected=431)


def test_too_many_headers_are_431_json(server: int) -> None:
    extra = [f"X-H{i}: v" for i in range(150)]
    _assert_hub_error(*_send(server, _get("/health", *extra)), expected=431)


def test_invalid_header_byte_is_400_json(server: int) -> None:
    raw = _get("/golden/G1").replace(b"Host: hub", b'Host: hub\r\nIf-Match: "a\x01b"')
    _assert_hub_error(*_send(server, raw), expected=400)


def test_malformed_request_line_is_400_json(server: int) -> None:
    _assert_hub_error(*_send(server, b"NOT A REQUEST\r\n\r\n"), expected=400)


def test_wrong_method_is_405_json_with_allow(server: int) -> None:
    raw = b"DELETE /health HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n"
    status, headers, body = _send(server, raw)
    _assert_hub_error(status, headers, body, expected=405)
    assert "GET" in headers["allow"]


def test_chunked_body_with_nul_is_422_json(server: int) -> None:
    payload = b'{"code": "A\\u0000B", "name": "x", "kind": "erp"}'
    raw = (b"POST /source-systems HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n"
           b"Content-Type: application/merge-patch+json\r\nTransfer-Encoding: chunked\r\n\r\n"
           + f"{len(payload):x}\r\n".encode() + payload + b"\r\n0\r\n\r\n")
    error = _assert_hub_error(*_send(server, raw), expected=422)
    assert "body" in error["errors"]


def test_a_stopped_worker_answers_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """At the timeout gunicorn aborts the worker and writes an error through util.write_error:
    with the hub's config it is JSON that says what happened."""
    from gunicorn import util

    monkeypatch.setattr(util, "write_error", util.write_error)  # restored after the test
    monkeypatch.setattr(gunicorn_conf, "_aborted", False)
    gunicorn_conf.post_worker_init(None)
    gunicorn_conf.worker_abort(None)
    left, right = socket.socketpair()
    with left, right:
        util.write_error(left, 500, "Internal Server Error", "")
        left.shutdown(socket.SHUT_WR)
        data = right.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 ")
    assert b"Content-Type: application/json" in head
    error = json.loads(body)
    assert error["status"] == 503 and str(gunicorn_conf.timeout) in error["message"]
