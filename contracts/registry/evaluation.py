"""Judging a candidate version against a subject's compatibility mode: the changes, the
version it would get, the consumers a breaking change affects. Nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from contracts.compatibility.modes import check_compatibility
from contracts.compatibility.result import Change, CompatibilityResult, Level, Mode
from contracts.registry.consumers import list_consumers_of
from contracts.registry.documents import Candidate, contract_of, load_candidate
from contracts.registry.errors import (
    AlreadyExists,
    InvalidRequest,
)
from contracts.registry.lookup import semver_of, versions_of
from contracts.registry.models import (
    Consumer,
    ContractVersion,
    Subject,
)
from contracts.registry.references import Reference
from contracts.registry.semver import BUMPS, FIRST, SemVer, VersionRange
from contracts.registry.settings import effective_mode
from contracts.registry.subjects import get_subject


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
    versions = versions_of(session, subject)
    identical = next((v for v in versions if v.fingerprint == candidate.fingerprint), None)
    if identical is not None:
        return Evaluation(
            subject, mode, candidate, identical_to=identical, proposed=semver_of(identical)
        )
    latest = semver_of(versions[-1]) if versions else None
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
        versions = versions_of(session, subject)
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
