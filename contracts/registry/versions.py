"""Versions: evaluation, registration, deletion, deprecation, changelog and schema resolution.

Every use case takes the session and commits once (or not at all on failure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts.compatibility.modes import check_compatibility, diff_contracts
from contracts.compatibility.result import Change, CompatibilityResult, Level, Mode
from contracts.registry import references
from contracts.registry.consumers import consumer_state, list_consumers_of
from contracts.registry.context import RegistryContext
from contracts.registry.documents import Candidate, contract_of, load_candidate
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
from contracts.registry.models import (
    ACTIVE,
    DEPRECATED,
    RETIRED,
    VERSION_STATES,
    Consumer,
    ContractVersion,
    RegistrySchema,
    SchemaReference,
    Subject,
    utcnow,
)
from contracts.registry.references import Reference
from contracts.registry.semver import BUMPS, FIRST, SemVer, VersionRange
from contracts.registry.settings import effective_mode
from contracts.registry.subjects import get_subject

LATEST = "latest"


def _versions(
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
    return _versions(session, subject, include_deleted=True)


def list_versions(session: Session, name: str) -> list[ContractVersion]:
    return _versions(session, get_subject(session, name))


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


def _semver(version: ContractVersion) -> SemVer:
    return SemVer(version.major, version.minor, version.patch)


def get_version(session: Session, name: str, ref: str) -> ContractVersion:
    """`ref` is a semantic version ("1.2.0") or "latest" (the highest one)."""
    subject = get_subject(session, name)
    if ref == LATEST:
        versions = _versions(session, subject)
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


def _schema_row(session: Session, fmt: str, digest: str, document: Any) -> RegistrySchema:
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
    found = _same_content(session, subject, candidate.fingerprint)
    if found is None:
        raise SchemaNotFound(f"Schema not found under subject '{name}'.")
    return found


def _same_content(session: Session, subject: Subject, digest: str) -> ContractVersion | None:
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


@dataclass(frozen=True)
class Evaluation:
    """What registering a candidate would do, computed without writing anything."""

    subject: Subject
    mode: Mode
    candidate: Candidate
    identical_to: ContractVersion | None = None
    proposed: SemVer | None = None
    compared_with: tuple[str, ...] = ()
    result: CompatibilityResult | None = None
    refusal: str | None = None
    affected: tuple[Consumer, ...] = ()

    @property
    def changes(self) -> tuple[Change, ...]:
        return self.result.changes if self.result is not None else ()

    @property
    def breaking(self) -> tuple[Change, ...]:
        return self.result.breaking if self.result is not None else ()

    @property
    def compatible(self) -> bool:
        """Compatible under the subject's mode (NONE accepts everything)."""
        return not self.mode.directions or not self.breaking

    @property
    def registrable(self) -> bool:
        return self.refusal is None


def evaluate(
    session: Session,
    subject: Subject,
    content: Any,
    *,
    version: str | None = None,
    bump: str | None = None,
    allow_major_under_none: bool = False,
    confluent: bool = False,
    refs: Sequence[Reference] = (),
) -> Evaluation:
    """Judge a candidate against the subject's versions and its compatibility mode.

    A breaking change (under the mode, or under BACKWARD when the mode is NONE) needs a new
    major version, given explicitly (`version` or `bump="major"`); Confluent clients cannot say
    so, hence `allow_major_under_none`, which lets NONE-mode registrations take one.
    """
    candidate = load_candidate(content, subject.format, refs)
    mode = effective_mode(session, subject)
    versions = _versions(session, subject)
    identical = next((v for v in versions if v.fingerprint == candidate.fingerprint), None)
    if identical is not None:
        return Evaluation(
            subject, mode, candidate, identical_to=identical, proposed=_semver(identical)
        )
    latest = _semver(versions[-1]) if versions else None
    requested = _requested(versions, latest, version, bump)
    if latest is None:
        return Evaluation(subject, mode, candidate, proposed=requested or FIRST)
    # A transitive mode compares with every version since the last major bump.
    scope = [v for v in versions if v.major == latest.major] if mode.transitive else versions[-1:]
    judged = mode if mode.directions else Mode.BACKWARD
    result = check_compatibility(
        candidate.contract,
        [contract_of(v) for v in scope],
        judged,
        subject.format,
        labels=[v.version for v in scope],
        confluent=confluent,
    )
    result = CompatibilityResult(mode, result.format, result.changes, result.checked)
    breaking = result.breaking
    refusal = None
    proposed = requested
    if breaking:
        new_major = requested is not None and requested.major > latest.major
        if requested is None and allow_major_under_none and not mode.directions:
            proposed = latest.bump("major")
        elif requested is None:
            refusal = (
                f"{len(breaking)} breaking change(s) under {judged.value}: register it explicitly "
                "as a new major version to publish a breaking change."
            )
        elif not new_major:
            refusal = (
                f"{len(breaking)} breaking change(s) under {judged.value} need a new major "
                f"version; {requested} does not bump the major version of {latest}."
            )
    elif requested is None:
        substantive = any(not _documentation_only(c) for c in result.changes)
        proposed = latest.bump("minor" if substantive else "patch")
    affected = _affected(session, subject, breaking)
    return Evaluation(
        subject,
        mode,
        candidate,
        proposed=proposed,
        compared_with=tuple(v.version for v in scope),
        result=result,
        refusal=refusal,
        affected=affected,
    )


# Changes that touch only documentation take a patch version; anything else a minor one.
_DOCUMENTATION_RULES = ("TITLE", "DESCRIPTION", "SUMMARY", "EXAMPLE", "COMMENT")


def _documentation_only(change: Change) -> bool:
    rule = change.rule.upper()
    return change.level is Level.INFO and any(word in rule for word in _DOCUMENTATION_RULES)


def _requested(
    versions: Sequence[ContractVersion],
    latest: SemVer | None,
    version: str | None,
    bump: str | None,
) -> SemVer | None:
    if version is not None and bump is not None:
        raise InvalidRequest(
            "Give either a version or a bump, not both.",
            errors={"bump": ["Not with an explicit version."]},
        )
    if bump is not None:
        if bump not in BUMPS:
            raise InvalidRequest("Unknown bump", errors={"bump": [f"One of {', '.join(BUMPS)}."]})
        return latest.bump(bump) if latest is not None else FIRST
    if version is None:
        return None
    requested = SemVer.parse(version)
    if any(v.version == str(requested) for v in versions):
        raise AlreadyExists(
            f"Version {requested} already exists with other content; versions are immutable.",
            errors={"version": ["Already registered."]},
        )
    if latest is not None and requested < latest:
        raise InvalidRequest(
            f"Version {requested} is lower than the latest version {latest}.",
            errors={"version": [f"Must be greater than {latest}."]},
        )
    return requested


def _affected(
    session: Session, subject: Subject, breaking: Sequence[Change]
) -> tuple[Consumer, ...]:
    """Consumers whose declared range admits a version that the breaking changes break."""
    broken = {c.against for c in breaking if c.against}
    if not broken:
        return ()
    return tuple(
        consumer
        for consumer in list_consumers_of(session, subject)
        if any(VersionRange.parse(consumer.version_range).admits(v) for v in broken)
    )


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
    taken = {v.version for v in _versions(session, subject, include_deleted=True)}
    if version is not None and str(proposed) in taken:
        raise AlreadyExists(
            f"'{name}' already had version {proposed} (soft-deleted); choose another.",
            errors={"version": ["Already used by a deleted version."]},
        )
    while str(proposed) in taken:  # a soft-deleted version keeps its semantic version
        proposed = proposed.bump("patch")
    schema = _schema_row(
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
    every = _versions(session, subject, include_deleted=True)
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
    every = _versions(session, subject, include_deleted=True)
    return bool(every) and all(v.deleted_at is not None for v in every)


def check_candidate(
    session: Session,
    name: str,
    content: Any,
    *,
    version: str | None = None,
    bump: str | None = None,
) -> Evaluation:
    """What registering `content` would do: changes, affected consumers, the version it gets."""
    return evaluate(session, get_subject(session, name), content, version=version, bump=bump)


def confluent_compatibility(
    session: Session,
    name: str,
    content: Any,
    against: ContractVersion | None = None,
    refs: Sequence[Reference] = (),
) -> CompatibilityResult:
    """Confluent's compatibility check: against one version, or (None) against the versions
    the subject's mode compares with. Mode NONE is always compatible."""
    subject = get_subject(session, name)
    candidate = load_candidate(content, subject.format, refs)
    mode = effective_mode(session, subject)
    if against is not None:
        scope = [against]
    else:
        versions = _versions(session, subject)
        latest = versions[-1].major if versions else 0
        scope = [v for v in versions if v.major == latest] if mode.transitive else versions[-1:]
    return check_compatibility(
        candidate.contract,
        [contract_of(v) for v in scope],
        mode,
        subject.format,
        labels=[v.version for v in scope],
        confluent=True,
    )


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
    versions = _versions(session, subject)
    low = _semver(get_version(session, name, since)) if since else None
    high = _semver(get_version(session, name, until)) if until else None
    if low is not None and high is not None and high < low:
        raise InvalidRequest(
            "'until' is lower than 'since'.", errors={"until": ["Must not be lower than since."]}
        )
    directions = effective_mode(session, subject).directions or Mode.BACKWARD.directions
    entries = []
    for previous, current in zip(versions, versions[1:], strict=False):
        semver = _semver(current)
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
        active = [v for v in _versions(session, found) if v.state == ACTIVE]
        if not active:
            raise VersionNotFound(f"Subject '{subject}' has no active version.")
        row = active[-1]
    document = references.bundle(row.document, references.of_version(row))
    if isinstance(document, bool):  # `true` / `false` are schemas too
        return {} if document else {"not": {}}
    return dict(document)
