"""Changing versions: registration, deletion, deprecation, and reading them back as a
changelog or a resolved schema.

Every use case takes the session and commits once (or not at all on failure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts.compatibility.modes import diff_contracts
from contracts.compatibility.result import CompatibilityResult, Mode
from contracts.registry import references
from contracts.registry.consumers import consumer_state, list_consumers_of
from contracts.registry.context import RegistryContext
from contracts.registry.documents import contract_of
from contracts.registry.errors import (
    AlreadyExists,
    IncompatibleVersion,
    InvalidRequest,
    LifecycleConflict,
    SchemaNotFound,
    SubjectNotSoftDeleted,
    SubjectSoftDeleted,
    VersionNotFound,
    VersionNotSoftDeleted,
    VersionSoftDeleted,
)
from contracts.registry.evaluation import Evaluation, evaluate
from contracts.registry.lookup import (
    LATEST,
    get_version,
    get_version_by_number,
    schema_row,
    semver_of,
    versions_of,
)
from contracts.registry.models import (
    ACTIVE,
    DEPRECATED,
    RETIRED,
    VERSION_STATES,
    Consumer,
    ContractVersion,
    SchemaReference,
    Subject,
    utcnow,
)
from contracts.registry.references import Reference
from contracts.registry.semver import FIRST, VersionRange
from contracts.registry.settings import effective_mode
from contracts.registry.subjects import get_subject


@dataclass(frozen=True)
class Registration:
    version: ContractVersion
    created: bool
    evaluation: Evaluation = field(repr=False)


def register_version(
    session: Session,
    ctx: RegistryContext,
    name: str,
    content: Any,
    *,
    version: str | None = None,
    bump: str | None = None,
    allow_major_under_none: bool = False,
    confluent: bool = False,
    refs: Sequence[Reference] = (),
) -> Registration:
    """Register a new immutable version (with its schema references, if any); identical
    content returns the existing version. One transaction."""
    subject = get_subject(session, name)
    evaluation = evaluate(
        session,
        subject,
        content,
        version=version,
        bump=bump,
        allow_major_under_none=allow_major_under_none,
        confluent=confluent,
        refs=refs,
    )
    if evaluation.identical_to is not None:
        return Registration(evaluation.identical_to, False, evaluation)
    if subject.lifecycle == RETIRED:
        raise LifecycleConflict(f"Subject '{name}' is retired; it takes no new versions.")
    if evaluation.refusal is not None:
        raise IncompatibleVersion(
            evaluation.refusal,
            errors={"content": [c.message for c in evaluation.breaking]},
            changes=[c.to_dict() for c in evaluation.breaking],
            affected_consumers=[consumer_state(c) for c in evaluation.affected],
        )
    proposed = evaluation.proposed or FIRST
    taken = {v.version for v in versions_of(session, subject, include_deleted=True)}
    if version is not None and str(proposed) in taken:
        raise AlreadyExists(
            f"'{name}' already had version {proposed} (soft-deleted); choose another.",
            errors={"version": ["Already used by a deleted version."]},
        )
    while str(proposed) in taken:  # a soft-deleted version keeps its semantic version
        proposed = proposed.bump("patch")
    schema = schema_row(
        session, subject.format, evaluation.candidate.fingerprint, evaluation.candidate.document
    )
    number = (
        session.scalar(
            select(func.max(ContractVersion.number)).where(ContractVersion.subject_id == subject.id)
        )
        or 0
    ) + 1
    row = ContractVersion(
        subject_id=subject.id,
        number=number,
        version=str(proposed),
        major=proposed.major,
        minor=proposed.minor,
        patch=proposed.patch,
        fingerprint=evaluation.candidate.fingerprint,
        document=evaluation.candidate.document,
        state=ACTIVE,
        created_by=ctx.actor,
        schema_id=schema.id,
        references=[
            SchemaReference(position=i, name=r.name, target_id=r.target.id)
            for i, r in enumerate(evaluation.candidate.references)
        ],
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise AlreadyExists(
            f"Another version of '{name}' was registered at the same time; retry."
        ) from exc
    ctx.record(
        session,
        "registry.version.register",
        "registry_version",
        f"{name}@{row.version}",
        after={
            "subject": name,
            "version": row.version,
            "number": number,
            "fingerprint": row.fingerprint,
            "changes": len(evaluation.changes),
            "references": [r.to_dict() for r in evaluation.candidate.references],
        },
    )
    session.commit()
    return Registration(row, True, evaluation)


def delete_version(
    session: Session, ctx: RegistryContext, name: str, number: int | str, *, permanent: bool
) -> int:
    """Soft delete hides a version (its number is never reused); a permanent delete removes a
    soft-deleted one. Returns the version number."""
    subject = get_subject(session, name)
    if number in (LATEST, -1) and permanent:
        found = get_version_by_number(session, name, LATEST, include_deleted=True)
    else:
        found = get_version_by_number(session, name, number, include_deleted=True)
        if number in (LATEST, -1):
            found = get_version_by_number(session, name, LATEST)
    if permanent and found.deleted_at is None:
        raise VersionNotSoftDeleted(
            f"Subject '{name}' Version {found.number} was not deleted first before being "
            "permanently deleted"
        )
    if not permanent and found.deleted_at is not None:
        raise VersionSoftDeleted(
            f"Subject '{name}' Version {found.number} was soft deleted. Set permanent=true "
            "to delete permanently"
        )
    references.refuse_if_referenced(session, [found], permanent=permanent)
    _delete(session, ctx, subject, [found], permanent)
    session.commit()
    return found.number


def delete_subject(
    session: Session, ctx: RegistryContext, name: str, *, permanent: bool
) -> list[int]:
    """Soft delete every version of a subject, or (permanent, after a soft delete) remove the
    subject and its versions. Returns the version numbers."""
    subject = get_subject(session, name)
    every = versions_of(session, subject, include_deleted=True)
    live = [v for v in every if v.deleted_at is None]
    if permanent:
        if live:
            raise SubjectNotSoftDeleted(
                f"Subject '{name}' was not deleted first before being permanently deleted"
            )
        if session.scalar(select(Consumer.id).where(Consumer.subject_id == subject.id)):
            raise LifecycleConflict(
                f"Subject '{name}' still has declared consumers; remove them first."
            )
        references.refuse_if_referenced(session, every, permanent=True)
        _delete(session, ctx, subject, every, True)
        session.delete(subject)
        numbers = sorted(v.number for v in every)
    else:
        if every and not live:
            raise SubjectSoftDeleted(f"Subject '{name}' was soft deleted.")
        references.refuse_if_referenced(session, live, permanent=False)
        _delete(session, ctx, subject, live, False)
        numbers = sorted(v.number for v in live)
    session.commit()
    return numbers


def _delete(
    session: Session,
    ctx: RegistryContext,
    subject: Subject,
    versions: list[ContractVersion],
    permanent: bool,
) -> None:
    when = utcnow()
    for version in versions:
        ctx.record(
            session,
            "registry.version.delete" if permanent else "registry.version.soft_delete",
            "registry_version",
            f"{subject.name}@{version.version}",
            before={"number": version.number, "schema_id": version.schema_id},
        )
        if permanent:
            session.delete(version)
        else:
            version.deleted_at = when
    session.flush()


def subject_is_soft_deleted(session: Session, subject: Subject) -> bool:
    every = versions_of(session, subject, include_deleted=True)
    return bool(every) and all(v.deleted_at is not None for v in every)


def update_version(
    session: Session,
    ctx: RegistryContext,
    name: str,
    ref: str,
    *,
    state: str,
    sunset_date: date | None = None,
) -> ContractVersion:
    """Deprecate a version (or take the deprecation back); its content never changes."""
    row = get_version(session, name, ref)
    if state not in VERSION_STATES:
        raise InvalidRequest(
            "Unknown state", errors={"state": [f"One of {', '.join(VERSION_STATES)}."]}
        )
    before = {"state": row.state, "sunset_date": _iso(row.sunset_date)}
    row.state = state
    row.sunset_date = sunset_date if state == DEPRECATED else None
    ctx.record(
        session,
        "registry.version.update",
        "registry_version",
        f"{name}@{row.version}",
        before=before,
        after={"state": row.state, "sunset_date": _iso(row.sunset_date)},
    )
    session.commit()
    return row


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def consumers_of_version(session: Session, version: ContractVersion) -> list[Consumer]:
    """Declared consumers whose range still admits this version."""
    return [
        c
        for c in list_consumers_of(session, version.subject)
        if VersionRange.parse(c.version_range).admits(version.version)
    ]


@dataclass(frozen=True)
class ChangelogEntry:
    """Every change `version` made to `previous`; `breaking` judged in the directions of the
    subject's mode (BACKWARD when the mode is NONE)."""

    version: ContractVersion
    previous: ContractVersion
    result: CompatibilityResult
    breaking: bool


def changelog(
    session: Session, name: str, *, since: str | None = None, until: str | None = None
) -> list[ChangelogEntry]:
    """The changes each version made to its predecessor, for versions in (since, until]."""
    subject = get_subject(session, name)
    versions = versions_of(session, subject)
    low = semver_of(get_version(session, name, since)) if since else None
    high = semver_of(get_version(session, name, until)) if until else None
    if low is not None and high is not None and high < low:
        raise InvalidRequest(
            "'until' is lower than 'since'.", errors={"until": ["Must not be lower than since."]}
        )
    directions = effective_mode(session, subject).directions or Mode.BACKWARD.directions
    entries = []
    for previous, current in zip(versions, versions[1:], strict=False):
        semver = semver_of(current)
        if (low is not None and semver <= low) or (high is not None and semver > high):
            continue
        result = diff_contracts(contract_of(previous), contract_of(current), subject.format)
        breaking = any(c.blocking and c.direction in directions for c in result.changes)
        entries.append(ChangelogEntry(current, previous, result, breaking))
    return entries


def resolve_schema(session: Session, subject: str, version: str | None = None) -> dict[str, Any]:
    """The JSON Schema document of a subject version ("1.2.0"), or of its latest active
    version when `version` is None. Raises SubjectNotFound / VersionNotFound / SchemaNotFound
    (all `ContractError`s with status 404)."""
    found = get_subject(session, subject)
    if found.format != "jsonschema":
        raise SchemaNotFound(
            f"Subject '{subject}' holds {found.format} documents, not JSON Schema."
        )
    if version is not None:
        row = get_version(session, subject, version)
    else:
        if found.lifecycle == RETIRED:
            raise VersionNotFound(f"Subject '{subject}' is retired.")
        active = [v for v in versions_of(session, found) if v.state == ACTIVE]
        if not active:
            raise VersionNotFound(f"Subject '{subject}' has no active version.")
        row = active[-1]
    document = references.bundle(row.document, references.of_version(row))
    if isinstance(document, bool):  # `true` / `false` are schemas too
        return {} if document else {"not": {}}
    return dict(document)
