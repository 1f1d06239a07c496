"""Registry settings: the default compatibility mode and Confluent's READWRITE/READONLY mode."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.compatibility.result import Mode
from contracts.registry.context import RegistryContext
from contracts.registry.errors import (
    InvalidCompatibilityLevel,
    InvalidMode,
    ReadOnlyMode,
    SubjectModeNotFound,
)
from contracts.registry.models import (
    RegistrySetting,
    Subject,
)

DEFAULT_MODE = Mode.BACKWARD


MODE_SETTING = "compatibility"


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
