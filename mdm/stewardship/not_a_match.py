"""Not-a-match decisions: a steward's ruling (or an unmerge's memory) that two golden
records or two source records are different things, which matching must respect until it
is revoked. ``not_a_match_pairs`` is what the matching engine reads.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mdm.audit.service import audit
from mdm.context import RequestContext
from mdm.db import sqlite_write_lock, utcnow
from mdm.domains.registry import DomainRegistry
from mdm.errors import AlreadyOneRecord, NotFound, ValidationFailed
from mdm.records.conflicts import retried_after_lock_cycles
from mdm.records.models import GoldenRecord, SourceRecord
from mdm.records.service import decode_cursor, encode_cursor
from mdm.records.service import survivor_ids as survivors
from mdm.stewardship.approvals import (
    add_unique,
)
from mdm.stewardship.guards import (
    GOLDEN_KIND,
    SOURCE_RECORD_KIND,
    SR_PREFIX,
    group_key,
    required_reason,
    source_record_ids_for,
)
from mdm.stewardship.models import (
    NOT_A_MATCH,
    NotAMatch,
    ReviewTask,
)


def not_a_match_pairs(session: Session, domain: str) -> set[frozenset[str]]:
    """Active (not revoked) not-a-match decisions of a domain, as pairs of ids.

    A golden-level decision is ``frozenset({golden_id_a, golden_id_b})`` with both ids
    resolved through merges to the records that stand for them now (a pair that a merge
    has since joined is left out). A source-record-level decision is
    ``frozenset({"sr:<source_record_id>", "sr:<other id>"})``. Matching must never link
    the two sides of a pair; revoking the decision removes it from this set.
    """
    rows = session.execute(
        select(NotAMatch.kind, NotAMatch.left_key, NotAMatch.right_key)
        .where(NotAMatch.domain == domain, NotAMatch.active_key.is_not(None))
    ).all()
    golden_keys = {k for kind, a, b in rows if kind == GOLDEN_KIND for k in (a, b)}
    now_of = survivors(session, golden_keys) if golden_keys else {}
    out: set[frozenset[str]] = set()
    for kind, a, b in rows:
        if kind == GOLDEN_KIND:
            a, b = now_of.get(a, a), now_of.get(b, b)
        if a != b:
            out.add(frozenset((a, b)))
    return out


def decisions_between(session: Session, domain: str,
                      groups: dict[str, set[str]]) -> list[NotAMatch]:
    """Active decisions whose two keys fall in two different groups."""
    group_of = {k: g for g, keys in groups.items() for k in keys}
    keys = list(group_of)
    found = []
    for i in range(0, len(keys), 500):
        for d in session.scalars(select(NotAMatch).where(
                NotAMatch.domain == domain, NotAMatch.active_key.is_not(None),
                NotAMatch.left_key.in_(keys[i : i + 500]))):
            other = group_of.get(d.right_key)
            if other is not None and other != group_of[d.left_key]:
                found.append(d)
    return found


def record_not_a_match(session: Session, ctx: RequestContext, domain: str, kind: str, a: str,
                       b: str, *, reason: str, origin: str) -> tuple[NotAMatch, bool]:
    left, right = sorted((a, b))
    active_key = f"{left}|{right}"
    existing = session.scalar(select(NotAMatch).where(
        NotAMatch.domain == domain, NotAMatch.active_key == active_key))
    if existing is not None:
        return existing, False
    decision = NotAMatch(domain=domain, kind=kind, left_key=left, right_key=right,
                         active_key=active_key, origin=origin, reason=reason,
                         created_by=ctx.actor.name, created_at=utcnow(),
                         request_id=ctx.request_id)
    if not add_unique(session, decision):
        found = session.scalar(select(NotAMatch).where(
            NotAMatch.domain == domain, NotAMatch.active_key == active_key))
        assert found is not None
        return found, False
    audit(session, ctx, "not_a_match.recorded", "not_a_match", f"{domain}/{active_key}",
          domain=domain, after=not_a_match_dict(decision), reason=reason)
    return decision, True


@retried_after_lock_cycles
def mark_not_a_match(
    session: Session,
    registry: DomainRegistry,
    ctx: RequestContext,
    domain: str,
    *,
    reason: str | None,
    golden_ids: list[str] | None = None,
    source_records: list[tuple[str, str]] | None = None,
) -> tuple[NotAMatch, bool]:
    """Record that two golden records (or two source records) are different things.

    Idempotent: an active decision on the same pair is returned (second value False).
    """
    registry.get(domain)
    reason = required_reason(reason)
    if (golden_ids is None) == (source_records is None):
        raise ValidationFailed("Name two golden records or two source records.",
                               errors={"golden_ids": ["Give golden_ids or source_records."]})
    sqlite_write_lock(session)
    if golden_ids is not None:
        now_of = survivors(session, golden_ids)
        goldens = {g.id: g for g in session.scalars(
            select(GoldenRecord).where(GoldenRecord.id.in_(list(now_of.values()))))}
        for gid in golden_ids:
            g = goldens.get(now_of.get(gid, ""))
            if g is None:
                raise NotFound(f"No golden record '{gid}'")
            if g.domain != domain:
                raise ValidationFailed("Not a record of this domain.",
                                       errors={"golden_ids": [f"'{gid}' is a {g.domain}."]})
        a, b = (now_of[g] for g in golden_ids)
        if a == b:
            raise AlreadyOneRecord(f"These are one golden record now ('{a}'); unmerge first.")
        kind = GOLDEN_KIND
        tasks_for = [a, b]
    else:
        ids = source_record_ids_for(session, domain, list(source_records or []))
        homes = dict(session.execute(select(SourceRecord.id, SourceRecord.golden_id)
                                     .where(SourceRecord.id.in_(ids))).all())
        if ids[0] == ids[1]:
            raise ValidationFailed("Name two different source records.",
                                   errors={"source_records": ["The same record twice."]})
        if homes[ids[0]] == homes[ids[1]]:
            raise AlreadyOneRecord(f"Both source records are in golden record "
                                   f"'{homes[ids[0]]}'; unmerge one of them first.")
        a, b = f"{SR_PREFIX}{ids[0]}", f"{SR_PREFIX}{ids[1]}"
        kind = SOURCE_RECORD_KIND
        tasks_for = [homes[ids[0]], homes[ids[1]]]
    decision, created = record_not_a_match(session, ctx, domain, kind, a, b, reason=reason,
                                           origin="steward")
    _close_task_for(session, ctx, domain, tasks_for, NOT_A_MATCH, reason)
    session.commit()
    return decision, created


def _close_task_for(session: Session, ctx: RequestContext, domain: str, golden_ids: list[str],
                    status: str, reason: str) -> None:
    task = session.scalar(select(ReviewTask).where(
        ReviewTask.domain == domain, ReviewTask.open_key == group_key(golden_ids)))
    if task is not None:
        task.status, task.open_key, task.decision = status, None, status
        task.decided_by, task.decided_at, task.reason = ctx.actor.name, utcnow(), reason
        audit(session, ctx, "review_task.settled", "review_task", task.id, domain=domain,
              after={"status": status}, reason=reason)


@retried_after_lock_cycles
def revoke_not_a_match(session: Session, ctx: RequestContext, decision_id: int, *,
                       reason: str | None) -> NotAMatch:
    """Revoke a decision so matching may reconsider the pair; repeating it changes nothing."""
    reason = required_reason(reason)
    sqlite_write_lock(session)
    decision = session.scalar(select(NotAMatch).where(NotAMatch.id == decision_id)
                              .with_for_update().execution_options(populate_existing=True))
    if decision is None:
        raise NotFound(f"No not-a-match decision {decision_id}")
    if decision.active_key is None:
        session.rollback()
        return decision
    before = not_a_match_dict(decision)
    decision.active_key = None
    decision.revoked_by, decision.revoked_at, decision.revoke_reason = (
        ctx.actor.name, utcnow(), reason)
    audit(session, ctx, "not_a_match.revoked", "not_a_match",
          f"{decision.domain}/{decision.left_key}|{decision.right_key}", domain=decision.domain,
          before=before, after=not_a_match_dict(decision), reason=reason)
    session.commit()
    return decision


def list_not_a_match(session: Session, registry: DomainRegistry, domain: str, *,
                     active: bool | None = True, key: str | None = None,
                     cursor: str | None = None, limit: int = 50) -> tuple[list[NotAMatch],
                                                                          str | None]:
    registry.get(domain)
    q = select(NotAMatch).where(NotAMatch.domain == domain)
    if active is True:
        q = q.where(NotAMatch.active_key.is_not(None))
    elif active is False:
        q = q.where(NotAMatch.active_key.is_(None))
    if key:
        q = q.where((NotAMatch.left_key == key) | (NotAMatch.right_key == key))
    after = decode_cursor(cursor)
    if after:
        if not after.isdigit():
            raise ValidationFailed("Bad cursor", errors={"cursor": ["Not a cursor from this API."]})
        q = q.where(NotAMatch.id > int(after))
    rows = list(session.scalars(q.order_by(NotAMatch.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].id) if more and rows else None


def not_a_match_dict(d: NotAMatch) -> dict[str, Any]:
    return {"id": d.id, "domain": d.domain, "kind": d.kind, "left": d.left_key,
            "right": d.right_key, "active": d.active_key is not None, "origin": d.origin,
            "reason": d.reason, "created_by": d.created_by,
            "created_at": d.created_at.isoformat() if d.created_at else None,
            "request_id": d.request_id, "revoked_by": d.revoked_by,
            "revoked_at": d.revoked_at.isoformat() if d.revoked_at else None,
            "revoke_reason": d.revoke_reason}
