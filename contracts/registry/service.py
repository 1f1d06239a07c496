"""Registry use cases: subjects, immutable versions, consumers, compatibility checks.

Every function takes the SQLAlchemy session; writes also take a `RegistryContext` (who acts,
and the host's audit hook) and commit once. The compatibility verdicts come from the pure
engine in `contracts.compatibility`.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts.compatibility.loader import Contract, load_contract, parse_text
from contracts.compatibility.modes import check_compatibility, diff_contracts
from contracts.compatibility.result import Change, CompatibilityResult, Level, Mode
from contracts.registry import references
from contracts.registry.errors import (
    AlreadyExists,
    ConsumerNotFound,
    IncompatibleVersion,
    InvalidCompatibilityLevel,
    InvalidMode,
    InvalidRequest,
    InvalidSchema,
    LifecycleConflict,
    ReadOnlyMode,
    SchemaNotFound,
    SubjectModeNotFound,
    SubjectNotFound,
    SubjectNotSoftDeleted,
    SubjectSoftDeleted,
    VersionNotFound,
    VersionNotSoftDeleted,
    VersionSoftDeleted,
)
from contracts.registry.models import (
    ACTIVE,
    DEPRECATED,
    DRAFT,
    FORMATS,
    LIFECYCLES,
    RETIRED,
    VERSION_STATES,
    Consumer,
    ContractVersion,
    RegistrySchema,
    RegistrySetting,
    SchemaReference,
    Subject,
    utcnow,
)
from contracts.registry.references import Reference
from contracts.registry.semver import BUMPS, FIRST, SemVer, VersionRange

DEFAULT_MODE = Mode.BACKWARD
MODE_SETTING = "compatibility"
LATEST = "latest"
SUBJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,199}$")
NAME_RULE = "1-200 letters, digits, '.', '_' or '-', starting with a letter or digit."

# Which lifecycle states a subject may move to from each state.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    DRAFT: (ACTIVE, RETIRED),
    ACTIVE: (DEPRECATED,),
    DEPRECATED: (ACTIVE, RETIRED),
    RETIRED: (),
}

AuditHook = Callable[
    [Session, str, str, str, "dict[str, Any] | None", "dict[str, Any] | None"], None
]


@dataclass(frozen=True)
class RegistryContext:
    """Who acts, plus the host's hooks: an audit writer joining the transaction and a check
    that a named master-data domain exists."""

    actor: str = "system"
    audit: AuditHook | None = None
    domain_exists: Callable[[str], bool] | None = None

    def record(
        self,
        session: Session,
        action: str,
        entity_type: str,
        entity_id: str,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        if self.audit is not None:
            self.audit(session, action, entity_type, entity_id, before, after)


SYSTEM = RegistryContext()


# --- documents ------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):  # YAML reads unquoted dates as dates
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def normalize_document(content: Any) -> Any:
    """Text (JSON or YAML) or parsed data -> plain JSON data, as stored and fingerprinted."""
    document = parse_text(content) if isinstance(content, str | bytes) else content
    try:
        return json.loads(json.dumps(document, default=_jsonable, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidSchema(f"the document cannot be represented as JSON: {exc}") from exc


_CONTRACTS: OrderedDict[tuple[str, str], Contract] = OrderedDict()
_CONTRACT_CACHE_SIZE = 64


def _contract_of(version: ContractVersion) -> Contract:
    """Stored documents were validated on the way in; cache them parsed by fingerprint (which
    covers the references too). A version with references is read bundled with them."""
    key = (version.fingerprint, version.subject.format)
    contract = _CONTRACTS.get(key)
    if contract is None:
        document = references.bundle(version.document, references.of_version(version))
        contract = load_contract(document, version.subject.format, source=version.version)
        _CONTRACTS[key] = contract
        if len(_CONTRACTS) > _CONTRACT_CACHE_SIZE:
            _CONTRACTS.popitem(last=False)
    else:
        _CONTRACTS.move_to_end(key)
    return contract


@dataclass(frozen=True)
class Candidate:
    document: Any
    contract: Contract
    fingerprint: str
    references: tuple[Reference, ...] = ()


def load_candidate(content: Any, fmt: str, refs: Sequence[Reference] = ()) -> Candidate:
    """A document as it would be stored, and its contract as the engine reads it (bundled
    with its references); the fingerprint covers both."""
    if content is None:
        raise InvalidSchema("the contract document is missing", errors={"content": ["Required."]})
    document = normalize_document(content)
    contract = load_contract(references.bundle(document, refs), fmt, source="candidate")
    return Candidate(document, contract, references.digest(document, refs), tuple(refs))


# --- settings -------------------------------------------------------------------------------


def parse_mode(text: Any, field_name: str = "compatibility") -> Mode:
    try:
        return Mode.parse(str(text))
    except ValueError as exc:
        raise InvalidCompatibilityLevel(
            f"{text!r} is not a compatibility mode",
            errors={field_name: [f"One of {', '.join(m.value for m in Mode)}."]},
        ) from exc


def default_mode(session: Session) -> Mode:
    setting = session.get(RegistrySetting, MODE_SETTING)
    return Mode(setting.value) if setting is not None else DEFAULT_MODE


def set_default_mode(session: Session, ctx: RegistryContext, mode: str) -> Mode:
    parsed = parse_mode(mode)
    setting = session.get(RegistrySetting, MODE_SETTING)
    before = setting.value if setting is not None else DEFAULT_MODE.value
    if setting is None:
        session.add(RegistrySetting(name=MODE_SETTING, value=parsed.value))
    else:
        setting.value = parsed.value
    ctx.record(
        session,
        "registry.config",
        "registry_setting",
        MODE_SETTING,
        before={"compatibility": before},
        after={"compatibility": parsed.value},
    )
    session.commit()
    return parsed


def effective_mode(session: Session, subject: Subject) -> Mode:
    return Mode(subject.compatibility) if subject.compatibility else default_mode(session)


# --- subjects -------------------------------------------------------------------------------


def _subject_state(subject: Subject) -> dict[str, Any]:
    return {
        "name": subject.name,
        "format": subject.format,
        "owner_team": subject.owner_team,
        "lifecycle": subject.lifecycle,
        "domain": subject.domain,
        "compatibility": subject.compatibility,
        "sunset_date": subject.sunset_date.isoformat() if subject.sunset_date else None,
    }


def _check_domain(ctx: RegistryContext, domain: str | None) -> None:
    if domain is not None and ctx.domain_exists is not None and not ctx.domain_exists(domain):
        raise InvalidRequest(
            f"Unknown domain '{domain}'", errors={"domain": ["Not a known domain."]}
        )


def create_subject(
    session: Session,
    ctx: RegistryContext,
    *,
    name: str,
    format: str,
    owner_team: str,
    lifecycle: str = DRAFT,
    domain: str | None = None,
    compatibility: str | None = None,
    description: str | None = None,
    sunset_date: date | None = None,
) -> Subject:
    errors: dict[str, list[str]] = {}
    if not SUBJECT_NAME.match(name or ""):
        errors["name"] = [NAME_RULE]
    if format not in FORMATS:
        errors["format"] = [f"One of {', '.join(FORMATS)}."]
    if not (owner_team or "").strip():
        errors["owner_team"] = ["Required."]
    if lifecycle not in LIFECYCLES:
        errors["lifecycle"] = [f"One of {', '.join(LIFECYCLES)}."]
    elif lifecycle == DEPRECATED and sunset_date is None:
        errors["sunset_date"] = ["Required when the lifecycle is deprecated."]
    if errors:
        raise InvalidRequest("The subject is not valid.", errors=errors)
    mode = parse_mode(compatibility).value if compatibility is not None else None
    _check_domain(ctx, domain)
    if session.scalar(select(Subject.id).where(Subject.name == name)) is not None:
        raise AlreadyExists(
            f"Subject '{name}' already exists", errors={"name": ["Already registered."]}
        )
    subject = Subject(
        name=name,
        format=format,
        owner_team=owner_team.strip(),
        lifecycle=lifecycle,
        domain=domain,
        compatibility=mode,
        description=description,
        sunset_date=sunset_date,
    )
    session.add(subject)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise AlreadyExists(f"Subject '{name}' already exists") from exc
    ctx.record(
        session, "registry.subject.create", "registry_subject", name, after=_subject_state(subject)
    )
    session.commit()
    return subject


def get_subject(session: Session, name: str) -> Subject:
    if not SUBJECT_NAME.match(name):  # no such name can exist; spare the database odd bytes
        raise SubjectNotFound(f"Subject '{name}' not found.")
    subject = session.scalar(select(Subject).where(Subject.name == name))
    if subject is None:
        raise SubjectNotFound(f"Subject '{name}' not found.")
    return subject


def list_subjects(
    session: Session,
    *,
    format: str | None = None,
    lifecycle: str | None = None,
    domain: str | None = None,
    owner_team: str | None = None,
) -> list[Subject]:
    query = select(Subject).order_by(Subject.name)
    for column, value in (
        (Subject.format, format),
        (Subject.lifecycle, lifecycle),
        (Subject.domain, domain),
        (Subject.owner_team, owner_team),
    ):
        if value is not None:
            query = query.where(column == value)
    return list(session.scalars(query))


_UNSET: Any = object()


def update_subject(
    session: Session,
    ctx: RegistryContext,
    name: str,
    *,
    owner_team: str | None = None,
    lifecycle: str | None = None,
    sunset_date: date | None = _UNSET,
    domain: str | None = _UNSET,
    compatibility: str | None = _UNSET,
    description: str | None = _UNSET,
) -> Subject:
    """Change a subject's metadata; `None` clears an optional field (compatibility None means
    the registry default applies)."""
    subject = get_subject(session, name)
    before = _subject_state(subject)
    if owner_team is not None:
        if not owner_team.strip():
            raise InvalidRequest(
                "The owner team is required.", errors={"owner_team": ["Required."]}
            )
        subject.owner_team = owner_team.strip()
    if domain is not _UNSET:
        _check_domain(ctx, domain)
        subject.domain = domain
    if compatibility is not _UNSET:
        subject.compatibility = parse_mode(compatibility).value if compatibility else None
    if description is not _UNSET:
        subject.description = description
    if sunset_date is not _UNSET:
        subject.sunset_date = sunset_date
    if lifecycle is not None and lifecycle != subject.lifecycle:
        if lifecycle not in LIFECYCLES:
            raise InvalidRequest(
                "Unknown lifecycle state",
                errors={"lifecycle": [f"One of {', '.join(LIFECYCLES)}."]},
            )
        if lifecycle not in TRANSITIONS[subject.lifecycle]:
            allowed = ", ".join(TRANSITIONS[subject.lifecycle]) or "none"
            raise LifecycleConflict(
                f"A {subject.lifecycle} subject cannot become {lifecycle} (allowed: {allowed}).",
                errors={"lifecycle": [f"Allowed from {subject.lifecycle}: {allowed}."]},
            )
        subject.lifecycle = lifecycle
    if subject.lifecycle == DEPRECATED and subject.sunset_date is None:
        raise InvalidRequest(
            "A deprecated subject needs a sunset date.",
            errors={"sunset_date": ["Required when the lifecycle is deprecated."]},
        )
    ctx.record(
        session,
        "registry.subject.update",
        "registry_subject",
        name,
        before=before,
        after=_subject_state(subject),
    )
    session.commit()
    return subject


# --- versions -------------------------------------------------------------------------------


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
        [_contract_of(v) for v in scope],
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


# --- deletion (Confluent's soft and permanent delete) -----------------------------------------


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


# --- Confluent's registry mode (READWRITE / READONLY) ----------------------------------------

READWRITE, READONLY = "READWRITE", "READONLY"
REGISTRY_MODES = (READWRITE, READONLY)


def _mode_key(subject: Subject | None) -> str:
    return "mode" if subject is None else f"mode:{subject.id}"


def get_mode(session: Session, subject: Subject | None = None, fallback: bool = True) -> str:
    """The registry's (or a subject's) mode; a subject without its own inherits the global one
    (with `fallback`), else SubjectModeNotFound."""
    setting = session.get(RegistrySetting, _mode_key(subject))
    if setting is not None:
        return setting.value
    if subject is not None and not fallback:
        raise SubjectModeNotFound(f"Subject '{subject.name}' does not have a mode configured")
    if subject is not None:
        return get_mode(session)
    return READWRITE


def set_mode(
    session: Session, ctx: RegistryContext, mode: Any, subject: Subject | None = None
) -> str | None:
    """Set (or with None, for a subject, clear) a mode; returns the previous one."""
    key = _mode_key(subject)
    setting = session.get(RegistrySetting, key)
    previous = setting.value if setting is not None else None
    if mode is None:
        if setting is not None:
            session.delete(setting)
    else:
        text = str(mode).strip().upper()
        if text not in REGISTRY_MODES:
            raise InvalidMode(
                f"Invalid mode {mode!r}: one of {', '.join(REGISTRY_MODES)} (IMPORT is not "
                "supported)",
                errors={"mode": [f"One of {', '.join(REGISTRY_MODES)}."]},
            )
        if setting is None:
            session.add(RegistrySetting(name=key, value=text))
        else:
            setting.value = text
    ctx.record(
        session,
        "registry.mode",
        "registry_setting",
        key,
        before={"mode": previous},
        after={"mode": mode},
    )
    session.commit()
    return previous


def require_writable(session: Session, subject_name: str | None = None) -> None:
    subject = None
    if subject_name is not None:
        subject = session.scalar(select(Subject).where(Subject.name == subject_name))
    if get_mode(session, subject) == READONLY:
        where = f"Subject {subject_name}" if subject_name else "The registry"
        raise ReadOnlyMode(f"{where} is in read-only mode")


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
        [_contract_of(v) for v in scope],
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
        result = diff_contracts(_contract_of(previous), _contract_of(current), subject.format)
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


# --- consumers ------------------------------------------------------------------------------


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
