"""Finding versions and schemas: by subject, semantic version or "latest", schema id,
or content.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts.registry.documents import load_candidate
from contracts.registry.errors import (
    AlreadyExists,
    SchemaNotFound,
    VersionNotFound,
)
from contracts.registry.models import (
    ContractVersion,
    RegistrySchema,
    Subject,
)
from contracts.registry.references import Reference
from contracts.registry.semver import SemVer
from contracts.registry.subjects import get_subject

LATEST = "latest"


def versions_of(
    session: Session, subject: Subject, include_deleted: bool = False
) -> list[ContractVersion]:
    """A subject's versions, oldest (lowest semantic version) first; soft-deleted ones only
    when asked."""
    query = select(ContractVersion).where(ContractVersion.subject_id == subject.id)
    if not include_deleted:
        query = query.where(ContractVersion.deleted_at.is_(None))
    return sorted(session.scalars(query), key=lambda v: (v.major, v.minor, v.patch))


def versions_of_subject(session: Session, subject: Subject) -> list[ContractVersion]:
    """Every version of a subject, soft-deleted ones included."""
    return versions_of(session, subject, include_deleted=True)


def list_versions(session: Session, name: str) -> list[ContractVersion]:
    return versions_of(session, get_subject(session, name))


def latest_versions(session: Session) -> dict[int, str]:
    """Subject id -> its highest semantic version, for listings."""
    rows = session.execute(
        select(
            ContractVersion.subject_id,
            ContractVersion.major,
            ContractVersion.minor,
            ContractVersion.patch,
            ContractVersion.version,
        ).where(ContractVersion.deleted_at.is_(None))
    )
    best: dict[int, tuple[tuple[int, int, int], str]] = {}
    for subject_id, major, minor, patch, text in rows:
        key = (major, minor, patch)
        if subject_id not in best or best[subject_id][0] < key:
            best[subject_id] = (key, text)
    return {subject_id: text for subject_id, (_, text) in best.items()}


def semver_of(version: ContractVersion) -> SemVer:
    return SemVer(version.major, version.minor, version.patch)


def get_version(session: Session, name: str, ref: str) -> ContractVersion:
    """`ref` is a semantic version ("1.2.0") or "latest" (the highest one)."""
    subject = get_subject(session, name)
    if ref == LATEST:
        versions = versions_of(session, subject)
        if not versions:
            raise VersionNotFound(f"Subject '{name}' has no versions yet.")
        return versions[-1]
    if not SemVer.is_valid(ref):
        raise VersionNotFound(f"Version '{ref}' not found: versions look like 1.2.0 or 'latest'.")
    found = session.scalar(
        select(ContractVersion).where(
            ContractVersion.subject_id == subject.id,
            ContractVersion.version == ref,
            ContractVersion.deleted_at.is_(None),
        )
    )
    if found is None:
        raise VersionNotFound(f"Subject '{name}' has no version {ref}.")
    return found


def get_version_by_number(
    session: Session, name: str, number: int | str, include_deleted: bool = False
) -> ContractVersion:
    """Confluent addressing: the per-subject sequence number, or "latest" (the newest)."""
    subject = get_subject(session, name)
    query = select(ContractVersion).where(ContractVersion.subject_id == subject.id)
    if not include_deleted:
        query = query.where(ContractVersion.deleted_at.is_(None))
    if number in (LATEST, -1):
        query = query.order_by(ContractVersion.number.desc()).limit(1)
    else:
        query = query.where(ContractVersion.number == number)
    found = session.scalar(query)
    if found is None:
        raise VersionNotFound(f"Version {number} of subject '{name}' not found.")
    return found


def get_by_schema_id(session: Session, schema_id: int) -> RegistrySchema:
    """A schema some version (soft-deleted included) still holds."""
    found = session.get(RegistrySchema, schema_id) if -(2**31) < schema_id < 2**31 else None
    if found is None or not versions_of_schema(session, schema_id, include_deleted=True):
        raise SchemaNotFound(f"Schema {schema_id} not found.")
    return found


def versions_of_schema(
    session: Session, schema_id: int, include_deleted: bool = False
) -> list[ContractVersion]:
    """Every (subject, version) holding a schema, by subject name and number."""
    query = select(ContractVersion).where(ContractVersion.schema_id == schema_id)
    if not include_deleted:
        query = query.where(ContractVersion.deleted_at.is_(None))
    return sorted(session.scalars(query), key=lambda v: (v.subject.name, v.number))


def schema_row(session: Session, fmt: str, digest: str, document: Any) -> RegistrySchema:
    """The one schema row of a distinct document (created on first use)."""
    query = select(RegistrySchema).where(
        RegistrySchema.format == fmt, RegistrySchema.fingerprint == digest
    )
    found = session.scalar(query)
    if found is not None:
        return found
    row = RegistrySchema(format=fmt, fingerprint=digest, document=document)
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:  # the same document registered meanwhile elsewhere
        session.rollback()
        raise AlreadyExists("The same schema was registered at the same time; retry.") from exc
    return row


def find_by_content(
    session: Session, name: str, content: Any, refs: Sequence[Reference] = ()
) -> ContractVersion:
    """The version of `name` holding exactly this document and references (Confluent's
    lookup)."""
    subject = get_subject(session, name)
    candidate = load_candidate(content, subject.format, refs)
    found = same_content(session, subject, candidate.fingerprint)
    if found is None:
        raise SchemaNotFound(f"Schema not found under subject '{name}'.")
    return found


def same_content(session: Session, subject: Subject, digest: str) -> ContractVersion | None:
    return session.scalar(
        select(ContractVersion)
        .where(
            ContractVersion.subject_id == subject.id,
            ContractVersion.fingerprint == digest,
            ContractVersion.deleted_at.is_(None),
        )
        .order_by(ContractVersion.number)
        .limit(1)
    )
