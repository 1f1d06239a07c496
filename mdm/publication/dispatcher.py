"""The dispatcher worker (``mdm worker``): routes the outbox and delivers, at least once.

Each subscription is worked on by one thread at a time, so a slow or dead receiver holds up
only its own subscription. A batch is claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL
(so several workers never send the same delivery concurrently; the locks vanish with a
killed worker's connection) and read plainly on SQLite (one worker). Within a subscription
a delivery for a golden record never overtakes an earlier undelivered one for that record.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from mdm.db import utcnow
from mdm.events import service as change_events
from mdm.events.models import ChangeEvent
from mdm.publication import contract_check, metrics, payloads, router, runs
from mdm.publication.channels import Channel, Message, Outcome, open_channel
from mdm.publication.egress import EgressPolicy
from mdm.publication.models import (
    DEAD,
    DELIVERED,
    FILE,
    KIND_SNAPSHOT,
    PENDING,
    Delivery,
    Subscription,
)
from mdm.publication.targets import records_by_id, target_ids

log = logging.getLogger(__name__)

SessionFactory = Callable[[], Session]

# A claimed delivery: a plain row of these columns (no ORM objects on the hot path)
CLAIM_COLUMNS = (Delivery.id, Delivery.kind, Delivery.event_id, Delivery.change_event_id,
                 Delivery.domain, Delivery.golden_id, Delivery.attempts)
Claimed = Any  # a Row of CLAIM_COLUMNS (attribute access like the ORM object's)


def backoff_seconds(attempts: int, initial: float, cap: float) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, capped."""
    base = min(cap, initial * (2 ** max(0, attempts - 1)))
    return base / 2 + random.uniform(0, base / 2)


def live_secrets(sub: Subscription, now: datetime) -> list[str]:
    out = []
    for s in sub.secrets or []:
        expires = s.get("expires_at")
        if expires is None or datetime.fromisoformat(expires) > now:
            out.append(s["secret"])
    return out


def in_order(session: Session, sub_id: str, batch: Sequence[Claimed]
             ) -> tuple[list[Claimed], list[tuple[Claimed, datetime]]]:
    """Split a claimed batch into sendable deliveries and blocked ones: a delivery is blocked
    while an earlier undelivered delivery of the same golden record is not in the batch
    (it waits in backoff, or another worker holds it). Blocked ones come with the time
    their blocker is due."""
    mine = {d.id: d for d in batch}
    top = max(mine)
    golden_ids = sorted({d.golden_id for d in batch})
    earlier: list[tuple[int, str, datetime]] = []
    for i in range(0, len(golden_ids), 500):
        earlier.extend((row[0], row[1], row[2]) for row in session.execute(
            select(Delivery.id, Delivery.golden_id, Delivery.next_attempt_at).where(
                Delivery.subscription_id == sub_id, Delivery.status == PENDING,
                Delivery.golden_id.in_(golden_ids[i:i + 500]), Delivery.id <= top)
        ))
    earlier.sort()
    blocker_due: dict[str, datetime] = {}
    ok_ids: set[int] = set()
    for did, gid, due in earlier:
        if gid in blocker_due:
            continue
        if did in mine:
            ok_ids.add(did)
        else:
            blocker_due[gid] = due
    ok = [d for d in batch if d.id in ok_ids]
    blocked = [(d, blocker_due[d.golden_id]) for d in batch if d.id not in ok_ids]
    return ok, blocked


@dataclass
class Prepared:
    delivery: Claimed
    message: Message | None
    error: str | None = None  # the payload cannot be sent as it is: dead-letter it
    occurred_at: datetime | None = None
    retry_error: str | None = None  # cannot be checked now (registry down): try again later


def prepare(session: Session, sub: Subscription, batch: Sequence[Claimed]) -> list[Prepared]:
    """Build each delivery's CloudEvent and check it against the pinned contract."""
    event_ids = [d.change_event_id for d in batch if d.change_event_id is not None]
    events: dict[int, tuple[Row[Any], dict[str, Any]]] = {}
    for i in range(0, len(event_ids), 500):
        rows = session.execute(select(
            ChangeEvent.id, ChangeEvent.domain, ChangeEvent.golden_id, ChangeEvent.golden_version,
            ChangeEvent.type, ChangeEvent.payload, ChangeEvent.occurred_at, ChangeEvent.position,
        ).where(ChangeEvent.id.in_(event_ids[i:i + 500]))).all()
        for e, payload in zip(rows, change_events.payloads(session, rows), strict=True):
            events[e.id] = (e, payload)
    snap_ids = [d.golden_id for d in batch if d.kind == KIND_SNAPSHOT]
    current = records_by_id(session, snap_ids) if snap_ids else {}
    targets = (target_ids(session, sub.target_system, {d.golden_id for d in batch})
               if sub.target_system else {})
    out: list[Prepared] = []
    for d in batch:
        if d.kind == KIND_SNAPSHOT:
            record = current.get(d.golden_id)
            if record is None:
                out.append(Prepared(d, None, f"golden record {d.golden_id} no longer exists"))
                continue
            change, extra, at, position = "snapshot", None, utcnow(), None
        else:
            found = events.get(d.change_event_id or -1)
            if found is None:
                out.append(Prepared(d, None, f"change event {d.change_event_id} not found"))
                continue
            event, payload = found[0], dict(found[1] or {})
            record = payload.pop("record", {})
            change, extra, at, position = event.type, payload, event.occurred_at, event.position
        ce = payloads.cloud_event(
            event_id=d.event_id, domain=d.domain, golden_id=d.golden_id, change=change,
            occurred_at=at, record=record, extra=extra, position=position,
            target_system=sub.target_system, target_ids=targets.get(d.golden_id, []))
        error = None
        if sub.contract_subject:
            try:
                error = contract_check.check(session, sub.contract_subject,
                                             sub.contract_version, ce)
            except contract_check.ContractUnavailable as exc:
                # not the payload's fault: retry (the registry may come back), don't dead-letter
                out.append(Prepared(d, None, occurred_at=at, retry_error=str(exc)))
                continue
        if error:
            out.append(Prepared(d, None, error, at))
            continue
        msg = Message(d.id, d.event_id, d.domain, d.golden_id, change, payloads.encode(ce))
        out.append(Prepared(d, msg, None, at))
    return out


class Dispatcher:
    def __init__(self, session_factory: SessionFactory, registry: Any = None, *,
                 batch_size: int = 200, poll_interval: float = 0.2, concurrency: int = 8,
                 refresh_seconds: float = 2.0, policy: EgressPolicy | None = None) -> None:
        self.session_factory = session_factory
        # where deliveries may connect; checked again right before each connection
        self.policy = policy or EgressPolicy.from_env()
        self.registry = registry
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.concurrency = concurrency
        self.refresh_seconds = refresh_seconds
        self._channels: dict[str, tuple[Any, Channel]] = {}
        self._channels_lock = threading.Lock()

    # --- one subscription, one batch ---------------------------------------------------

    def _channel(self, sub: Subscription, now: datetime) -> Channel:
        stamp = (sub.updated_at, tuple(live_secrets(sub, now)))
        with self._channels_lock:
            hit = self._channels.get(sub.id)
            if hit is not None and hit[0] == stamp:
                return hit[1]
            if hit is not None:
                hit[1].close()
            chan = open_channel(sub.channel, sub.channel_config or {}, list(stamp[1]),
                                self.policy)
            self._channels[sub.id] = (stamp, chan)
            return chan

    def deliver_batch(self, sub_id: str) -> int:
        """Claim, send and settle one batch of a subscription's due deliveries."""
        with self.session_factory() as session:
            sub = session.get(Subscription, sub_id)
            if sub is None or not sub.active or sub.channel == FILE:
                return 0
            postgres = session.get_bind().dialect.name == "postgresql"
            now = utcnow()
            q = (select(*CLAIM_COLUMNS).where(Delivery.subscription_id == sub_id,
                                              Delivery.status == PENDING,
                                              Delivery.next_attempt_at <= now)
                 .order_by(Delivery.id).limit(self.batch_size))
            if postgres:
                q = q.with_for_update(skip_locked=True)
            batch = list(session.execute(q).all())
            if not batch:
                session.commit()
                return 0
            ok, blocked = in_order(session, sub_id, batch)
            prepared = prepare(session, sub, ok)
            if not postgres:
                session.commit()  # SQLite: hold no transaction while sending
            sendable = [p for p in prepared if p.message is not None]
            outcomes = self._channel(sub, now).send([p.message for p in sendable if p.message])
            self._settle(session, sub, prepared, sendable, outcomes, blocked)
            session.commit()
            return len(prepared)

    def _settle(self, session: Session, sub: Subscription, prepared: list[Prepared],
                sendable: list[Prepared], outcomes: list[Outcome],
                blocked: list[tuple[Claimed, datetime]]) -> None:
        now = utcnow()
        changes: list[dict[str, Any]] = []
        name = sub.name
        retry_at: datetime | None = None

        def failed(d: Claimed, error: str, *, dead: bool = False) -> None:
            nonlocal retry_at
            attempts = d.attempts + 1
            if dead or attempts >= sub.max_attempts:
                changes.append({"id": d.id, "status": DEAD, "attempts": attempts,
                                "last_error": error})
                metrics.DELIVERIES.labels(name, "dead").inc()
                return
            at = now + timedelta(seconds=backoff_seconds(
                attempts, sub.retry_initial_seconds, sub.retry_max_seconds))
            retry_at = at if retry_at is None else min(retry_at, at)
            changes.append({"id": d.id, "attempts": attempts, "next_attempt_at": at,
                            "last_error": error})
            metrics.DELIVERIES.labels(name, "failed").inc()

        for p in prepared:
            if p.retry_error:
                failed(p.delivery, p.retry_error)
            elif p.message is None:
                failed(p.delivery, p.error or "invalid", dead=True)
        delivered_ids: list[int] = []
        for p, outcome in zip(sendable, outcomes, strict=False):
            d = p.delivery
            if outcome.ok:
                delivered_ids.append(d.id)
                metrics.DELIVERIES.labels(name, "delivered").inc()
                if p.occurred_at is not None and d.kind != KIND_SNAPSHOT:
                    metrics.LAG.labels(name).observe((now - p.occurred_at).total_seconds())
            else:
                failed(d, outcome.error or "failed")
        # Not attempted (the channel stopped at a failure) or held behind an earlier delivery
        # of their record: wait, without spending an attempt.
        later = retry_at or now + timedelta(seconds=self.poll_interval)
        for p in sendable[len(outcomes):]:
            changes.append({"id": p.delivery.id, "next_attempt_at": later})
        for d, due in blocked:
            changes.append({"id": d.id, "next_attempt_at": max(due, now)})
        for i in range(0, len(delivered_ids), 500):  # one statement for the common case
            session.execute(
                update(Delivery).where(Delivery.id.in_(delivered_ids[i:i + 500]))
                .values(status=DELIVERED, attempts=Delivery.attempts + 1, delivered_at=now,
                        last_error=None), execution_options={"synchronize_session": False})
        if changes:
            session.execute(update(Delivery), changes)

    def work(self, sub_id: str) -> int:
        """One unit of work for a subscription: a pending run, else a batch of deliveries."""
        did = runs.run_next_pending(self.session_factory, self.registry, sub_id, self.policy)
        return did + self.deliver_batch(sub_id)

    # --- the loop ------------------------------------------------------------------------

    def _subscription_ids(self) -> list[str]:
        with self.session_factory() as session:
            return list(session.scalars(
                select(Subscription.id).where(Subscription.active.is_(True))
                .order_by(Subscription.created_at)))

    def route_once(self) -> int:
        with self.session_factory() as session:
            return router.route(session)

    def run(self, stop: threading.Event, *, idle_exit: float | None = None) -> None:
        """Route and deliver until ``stop`` is set (or, with ``idle_exit``, nothing happened
        for that many seconds)."""
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="mdm-deliver")
        inflight: dict[str, Future[int]] = {}
        subs: list[str] = []
        refreshed = 0.0
        last_work = time.monotonic()
        try:
            while not stop.is_set():
                busy = False
                try:
                    busy = self.route_once() > 0
                    if time.monotonic() - refreshed > self.refresh_seconds or busy:
                        subs, refreshed = self._subscription_ids(), time.monotonic()
                except Exception:  # a database hiccup must not end the worker
                    log.exception("routing failed; retrying")
                    stop.wait(1.0)
                    continue
                for sid in subs:
                    if sid not in inflight:
                        inflight[sid] = pool.submit(self.work, sid)
                done, _ = wait(list(inflight.values()), timeout=self.poll_interval,
                               return_when=FIRST_COMPLETED)
                for sid, fut in list(inflight.items()):
                    if fut in done:
                        del inflight[sid]
                        try:
                            busy = fut.result() > 0 or busy
                        except Exception:
                            log.exception("delivering for subscription %s failed", sid)
                if busy:
                    last_work = time.monotonic()
                    continue
                if idle_exit is not None and not inflight \
                        and time.monotonic() - last_work > idle_exit:
                    return
                if not inflight:
                    stop.wait(self.poll_interval)  # every subscription came back empty
        finally:
            pool.shutdown(wait=True)
            self.close()

    def close(self) -> None:
        """Close the open channels (connections to receivers and brokers)."""
        with self._channels_lock:
            for _, chan in self._channels.values():
                chan.close()
            self._channels.clear()
