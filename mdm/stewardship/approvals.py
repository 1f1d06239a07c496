"""Four-eyes approval: holding risky attribute changes as change requests.

``hold_risky_changes`` runs inside every golden-record recomputation
(``mdm.records.golden.refresh``): when survivorship would add or change the value of an
attribute the domain lists under ``approval`` (a supplier's IBAN, BIC, tax id), the golden
record keeps its current value and provenance, and a pending ``ChangeRequest`` records the
proposed one. Only an approval by a second steward lets the value through.

What is held: adding or changing a value on an existing golden record, whatever caused the
recomputation (a source update, a merge, an unmerge, an unpinned override, a rules change).
Not held: the values a brand-new golden record starts with (onboarding is the source
system's control) and clearing a value (it cannot redirect a payment).

This module imports no golden-record code: ``golden.py`` calls it.
"""
from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mdm.audit.service import audit_row
from mdm.context import RequestContext
from mdm.db import new_id, utcnow
from mdm.domains.definitions import DomainDefinition
from mdm.records.models import MERGED, GoldenRecord
from mdm.stewardship.models import (
    FROM_SURVIVORSHIP,
    PENDING,
    REJECTED,
    SUPERSEDED,
    ChangeRequest,
)


class AuditSink(Protocol):
    audits: list[dict[str, Any]]


def pending_key(golden_id: str, attribute: str, origin: str) -> str:
    return f"{golden_id}|{attribute}|{origin}"


def hold_risky_changes(
    session: Session,
    sink: AuditSink,
    ctx: RequestContext,
    definition: DomainDefinition,
    golden: GoldenRecord,
    values: dict[str, Any],
    provenance: dict[str, Any],
    approved: dict[str, Any] | None = None,
) -> bool:
    """Put back the current value of every unapproved risky change; True when any was held.

    ``approved`` maps attribute -> value a steward has just approved: that value passes.
    """
    if golden.status == MERGED:
        return False
    current = golden.attributes or {}
    held = False
    for attr in definition.approval:
        new, old = values.get(attr), current.get(attr)
        if new is None or new == old:
            continue
        if approved and attr in approved and approved[attr] == new:
            continue
        _propose(session, sink, ctx, golden, attr, new, provenance.get(attr), old)
        held = True
        if old is None:
            values.pop(attr, None)
            provenance.pop(attr, None)
        else:
            values[attr] = old
            if attr in (golden.provenance or {}):
                provenance[attr] = golden.provenance[attr]
    return held


def _propose(session: Session, sink: AuditSink, ctx: RequestContext, golden: GoldenRecord,
             attr: str, value: Any, prov: dict[str, Any] | None, previous: Any) -> None:
    key = pending_key(golden.id, attr, FROM_SURVIVORSHIP)
    existing = session.scalar(select(ChangeRequest).where(ChangeRequest.pending_key == key))
    if existing is not None:
        if existing.value == value:
            return
        existing.status, existing.pending_key = SUPERSEDED, None
        existing.decided_at, existing.decision_reason = utcnow(), "superseded by a newer value"
        session.flush()
    # A value a steward rejected is not raised again while the golden value is unchanged.
    rejected = session.scalar(
        select(ChangeRequest.id).where(
            ChangeRequest.golden_id == golden.id, ChangeRequest.attribute == attr,
            ChangeRequest.origin == FROM_SURVIVORSHIP, ChangeRequest.status == REJECTED,
        ).order_by(ChangeRequest.requested_at.desc()).limit(1)
    )
    if rejected is not None:
        last = session.get(ChangeRequest, rejected)
        if last is not None and last.value == value and last.previous == previous:
            return
    cr = ChangeRequest(
        id=new_id(), domain=golden.domain, golden_id=golden.id, attribute=attr, value=value,
        previous=previous, provenance=prov, origin=FROM_SURVIVORSHIP, status=PENDING,
        pending_key=key, requested_by=ctx.actor.name, requested_at=utcnow(),
        request_id=ctx.request_id, reason="value supplied by survivorship from source records",
    )
    if not add_unique(session, cr):
        return  # a concurrent transaction raised the same request first
    sink.audits.append(audit_row(
        ctx, "change_request.opened", "change_request", cr.id, domain=golden.domain,
        after=change_request_dict(cr), reason=cr.reason))


def add_unique(session: Session, obj: Any) -> bool:
    """Insert ``obj``; False when a unique constraint says another transaction won.

    On PostgreSQL the insert runs in a savepoint so the caller's transaction survives the
    violation. SQLite serialises writers, so there is no race to lose there.
    """
    if session.get_bind().dialect.name != "postgresql":
        session.add(obj)
        session.flush()
        return True
    try:
        with session.begin_nested():
            session.add(obj)
    except IntegrityError:
        return False
    return True


def change_request_dict(cr: ChangeRequest) -> dict[str, Any]:
    return {
        "id": cr.id, "domain": cr.domain, "golden_id": cr.golden_id, "attribute": cr.attribute,
        "value": cr.value, "previous": cr.previous, "provenance": cr.provenance,
        "origin": cr.origin, "status": cr.status, "requested_by": cr.requested_by,
        "requested_at": cr.requested_at.isoformat() if cr.requested_at else None,
        "request_id": cr.request_id, "reason": cr.reason, "decided_by": cr.decided_by,
        "decided_at": cr.decided_at.isoformat() if cr.decided_at else None,
        "decision_reason": cr.decision_reason, "version": cr.version,
    }
