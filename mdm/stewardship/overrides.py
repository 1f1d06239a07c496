"""Steward overrides: a pinned value wins survivorship until it is unpinned. An approval
attribute (IBAN, tax id...) is not pinned at once: a change request waits for a second
steward.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mdm.audit.service import audit
from mdm.context import RequestContext
from mdm.db import new_id, utcnow
from mdm.domains.definitions import DomainDefinition
from mdm.domains.registry import DomainRegistry
from mdm.errors import NotFound, ValidationFailed
from mdm.records import golden as gold
from mdm.records.conflicts import retried_after_lock_cycles
from mdm.records.models import GoldenRecord
from mdm.stewardship.approvals import (
    change_request_dict,
    pending_key,
)
from mdm.stewardship.guards import (
    Precondition,
    check,
    ensure_active,
    golden_etag,
    lock_one,
    required_reason,
)
from mdm.stewardship.models import (
    FROM_OVERRIDE,
    FROM_SURVIVORSHIP,
    PENDING,
    SUPERSEDED,
    ChangeRequest,
)


def _parse_value(definition: DomainDefinition, attribute: str, value: Any) -> Any:
    if definition.attribute(attribute) is None:
        raise NotFound(f"No attribute '{attribute}' in domain {definition.name}",
                       errors={"attribute": ["Unknown attribute."]})
    parsed, errors = definition.parse_attributes({attribute: value}, partial=True)
    if errors:
        raise ValidationFailed("The value is not valid.", errors={"value": errors[attribute]})
    if attribute not in parsed:
        raise ValidationFailed("The value is empty.",
                               errors={"value": ["A pinned value must not be empty."]})
    bad = [f.message for f in definition.quality_findings(parsed)
           if f.severity == "error" and f.attribute == attribute]
    if bad:
        raise ValidationFailed("The value fails its data-quality rule.", errors={"value": bad})
    return parsed[attribute]


@retried_after_lock_cycles
def pin(
    session: Session,
    registry: DomainRegistry,
    ctx: RequestContext,
    golden_id: str,
    attribute: str,
    value: Any,
    *,
    reason: str | None,
    precondition: Precondition | None = None,
) -> tuple[GoldenRecord, ChangeRequest | None]:
    """Pin a value that wins survivorship until unpinned; commits.

    An approval attribute is not pinned at once: a change request waits for a second
    steward (returned as the second value). Pinning the value already pinned changes nothing.
    """
    reason = required_reason(reason)
    golden = lock_one(session, golden_id)
    check(precondition, golden_etag(golden), f"Golden record '{golden_id}'")
    ensure_active(golden)
    definition = registry.get(golden.domain)
    parsed = _parse_value(definition, attribute, value)
    current = (golden.overrides or {}).get(attribute)
    if current is not None and current.get("value") == parsed:
        session.rollback()
        return golden, None
    if attribute in definition.approval:
        cr = _request_override(session, ctx, golden, attribute, parsed, reason)
        session.commit()
        return golden, cr
    apply_override(session, ctx, definition, golden, attribute, parsed, reason=reason,
                   actor=ctx.actor.name)
    session.commit()
    return golden, None


def apply_override(session: Session, ctx: RequestContext, definition: DomainDefinition,
                   golden: GoldenRecord, attribute: str, value: Any, *, reason: str,
                   actor: str, approved_by: str | None = None) -> None:
    overrides = dict(golden.overrides or {})
    entry = {"value": value, "actor": actor, "reason": reason, "at": utcnow().isoformat()}
    if approved_by:
        entry["approved_by"] = approved_by
    overrides[attribute] = entry
    golden.overrides = overrides
    pending = gold.Pending()
    views = gold.source_views(session, [golden.id]).get(golden.id, [])
    gold.refresh(session, pending, ctx, definition, golden, views, action="golden.override",
                 reason=reason, force=True, approved={attribute: value})
    pending.write(session)


def _request_override(session: Session, ctx: RequestContext, golden: GoldenRecord,
                      attribute: str, value: Any, reason: str) -> ChangeRequest:
    key = pending_key(golden.id, attribute, FROM_OVERRIDE)
    existing = session.scalar(select(ChangeRequest).where(ChangeRequest.pending_key == key))
    if existing is not None:
        if existing.value == value:
            return existing
        existing.status, existing.pending_key = SUPERSEDED, None
        existing.decided_at, existing.decision_reason = utcnow(), "superseded by a newer request"
        session.flush()
    cr = ChangeRequest(
        id=new_id(), domain=golden.domain, golden_id=golden.id, attribute=attribute,
        value=value, previous=(golden.attributes or {}).get(attribute), provenance=None,
        origin=FROM_OVERRIDE, status=PENDING, pending_key=key, requested_by=ctx.actor.name,
        requested_at=utcnow(), request_id=ctx.request_id, reason=reason)
    session.add(cr)
    session.flush()
    audit(session, ctx, "change_request.opened", "change_request", cr.id, domain=golden.domain,
          after=change_request_dict(cr), reason=reason)
    return cr


@retried_after_lock_cycles
def unpin(
    session: Session,
    registry: DomainRegistry,
    ctx: RequestContext,
    golden_id: str,
    attribute: str,
    *,
    reason: str | None,
    precondition: Precondition | None = None,
) -> tuple[GoldenRecord, ChangeRequest | None]:
    """Remove a pin; survivorship decides the value again (an approval attribute's new
    value is held as a change request). Commits."""
    reason = required_reason(reason)
    golden = lock_one(session, golden_id)
    check(precondition, golden_etag(golden), f"Golden record '{golden_id}'")
    ensure_active(golden)
    definition = registry.get(golden.domain)
    if attribute not in (golden.overrides or {}):
        raise NotFound(f"'{attribute}' is not pinned on golden record '{golden_id}'.")
    overrides = dict(golden.overrides)
    overrides.pop(attribute)
    golden.overrides = overrides
    pending = gold.Pending()
    views = gold.source_views(session, [golden.id]).get(golden.id, [])
    gold.refresh(session, pending, ctx, definition, golden, views, action="golden.unpin",
                 reason=reason, force=True)
    pending.write(session)
    held = session.scalar(select(ChangeRequest).where(
        ChangeRequest.pending_key == pending_key(golden.id, attribute, FROM_SURVIVORSHIP)))
    session.commit()
    return golden, held
