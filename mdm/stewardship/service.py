"""Steward use cases: merge, unmerge, not-a-match, overrides, change-request decisions,
lineage, survivorship recompute, and the two functions the matching engine calls
(``open_review_task``, ``not_a_match_pairs``).

Each use case locks the golden records it changes, checks the caller's precondition (the
version the steward saw), does every write (golden versions, change events, audit entries,
lineage) and commits once. Concurrent actions on one golden record are serialised by its
row lock on PostgreSQL and by the single write lock on SQLite; the ORM's version check
turns any update that still slips through into a 409.

Survivor rule of a merge: the golden record created first (earliest ``created_at``, then
the smallest id; ids are time-ordered) survives; the others become ``merged`` into it.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mdm.audit.service import audit
from mdm.context import RequestContext
from mdm.db import new_id, sqlite_write_lock, utcnow
from mdm.domains.definitions import DomainDefinition
from mdm.domains.registry import DomainRegistry
from mdm.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from mdm.records import golden as gold
from mdm.records.conflicts import retried_after_lock_cycles
from mdm.records.models import ACTIVE, MERGED, GoldenRecord, QualityIssue, SourceRecord
from mdm.records.service import decode_cursor, encode_cursor
from mdm.records.service import survivor_ids as survivors  # matching's apply and the queue use it
from mdm.sources.models import SourceSystem
from mdm.stewardship.approvals import (
    HELD,
    add_unique,
    change_request_dict,
    pending_key,
    same_value,
)
from mdm.stewardship.models import (
    APPROVED,
    FROM_OVERRIDE,
    FROM_SURVIVORSHIP,
    MERGE,
    NOT_A_MATCH,
    OPEN,
    PENDING,
    PENDING_TASK,
    REJECTED,
    SUPERSEDED,
    UNMERGE,
    ChangeRequest,
    LineageLink,
    LineageOperation,
    NotAMatch,
    ReviewTask,
    ReviewTaskGolden,
)
from mdm.stewardship.models import (
    MERGED as TASK_MERGED,
)

SR_PREFIX = "sr:"
GOLDEN_KIND, SOURCE_RECORD_KIND = "golden", "source_record"


# --- preconditions and locks ------------------------------------------------------------------

@dataclass(frozen=True)
class Precondition:
    """The ETags a client sent in If-Match (``*`` matches any current version)."""

    etags: frozenset[str] = frozenset()
    any: bool = False

    def matches(self, etag: str) -> bool:
        return self.any or etag in self.etags

    @classmethod
    def version(cls, version: int) -> Precondition:
        return cls(frozenset({str(version)}))


def golden_etag(golden: GoldenRecord) -> str:
    return str(golden.version)


def check(pre: Precondition | None, etag: str, what: str) -> None:
    if pre is not None and not pre.matches(etag):
        raise PreconditionFailed(
            f"{what} has changed since you read it (now \"{etag}\"); read it again and retry.")


def lock_goldens(session: Session, ids: Iterable[str]) -> dict[str, GoldenRecord]:
    """Load golden records for update, in id order (so two lockers never deadlock)."""
    wanted = sorted(set(ids))
    sqlite_write_lock(session)
    rows = session.scalars(
        select(GoldenRecord).where(GoldenRecord.id.in_(wanted)).order_by(GoldenRecord.id)
        .with_for_update().execution_options(populate_existing=True)
    )
    found = {g.id: g for g in rows}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound(f"No golden record '{missing[0]}'")
    return found


def _lock_one(session: Session, golden_id: str) -> GoldenRecord:
    return lock_goldens(session, [golden_id])[golden_id]


def _ensure_active(golden: GoldenRecord) -> None:
    if golden.status == MERGED:
        raise Conflict(f"Golden record '{golden.id}' was merged into '{golden.merged_into}'; "
                       "act on that record instead.")
    if golden.status != ACTIVE:
        raise Conflict(f"Golden record '{golden.id}' is {golden.status}.")


def _reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise ValidationFailed("A reason is required.", errors={"reason": ["Say why."]})
    return reason.strip()


# --- the matching engine's interface -------------------------------------------------------

def _group_key(golden_ids: Iterable[str]) -> str:
    return hashlib.sha256(",".join(sorted(set(golden_ids))).encode()).hexdigest()


def open_review_task(
    session: Session,
    ctx: RequestContext,
    *,
    domain: str,
    golden_ids: list[str],
    source_record_ids: list[int] | None,
    score: float,
    explanation: dict[str, Any],
) -> ReviewTask:
    """Queue a potential match (two or more golden records) for a steward's review.

    Joins the caller's transaction and does not commit. Golden ids are resolved through
    merges first. Idempotent: when a pending (open or deferred) task already exists for
    the same set of golden ids, that task is returned unchanged.
    """
    resolved = survivors(session, golden_ids)
    unknown = [g for g in golden_ids if g not in resolved or resolved[g] is None]
    ids = sorted(set(resolved.values()))
    if unknown:
        raise NotFound(f"No golden record '{unknown[0]}'")
    if len(ids) < 2:
        raise ValidationFailed("A review task needs two or more distinct golden records.",
                               errors={"golden_ids": ["These are one record."]})
    key = _group_key(ids)
    existing = session.scalar(
        select(ReviewTask).where(ReviewTask.domain == domain, ReviewTask.open_key == key))
    if existing is not None:
        return existing
    systems = sorted(set(session.scalars(
        select(SourceSystem.code)
        .join(SourceRecord, SourceRecord.source_system_id == SourceSystem.id)
        .where(SourceRecord.golden_id.in_(ids), SourceRecord.active.is_(True)).distinct()
    )))
    now = utcnow()
    task = ReviewTask(
        id=new_id(), domain=domain, status=OPEN, golden_ids=ids, open_key=key,
        source_record_ids=list(source_record_ids) if source_record_ids else None,
        source_systems="," + ",".join(systems) + ",", score=float(score),
        explanation=explanation or {}, created_by=ctx.actor.name, created_at=now,
        updated_at=now, version=1,
    )
    if not add_unique(session, task):  # a concurrent caller opened it first
        found = session.scalar(
            select(ReviewTask).where(ReviewTask.domain == domain, ReviewTask.open_key == key))
        assert found is not None
        return found
    session.add_all([ReviewTaskGolden(task_id=task.id, golden_id=g) for g in ids])
    audit(session, ctx, "review_task.opened", "review_task", task.id, domain=domain,
          after={"golden_ids": ids, "score": task.score})
    return task


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


# --- merge ----------------------------------------------------------------------------------

@dataclass
class MergeOutcome:
    operation: LineageOperation
    golden: GoldenRecord  # the survivor (merge) or the record split from (unmerge)
    created: GoldenRecord | None = None  # unmerge: the new golden record


@retried_after_lock_cycles
def merge(
    session: Session,
    registry: DomainRegistry,
    ctx: RequestContext,
    golden_ids: list[str],
    *,
    reason: str | None,
    preconditions: dict[str, Precondition] | None = None,
) -> MergeOutcome:
    """Merge two or more golden records into the one created first; commits."""
    outcome = _merge(session, registry, ctx, golden_ids, reason=_reason(reason),
                     preconditions=preconditions or {})
    session.commit()
    return outcome


def _merge(session: Session, registry: DomainRegistry, ctx: RequestContext,
           golden_ids: list[str], *, reason: str, preconditions: dict[str, Precondition],
           review_task_id: str | None = None) -> MergeOutcome:
    ids = list(dict.fromkeys(golden_ids))
    if len(ids) < 2:
        raise ValidationFailed("Name at least two different golden records.",
                               errors={"golden_ids": ["Two or more distinct ids."]})
    goldens = lock_goldens(session, ids)
    for gid, pre in preconditions.items():
        if gid in goldens:
            check(pre, golden_etag(goldens[gid]), f"Golden record '{gid}'")
    domains = {g.domain for g in goldens.values()}
    if len(domains) > 1:
        raise ValidationFailed("Golden records of different domains cannot be merged.",
                               errors={"golden_ids": [f"Domains: {', '.join(sorted(domains))}"]})
    for g in goldens.values():
        _ensure_active(g)
    domain = domains.pop()
    definition = registry.get(domain)
    survivor = min(goldens.values(), key=lambda g: (g.created_at, g.id))
    victims = sorted((g for g in goldens.values() if g.id != survivor.id), key=lambda g: g.id)
    victim_ids = [v.id for v in victims]

    members: dict[str, list[int]] = defaultdict(list)
    for sr_id, gid in session.execute(
        select(SourceRecord.id, SourceRecord.golden_id).where(SourceRecord.golden_id.in_(ids))
    ).all():
        members[gid].append(sr_id)
    blocking = _decisions_between(session, domain, {
        gid: {gid, *(f"{SR_PREFIX}{s}" for s in members[gid])} for gid in ids})
    if blocking:
        d = blocking[0]
        raise Conflict(f"{d.left_key} and {d.right_key} are marked not-a-match (decision "
                       f"{d.id}: {d.reason}); revoke that decision before merging.")

    now = utcnow()
    op_id = new_id()
    moved = sorted(s for v in victim_ids for s in members[v])
    _move_source_records(session, victim_ids, survivor.id)
    pending = gold.Pending()
    extra = {"survivor": survivor.id, "victims": victim_ids, "operation_id": op_id}
    for v in victims:
        before = gold.snapshot(v)
        v.status, v.merged_into = MERGED, survivor.id
        v.version += 1
        v.updated_at = now
        gold.record_version(pending, ctx, v, action="golden.merge", event_type="merged",
                            before=before, reason=reason, extra=extra)
    _supersede_requests(session, victim_ids, f"merged into {survivor.id}")
    views = gold.source_views(session, [survivor.id]).get(survivor.id, [])
    gold.refresh(session, pending, ctx, definition, survivor, views, action="golden.merge",
                 reason=reason, extra=extra, force=True, event_type="merged")
    op = LineageOperation(
        id=op_id, domain=domain, kind=MERGE, survivor_id=survivor.id, other_ids=victim_ids,
        source_record_ids=moved, review_task_id=review_task_id, actor=ctx.actor.name,
        reason=reason, request_id=ctx.request_id, at=now)
    session.add(op)
    session.flush()
    session.add_all([LineageLink(operation_id=op_id, golden_id=survivor.id, role="survivor")]
                    + [LineageLink(operation_id=op_id, golden_id=v, role="victim")
                       for v in victim_ids])
    _settle_tasks_after_merge(session, ctx, ids, op, skip=review_task_id)
    audit(session, ctx, "stewardship.merge", "lineage_operation", op_id, domain=domain,
          after=operation_dict(op), reason=reason)
    pending.write(session)
    return MergeOutcome(op, survivor)


def _move_source_records(session: Session, from_ids: list[str], to_id: str,
                         source_record_ids: list[int] | None = None) -> None:
    # "evaluate": source records already loaded in the session move with the rows, so
    # whatever reads them next in this transaction sees their new golden record.
    if source_record_ids is not None:
        for i in range(0, len(source_record_ids), 500):
            chunk = source_record_ids[i : i + 500]
            session.execute(update(SourceRecord).where(SourceRecord.id.in_(chunk))
                            .values(golden_id=to_id)
                            .execution_options(synchronize_session="evaluate"))
            session.execute(update(QualityIssue).where(QualityIssue.source_record_id.in_(chunk))
                            .values(golden_id=to_id)
                            .execution_options(synchronize_session="evaluate"))
        return
    session.execute(update(SourceRecord).where(SourceRecord.golden_id.in_(from_ids))
                    .values(golden_id=to_id).execution_options(synchronize_session="evaluate"))
    session.execute(update(QualityIssue).where(QualityIssue.golden_id.in_(from_ids))
                    .values(golden_id=to_id).execution_options(synchronize_session="evaluate"))


def _supersede_requests(session: Session, golden_ids: list[str], why: str) -> None:
    session.execute(
        update(ChangeRequest)
        .where(ChangeRequest.golden_id.in_(golden_ids), ChangeRequest.status == PENDING)
        .values(status=SUPERSEDED, pending_key=None, decided_at=utcnow(), decision_reason=why,
                version=ChangeRequest.version + 1)
        .execution_options(synchronize_session=False)
    )


def _settle_tasks_after_merge(session: Session, ctx: RequestContext, merged_ids: list[str],
                              op: LineageOperation, skip: str | None) -> None:
    """Close pending tasks whose records are now all one golden record."""
    task_ids = set(session.scalars(
        select(ReviewTaskGolden.task_id).where(ReviewTaskGolden.golden_id.in_(merged_ids))))
    task_ids.discard(skip)  # type: ignore[arg-type]
    if not task_ids:
        return
    for task in session.scalars(select(ReviewTask).where(
            ReviewTask.id.in_(list(task_ids)), ReviewTask.status.in_(PENDING_TASK))):
        if len(set(survivors(session, task.golden_ids).values())) > 1:
            continue
        task.status, task.open_key, task.decision = TASK_MERGED, None, "merge"
        task.decided_by, task.decided_at = ctx.actor.name, utcnow()
        task.reason, task.operation_id = f"settled by merge {op.id}", op.id
        audit(session, ctx, "review_task.settled", "review_task", task.id, domain=task.domain,
              after={"status": task.status, "operation_id": op.id})


# --- unmerge --------------------------------------------------------------------------------

@retried_after_lock_cycles
def unmerge(
    session: Session,
    registry: DomainRegistry,
    ctx: RequestContext,
    golden_id: str,
    *,
    reason: str | None,
    precondition: Precondition | None = None,
    source_record_ids: list[int] | None = None,
    source_records: list[tuple[str, str]] | None = None,
    operation_id: str | None = None,
    remember: bool = True,
) -> MergeOutcome:
    """Split source records (by id, by (system, source id) key, or those merge
    ``operation_id`` brought in) out of a golden record into a new one, and remember the
    split as a not-a-match (unless ``remember`` is false: a batch re-match's split is
    the matcher's finding, not a steward's ruling); commits."""
    reason = _reason(reason)
    if source_records is not None:
        domain = session.scalar(select(GoldenRecord.domain).where(GoldenRecord.id == golden_id))
        if domain is None:
            raise NotFound(f"No golden record '{golden_id}'")
        source_record_ids = source_record_ids_for(session, domain, source_records)
    if (source_record_ids is None) == (operation_id is None):
        raise ValidationFailed("Name either source records or a merge operation.",
                               errors={"source_records": ["Give source records or "
                                                          "operation_id, not both."]})
    golden = _lock_one(session, golden_id)
    check(precondition, golden_etag(golden), f"Golden record '{golden_id}'")
    _ensure_active(golden)
    definition = registry.get(golden.domain)
    attached = dict(session.execute(
        select(SourceRecord.id, SourceRecord.active).where(SourceRecord.golden_id == golden.id)
    ).all())
    undoes = None
    if operation_id is not None:
        merge_op = session.get(LineageOperation, operation_id)
        if merge_op is None or merge_op.kind != MERGE:
            raise NotFound(f"No merge operation '{operation_id}'")
        done = session.scalar(select(LineageOperation.id).where(
            LineageOperation.undoes == operation_id))
        if done:
            raise Conflict(f"Merge {operation_id} was already undone by operation {done}.")
        wanted = [s for s in merge_op.source_record_ids if s in attached]
        if not wanted:
            raise Conflict(f"None of the source records merge {operation_id} brought in are "
                           f"in golden record '{golden.id}' now.")
        undoes = operation_id
    else:
        wanted = sorted(set(source_record_ids or []))
        stray = [s for s in wanted if s not in attached]
        if stray:
            where = session.scalar(select(SourceRecord.golden_id).where(
                SourceRecord.id == stray[0]))
            if where is None:
                raise NotFound(f"No source record {stray[0]}")
            raise Conflict(f"Source record {stray[0]} belongs to golden record '{where}', "
                           f"not '{golden.id}'.")
    if not [s for s, active in attached.items() if active and s not in set(wanted)]:
        raise ValidationFailed("Nothing would be left: a golden record keeps at least one "
                               "active source record.",
                               errors={"source_records": ["Leave at least one active record."]})

    now = utcnow()
    op_id = new_id()
    created = GoldenRecord(id=new_id(), domain=golden.domain, status=ACTIVE, version=1,
                           attributes={}, provenance={}, overrides={}, search_name="",
                           quality_status="ok", created_at=now, updated_at=now)
    session.add(created)
    session.flush()
    _move_source_records(session, [golden.id], created.id, wanted)
    views = gold.source_views(session, [golden.id, created.id])
    pending = gold.Pending()
    created.attributes, created.provenance, created.quality_status = gold.compute(
        definition, views.get(created.id, []))
    created.search_name = gold.fold(str(created.attributes.get(definition.display, "")))
    extra = {"split_from": golden.id, "split_into": [created.id], "source_record_ids": wanted,
             "operation_id": op_id}
    gold.record_version(pending, ctx, created, action="golden.unmerge", event_type="created",
                        before=None, reason=reason, extra=extra, at=now)
    gold.refresh(session, pending, ctx, definition, golden, views.get(golden.id, []),
                 action="golden.unmerge", reason=reason, extra=extra, force=True,
                 event_type="unmerged")
    op = LineageOperation(
        id=op_id, domain=golden.domain, kind=UNMERGE, survivor_id=golden.id,
        other_ids=[created.id], source_record_ids=wanted, undoes=undoes, actor=ctx.actor.name,
        reason=reason, request_id=ctx.request_id, at=now)
    session.add(op)
    session.flush()
    session.add_all([LineageLink(operation_id=op_id, golden_id=golden.id, role="source"),
                     LineageLink(operation_id=op_id, golden_id=created.id, role="split")])
    if remember:
        _record_not_a_match(session, ctx, golden.domain, GOLDEN_KIND, golden.id, created.id,
                            reason=reason, origin=f"unmerge:{op_id}")
    audit(session, ctx, "stewardship.unmerge", "lineage_operation", op_id, domain=golden.domain,
          after=operation_dict(op), reason=reason)
    pending.write(session)
    session.commit()
    return MergeOutcome(op, golden, created)


def source_record_ids_for(session: Session, domain: str,
                          keys: list[tuple[str, str]]) -> list[int]:
    """Source record ids of (source system, source id) keys; 404 for an unknown key."""
    out = []
    for code, sid in keys:
        rid = session.scalar(
            select(SourceRecord.id)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_system_id)
            .where(SourceRecord.domain == domain, SourceSystem.code == code,
                   SourceRecord.source_id == sid))
        if rid is None:
            raise NotFound(f"No {domain} record '{sid}' from '{code}'")
        out.append(rid)
    return out


# --- not-a-match ----------------------------------------------------------------------------

def _decisions_between(session: Session, domain: str,
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


def _record_not_a_match(session: Session, ctx: RequestContext, domain: str, kind: str, a: str,
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
    reason = _reason(reason)
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
            raise Conflict(f"These are one golden record now ('{a}'); unmerge first.")
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
            raise Conflict(f"Both source records are in golden record '{homes[ids[0]]}'; "
                           "unmerge one of them first.")
        a, b = f"{SR_PREFIX}{ids[0]}", f"{SR_PREFIX}{ids[1]}"
        kind = SOURCE_RECORD_KIND
        tasks_for = [homes[ids[0]], homes[ids[1]]]
    decision, created = _record_not_a_match(session, ctx, domain, kind, a, b, reason=reason,
                                            origin="steward")
    _close_task_for(session, ctx, domain, tasks_for, NOT_A_MATCH, reason)
    session.commit()
    return decision, created


def _close_task_for(session: Session, ctx: RequestContext, domain: str, golden_ids: list[str],
                    status: str, reason: str) -> None:
    task = session.scalar(select(ReviewTask).where(
        ReviewTask.domain == domain, ReviewTask.open_key == _group_key(golden_ids)))
    if task is not None:
        task.status, task.open_key, task.decision = status, None, status
        task.decided_by, task.decided_at, task.reason = ctx.actor.name, utcnow(), reason
        audit(session, ctx, "review_task.settled", "review_task", task.id, domain=domain,
              after={"status": status}, reason=reason)


@retried_after_lock_cycles
def revoke_not_a_match(session: Session, ctx: RequestContext, decision_id: int, *,
                       reason: str | None) -> NotAMatch:
    """Revoke a decision so matching may reconsider the pair; repeating it changes nothing."""
    reason = _reason(reason)
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


# --- overrides ------------------------------------------------------------------------------

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
    reason = _reason(reason)
    golden = _lock_one(session, golden_id)
    check(precondition, golden_etag(golden), f"Golden record '{golden_id}'")
    _ensure_active(golden)
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
    _apply_override(session, ctx, definition, golden, attribute, parsed, reason=reason,
                    actor=ctx.actor.name)
    session.commit()
    return golden, None


def _apply_override(session: Session, ctx: RequestContext, definition: DomainDefinition,
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
    reason = _reason(reason)
    golden = _lock_one(session, golden_id)
    check(precondition, golden_etag(golden), f"Golden record '{golden_id}'")
    _ensure_active(golden)
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


# --- change requests (four eyes) ------------------------------------------------------------

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
        raise Conflict(f"Change request '{request_id}' is {cr.status}.")
    if cr.requested_by == ctx.actor.name:
        raise Forbidden("Four eyes: the steward who requested a change may not approve it.")
    golden = _lock_one(session, cr.golden_id)
    _ensure_active(golden)
    definition = registry.get(golden.domain)
    before = change_request_dict(cr)
    why = reason or "approved"
    if cr.origin == FROM_OVERRIDE:
        _apply_override(session, ctx, definition, golden, cr.attribute, cr.value,
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
            raise Conflict(f"Change request '{request_id}' is out of date: the source records "
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
    reason = _reason(reason)
    cr = _lock_request(session, request_id, precondition)
    if cr.status == REJECTED and cr.decided_by == ctx.actor.name:
        session.rollback()
        return cr
    if cr.status != PENDING:
        raise Conflict(f"Change request '{request_id}' is {cr.status}.")
    before = change_request_dict(cr)
    _decide(cr, ctx, REJECTED, reason)
    audit(session, ctx, "change_request.rejected", "change_request", cr.id, domain=cr.domain,
          before=before, after=change_request_dict(cr), reason=reason)
    session.commit()
    return cr


def _decide(cr: ChangeRequest, ctx: RequestContext, status: str, reason: str) -> None:
    cr.status, cr.pending_key = status, None
    cr.decided_by, cr.decided_at, cr.decision_reason = ctx.actor.name, utcnow(), reason


# --- lineage --------------------------------------------------------------------------------

def lineage(session: Session, golden_id: str, max_operations: int = 1000) -> dict[str, Any]:
    """Every merge and unmerge connected to a golden record, oldest first, with the ids it
    came from (merged into it, or split from) and went to (merged into, or split into)."""
    if session.get(GoldenRecord, golden_id) is None:
        raise NotFound(f"No golden record '{golden_id}'")
    seen_ids: set[str] = {golden_id}
    seen_ops: set[str] = set()
    frontier = {golden_id}
    while frontier and len(seen_ops) < max_operations:
        op_ids = set(session.scalars(select(LineageLink.operation_id).where(
            LineageLink.golden_id.in_(list(frontier))))) - seen_ops
        seen_ops |= op_ids
        frontier = set(session.scalars(select(LineageLink.golden_id).where(
            LineageLink.operation_id.in_(list(op_ids))))) - seen_ids if op_ids else set()
        seen_ids |= frontier
    ops = list(session.scalars(select(LineageOperation).where(
        LineageOperation.id.in_(list(seen_ops))).order_by(LineageOperation.at,
                                                            LineageOperation.id)))
    came_from: list[str] = []
    went_to: list[str] = []
    for op in ops:
        if op.kind == MERGE:
            if op.survivor_id == golden_id:
                came_from += op.other_ids
            elif golden_id in op.other_ids:
                went_to.append(op.survivor_id)
        else:
            if golden_id in op.other_ids:
                came_from.append(op.survivor_id)
            elif op.survivor_id == golden_id:
                went_to += op.other_ids
    now = survivors(session, [golden_id])[golden_id]
    return {"golden_id": golden_id, "current_id": now, "came_from": came_from,
            "went_to": went_to, "related_ids": sorted(seen_ids - {golden_id}),
            "operations": [operation_dict(op) for op in ops]}


def get_operation(session: Session, operation_id: str) -> LineageOperation:
    op = session.get(LineageOperation, operation_id)
    if op is None:
        raise NotFound(f"No merge or unmerge operation '{operation_id}'")
    return op


# --- survivorship recompute -----------------------------------------------------------------

@dataclass
class RecomputeSummary:
    domain: str
    dry_run: bool
    total: int = 0
    changed: int = 0
    diffs: list[dict[str, Any]] = field(default_factory=list)


def recompute(
    session: Session,
    registry: DomainRegistry,
    ctx: RequestContext,
    domain: str,
    *,
    dry_run: bool = False,
    batch_size: int = 500,
    progress: Callable[[int, int, int], None] | None = None,
) -> RecomputeSummary:
    """Recompute every golden record of a domain under the current survivorship rules.

    Commits per batch (each batch is one transaction). With ``dry_run`` nothing is written
    and the summary lists each record's attribute changes; approval attributes are marked
    ``needs_approval`` (a real run holds them as change requests).
    """
    definition = registry.get(domain)
    conds = [GoldenRecord.domain == domain, GoldenRecord.status != MERGED]
    summary = RecomputeSummary(domain, dry_run)
    summary.total = session.scalar(
        select(func.count()).select_from(GoldenRecord).where(*conds)) or 0
    done, last = 0, ""
    while True:
        ids = list(session.scalars(select(GoldenRecord.id).where(*conds, GoldenRecord.id > last)
                                   .order_by(GoldenRecord.id).limit(batch_size)))
        if not ids:
            break
        last = ids[-1]
        views = gold.source_views(session, ids)
        goldens = list(session.scalars(select(GoldenRecord).where(GoldenRecord.id.in_(ids))))
        if dry_run:
            for g in goldens:
                diff = _diff(session, definition, g, views.get(g.id, []))
                if diff:
                    summary.changed += 1
                    summary.diffs.append(diff)
            session.rollback()
        else:
            pending = gold.Pending()
            for g in goldens:
                summary.changed += gold.refresh(
                    session, pending, ctx, definition, g, views.get(g.id, []),
                    action="golden.recompute", reason="survivorship recompute")
            pending.write(session)
            session.commit()
        done += len(ids)
        if progress:
            progress(done, summary.total, summary.changed)
    return summary


def _diff(session: Session, definition: DomainDefinition, golden: GoldenRecord,
          views: list[Any]) -> dict[str, Any] | None:
    """What a real run would change on ``golden`` (``gold.preview``: four eyes applied)."""
    values, provenance, qstatus, status = gold.preview(session, definition, golden, views)
    changes = {}
    old_provenance = golden.provenance or {}
    for attr in sorted(set(values) | set(golden.attributes or {}) | set(provenance)
                       | set(old_provenance)):
        old, new = (golden.attributes or {}).get(attr), values.get(attr)
        old_prov, new_prov = old_provenance.get(attr), provenance.get(attr)
        if old != new or old_prov != new_prov:
            change = {"from": old, "to": new, "rule": (new_prov or {}).get("rule"),
                      "previous_rule": (old_prov or {}).get("rule")}
            if old_prov != new_prov:
                change["provenance"], change["previous_provenance"] = new_prov, old_prov
            held = new_prov or {}
            if held.get("rule") == HELD and held.get("change_request_id") is None:
                change["needs_approval"] = True  # a real run opens a change request
            changes[attr] = change
    diff: dict[str, Any] = {"golden_id": golden.id, "changes": changes}
    if qstatus != golden.quality_status:
        diff["quality_status"] = {"from": golden.quality_status, "to": qstatus}
    if status != golden.status:
        diff["status"] = {"from": golden.status, "to": status}
    return diff if len(diff) > 2 or changes else None


# --- dictionaries for the API and the audit trail -------------------------------------------

def operation_dict(op: LineageOperation) -> dict[str, Any]:
    return {"id": op.id, "domain": op.domain, "kind": op.kind, "survivor_id": op.survivor_id,
            "other_ids": list(op.other_ids), "source_record_ids": list(op.source_record_ids),
            "undoes": op.undoes, "review_task_id": op.review_task_id, "actor": op.actor,
            "reason": op.reason, "request_id": op.request_id,
            "at": op.at.isoformat() if op.at else None}


def not_a_match_dict(d: NotAMatch) -> dict[str, Any]:
    return {"id": d.id, "domain": d.domain, "kind": d.kind, "left": d.left_key,
            "right": d.right_key, "active": d.active_key is not None, "origin": d.origin,
            "reason": d.reason, "created_by": d.created_by,
            "created_at": d.created_at.isoformat() if d.created_at else None,
            "request_id": d.request_id, "revoked_by": d.revoked_by,
            "revoked_at": d.revoked_at.isoformat() if d.revoked_at else None,
            "revoke_reason": d.revoke_reason}


def pairs_of(ids: list[str]) -> list[tuple[str, str]]:
    return list(combinations(sorted(ids), 2))

