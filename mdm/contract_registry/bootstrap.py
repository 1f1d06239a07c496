"""Dogfooding: register the hub's own contracts (its OpenAPI document and the JSON Schemas of
its published master-data events) as registry subjects. Re-running registers only what changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from contracts.errors import ContractError
from contracts.registry import service
from contracts.registry.errors import SubjectNotFound
from contracts.registry.service import RegistryContext

HUB_API_SUBJECT = "mdm-hub-api"
OWNER_TEAM = "mdm-hub"
EVENT_SCHEMAS = Path(__file__).resolve().parent.parent / "publication" / "event_schemas"
SCHEMA_SUFFIXES = (".schema.json", ".json")


@dataclass(frozen=True)
class Outcome:
    subject: str
    status: str  # registered | unchanged | refused | skipped
    version: str | None = None
    message: str = ""


def hub_openapi(app: Flask) -> dict[str, Any]:
    """The hub's OpenAPI document, as served at /openapi.json."""
    mount = app.extensions.get("mdm_mount_http")
    if mount is not None:  # the command line's app: its HTTP side is mounted on demand
        mount()
    api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    spec: dict[str, Any] = api.spec.to_dict()
    return spec


def event_subject(path: Path) -> str:
    """golden-record-event.schema.json -> golden-record-event."""
    name = path.name
    for suffix in SCHEMA_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def bootstrap(
    session: Session,
    ctx: RegistryContext,
    app: Flask,
    *,
    schemas_dir: Path = EVENT_SCHEMAS,
    major: bool = False,
) -> list[Outcome]:
    """Register the hub's contracts; `major` lets a breaking change through as a new major."""
    outcomes = [
        _register(
            session,
            ctx,
            HUB_API_SUBJECT,
            "openapi",
            hub_openapi(app),
            major,
            "The MDM Hub's HTTP API",
        )
    ]
    if not schemas_dir.is_dir():
        outcomes.append(Outcome("events", "skipped", message=f"{schemas_dir} does not exist"))
        return outcomes
    for path in sorted(schemas_dir.glob("*.json")):
        subject = event_subject(path)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            outcomes.append(Outcome(subject, "refused", message=f"{path.name}: {exc}"))
            continue
        description = document.get("title") if isinstance(document, dict) else None
        outcomes.append(
            _register(session, ctx, subject, "jsonschema", document, major, description)
        )
    return outcomes


def _register(
    session: Session,
    ctx: RegistryContext,
    subject: str,
    fmt: str,
    document: Any,
    major: bool,
    description: str | None,
) -> Outcome:
    try:
        try:
            service.get_subject(session, subject)
        except SubjectNotFound:
            service.create_subject(
                session,
                ctx,
                name=subject,
                format=fmt,
                owner_team=OWNER_TEAM,
                lifecycle="active",
                description=description,
            )
        evaluation = service.check_candidate(session, subject, document)
        bump = "major" if major and evaluation.breaking else None
        done = service.register_version(session, ctx, subject, document, bump=bump)
    except ContractError as exc:
        session.rollback()
        return Outcome(subject, "refused", message=str(exc))
    status = "registered" if done.created else "unchanged"
    return Outcome(subject, status, done.version.version)
