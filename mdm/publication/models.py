from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mdm.db import Base, BigId, UTCDateTime, utcnow

WEBHOOK, FILE, AMQP = "webhook", "file", "amqp"
CHANNELS = (WEBHOOK, FILE, AMQP)
ON_CHANGE, SCHEDULE = "on_change", "schedule"
TRIGGERS = (ON_CHANGE, SCHEDULE)
SNAPSHOT, DELTA = "snapshot", "delta"
SCHEDULE_MODES = (SNAPSHOT, DELTA)

# Delivery states. A pending delivery with attempts > 0 is "retrying".
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
DELIVERY_STATUSES = (PENDING, DELIVERED, DEAD)
# Why a delivery exists: a routed change, a replayed change, or a snapshot of a record.
KIND_CHANGE, KIND_REPLAY, KIND_SNAPSHOT = "change", "replay", "snapshot"

RUN_PENDING, RUN_RUNNING, RUN_SUCCEEDED, RUN_FAILED = "pending", "running", "succeeded", "failed"


class Subscription(Base):
    """Which target system receives which master data, how (channel) and when (trigger)."""

    __tablename__ = "publication_subscription"
    __table_args__ = (Index("ix_publication_subscription_active", "active", "trigger"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    # Source system code whose own ids (from the crosswalk) travel with each record
    target_system: Mapped[str | None] = mapped_column(String(64))
    domains: Mapped[list[str]] = mapped_column(JSON)
    # {"statuses": [...], "attributes": {name: value | [values]}, "exclude_quality": [...]}
    filter: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    channel: Mapped[str] = mapped_column(String(20))
    channel_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Webhook signing secrets, newest first: [{"secret", "created_at", "expires_at"}]
    secrets: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    trigger: Mapped[str] = mapped_column(String(20), default=ON_CHANGE)
    schedule: Mapped[str | None] = mapped_column(String(100))
    schedule_mode: Mapped[str] = mapped_column(String(20), default=SNAPSHOT)
    contract_subject: Mapped[str | None] = mapped_column(String(200))
    contract_version: Mapped[str | None] = mapped_column(String(50))
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    retry_initial_seconds: Mapped[float] = mapped_column(Float, default=1.0)
    retry_max_seconds: Mapped[float] = mapped_column(Float, default=600.0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Delivery(Base):
    """One message for one subscription, and its log: attempts, last error, outcome.

    ``event_id`` is the idempotency key: a retry or replay of a change carries the same one.
    """

    __tablename__ = "publication_delivery"
    __table_args__ = (
        Index("ix_publication_delivery_claim", "subscription_id", "status", "id"),
        Index("ix_publication_delivery_order", "subscription_id", "golden_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("publication_subscription.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10), default=KIND_CHANGE)
    event_id: Mapped[str] = mapped_column(String(36))
    # change_event.id for change and replay deliveries; NULL for snapshots
    change_event_id: Mapped[int | None] = mapped_column(BigInteger)
    position: Mapped[int | None] = mapped_column(BigInteger)
    domain: Mapped[str] = mapped_column(String(64))
    golden_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The delivery table for Core bulk inserts (executemany, without the ORM's bulk machinery)
DELIVERY_TABLE = cast(Table, Delivery.__table__)


class Run(Base):
    """One scheduled, backfill or manual snapshot/delta of a subscription.

    The unique (subscription, scheduled_for) pair is what stops two schedulers from
    triggering the same cron tick twice.
    """

    __tablename__ = "publication_run"
    __table_args__ = (
        UniqueConstraint("subscription_id", "scheduled_for", name="uq_publication_run_tick"),
        Index("ix_publication_run_subscription_status", "subscription_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("publication_subscription.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(20))  # schedule | backfill | manual
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default=RUN_PENDING)
    from_position: Mapped[int | None] = mapped_column(BigInteger)
    to_position: Mapped[int | None] = mapped_column(BigInteger)
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    files: Mapped[list[str]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RouterCursor(Base):
    """How far the router has fanned sequenced change events out into deliveries."""

    __tablename__ = "publication_cursor"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
