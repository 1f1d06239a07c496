from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mdm.db import Base, BigId, UTCDateTime, utcnow

EVENT_TYPES = ("created", "updated", "merged", "unmerged", "retired", "reactivated")


class ChangeEvent(Base):
    """Written in the same transaction as the change it describes (transactional outbox).

    ``id`` is assigned at insert time, so on PostgreSQL a transaction that started earlier
    can commit a smaller id after a larger one is already visible. ``position`` is assigned
    afterwards, one sequencer at a time, in the order events become visible: it is the
    stable cursor of the change feed and of publication (a reader never skips an event).

    ``payload`` is ``{"record": <golden snapshot>, ...}``. The record is not stored when it
    is the snapshot of the golden version the event names (``golden_id``,
    ``golden_version``): a stored payload without "record" refers to that version, and
    mdm.events.service.payloads puts the record back (redacted) on reading. Golden
    versions are never changed or deleted, so the event reads as it was written.
    """

    __tablename__ = "change_event"
    __table_args__ = (
        Index("ix_change_event_position", "position", unique=True),
        Index("ix_change_event_domain_position", "domain", "position"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    domain: Mapped[str] = mapped_column(String(64))
    golden_id: Mapped[str] = mapped_column(String(36))
    golden_version: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    request_id: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # NULL until the sequencer has seen the committed event (see mdm.events.service.sequence)
    position: Mapped[int | None] = mapped_column(BigInteger, default=None)
