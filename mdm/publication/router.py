"""The outbox router: sequences committed change events and fans each one out into a
delivery per matching on-change subscription, in one transaction, one router at a time."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from mdm.db import utcnow
from mdm.events import service as events
from mdm.events.models import ChangeEvent
from mdm.publication import filters
from mdm.publication.models import (
    DELIVERY_TABLE,
    KIND_CHANGE,
    ON_CHANGE,
    PENDING,
    RouterCursor,
    Subscription,
)

CURSOR = "router"
ROUTE_BATCH = 2000


def _cursor_position(session: Session) -> int:
    return session.scalar(select(RouterCursor.position).where(RouterCursor.name == CURSOR)) or 0


def has_work(session: Session) -> bool:
    top = session.scalar(select(func.max(ChangeEvent.position))) or 0
    return top > _cursor_position(session) or events.has_unsequenced(session)


def route(session: Session, batch: int = ROUTE_BATCH) -> int:
    """Route up to ``batch`` events; returns how many events were routed. Commits."""
    work = has_work(session)
    session.rollback()  # end the read: on SQLite a write after a stale read fails at once
    if not work:
        return 0
    events.lock_sequencer(session)
    events.assign_positions(session)
    cursor = session.get(RouterCursor, CURSOR, with_for_update=True)
    if cursor is None:
        cursor = RouterCursor(name=CURSOR, position=0)
        session.add(cursor)
    # plain rows, not ORM objects: routing is on the worker's hot path
    rows = session.execute(
        select(ChangeEvent.id, ChangeEvent.event_id, ChangeEvent.position, ChangeEvent.domain,
               ChangeEvent.golden_id, ChangeEvent.golden_version, ChangeEvent.type,
               ChangeEvent.payload)
        .where(ChangeEvent.position > cursor.position)
        .order_by(ChangeEvent.position).limit(batch)
    ).all()
    if not rows:
        session.commit()
        return 0
    subs = list(session.scalars(
        select(Subscription).where(Subscription.active.is_(True),
                                   Subscription.trigger == ON_CHANGE)
    ))
    now = utcnow()
    deliveries: list[dict[str, Any]] = []
    # the records only matter to subscriptions' filters (read from the golden versions)
    filtering = any(sub.filter for sub in subs)
    whole = events.payloads(session, rows) if filtering else [{}] * len(rows)
    for event, payload in zip(rows, whole, strict=True):
        record = payload.get("record") or {}
        for sub in subs:
            if event.domain in sub.domains and filters.matches(sub.filter, record, event.type):
                deliveries.append({
                    "subscription_id": sub.id, "kind": KIND_CHANGE, "event_id": event.event_id,
                    "change_event_id": event.id, "position": event.position,
                    "domain": event.domain, "golden_id": event.golden_id, "status": PENDING,
                    "attempts": 0, "next_attempt_at": now, "created_at": now,
                })
    if deliveries:
        session.execute(insert(DELIVERY_TABLE), deliveries)  # Core executemany
    last = rows[-1].position
    assert last is not None
    cursor.position = last
    session.commit()
    return len(rows)
