"""Stewardship state: review tasks, not-a-match decisions, merge lineage, change requests."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mdm.db import Base, BigId, UTCDateTime, utcnow

# Review task statuses. open and deferred are pending (at most one per set of golden ids).
OPEN, DEFERRED, MERGED, NOT_A_MATCH, CLOSED = "open", "deferred", "merged", "not_a_match", "closed"
TASK_STATUSES = (OPEN, DEFERRED, MERGED, NOT_A_MATCH, CLOSED)
PENDING_TASK = (OPEN, DEFERRED)
DECISIONS = ("merge", "not_a_match", "defer")

# Change request statuses and origins.
PENDING, APPROVED, REJECTED, SUPERSEDED = "pending", "approved", "rejected", "superseded"
CHANGE_STATUSES = (PENDING, APPROVED, REJECTED, SUPERSEDED)
FROM_OVERRIDE = "override"  # a steward pinning a value
FROM_SURVIVORSHIP = "survivorship"  # a value survivorship computed from source records

MERGE, UNMERGE = "merge", "unmerge"


class ReviewTask(Base):
    """A potential match (two or more golden records) waiting for a steward's decision."""

    __tablename__ = "review_task"
    __table_args__ = (
        # One pending task per set of golden ids; open_key is NULL once decided.
        UniqueConstraint("domain", "open_key", name="uq_review_task_open_key"),
        Index("ix_review_task_domain_status", "domain", "status", "id"),
        Index("ix_review_task_assignee", "assignee", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    domain: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default=OPEN)
    golden_ids: Mapped[list[str]] = mapped_column(JSON)
    open_key: Mapped[str | None] = mapped_column(String(64))
    source_record_ids: Mapped[list[int] | None] = mapped_column(JSON)
    # ",COUPA,SAP," : the systems of the records involved, delimited for a LIKE filter
    source_systems: Mapped[str] = mapped_column(String(400), default=",")
    score: Mapped[float] = mapped_column(Float)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)
    assignee: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deferred_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(String(20))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    operation_id: Mapped[str | None] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class ReviewTaskGolden(Base):
    """Which golden records a task is about: finds the tasks a merge or decision settles."""

    __tablename__ = "review_task_golden"
    __table_args__ = (Index("ix_review_task_golden_golden", "golden_id"),)

    task_id: Mapped[str] = mapped_column(ForeignKey("review_task.id"), primary_key=True)
    golden_id: Mapped[str] = mapped_column(String(36), primary_key=True)


class NotAMatch(Base):
    """A durable steward decision that two records are different things.

    Keys are golden ids, or ``sr:<source record id>`` for source-record-level decisions;
    ``left_key`` < ``right_key``. ``active_key`` is set while the decision holds.
    """

    __tablename__ = "not_a_match"
    __table_args__ = (
        UniqueConstraint("domain", "active_key", name="uq_not_a_match_active_key"),
        Index("ix_not_a_match_left", "domain", "left_key"),
        Index("ix_not_a_match_right", "domain", "right_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    domain: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))  # golden | source_record
    left_key: Mapped[str] = mapped_column(String(40))
    right_key: Mapped[str] = mapped_column(String(40))
    active_key: Mapped[str | None] = mapped_column(String(90))
    origin: Mapped[str] = mapped_column(String(60), default="steward")
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    request_id: Mapped[str | None] = mapped_column(String(100))
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(Text)


class LineageOperation(Base):
    """One merge or unmerge: who was merged into whom, which source records moved."""

    __tablename__ = "lineage_operation"
    __table_args__ = (
        Index("ix_lineage_operation_survivor", "survivor_id"),
        Index("ix_lineage_operation_undoes", "undoes"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    domain: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))  # merge | unmerge
    # merge: the record that stands for the others now; unmerge: the record split from
    survivor_id: Mapped[str] = mapped_column(String(36))
    # merge: the records merged away; unmerge: the new record(s) split out
    other_ids: Mapped[list[str]] = mapped_column(JSON)
    source_record_ids: Mapped[list[int]] = mapped_column(JSON)
    undoes: Mapped[str | None] = mapped_column(String(36))  # unmerge of this merge
    review_task_id: Mapped[str | None] = mapped_column(String(36))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LineageLink(Base):
    """Every golden id an operation touched, so lineage is an indexed lookup."""

    __tablename__ = "lineage_link"
    __table_args__ = (Index("ix_lineage_link_golden", "golden_id"),)

    operation_id: Mapped[str] = mapped_column(ForeignKey("lineage_operation.id"),
                                              primary_key=True)
    golden_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    role: Mapped[str] = mapped_column(String(10))  # survivor | victim | source | split


class ChangeRequest(Base):
    """A held change to an attribute that needs a second steward's approval (four eyes)."""

    __tablename__ = "change_request"
    __table_args__ = (
        # One pending request per golden record, attribute and origin; NULL once decided.
        UniqueConstraint("pending_key", name="uq_change_request_pending_key"),
        Index("ix_change_request_domain_status", "domain", "status", "id"),
        Index("ix_change_request_golden", "golden_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    domain: Mapped[str] = mapped_column(String(64))
    golden_id: Mapped[str] = mapped_column(ForeignKey("golden_record.id"))
    attribute: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON)
    previous: Mapped[Any] = mapped_column(JSON, nullable=True)
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    origin: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default=PENDING)
    pending_key: Mapped[str | None] = mapped_column(String(120))
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    request_id: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
