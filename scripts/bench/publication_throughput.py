"""Publication benchmark: one ``mdm worker`` delivering to a local webhook receiver or to
RabbitMQ. Prints throughput (events/s, first to last acknowledgement) and end-to-end
latency (committed change -> receiver's acknowledgement, p50/p95) at a steady change rate.

    .venv/bin/python scripts/bench/publication_throughput.py --channel webhook --events 5000
    .venv/bin/python scripts/bench/publication_throughput.py --channel amqp --events 20000

A fresh SQLite database in a temporary folder unless --database-url is given (it is
emptied and migrated: use a scratch database).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from mdm.app import create_app
from mdm.config import Config
from mdm.context import cli_context
from mdm.db import db
from mdm.events.models import ChangeEvent
from mdm.publication import service
from mdm.publication.models import Delivery
from mdm.publication.receiver import Receiver
from mdm.records.ingest import IngestItem, ingest
from mdm.sources import service as sources

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def fresh_app(url: str) -> Any:
    from mdm import migrate
    from mdm.db import make_engine
    from mdm.schema import metadata

    engine = make_engine(url)
    with engine.begin() as conn:
        if url.startswith("postgresql"):
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    migrate.upgrade(url)
    # the receiver and the broker run on this machine: allow them (the worker inherits it)
    os.environ.setdefault("MDM_ALLOWED_TARGETS", "127.0.0.1,::1")
    return create_app(Config.from_env({**os.environ, "MDM_DATABASE_URL": url}))


class AmqpCounter(threading.Thread):
    """Consumes the bench queue, timestamping each message like a receiver would."""

    def __init__(self) -> None:
        import pika

        super().__init__(daemon=True)
        self.conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        self.chan = self.conn.channel()
        self.chan.exchange_declare("mdm.bench.supplier", exchange_type="topic", durable=True)
        self.queue = self.chan.queue_declare("", exclusive=True).method.queue
        self.chan.queue_bind(self.queue, "mdm.bench.supplier", routing_key="#")
        self.arrivals: list[tuple[float, bytes]] = []

    def run(self) -> None:
        def on_message(ch: Any, method: Any, props: Any, body: bytes) -> None:
            self.arrivals.append((time.time(), body))

        self.chan.basic_consume(self.queue, on_message, auto_ack=True)
        try:
            self.chan.start_consuming()
        except Exception:  # the connection closes when the bench ends
            pass


def write_changes(app: Any, ctx: Any, start: int, count: int, batch: int) -> None:
    registry = app.extensions["mdm_domains"]
    with app.app_context():
        for i in range(start, start + count, batch):
            items = [IngestItem(f"B{n}", {"name": f"Bench Supplier {n:07d}", "country": "DE"})
                     for n in range(i, min(i + batch, start + count))]
            ingest(db.session, registry, "supplier", "SAP", items, ctx)
        db.remove_session()


def delivered(app: Any) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(Delivery)
                              .where(Delivery.status == "delivered"))
        db.remove_session()
        return int(n or 0)


def wait_delivered(app: Any, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while delivered(app) < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {delivered(app)} of {n} delivered after {timeout}s")
        time.sleep(0.1)


def cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--channel", choices=["webhook", "amqp"], default="webhook")
    ap.add_argument("--events", type=int, default=5000, help="backlog for the throughput run")
    ap.add_argument("--rate", type=float, default=100.0, help="changes/s in the latency run")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of the latency run")
    ap.add_argument("--batch-size", type=int, default=500, help="worker batch size")
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="mdm-bench-")
    url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    app = fresh_app(url)
    ctx = cli_context("bench")
    with app.app_context():
        sources.register(db.session, ctx, code="SAP", name="SAP", kind="erp")
        receiver = None
        if args.channel == "webhook":
            receiver = Receiver().start()
            data = {"channel_config": {"url": receiver.url}}
            arrivals = lambda: [(r.at, r.body) for r in receiver.received]  # noqa: E731
        else:
            counter = AmqpCounter()
            counter.start()
            data = {"channel_config": {"url": AMQP_URL, "exchange": "mdm.bench.{domain}"}}
            arrivals = lambda: list(counter.arrivals)  # noqa: E731
        service.create(db.session, ctx, app.extensions["mdm_domains"], {
            "name": "bench", "domains": ["supplier"], "channel": args.channel,
            "target_system": "SAP", **data})
        db.remove_session()

    # 1. throughput: a backlog of changes, then one worker drains it
    write_changes(app, ctx, 0, args.events, 1000)
    env = {**os.environ, "MDM_DATABASE_URL": url, "MDM_LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen([sys.executable, "-m", "mdm", "worker", "--batch-size",
                               str(args.batch_size), "--poll-interval", "0.05"], env=env)
    try:
        wait_delivered(app, args.events, timeout=600)
        worker_cpu = cpu_seconds(worker.pid)
        got = sorted(at for at, _ in arrivals())
        span = got[-1] - got[0]
        print(f"throughput ({args.channel}, 1 worker, {args.events} events, "
              f"{Path(url).suffix or url.split(':')[0]}): {(len(got) - 1) / span:,.0f} events/s "
              f"({span:.2f}s first to last acknowledgement; worker CPU {worker_cpu:.1f}s "
              f"since its start)")

        # 2. latency: steady commits while the worker keeps up
        with app.app_context():
            last_id = db.session.scalar(select(func.max(ChangeEvent.id))) or 0
            db.remove_session()
        before = len(arrivals())
        total = int(args.rate * args.seconds)
        interval = 1.0 / args.rate
        started = time.monotonic()
        for n in range(total):
            # one change per transaction: a new supplier
            write_changes(app, ctx, args.events + n, 1, 1)
            sleep = started + (n + 1) * interval - time.monotonic()
            if sleep > 0:
                time.sleep(sleep)
        wait_delivered(app, args.events + total, timeout=120)
        with app.app_context():
            committed = dict(db.session.execute(
                select(ChangeEvent.event_id, ChangeEvent.occurred_at)
                .where(ChangeEvent.id > last_id)).all())
            db.remove_session()
        import json

        lat = []
        for at, body in arrivals()[before:]:
            event_id = json.loads(body)["id"]
            if event_id in committed:
                occurred: datetime = committed[event_id]
                lat.append(at - occurred.timestamp())
        lat.sort()
        p50 = statistics.median(lat)
        p95 = lat[int(len(lat) * 0.95) - 1]
        print(f"latency ({args.channel}, {args.rate:g} changes/s for {args.seconds:g}s, "
              f"{len(lat)} events): p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
              f"max {lat[-1] * 1000:.0f} ms")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        if receiver is not None:
            receiver.stop()


if __name__ == "__main__":
    main()
