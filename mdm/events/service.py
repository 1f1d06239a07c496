"""Writing change events (the outbox) in the caller's transaction, sequencing them, and
reading them back with their whole payload (the feed, routing, delivery, replay)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from mdm.context import RequestContext
from mdm.db import new_id, utcnow
from mdm.events.models import ChangeEvent
from mdm.records.history import snapshot_at_version, versions_of
from mdm.redaction import redact, redact_each

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
    version: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A change event row as a dict, for bulk inserts. Its payload is redacted unless
    ``redacted`` is False (the caller redacts a whole batch at once: redact_each).

    ``version``: the golden version row written with this change (as bulk-inserted). When
    that version's snapshot is ``snapshot``, the event refers to it instead of holding a
    copy of the record (mdm.events.models); ``payloads`` puts the record back on reading.
    """
    by_reference = version is not None and snapshot_at_version(version, domain) == snapshot
    payload: dict[str, Any] = {} if by_reference else {"record": snapshot}
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
    return with_payloads(session, list(session.scalars(q)))


def refers_to_version(stored: Mapping[str, Any]) -> bool:
    """Whether a stored payload leaves its record to the golden version it names (every
    payload has a record: one stored without it refers to its version)."""
    return "record" not in stored


def payloads(session: Session, events: Sequence[Any]) -> list[dict[str, Any]]:
    """The whole payload of each event (a ChangeEvent or a row with its ``domain``,
    ``golden_id``, ``golden_version`` and ``payload``), as it was written: a record that
    refers to its golden version is that version's snapshot, redacted."""
    keys = [(e.golden_id, e.golden_version) for e in events if refers_to_version(e.payload)]
    if not keys:
        return [e.payload for e in events]
    stored = versions_of(session, keys)
    records: list[Any] = []
    for e in events:
        if refers_to_version(e.payload):
            row = stored.get((e.golden_id, e.golden_version))
            record = snapshot_at_version(row, e.domain) if row is not None else None
            if record is None:
                # golden versions are never deleted: a database edited by hand
                raise LookupError(f"a change event refers to version {e.golden_version} of "
                                  f"golden record {e.golden_id}, which is not stored")
            records.append(record)
    found = iter(redact_each(records))
    return [{"record": next(found), **e.payload} if refers_to_version(e.payload)
            else e.payload for e in events]


def with_payloads(session: Session, events: list[ChangeEvent]) -> list[ChangeEvent]:
    """``events`` with their whole payload (``payloads``) loaded; writes nothing."""
    for event, payload in zip(events, payloads(session, events), strict=True):
        set_committed_value(event, "payload", payload)
    return events
