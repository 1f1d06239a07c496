from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mdm.db import Base, UTCDateTime, utcnow
from mdm.records.models import BigId

EVENT_TYPES = ("created", "updated", "merged", "unmerged", "retired", "reactivated")


class ChangeEvent(Base):
    """Written in the same transaction as the change it describes (transactional outbox).

    ``id`` grows monotonically with commits' insert order and is the change-feed cursor.
    """

    __tablename__ = "change_event"
    __table_args__ = (
        Index("ix_change_event_domain_id", "domain", "id"),
        Index("ix_change_event_golden_id", "golden_id", "id"),
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
