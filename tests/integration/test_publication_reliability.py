"""Reliability of publication with real processes on loopback: ``mdm worker`` and
``mdm scheduler`` run as subprocesses against the test database; receivers are local HTTP
servers.

The tests assert invariants (nothing lost, nothing twice, order kept, one subscription
never waiting for another), never durations, so a busy machine makes them slower, not
red: every wait is bounded only to turn a hang into a failure (LIVENESS), and where a test
needs "meanwhile" it holds a receiver until it says so instead of racing a clock."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mdm.db import db, utcnow
from mdm.events.models import ChangeEvent
from mdm.publication import service
from mdm.publication.dispatcher import Dispatcher
from mdm.publication.models import Delivery, Run, Subscription
from mdm.publication.receiver import Receiver
from mdm.records import ingest as ingest_module
from mdm.records.ingest import IngestItem, ingest

DOMAINS = str(Path(__file__).resolve().parents[1] / "data" / "domains")
LIVENESS = 120.0  # seconds before a wait counts as a hang; never a performance bound


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
            proc = subprocess.Popen([sys.executable, "-m", "mdm", *args], env=env,
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


def delivered_for(sub_id: str) -> int:
    with db.new_session() as s:
        return int(s.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.subscription_id == sub_id, Delivery.status == "delivered")) or 0)


def failed_attempts() -> bool:
    with db.new_session() as s:
        return bool(s.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.attempts > 0)))


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
    wait_until(lambda: count() == 30 and count("pending") == 30, LIVENESS,
               "30 routed deliveries")
    wait_until(failed_attempts, LIVENESS, "attempts against the receiver that is down")
    assert count("delivered") == 0
    receiver = Receiver(port).start()
    try:
        wait_until(lambda: count("delivered") == 30, LIVENESS, "every delivery acknowledged")
        received = [e["id"] for e in receiver.events()]
        assert set(received) == event_ids()  # none lost, nothing foreign
        assert_in_order_per_record(receiver)
    finally:
        receiver.stop()
    assert stop(worker) == 0


def test_worker_killed_mid_batch_loses_nothing(app: Any, session: Any, ctx: Any,
                                               sources: Any, spawn: Any) -> None:
    # the receiver acknowledges 10 messages, then hangs: the worker is surely mid-batch
    receiver = Receiver(hold_after=10).start()
    try:
        subscribe(app, ctx, "erp", receiver.url,
                  channel_config={"url": receiver.url, "timeout_seconds": 120})
        write_versions(app, ctx, records=20, versions=4)
        worker = spawn("worker", "--poll-interval", "0.05", "--batch-size", "25")
        wait_until(lambda: receiver.held >= 1, LIVENESS, "the worker to be mid-batch")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=LIVENESS)
        assert count("delivered") < 80
        receiver.release()
        spawn("worker", "--poll-interval", "0.05", "--batch-size", "25")
        wait_until(lambda: count("delivered") == 80, LIVENESS,
                   "every delivery after the restart")
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
    # the slow receiver hangs on its first message until released (the sender's timeout is
    # the longest allowed), so everything the fast one gets arrives while the other hangs
    slow, fast = Receiver(hold_after=0).start(), Receiver().start()
    try:
        slow_sub = subscribe(app, ctx, "slow", slow.url,
                             channel_config={"url": slow.url, "timeout_seconds": 120}).id
        subscribe(app, ctx, "fast", fast.url)
        spawn("worker", "--poll-interval", "0.05")
        write_versions(app, ctx, records=1, versions=1)
        wait_until(lambda: slow.held == 1, LIVENESS, "the slow receiver to hang")
        write_versions(app, ctx, records=11, versions=1)  # 10 new suppliers
        wait_until(lambda: len(fast.received) == 11, LIVENESS, "the fast receiver's deliveries")
        # ... while the slow subscription is still stuck in its first message
        assert slow.held == 1 and slow.received == []
        assert delivered_for(slow_sub) == 0
        slow.release()  # the hung message fails (503) and is retried with the rest
        wait_until(lambda: delivered_for(slow_sub) == 11, LIVENESS, "the slow receiver's")
        assert {e["id"] for e in slow.events()} == {e["id"] for e in fast.events()}
        assert_in_order_per_record(slow)
    finally:
        slow.stop()
        fast.stop()


def test_two_schedulers_never_double_trigger(app: Any, session: Any, ctx: Any, sources: Any,
                                             spawn: Any, tmp_path: Path) -> None:
    service.create(session, ctx, registry(app), {
        "name": "every-second", "domains": ["supplier"], "channel": "file",
        "channel_config": {"directory": str(tmp_path)}, "trigger": "schedule",
        "schedule": "* * * * * *"})  # croniter: a sixth field is seconds
    created = session.scalar(select(Subscription.created_at))
    a = spawn("scheduler", "--interval", "0.05")
    b = spawn("scheduler", "--interval", "0.05")

    def ticks() -> list[Any]:
        with db.new_session() as s:
            return list(s.scalars(select(Run.scheduled_for).order_by(Run.created_at)))

    # both poll 20 times a second for every one-second tick, racing for each one
    wait_until(lambda: len(ticks()) >= 3, LIVENESS, "three ticks")
    assert stop(a) == 0 and stop(b) == 0
    stopped = utcnow()
    seen = ticks()
    assert len(seen) == len(set(seen))  # no tick triggered twice
    assert seen == sorted(seen)  # each later than the one before
    for tick in seen:  # cron's whole seconds, after the subscription, none in the future
        tick = tick.replace(tzinfo=UTC) if tick.tzinfo is None else tick
        assert tick.microsecond == 0 and created < tick <= stopped, (created, tick, stopped)


@pytest.mark.postgres
def test_two_workers_never_send_the_same_delivery_twice(
        app: Any, session: Any, ctx: Any, sources: Any, spawn: Any) -> None:
    receiver = Receiver(delay=0.002).start()
    try:
        subscribe(app, ctx, "erp", receiver.url)
        write_versions(app, ctx, records=50, versions=3)
        spawn("worker", "--poll-interval", "0.05", "--batch-size", "10")
        spawn("worker", "--poll-interval", "0.05", "--batch-size", "10")
        wait_until(lambda: count("delivered") == 150, LIVENESS, "every delivery")
        ids = [e["id"] for e in receiver.events()]
        assert len(ids) == len(set(ids)) == 150
        assert_in_order_per_record(receiver)
    finally:
        receiver.stop()
