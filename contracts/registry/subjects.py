"""Subjects: named contracts, their owner, lifecycle and compatibility mode."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts.registry.context import RegistryContext
from contracts.registry.errors import (
    AlreadyExists,
    InvalidRequest,
    LifecycleConflict,
    SubjectNotFound,
)
from contracts.registry.models import (
    ACTIVE,
    DEPRECATED,
    DRAFT,
    FORMATS,
    LIFECYCLES,
    RETIRED,
    Subject,
)
from contracts.registry.settings import parse_mode

SUBJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,199}$")


NAME_RULE = "1-200 letters, digits, '.', '_' or '-', starting with a letter or digit."


# Which lifecycle states a subject may move to from each state.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    DRAFT: (ACTIVE, RETIRED),
    ACTIVE: (DEPRECATED,),
    DEPRECATED: (ACTIVE, RETIRED),
    RETIRED: (),
}


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
