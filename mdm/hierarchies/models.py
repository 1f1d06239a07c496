"""Named hierarchies, their versions (draft to archived) and effective-dated node rows."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mdm.db import Base, BigId, UTCDateTime, utcnow

DRAFT, SUBMITTED, APPROVED, PUBLISHED, ARCHIVED = (
    "draft", "submitted", "approved", "published", "archived")
VERSION_STATUSES = (DRAFT, SUBMITTED, APPROVED, PUBLISHED, ARCHIVED)
HIERARCHY_DOMAINS = ("gl_account", "cost_center", "legal_entity")
# statutory/management: alternative roll-ups of one chart; ownership: the legal-entity
# structure with percentages (shared by nature: an entity may have several owners).
HIERARCHY_KINDS = ("standard", "statutory", "management", "ownership", "alternate")


class Hierarchy(Base):
    """A named structure over one domain's golden records (several per domain)."""

    __tablename__ = "hierarchy"
    __table_args__ = (Index("ix_hierarchy_domain", "domain", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    domain: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20), default="standard")
    allow_shared: Mapped[bool] = mapped_column(Boolean, default=False)
    # gl_account: the chart whose accounts the nodes are (node keys are account codes)
    chart: Mapped[str | None] = mapped_column(String(40))
    # cost_center: the legal entity a standard hierarchy belongs to
    legal_entity_code: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HierarchyVersion(Base):
    """One version of a hierarchy's content, moving draft -> submitted -> approved ->
    published -> archived. Only a draft's nodes change; at most one version is published."""

    __tablename__ = "hierarchy_version"
    __table_args__ = (
        UniqueConstraint("hierarchy_id", "number", name="uq_hierarchy_version_number"),
        Index("ix_hierarchy_version_status", "hierarchy_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    hierarchy_id: Mapped[str] = mapped_column(ForeignKey("hierarchy.id"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=DRAFT)
    based_on: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    node_count: Mapped[int] = mapped_column(Integer, default=0)
    # Everyone who created, edited or submitted the draft (actor identities): none of them
    # may approve it.
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by: Mapped[str | None] = mapped_column(String(200))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # bumped on every change (nodes included, see service._touch) so concurrent stewards
    # cannot both win, and so workers know their in-memory copy of the links is stale
    revision: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": revision}


class HierarchyNode(Base):
    """One period of one node in one version: parent, label and attributes from valid_from
    to valid_to (inclusive; NULL = open-ended). A planned move is a second row."""

    __tablename__ = "hierarchy_node"
    __table_args__ = (
        # children of a node (descendant walks) and a node's own rows (ancestor walks)
        Index("ix_hierarchy_node_parent", "version_id", "parent_key", "valid_from"),
        Index("ix_hierarchy_node_key", "version_id", "node_key", "valid_from"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("hierarchy_version.id", ondelete="CASCADE"))
    node_key: Mapped[str] = mapped_column(String(120))
    parent_key: Mapped[str | None] = mapped_column(String(120))
    golden_id: Mapped[str | None] = mapped_column(String(36))
    name: Mapped[str | None] = mapped_column(String(300))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    line: Mapped[int | None] = mapped_column(Integer)
