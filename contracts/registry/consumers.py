"""Declared consumers: system X reads subject S within version range R."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts.registry.context import RegistryContext
from contracts.registry.errors import (
    AlreadyExists,
    ConsumerNotFound,
    InvalidRequest,
)
from contracts.registry.models import (
    Consumer,
    Subject,
)
from contracts.registry.semver import VersionRange
from contracts.registry.subjects import _UNSET, get_subject


def consumer_state(consumer: Consumer) -> dict[str, Any]:
    return {
        "system": consumer.system,
        "version_range": consumer.version_range,
        "contact": consumer.contact,
    }


def list_consumers_of(session: Session, subject: Subject) -> list[Consumer]:
    return list(
        session.scalars(
            select(Consumer).where(Consumer.subject_id == subject.id).order_by(Consumer.system)
        )
    )


def list_consumers(session: Session, name: str) -> list[Consumer]:
    return list_consumers_of(session, get_subject(session, name))


def get_consumer(session: Session, name: str, system: str) -> Consumer:
    subject = get_subject(session, name)
    if "\x00" in system:
        raise ConsumerNotFound(f"System {system!r} is not a declared consumer of '{name}'.")
    consumer = session.scalar(
        select(Consumer).where(Consumer.subject_id == subject.id, Consumer.system == system)
    )
    if consumer is None:
        raise ConsumerNotFound(f"System '{system}' is not a declared consumer of '{name}'.")
    return consumer


def declare_consumer(
    session: Session,
    ctx: RegistryContext,
    name: str,
    *,
    system: str,
    version_range: str,
    contact: str | None = None,
) -> Consumer:
    subject = get_subject(session, name)
    if not (system or "").strip():
        raise InvalidRequest("The consuming system is required.", errors={"system": ["Required."]})
    VersionRange.parse(version_range)
    exists = session.scalar(
        select(Consumer.id).where(Consumer.subject_id == subject.id, Consumer.system == system)
    )
    if exists is not None:
        raise AlreadyExists(
            f"System '{system}' already consumes '{name}'; update it instead.",
            errors={"system": ["Already declared."]},
        )
    consumer = Consumer(
        subject_id=subject.id, system=system.strip(), version_range=version_range, contact=contact
    )
    session.add(consumer)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise AlreadyExists(f"System '{system}' already consumes '{name}'.") from exc
    ctx.record(
        session,
        "registry.consumer.declare",
        "registry_consumer",
        f"{name}:{system}",
        after=consumer_state(consumer),
    )
    session.commit()
    return consumer


def update_consumer(
    session: Session,
    ctx: RegistryContext,
    name: str,
    system: str,
    *,
    version_range: str | None = None,
    contact: str | None = _UNSET,
) -> Consumer:
    consumer = get_consumer(session, name, system)
    before = consumer_state(consumer)
    if version_range is not None:
        VersionRange.parse(version_range)
        consumer.version_range = version_range
    if contact is not _UNSET:
        consumer.contact = contact
    ctx.record(
        session,
        "registry.consumer.update",
        "registry_consumer",
        f"{name}:{system}",
        before=before,
        after=consumer_state(consumer),
    )
    session.commit()
    return consumer


def remove_consumer(session: Session, ctx: RegistryContext, name: str, system: str) -> None:
    consumer = get_consumer(session, name, system)
    before = consumer_state(consumer)
    session.delete(consumer)
    ctx.record(
        session, "registry.consumer.remove", "registry_consumer", f"{name}:{system}", before=before
    )
    session.commit()
