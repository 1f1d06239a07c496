"""Writing change events (the outbox) in the caller's transaction, and reading the feed."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mdm.context import RequestContext
from mdm.db import new_id, utcnow
from mdm.events.models import ChangeEvent


def event_row(
    ctx: RequestContext,
    *,
    domain: str,
    golden_id: str,
    golden_version: int,
    type: str,
    snapshot: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    payload = {"record": snapshot}
    if extra:
        payload.update(extra)
    return {
        "event_id": new_id(),
        "domain": domain,
        "golden_id": golden_id,
        "golden_version": golden_version,
        "type": type,
        "occurred_at": utcnow(),
        "request_id": ctx.request_id,
        "payload": payload,
    }


def emit(session: Session, ctx: RequestContext, **kwargs: Any) -> ChangeEvent:
    event = ChangeEvent(**event_row(ctx, **kwargs))
    session.add(event)
    return event


def list_events(
    session: Session, *, domain: str | None = None, after: int = 0, limit: int = 100
) -> list[ChangeEvent]:
    q = select(ChangeEvent).where(ChangeEvent.id > after).order_by(ChangeEvent.id).limit(limit)
    if domain:
        q = q.where(ChangeEvent.domain == domain)
    return list(session.scalars(q))
