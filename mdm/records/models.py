from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from mdm.db import Base, BigId, UTCDateTime, utcnow

_PICKED = ["rule", "source_system", "source_id"]  # a survivorship pick, in this key order


class Provenance(TypeDecorator[dict[str, Any]]):
    """Provenance (attribute -> where its value comes from), stored without repeating the
    source of every attribute.

    Most attributes of a golden record come from one or two source records, so the stored
    form names each source once: ``["p1", [[system, source_id], ...], [[attr, rule, n],
    ...]]``, ``n`` indexing the sources. An entry of any other shape (a steward override,
    a held value) is kept as ``[attr, entry]``. Reading gives back the very dict that was
    written, key order included; a plain dict (rows written before this form) reads as is.
    """

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Any) -> Any:
        if not isinstance(value, dict):
            return value
        sources: list[list[Any]] = []
        index: dict[tuple[Any, Any], int] = {}
        items: list[list[Any]] = []
        last: tuple[Any, Any, int] | None = None  # attributes mostly share their source
        for attr, entry in value.items():
            if type(entry) is dict and len(entry) == 3 and list(entry) == _PICKED:
                system, source_id = entry["source_system"], entry["source_id"]
                if last is not None and last[0] == system and last[1] == source_id:
                    n = last[2]
                else:
                    key = (system, source_id)
                    n = index.get(key, -1)
                    if n < 0:
                        n = index[key] = len(sources)
                        sources.append([system, source_id])
                    last = (system, source_id, n)
                items.append([attr, entry["rule"], n])
            else:
                items.append([attr, entry])
        return ["p1", sources, items]

    def process_result_value(self, value: Any, dialect: Any) -> dict[str, Any] | None:
        if not (isinstance(value, list) and value and value[0] == "p1"):
            return value  # type: ignore[no-any-return]
        _, sources, items = value
        out: dict[str, Any] = {}
        for item in items:
            if len(item) == 3:
                system, source_id = sources[item[2]]
                out[item[0]] = {"rule": item[1], "source_system": system, "source_id": source_id}
            else:
                out[item[0]] = item[1]
        return out


ACTIVE, MERGED, RETIRED = "active", "merged", "retired"
GOLDEN_STATUSES = (ACTIVE, MERGED, RETIRED)
QUALITY_OK, QUALITY_WARNING, QUALITY_ERROR = "ok", "warning", "error"


class SourceRecord(Base):
    """One record as a source system sent it; never deleted, only deactivated."""

    __tablename__ = "source_record"
    __table_args__ = (
        UniqueConstraint("domain", "source_system_id", "source_id", name="uq_source_record_key"),
        Index("ix_source_record_golden", "golden_id"),
        Index("ix_source_record_domain_quality", "domain", "quality_status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    domain: Mapped[str] = mapped_column(String(64))
    source_system_id: Mapped[int] = mapped_column(ForeignKey("source_system.id"))
    source_id: Mapped[str] = mapped_column(String(200))
    golden_id: Mapped[str] = mapped_column(ForeignKey("golden_record.id"))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    quality_status: Mapped[str] = mapped_column(String(10), default=QUALITY_OK)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GoldenRecord(Base):
    """The one authoritative record per real-world thing."""

    __tablename__ = "golden_record"
    __table_args__ = (
        Index("ix_golden_record_domain_status", "domain", "status", "id"),
        Index("ix_golden_record_domain_search", "domain", "search_name"),
        Index("ix_golden_record_domain_quality", "domain", "quality_status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    domain: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default=ACTIVE)
    merged_into: Mapped[str | None] = mapped_column(ForeignKey("golden_record.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)
    # attribute -> {"rule", "source_system", "source_id"} (or a steward's / held entry)
    provenance: Mapped[dict[str, Any]] = mapped_column(Provenance)
    quality_status: Mapped[str] = mapped_column(String(10), default=QUALITY_OK)
    # Steward-pinned values that win survivorship: attribute -> {value, actor, reason, at}
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The display attribute folded for case- and accent-insensitive prefix search.
    search_name: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Optimistic concurrency: every UPDATE carries "WHERE version = <the version we read>",
    # so two writers never both win (the loser gets StaleDataError -> 409/412). Services
    # set the next version themselves so history numbers stay gap-free.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class GoldenVersion(Base):
    """Every version a golden record ever had: history and as-of reads."""

    __tablename__ = "golden_version"
    # as-of reads walk one record's few versions by the primary key: no other index

    golden_id: Mapped[str] = mapped_column(ForeignKey("golden_record.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    merged_into: Mapped[str | None] = mapped_column(String(36))
    # NULL: as the version before (mdm.records.history reads them back)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    provenance: Mapped[dict[str, Any] | None] = mapped_column(Provenance(none_as_null=True))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(100))
    # With status, attributes and valid_from, what the golden record's snapshot (events,
    # audit) showed at this version; NULL in versions written before they were kept.
    quality_status: Mapped[str | None] = mapped_column(String(10))
    overrides: Mapped[list[str] | None] = mapped_column(JSON)  # pinned attributes, sorted


class QualityIssue(Base):
    """A data-quality finding on a stored source record (stored and flagged, never dropped)."""

    __tablename__ = "quality_issue"
    __table_args__ = (
        Index("ix_quality_issue_domain_rule", "domain", "rule"),
        Index("ix_quality_issue_source_record", "source_record_id"),
        Index("ix_quality_issue_golden", "golden_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    domain: Mapped[str] = mapped_column(String(64))
    source_record_id: Mapped[int] = mapped_column(ForeignKey("source_record.id"))
    golden_id: Mapped[str] = mapped_column(String(36))
    attribute: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    source_record: Mapped[SourceRecord] = relationship()
