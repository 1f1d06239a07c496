"""Four eyes: listing the changes held for a second steward, and approving or rejecting
them. What is held, and when, is decided in ``approvals``.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mdm.audit.service import audit
from mdm.context import RequestContext
from mdm.db import sqlite_write_lock, utcnow
from mdm.domains.registry import DomainRegistry
from mdm.errors import Forbidden, NotFound, OutOfDate, WrongState
from mdm.records import golden as gold
from mdm.records.conflicts import retried_after_lock_cycles
from mdm.records.service import decode_cursor, encode_cursor
from mdm.stewardship.approvals import (
    change_request_dict,
    same_value,
)
from mdm.stewardship.guards import Precondition, check, ensure_active, lock_one, required_reason
from mdm.stewardship.models import (
    APPROVED,
    FROM_OVERRIDE,
    PENDING,
    REJECTED,
    SUPERSEDED,
    ChangeRequest,
)
from mdm.stewardship.overrides import apply_override


def get_change_request(session: Session, request_id: str) -> ChangeRequest:
    cr = session.get(ChangeRequest, request_id)
    if cr is None:
        raise NotFound(f"No change request '{request_id}'")
    return cr


def list_change_requests(session: Session, *, domain: str | None = None,
                         status: str | None = PENDING, golden_id: str | None = None,
                         cursor: str | None = None, limit: int = 50
                         ) -> tuple[list[ChangeRequest], str | None]:
    q = select(ChangeRequest)
    if domain:
        q = q.where(ChangeRequest.domain == domain)
    if status:
        q = q.where(ChangeRequest.status == status)
    if golden_id:
        q = q.where(ChangeRequest.golden_id == golden_id)
    after = decode_cursor(cursor)
    if after:
        q = q.where(ChangeRequest.id > after)
    rows = list(session.scalars(q.order_by(ChangeRequest.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].id) if more and rows else None


def _lock_request(session: Session, request_id: str, pre: Precondition | None) -> ChangeRequest:
    sqlite_write_lock(session)
    cr = session.scalar(select(ChangeRequest).where(ChangeRequest.id == request_id)
                        .with_for_update().execution_options(populate_existing=True))
    if cr is None:
        raise NotFound(f"No change request '{request_id}'")
    check(pre, str(cr.version), f"Change request '{request_id}'")
    return cr


@retried_after_lock_cycles
def approve_change_request(session: Session, registry: DomainRegistry, ctx: RequestContext,
                           request_id: str, *, reason: str | None = None,
                           precondition: Precondition | None = None) -> ChangeRequest:
    """A second steward lets a held change through to the golden record; commits."""
    cr = _lock_request(session, request_id, precondition)
    if cr.status == APPROVED and cr.decided_by == ctx.actor.name:
        session.rollback()
        return cr  # a repeated approval
    if cr.status != PENDING:
        raise WrongState(f"Change request '{request_id}' is {cr.status}.")
    if cr.requested_by == ctx.actor.name:
        raise Forbidden("Four eyes: the steward who requested a change may not approve it.")
    golden = lock_one(session, cr.golden_id)
    ensure_active(golden)
    definition = registry.get(golden.domain)
    before = change_request_dict(cr)
    why = reason or "approved"
    if cr.origin == FROM_OVERRIDE:
        apply_override(session, ctx, definition, golden, cr.attribute, cr.value,
                       reason=cr.reason or why, actor=cr.requested_by, approved_by=ctx.actor.name)
    else:
        views = gold.source_views(session, [golden.id]).get(golden.id, [])
        values = gold.compute(definition, views, gold.overrides_of(golden))[0]
        if not same_value(definition, cr.attribute, values.get(cr.attribute), values,
                          cr.value, values):
            _decide(cr, ctx, SUPERSEDED, "the source records no longer propose this value")
            audit(session, ctx, "change_request.superseded", "change_request", cr.id,
                  domain=cr.domain, before=before, after=change_request_dict(cr))
            session.commit()
            raise OutOfDate(f"Change request '{request_id}' is out of date: the source records "
                            "no longer propose this value. It was marked superseded.")
        pending = gold.Pending()
        gold.refresh(session, pending, ctx, definition, golden, views,
                     action="golden.change_approved", reason=why,
                     approved={cr.attribute: cr.value})
        pending.write(session)
    _decide(cr, ctx, APPROVED, why)
    audit(session, ctx, "change_request.approved", "change_request", cr.id, domain=cr.domain,
          before=before, after=change_request_dict(cr), reason=why)
    session.commit()
    return cr


@retried_after_lock_cycles
def reject_change_request(session: Session, ctx: RequestContext, request_id: str, *,
                          reason: str | None, precondition: Precondition | None = None
                          ) -> ChangeRequest:
    """Refuse a held change; the golden record keeps its value. The requester may withdraw."""
    reason = required_reason(reason)
    cr = _lock_request(session, request_id, precondition)
    if cr.status == REJECTED and cr.decided_by == ctx.actor.name:
        session.rollback()
        return cr
    if cr.status != PENDING:
        raise WrongState(f"Change request '{request_id}' is {cr.status}.")
    before = change_request_dict(cr)
    _decide(cr, ctx, REJECTED, reason)
    audit(session, ctx, "change_request.rejected", "change_request", cr.id, domain=cr.domain,
          before=before, after=change_request_dict(cr), reason=reason)
    session.commit()
    return cr


def _decide(cr: ChangeRequest, ctx: RequestContext, status: str, reason: str) -> None:
    cr.status, cr.pending_key = status, None
    cr.decided_by, cr.decided_at, cr.decision_reason = ctx.actor.name, utcnow(), reason
