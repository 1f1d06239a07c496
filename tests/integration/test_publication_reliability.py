"""Reliability of publication with real processes on loopback: ``mdm worker`` and
``mdm scheduler`` run as subprocesses against the test database; receivers are local HTTP
servers. Every wait is bounded."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mdm.db import db
from mdm.events.models import ChangeEvent
from mdm.publication import service
from mdm.publication.dispatcher import Dispatcher
from mdm.publication.models import Delivery, Run
from mdm.publication.receiver import Receiver
from mdm.records import ingest as ingest_module
from mdm.records.ingest import IngestItem, ingest

DOMAINS = str(Path(__file__).resolve().parents[1] / "data" / "domains")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def spawn(database_url: str, session: Any, tmp_path: Path
          ) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``mdm <args>`` against the test database; everything is killed afterwards and
    the processes' logs are shown when the test fails."""
    procs: list[subprocess.Popen[bytes]] = []
    env = {**os.environ, "MDM_DATABASE_URL": database_url, "MDM_DOMAINS_PATH": DOMAINS,
           "MDM_LOG_LEVEL": "WARNING"}
    logs = tmp_path / "processes.log"

    def start(*args: str) -> subprocess.Popen[bytes]:
        with logs.open("ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "mdm.cli", *args], env=env,
                                    stdout=log, stderr=log)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    if logs.exists() and logs.stat().st_size:
        print(logs.read_text()[-5000:])


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=15)


def registry(app: Any) -> Any:
    return app.extensions["mdm_domains"]


def subscribe(app: Any, ctx: Any, name: str, url: str, **extra: Any) -> Any:
    sub, _ = service.create(db.session, ctx, registry(app), {
        "name": name, "domains": ["supplier"], "channel": "webhook",
        "channel_config": {"url": url, "timeout_seconds": 2}, "max_attempts": 100,
        "retry_initial_seconds": 0.1, "retry_max_seconds": 0.5, **extra})
    return sub


def write_versions(app: Any, ctx: Any, records: int, versions: int) -> None:
    """``records`` suppliers, each changed until it has ``versions`` versions."""
    for v in range(versions):
        items = [IngestItem(f"S{i}", {"name": f"Supplier {i:04d} v{v}", "country": "DE"})
                 for i in range(records)]
        ingest(db.session, registry(app), "supplier", "SAP", items, ctx)


def count(status: str | None = None) -> int:
    with db.new_session() as s:
        q = select(func.count()).select_from(Delivery)
        if status:
            q = q.where(Delivery.status == status)
        return int(s.scalar(q) or 0)


def event_ids() -> set[str]:
    with db.new_session() as s:
        return set(s.scalars(select(ChangeEvent.event_id)))


def assert_in_order_per_record(receiver: Receiver) -> None:
    seen: dict[str, list[int]] = defaultdict(list)
    for event in receiver.events():
        seen[event["subject"]].append(event["data"]["version"])
    for golden_id, versions in seen.items():
        assert versions == sorted(versions), (golden_id, versions)


def test_receiver_down_then_back_gets_everything_in_order(
        app: Any, session: Any, ctx: Any, sources: Any, spawn: Any) -> None:
    port = free_port()
    subscribe(app, ctx, "erp", f"http://127.0.0.1:{port}/hook")
    worker = spawn("worker", "--poll-interval", "0.05")
    write_versions(app, ctx, records=10, versions=3)
    wait_until(lambda: count() == 30 and count("pending") == 30, 60, "30 routed deliveries")
    time.sleep(0.5)  # the receiver is down: attempts fail and back off
    assert count("delivered") == 0
    receiver = Receiver(port).start()
    try:
        wait_until(lambda: count("delivered") == 30, 20, "every delivery acknowledged")
        received = [e["id"] for e in receiver.events()]
        assert set(received) == event_ids()  # none lost, nothing foreign
        assert_in_order_per_record(receiver)
    finally:
        receiver.stop()
    assert stop(worker) == 0


def test_worker_killed_mid_batch_loses_nothing(app: Any, session: Any, ctx: Any,
                                               sources: Any, spawn: Any) -> None:
    receiver = Receiver(delay=0.01).start()
    try:
        subscribe(app, ctx, "erp", receiver.url)
        write_versions(app, ctx, records=20, versions=4)
        worker = spawn("worker", "--poll-interval", "0.05", "--batch-size", "25")
        wait_until(lambda: len(receiver.received) >= 10, 60, "the first deliveries")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        assert count("delivered") < 80
        spawn("worker", "--poll-interval", "0.05", "--batch-size", "25")
        wait_until(lambda: count("delivered") == 80, 30, "every delivery after the restart")
        ids = [e["id"] for e in receiver.events()]
        assert set(ids) == event_ids()
        # a redelivery (killed between acknowledgement and commit) repeats the same key
        assert len(ids) - len(set(ids)) <= 25
        assert_in_order_per_record(receiver)
    finally:
        receiver.stop()


def test_rejected_change_publishes_nothing(app: Any, session: Any, ctx: Any, sources: Any,
                                           monkeypatch: Any) -> None:
    receiver = Receiver().start()
    try:
        sub = subscribe(app, ctx, "erp", receiver.url)
        write_versions(app, ctx, records=1, versions=1)
        existing = session.scalar(select(ChangeEvent.golden_id))
        before = session.scalar(select(func.count()).select_from(ChangeEvent))
        # the next new golden record collides with an existing primary key: the database
        # rejects the whole transaction, change event included
        monkeypatch.setattr(ingest_module, "new_id", lambda: existing)
        with pytest.raises(Exception, match="(?i)unique|duplicate"):
            ingest(session, registry(app), "supplier", "COUPA",
                   [IngestItem("C1", {"name": "Totally Different Corp", "country": "FR"})], ctx)
        session.rollback()
        assert session.scalar(select(func.count()).select_from(ChangeEvent)) == before
        dispatcher = Dispatcher(db.new_session, registry(app), poll_interval=0.01)
        dispatcher.route_once()
        dispatcher.deliver_batch(sub.id)
        dispatcher.close()
        assert len(receiver.received) == 1  # only the committed change
    finally:
        receiver.stop()


def test_slow_receiver_does_not_block_other_subscriptions(
        app: Any, session: Any, ctx: Any, sources: Any, spawn: Any) -> None:
    slow, fast = Receiver(delay=3.0).start(), Receiver().start()
    try:
        subscribe(app, ctx, "slow", slow.url, channel_config={"url": slow.url,
                                                             "timeout_seconds": 0.5})
        subscribe(app, ctx, "fast", fast.url)
        spawn("worker", "--poll-interval", "0.05")
        write_versions(app, ctx, records=1, versions=1)
        wait_until(lambda: len(fast.received) == 1, 60, "the worker to start")
        started = time.monotonic()
        write_versions(app, ctx, records=11, versions=1)  # 10 new suppliers
        # the slow subscription times out on every attempt meanwhile
        wait_until(lambda: len(fast.received) == 11, 5, "the fast receiver's deliveries")
        assert time.monotonic() - started < 5

        def slow_timed_out() -> bool:
            with db.new_session() as s:
                errors = s.scalars(select(Delivery.last_error).where(
                    Delivery.last_error.is_not(None)))
                return any("timeout" in e for e in errors)

        wait_until(slow_timed_out, 5, "the slow receiver's timeout to be logged")
    finally:
        slow.stop()
        fast.stop()


def test_two_schedulers_never_double_trigger(app: Any, session: Any, ctx: Any, sources: Any,
                                             spawn: Any, tmp_path: Path) -> None:
    service.create(session, ctx, registry(app), {
        "name": "every-second", "domains": ["supplier"], "channel": "file",
        "channel_config": {"directory": str(tmp_path)}, "trigger": "schedule",
        "schedule": "* * * * * *"})  # croniter: a sixth field is seconds
    a = spawn("scheduler", "--interval", "0.05")
    b = spawn("scheduler", "--interval", "0.05")

    def ticks() -> list[Any]:
        with db.new_session() as s:
            return list(s.scalars(select(Run.scheduled_for)))

    wait_until(lambda: len(ticks()) >= 1, 60, "the schedulers to start")
    time.sleep(3)  # both poll 20 times a second for every one-second tick
    assert stop(a) == 0 and stop(b) == 0
    seen = ticks()
    assert 3 <= len(seen) <= 6
    assert len(seen) == len(set(seen))


@pytest.mark.postgres
def test_two_workers_never_send_the_same_delivery_twice(
        app: Any, session: Any, ctx: Any, sources: Any, spawn: Any) -> None:
    receiver = Receiver(delay=0.002).start()
    try:
        subscribe(app, ctx, "erp", receiver.url)
        write_versions(app, ctx, records=50, versions=3)
        spawn("worker", "--poll-interval", "0.05", "--batch-size", "10")
        spawn("worker", "--poll-interval", "0.05", "--batch-size", "10")
        wait_until(lambda: count("delivered") == 150, 30, "every delivery")
        ids = [e["id"] for e in receiver.events()]
        assert len(ids) == len(set(ids)) == 150
        assert_in_order_per_record(receiver)
    finally:
        receiver.stop()
