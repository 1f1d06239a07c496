"""Writing change events (the outbox) in the caller's transaction, sequencing them, and
reading the feed."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from mdm.context import RequestContext
from mdm.db import new_id, utcnow
from mdm.events.models import ChangeEvent
from mdm.redaction import redact

# pg_advisory_xact_lock key of the sequencer: one sequencer at a time, across processes
SEQUENCER_LOCK = 0x4D444D5345510001
SEQUENCE_BATCH = 5000


def event_row(
    ctx: RequestContext,
    *,
    domain: str,
    golden_id: str,
    golden_version: int,
    type: str,
    snapshot: dict[str, Any],
    extra: dict[str, Any] | None = None,
    redacted: bool = True,
) -> dict[str, Any]:
    """A change event row as a dict, for bulk inserts. Its payload is redacted unless
    ``redacted`` is False (the caller redacts a whole batch at once: redact_each)."""
    payload = {"record": snapshot}
    if extra:
        payload.update(extra)
    return {
        "event_id": new_id(),
        "domain": domain,
        "golden_id": golden_id,
        "golden_version": golden_version,
        "type": type,
        "occurred_at": utcnow(),
        "request_id": ctx.request_id,
        # events leave the hub: no secrets in them
        "payload": redact(payload) if redacted else payload,
        "position": None,
    }


def emit(session: Session, ctx: RequestContext, **kwargs: Any) -> ChangeEvent:
    event = ChangeEvent(**event_row(ctx, **kwargs))
    session.add(event)
    return event


def lock_sequencer(session: Session) -> None:
    """Serialise sequencers until the end of the caller's transaction.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: an empty write takes the
    database's single write lock first, so the reads that follow are current.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(SEQUENCER_LOCK)))
    else:
        session.execute(text("UPDATE change_event SET position = NULL WHERE 1 = 0"))


def assign_positions(session: Session, limit: int = SEQUENCE_BATCH) -> int:
    """Give committed, unsequenced events the next positions, in id order.

    The caller holds the sequencer lock (``lock_sequencer``) and commits. Events of one
    golden record commit in version order (the record's row lock serialises them), so
    positions keep each record's order.
    """
    ids = list(session.scalars(
        select(ChangeEvent.id).where(ChangeEvent.position.is_(None))
        .order_by(ChangeEvent.id).limit(limit)
    ))
    if not ids:
        return 0
    top = session.scalar(select(func.max(ChangeEvent.position))) or 0
    session.execute(
        update(ChangeEvent),
        [{"id": event_id, "position": top + n} for n, event_id in enumerate(ids, start=1)],
    )
    return len(ids)


def has_unsequenced(session: Session) -> bool:
    return session.scalar(
        select(ChangeEvent.id).where(ChangeEvent.position.is_(None)).limit(1)
    ) is not None


def sequence(session: Session) -> int:
    """Sequence every committed event that has no position yet; commits."""
    total = 0
    while True:
        pending = has_unsequenced(session)
        # end the read first: on SQLite a write after a stale read fails instead of waiting
        session.rollback()
        if not pending:
            return total
        lock_sequencer(session)
        done = assign_positions(session)
        session.commit()
        total += done
        if done < SEQUENCE_BATCH:
            return total


def list_events(
    session: Session, *, domain: str | None = None, after: int = 0, limit: int = 100
) -> list[ChangeEvent]:
    """Sequenced events after the cursor ``after`` (a position), oldest first."""
    sequence(session)
    q = (select(ChangeEvent).where(ChangeEvent.position > after)
         .order_by(ChangeEvent.position).limit(limit))
    if domain:
        q = q.where(ChangeEvent.domain == domain)
    return list(session.scalars(q))
