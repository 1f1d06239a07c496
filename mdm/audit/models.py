from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mdm.db import Base, BigId, UTCDateTime, utcnow


class AuditEntry(Base):
    """Who did what to which entity, when and why, with its state before and after.

    A golden record's state is not copied when its history holds it: ``after_version``
    (``before_version``) names the golden version whose snapshot is the entry's ``after``
    (``before``), which is then NULL; mdm.audit.service rebuilds it on reading. Such an
    entry's reason is its after version's (NULL here).

    A source record's entry stores only the golden id of its after: the attributes and
    active flag it had are the record's until its next change, whose entry holds them as
    its before (every change of a source record writes an entry with its before: ingest),
    or the record's own when it has not changed since. Reading puts them back, redacted.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_entity", "entity_type", "entity_id"),
        Index("ix_audit_entry_request", "request_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(300))
    domain: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    # no state: SQL NULL, not a JSON null (it takes no room)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    before_version: Mapped[int | None] = mapped_column(Integer)
    after_version: Mapped[int | None] = mapped_column(Integer)
