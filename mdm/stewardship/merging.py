"""Merge and unmerge of golden records, and the lineage they leave.

Survivor rule of a merge: the golden record created first (earliest ``created_at``, then
the smallest id; ids are time-ordered) survives; the others become ``merged`` into it. An
unmerge splits source records out into a new golden record and, unless told otherwise,
remembers the split as a not-a-match.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mdm.audit.service import audit
from mdm.context import RequestContext
from mdm.db import new_id, utcnow
from mdm.domains.definitions import DomainDefinition
from mdm.domains.registry import DomainRegistry
from mdm.errors import NotAMatchHeld, NotAMember, NotFound, ValidationFailed, WrongState
from mdm.records import golden as gold
from mdm.records.conflicts import retried_after_lock_cycles
from mdm.records.models import ACTIVE, MERGED, GoldenRecord, QualityIssue, SourceRecord
from mdm.records.service import survivor_ids as survivors
from mdm.stewardship.guards import (
    GOLDEN_KIND,
    SR_PREFIX,
    Precondition,
    check,
    ensure_active,
    golden_etag,
    lock_goldens,
    lock_one,
    required_reason,
    source_record_ids_for,
)
from mdm.stewardship.models import (
    MERGE,
    PENDING,
    PENDING_TASK,
    SUPERSEDED,
    UNMERGE,
    ChangeRequest,
    LineageLink,
    LineageOperation,
    ReviewTask,
    ReviewTaskGolden,
)
from mdm.stewardship.models import (
    MERGED as TASK_MERGED,
)
from mdm.stewardship.not_a_match import decisions_between, record_not_a_match


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
    unpublished: Container[str] = (),
) -> MergeOutcome:
    """Merge two or more golden records into the one created first; commits.

    ``unpublished``: golden records no downstream system holds yet (a batch re-match's
    ``approvals.Unpublished``): a risky change of such a survivor opens no change request.
    """
    outcome = merge_in_transaction(session, registry, ctx, golden_ids,
                                   reason=required_reason(reason),
                                   preconditions=preconditions or {}, unpublished=unpublished)
    session.commit()
    return outcome


def merge_in_transaction(session: Session, registry: DomainRegistry, ctx: RequestContext,
                         golden_ids: list[str], *, reason: str,
                         preconditions: dict[str, Precondition],
                         review_task_id: str | None = None,
           unpublished: Container[str] = ()) -> MergeOutcome:
    """``merge`` inside the caller's transaction (a review task's decision); no commit."""
    ids = list(dict.fromkeys(golden_ids))
    goldens = _lock_mergeable(session, ids, preconditions)
    domain = next(iter(goldens.values())).domain
    definition = registry.get(domain)
    survivor = min(goldens.values(), key=lambda g: (g.created_at, g.id))
    victims = sorted((g for g in goldens.values() if g.id != survivor.id), key=lambda g: g.id)
    victim_ids = [v.id for v in victims]
    members = _members_not_held_apart(session, domain, ids)

    now = utcnow()
    op_id = new_id()
    moved = sorted(s for v in victim_ids for s in members[v])
    _move_source_records(session, victim_ids, survivor.id)
    pending = gold.Pending()
    extra = {"survivor": survivor.id, "victims": victim_ids, "operation_id": op_id}
    mark_merged(pending, ctx, victims, survivor.id, extra, reason=reason, at=now)
    supersede_requests(session, victim_ids, f"merged into {survivor.id}")
    views = gold.source_views(session, [survivor.id]).get(survivor.id, [])
    gold.refresh(session, pending, ctx, definition, survivor, views, action="golden.merge",
                 reason=reason, extra=extra, force=True, event_type="merged",
                 new_requests=survivor.id not in unpublished)
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


def mark_merged(pending: gold.Pending, ctx: RequestContext, victims: list[GoldenRecord],
                survivor_id: str, extra: dict[str, Any], *, reason: str | None,
                at: datetime) -> None:
    """The victims of a merge become ``merged`` into the survivor, each with its version
    (stewardship's merge and mdm match's bulk apply alike)."""
    for v in victims:
        before = gold.snapshot(v)
        v.status, v.merged_into = MERGED, survivor_id
        v.version += 1
        v.updated_at = at
        gold.record_version(pending, ctx, v, action="golden.merge", event_type="merged",
                            before=before, reason=reason, extra=extra)


def _lock_mergeable(session: Session, ids: list[str],
                    preconditions: dict[str, Precondition]) -> dict[str, GoldenRecord]:
    """Lock the golden records of a merge and check them: two or more, the versions the
    caller saw, one domain, all active."""
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
        ensure_active(g)
    return goldens


def _members_not_held_apart(session: Session, domain: str, ids: list[str]
                                  ) -> dict[str, list[int]]:
    """Each golden record's source record ids; refuses when a not-a-match decision holds
    two of them (or two of their source records) apart."""
    members: dict[str, list[int]] = defaultdict(list)
    for sr_id, gid in session.execute(
        select(SourceRecord.id, SourceRecord.golden_id).where(SourceRecord.golden_id.in_(ids))
    ).all():
        members[gid].append(sr_id)
    blocking = decisions_between(session, domain, {
        gid: {gid, *(f"{SR_PREFIX}{s}" for s in members[gid])} for gid in ids})
    if blocking:
        d = blocking[0]
        raise NotAMatchHeld(f"{d.left_key} and {d.right_key} are marked not-a-match (decision "
                            f"{d.id}: {d.reason}); revoke that decision before merging.",
                            decision_id=d.id)
    return members


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


def supersede_requests(session: Session, golden_ids: list[str], why: str) -> None:
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
    if skip is not None:
        task_ids.discard(skip)
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
    unpublished: Container[str] = (),
) -> MergeOutcome:
    """Split source records (by id, by (system, source id) key, or those merge
    ``operation_id`` brought in) out of a golden record into a new one, and remember the
    split as a not-a-match (unless ``remember`` is false: a batch re-match's split is
    the matcher's finding, not a steward's ruling); commits. ``unpublished``: as for
    ``merge``."""
    reason = required_reason(reason)
    if source_records is not None:
        domain = session.scalar(select(GoldenRecord.domain).where(GoldenRecord.id == golden_id))
        if domain is None:
            raise NotFound(f"No golden record '{golden_id}'")
        source_record_ids = source_record_ids_for(session, domain, source_records)
    if (source_record_ids is None) == (operation_id is None):
        raise ValidationFailed("Name either source records or a merge operation.",
                               errors={"source_records": ["Give source records or "
                                                          "operation_id, not both."]})
    golden = lock_one(session, golden_id)
    check(precondition, golden_etag(golden), f"Golden record '{golden_id}'")
    ensure_active(golden)
    definition = registry.get(golden.domain)
    wanted, undoes = _records_to_split(session, golden, source_record_ids, operation_id)

    now = utcnow()
    op_id = new_id()
    pending = gold.Pending()
    # split_into is filled in once the new record exists (the key keeps its place)
    extra: dict[str, Any] = {"split_from": golden.id, "split_into": None,
                             "source_record_ids": wanted, "operation_id": op_id}
    created = _split_into_new(session, pending, ctx, definition, golden, wanted, extra,
                              reason=reason, at=now, new_requests=golden.id not in unpublished)
    op = LineageOperation(
        id=op_id, domain=golden.domain, kind=UNMERGE, survivor_id=golden.id,
        other_ids=[created.id], source_record_ids=wanted, undoes=undoes, actor=ctx.actor.name,
        reason=reason, request_id=ctx.request_id, at=now)
    session.add(op)
    session.flush()
    session.add_all([LineageLink(operation_id=op_id, golden_id=golden.id, role="source"),
                     LineageLink(operation_id=op_id, golden_id=created.id, role="split")])
    if remember:
        record_not_a_match(session, ctx, golden.domain, GOLDEN_KIND, golden.id, created.id,
                           reason=reason, origin=f"unmerge:{op_id}")
    audit(session, ctx, "stewardship.unmerge", "lineage_operation", op_id, domain=golden.domain,
          after=operation_dict(op), reason=reason)
    pending.write(session)
    session.commit()
    return MergeOutcome(op, golden, created)


def _records_to_split(session: Session, golden: GoldenRecord,
                      source_record_ids: list[int] | None, operation_id: str | None
                      ) -> tuple[list[int], str | None]:
    """The source records an unmerge takes out of ``golden`` (those named, or those merge
    ``operation_id`` brought in), and the merge it undoes; refuses what cannot be split."""
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
            raise WrongState(f"Merge {operation_id} was already undone by operation {done}.")
        wanted = [s for s in merge_op.source_record_ids if s in attached]
        if not wanted:
            raise NotAMember(f"None of the source records merge {operation_id} brought in are "
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
            raise NotAMember(f"Source record {stray[0]} belongs to golden record '{where}', "
                             f"not '{golden.id}'.")
    if not [s for s, active in attached.items() if active and s not in set(wanted)]:
        raise ValidationFailed("Nothing would be left: a golden record keeps at least one "
                               "active source record.",
                               errors={"source_records": ["Leave at least one active record."]})
    return wanted, undoes


def _split_into_new(session: Session, pending: gold.Pending, ctx: RequestContext,
                    definition: DomainDefinition, golden: GoldenRecord, wanted: list[int],
                    extra: dict[str, Any], *, reason: str, at: datetime,
                    new_requests: bool) -> GoldenRecord:
    """Move ``wanted`` into a new golden record and re-survive both; versions go to
    ``pending``. ``extra`` (the versions' context) gains ``split_into``."""
    created = GoldenRecord(id=new_id(), domain=golden.domain, status=ACTIVE, version=1,
                           attributes={}, provenance={}, overrides={}, search_name="",
                           quality_status="ok", created_at=at, updated_at=at)
    session.add(created)
    session.flush()
    _move_source_records(session, [golden.id], created.id, wanted)
    views = gold.source_views(session, [golden.id, created.id])
    created.attributes, created.provenance, created.quality_status = gold.compute(
        definition, views.get(created.id, []))
    created.search_name = gold.fold(str(created.attributes.get(definition.display, "")))
    extra["split_into"] = [created.id]
    gold.record_version(pending, ctx, created, action="golden.unmerge", event_type="created",
                        before=None, reason=reason, extra=extra, at=at)
    gold.refresh(session, pending, ctx, definition, golden, views.get(golden.id, []),
                 action="golden.unmerge", reason=reason, extra=extra, force=True,
                 event_type="unmerged", new_requests=new_requests)
    return created


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


def operation_dict(op: LineageOperation) -> dict[str, Any]:
    return {"id": op.id, "domain": op.domain, "kind": op.kind, "survivor_id": op.survivor_id,
            "other_ids": list(op.other_ids), "source_record_ids": list(op.source_record_ids),
            "undoes": op.undoes, "review_task_id": op.review_task_id, "actor": op.actor,
            "reason": op.reason, "request_id": op.request_id,
            "at": op.at.isoformat() if op.at else None}


def pairs_of(ids: list[str]) -> list[tuple[str, str]]:
    return list(combinations(sorted(ids), 2))
