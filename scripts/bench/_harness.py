"""Shared pieces of the benchmark scripts: a fresh database, a gunicorn server, keys.

Not importable logic of the hub: only what the scripts under scripts/bench/ need to stand
up a real server on 127.0.0.1 and measure it.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/mdm_bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_database(kind: str, workdir: Path) -> str:
    """A new, empty, migrated database: a SQLite file or a recreated PostgreSQL database."""
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        url = os.environ.get("MDM_BENCH_PG_URL", PG_DEFAULT)
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{name}"')
    mdm(url, "db", "upgrade")
    return url


def mdm(url: str, *args: str) -> str:
    env = {**os.environ, "MDM_DATABASE_URL": url, "MDM_LOG_LEVEL": "WARNING"}
    proc = subprocess.run([sys.executable, "-m", "mdm", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return proc.stdout.strip()


@contextlib.contextmanager
def server(url: str, workers: int = 2, threads: int = 1) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "MDM_DATABASE_URL": url, "MDM_LOG_LEVEL": "WARNING"}
    with tempfile.TemporaryDirectory() as prom:
        env["PROMETHEUS_MULTIPROC_DIR"] = prom
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads",
             str(threads), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
             "mdm.app:create_app()"],
            env=env, cwd=ROOT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                with contextlib.suppress(requests.RequestException):
                    if requests.get(f"{base}/health", timeout=5).ok:
                        break
                time.sleep(0.1)
            else:
                raise RuntimeError("gunicorn did not start")
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def tree_rss(pid: int) -> int:
    import psutil

    try:
        p = psutil.Process(pid)
        return sum(c.memory_info().rss for c in [p, *p.children(recursive=True)])
    except psutil.NoSuchProcess:
        return 0


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]
