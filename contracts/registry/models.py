"""Registry tables on their own declarative base (contracts never imports the hub's `mdm.db`);
the naming convention matches the hub's so one Alembic environment manages both."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

FORMATS = ("openapi", "jsonschema", "asyncapi")
DRAFT, ACTIVE, DEPRECATED, RETIRED = "draft", "active", "deprecated", "retired"
LIFECYCLES = (DRAFT, ACTIVE, DEPRECATED, RETIRED)
VERSION_STATES = (ACTIVE, DEPRECATED)


class RegistryBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamps on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class Subject(RegistryBase):
    """A named contract: an API description or an event type's schema."""

    __tablename__ = "registry_subject"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    format: Mapped[str] = mapped_column(String(12))
    owner_team: Mapped[str] = mapped_column(String(100))
    lifecycle: Mapped[str] = mapped_column(String(12), default=DRAFT)
    sunset_date: Mapped[date | None] = mapped_column(Date)
    domain: Mapped[str | None] = mapped_column(String(64))
    # None: the registry-wide default applies
    compatibility: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_registry_subject_domain", "domain"),)


class RegistrySchema(RegistryBase):
    """One distinct document per format: its id is the schema id Confluent clients see, the
    same for every subject and version holding the same (canonical) document."""

    __tablename__ = "registry_schema"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    format: Mapped[str] = mapped_column(String(12))
    fingerprint: Mapped[str] = mapped_column(String(64))
    document: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("format", "fingerprint", name="uq_registry_schema_format_fingerprint"),
    )


class ContractVersion(RegistryBase):
    """One immutable version of a subject.

    `schema_id` is the registry-wide schema id (one per distinct document) and `number` the
    per-subject sequence (1, 2, ...) that Confluent clients see; `version` is the semantic
    version people see. A soft-deleted version (`deleted_at`) is hidden from listings and
    compatibility checks; it keeps its number, which is never reused.
    """

    __tablename__ = "registry_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("registry_subject.id"))
    number: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(40))
    major: Mapped[int] = mapped_column(Integer)
    minor: Mapped[int] = mapped_column(Integer)
    patch: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    document: Mapped[Any] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(12), default=ACTIVE)
    sunset_date: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    schema_id: Mapped[int] = mapped_column(ForeignKey("registry_schema.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    subject: Mapped[Subject] = relationship(lazy="joined")
    references: Mapped[list[SchemaReference]] = relationship(
        foreign_keys="SchemaReference.version_id",
        order_by="SchemaReference.position",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        UniqueConstraint("subject_id", "number", name="uq_registry_version_subject_number"),
        UniqueConstraint("subject_id", "version", name="uq_registry_version_subject_version"),
        Index("ix_registry_version_fingerprint", "subject_id", "fingerprint"),
        Index("ix_registry_version_schema_id", "schema_id"),
    )


class SchemaReference(RegistryBase):
    """A Confluent schema reference: `version` resolves `$ref`s to `name` with `target`.

    The target is a version row (not a subject name and number) so that `referencedby` is one
    indexed lookup and a referenced version cannot be deleted from under its referrers.
    """

    __tablename__ = "registry_reference"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("registry_version.id"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    target_id: Mapped[int] = mapped_column(ForeignKey("registry_version.id"))

    target: Mapped[ContractVersion] = relationship(foreign_keys=[target_id], lazy="joined")

    __table_args__ = (
        UniqueConstraint("version_id", "name", name="uq_registry_reference_version_name"),
        Index("ix_registry_reference_target_id", "target_id"),
    )


class Consumer(RegistryBase):
    """System X consumes subject S within version range R."""

    __tablename__ = "registry_consumer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("registry_subject.id"))
    system: Mapped[str] = mapped_column(String(100))
    version_range: Mapped[str] = mapped_column(String(100))
    contact: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("subject_id", "system", name="uq_registry_consumer_subject_system"),
    )


class RegistrySetting(RegistryBase):
    """Registry-wide settings, e.g. the default compatibility mode."""

    __tablename__ = "registry_setting"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


metadata = RegistryBase.metadata
