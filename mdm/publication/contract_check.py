"""Validating outgoing messages against the contract version a subscription pins.

Schemas come from the contract registry (``contracts.registry.service.resolve_schema``);
compiled validators are cached per (subject, version). An unpinned version ("latest") is
re-resolved after a minute so a new registration is picked up.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import jsonschema
from sqlalchemy.orm import Session

LATEST_TTL = 60.0

_lock = threading.Lock()
_cache: dict[tuple[str, str | None], tuple[float, Any]] = {}


class ContractUnavailable(Exception):
    """The pinned contract cannot be resolved (registry missing, subject or version unknown)."""


def _resolve(session: Session, subject: str, version: str | None) -> dict[str, Any]:
    try:
        from contracts.registry.service import resolve_schema
    except ImportError as exc:
        raise ContractUnavailable(f"the contract registry is not installed: {exc}") from exc
    try:
        return resolve_schema(session, subject, version)
    except Exception as exc:  # the registry's own errors; any of them means "cannot validate"
        raise ContractUnavailable(
            f"contract {subject}@{version or 'latest'}: {getattr(exc, 'message', exc)}") from exc


def validator(session: Session, subject: str, version: str | None) -> Any:
    key = (subject, version)
    with _lock:
        hit = _cache.get(key)
    if hit is not None and (version is not None or time.monotonic() - hit[0] < LATEST_TTL):
        return hit[1]
    schema = _resolve(session, subject, version)
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ContractUnavailable(f"contract {subject}@{version}: not a JSON Schema") from exc
    compiled = cls(schema, format_checker=cls.FORMAT_CHECKER)
    with _lock:
        _cache[key] = (time.monotonic(), compiled)
    return compiled


def check(session: Session, subject: str, version: str | None, payload: Any) -> str | None:
    """None when the payload conforms; else the first error with its JSON pointer."""
    errors = sorted(validator(session, subject, version).iter_errors(payload),
                    key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    first = errors[0]
    pointer = "/" + "/".join(str(p) for p in first.absolute_path)
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"contract {subject}@{version or 'latest'} violated at {pointer}: {first.message}{more}"


def clear_cache() -> None:
    with _lock:
        _cache.clear()
