"""Registering and looking up source systems."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from mdm.audit.service import audit
from mdm.context import RequestContext
from mdm.errors import AlreadyExists, NotFound, ValidationFailed
from mdm.sources.models import SOURCE_KINDS, SourceSystem

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")


def register(
    session: Session, ctx: RequestContext, *, code: str, name: str, kind: str
) -> SourceSystem:
    errors = {}
    if not _CODE.match(code or ""):
        errors["code"] = ["1-40 letters, digits, '_', '-' or '.', starting with a letter or digit."]
    if kind not in SOURCE_KINDS:
        errors["kind"] = [f"One of {', '.join(SOURCE_KINDS)}."]
    if not (name or "").strip():
        errors["name"] = ["Required."]
    if errors:
        raise ValidationFailed("The source system is not valid.", errors=errors)
    if session.scalar(select(SourceSystem.id).where(SourceSystem.code == code)) is not None:
        raise AlreadyExists(
            f"Source system '{code}' already exists", errors={"code": ["Already registered."]}
        )
    system = SourceSystem(code=code, name=name.strip(), kind=kind, active=True)
    session.add(system)
    session.flush()
    audit(
        session,
        ctx,
        "source_system.register",
        "source_system",
        code,
        after={"code": code, "name": system.name, "kind": kind},
    )
    session.commit()
    return system


def get_by_code(session: Session, code: str) -> SourceSystem:
    system = session.scalar(select(SourceSystem).where(SourceSystem.code == code))
    if system is None:
        raise NotFound(
            f"Unknown source system '{code}'", errors={"source_system": ["Not registered."]}
        )
    return system


def list_all(session: Session) -> list[SourceSystem]:
    return list(session.scalars(select(SourceSystem).order_by(SourceSystem.code)))


def codes_by_id(session: Session) -> dict[int, str]:
    return dict(session.execute(select(SourceSystem.id, SourceSystem.code)).all())
