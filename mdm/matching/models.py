"""Matching state in the database: the blocking index, trained parameters and decisions.

The index holds, per active source record, its normalised feature row and its blocking
keys under the settings version that produced them. It stores no golden id: stewards'
merges and unmerges move source records between golden records, so the golden record is
always read from ``source_record`` at lookup time.
"""
from __future__ import annotations

import struct
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from mdm.db import Base, BigId, UTCDateTime, utcnow

INCREMENTAL, BATCH = "incremental", "batch"
KEY_LENGTH = 250  # longer blocking keys are cut; both writers and lookups cut alike


class KeyHashes(TypeDecorator[tuple[int, ...]]):
    """A sequence of signed 64-bit ints stored packed (little-endian), read as a tuple."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        return struct.pack(f"<{len(value)}q", *value)

    def process_result_value(self, value: Any, dialect: Dialect) -> tuple[int, ...] | None:
        if value is None:
            return None
        return struct.unpack(f"<{len(value) // 8}q", bytes(value))


class MatchBlockingKey(Base):
    """One blocking key of one source record: records sharing a key are candidates.

    The key is stored as a 64-bit hash of "<domain>\\0<rule>:<value>" (``index.key_hash``):
    about 20 bytes a row instead of the key's text twice (table and index). The primary
    key is the only index and the lookup path: key -> source records, newest last. Rows
    are removed by (key_hash, source_record_id), read back from ``MatchPrepared.key_hashes``,
    so no second index on source_record_id is needed. No foreign key either: the table is
    derived data that ``index.forget`` keeps in step with ``match_prepared``.
    """

    __tablename__ = "match_blocking_key"
    __table_args__ = {"sqlite_with_rowid": False}

    key_hash: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    source_record_id: Mapped[int] = mapped_column(BigInteger, primary_key=True,
                                                  autoincrement=False)


class MatchPrepared(Base):
    """A source record's normalised feature row, so candidates are not normalised again,
    and the hashes of the blocking keys written for it (so they can be removed exactly)."""

    __tablename__ = "match_prepared"

    source_record_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("source_record.id"), primary_key=True, autoincrement=False)
    domain: Mapped[str] = mapped_column(String(64))
    settings_version: Mapped[str] = mapped_column(String(100))
    # The source record's content hash when the row was computed: a mismatch means stale.
    content_hash: Mapped[str] = mapped_column(String(64))
    features: Mapped[list[Any]] = mapped_column(JSON)
    # The record's rows in match_blocking_key (their key hashes), 8 bytes each.
    key_hashes: Mapped[tuple[int, ...]] = mapped_column(KeyHashes)


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
