"""Matching state in the database: the blocking index, trained parameters and decisions.

The index holds, per active source record, its normalised feature row and its blocking
keys under the settings version that produced them. It stores no golden id: stewards'
merges and unmerges move source records between golden records, so the golden record is
always read from ``source_record`` at lookup time.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mdm.db import Base, UTCDateTime, utcnow
from mdm.records.models import BigId

INCREMENTAL, BATCH = "incremental", "batch"
KEY_LENGTH = 250  # longer blocking keys are cut; both writers and lookups cut alike


class MatchBlockingKey(Base):
    """One blocking key of one source record: records sharing a key are candidates."""

    __tablename__ = "match_blocking_key"
    __table_args__ = (Index("ix_match_blocking_key_source_record", "source_record_id"),)

    # The primary key is the lookup path: (domain, key) -> source records, newest last.
    domain: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    source_record_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("source_record.id"), primary_key=True)


class MatchPrepared(Base):
    """A source record's normalised feature row, so candidates are not normalised again."""

    __tablename__ = "match_prepared"

    source_record_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("source_record.id"), primary_key=True, autoincrement=False)
    domain: Mapped[str] = mapped_column(String(64))
    settings_version: Mapped[str] = mapped_column(String(100))
    # The source record's content hash when the row was computed: a mismatch means stale.
    content_hash: Mapped[str] = mapped_column(String(64))
    features: Mapped[list[Any]] = mapped_column(JSON)


class MatchParams(Base):
    """Trained Fellegi-Sunter parameters of a domain for one settings version."""

    __tablename__ = "match_params"
    __table_args__ = (Index("ix_match_params_domain_settings", "domain", "settings_version", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    domain: Mapped[str] = mapped_column(String(64))
    settings_version: Mapped[str] = mapped_column(String(100))
    params_version: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    records: Mapped[int] = mapped_column(Integer, default=0)
    trained_by: Mapped[str] = mapped_column(String(200))
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MatchDecisionRecord(Base):
    """Why a source record went where it went: the engine's decision and explanation."""

    __tablename__ = "match_decision"
    __table_args__ = (
        Index("ix_match_decision_golden", "golden_id", "id"),
        Index("ix_match_decision_source_record", "source_record_id", "id"),
        Index("ix_match_decision_domain", "domain", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    domain: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(12))  # incremental | batch
    # The record decided on (incremental) or one record of the merged cluster (batch).
    source_record_id: Mapped[int | None] = mapped_column(BigId)
    golden_id: Mapped[str] = mapped_column(String(36))  # where the record ended up
    action: Mapped[str] = mapped_column(String(12))  # merge | review | new
    probability: Mapped[float | None] = mapped_column(Float)
    # Golden records the decision involves besides golden_id (merge target, review peers).
    related_golden_ids: Mapped[list[str]] = mapped_column(JSON)
    review_task_id: Mapped[str | None] = mapped_column(String(36))
    settings_version: Mapped[str] = mapped_column(String(100))
    params_version: Mapped[str] = mapped_column(String(40))
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
