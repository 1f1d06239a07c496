from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from mdm.db import Base, UTCDateTime, utcnow

ADMIN, STEWARD, READER, SOURCE = "admin", "steward", "reader", "source"
ROLES = (ADMIN, STEWARD, READER, SOURCE)


class ApiKey(Base):
    """An API key. Only a SHA-256 digest of the secret is stored (keys are random, 256-bit)."""

    __tablename__ = "api_key"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    source_system_id: Mapped[int | None] = mapped_column(ForeignKey("source_system.id"))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
