"""The review queue: potential matches opened by the matching engine
(``open_review_task``), listing and filtering them, the side-by-side view, claiming and
assigning, deciding (merge, not-a-match, defer), and the queue's figures."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from mdm.audit.service import audit
from mdm.context import RequestContext
from mdm.db import new_id, sqlite_write_lock, utcnow
from mdm.domains.registry import DomainRegistry
from mdm.errors import AlreadyOneRecord, ClaimedByAnother, NotFound, ValidationFailed, WrongState
from mdm.records import golden as gold
from mdm.records.conflicts import retried_after_lock_cycles
from mdm.records.models import GoldenRecord, SourceRecord
from mdm.records.service import decode_cursor, encode_cursor
from mdm.records.service import survivor_ids as survivors
from mdm.sources.models import SourceSystem
from mdm.stewardship.approvals import add_unique
from mdm.stewardship.guards import GOLDEN_KIND, Precondition, check, group_key, required_reason
from mdm.stewardship.merging import MergeOutcome, merge_in_transaction, pairs_of
from mdm.stewardship.models import (
    DEFERRED,
    MERGED,
    NOT_A_MATCH,
    OPEN,
    PENDING_TASK,
    ReviewTask,
    ReviewTaskGolden,
)
from mdm.stewardship.not_a_match import record_not_a_match

SIDE_BY_SIDE_RECORDS = 50  # source records shown per golden record in the task view
# A group that grows past these bounds starts a new task (a steward reads it in one view).
MAX_TASK_GOLDENS = 50
MAX_TASK_RECORDS = 200
AGE_BUCKETS = ((timedelta(days=1), "lt_1d"), (timedelta(days=7), "1d_7d"),
               (timedelta(days=30), "7d_30d"))


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
    key = group_key(ids)
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


def get_task(session: Session, task_id: str) -> ReviewTask:
    task = session.get(ReviewTask, task_id)
    if task is None:
        raise NotFound(f"No review task '{task_id}'")
    return task


def task_etag(session: Session, task: ReviewTask) -> str:
    """Changes when the task or any of its golden records changes."""
    versions = dict(session.execute(select(GoldenRecord.id, GoldenRecord.version)
                                    .where(GoldenRecord.id.in_(task.golden_ids))).all())
    return ".".join([str(task.version), *(str(versions.get(g, 0)) for g in task.golden_ids)])


def list_tasks(
    session: Session,
    registry: DomainRegistry,
    *,
    domain: str | None = None,
    status: str | None = OPEN,
    min_score: float | None = None,
    max_score: float | None = None,
    min_age_hours: float | None = None,
    max_age_hours: float | None = None,
    assignee: str | None = None,
    unassigned: bool | None = None,
    source_system: list[str] | None = None,
    golden_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[ReviewTask], str | None]:
    """Tasks oldest first (ids are time-ordered), filtered; cursor pagination."""
    conds: list[ColumnElement[bool]] = []
    if domain:
        registry.get(domain)
        conds.append(ReviewTask.domain == domain)
    if status:
        conds.append(ReviewTask.status == status)
    if min_score is not None:
        conds.append(ReviewTask.score >= min_score)
    if max_score is not None:
        conds.append(ReviewTask.score <= max_score)
    now = utcnow()
    if min_age_hours is not None:
        conds.append(ReviewTask.created_at <= now - timedelta(hours=min_age_hours))
    if max_age_hours is not None:
        conds.append(ReviewTask.created_at >= now - timedelta(hours=max_age_hours))
    if assignee:
        conds.append(ReviewTask.assignee == assignee)
    if unassigned is True:
        conds.append(ReviewTask.assignee.is_(None))
    elif unassigned is False:
        conds.append(ReviewTask.assignee.is_not(None))
    if source_system:
        conds.append(or_(*[ReviewTask.source_systems.contains(f",{code},", autoescape=True)
                           for code in source_system]))
    if golden_id:
        conds.append(ReviewTask.id.in_(select(ReviewTaskGolden.task_id)
                                       .where(ReviewTaskGolden.golden_id == golden_id)))
    after = decode_cursor(cursor)
    if after:
        conds.append(ReviewTask.id > after)
    rows = list(session.scalars(select(ReviewTask).where(*conds).order_by(ReviewTask.id)
                                .limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].id) if more and rows else None


def task_dict(task: ReviewTask, etag: str | None = None) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": task.id, "domain": task.domain, "status": task.status,
        "golden_ids": list(task.golden_ids), "score": task.score,
        "source_record_ids": task.source_record_ids,
        "source_systems": [s for s in task.source_systems.split(",") if s],
        "explanation": task.explanation, "assignee": task.assignee,
        "created_by": task.created_by, "created_at": task.created_at.isoformat(),
        "age_seconds": int((now - task.created_at).total_seconds()),
        "deferred_until": task.deferred_until.isoformat() if task.deferred_until else None,
        "decision": task.decision, "decided_by": task.decided_by,
        "decided_at": task.decided_at.isoformat() if task.decided_at else None,
        "reason": task.reason, "operation_id": task.operation_id, "version": task.version,
        "etag": etag,
    }


def side_by_side(session: Session, registry: DomainRegistry, task: ReviewTask) -> dict[str, Any]:
    """The task with each golden record, its source records and an attribute comparison."""
    goldens = {g.id: g for g in session.scalars(
        select(GoldenRecord).where(GoldenRecord.id.in_(task.golden_ids)))}
    now_of = survivors(session, task.golden_ids)
    records: list[dict[str, Any]] = []
    for gid in task.golden_ids:
        g = goldens.get(gid)
        if g is None:
            continue
        rows = session.execute(
            select(SourceRecord, SourceSystem.code)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_system_id)
            .where(SourceRecord.golden_id == gid)
            .order_by(SourceSystem.code, SourceRecord.source_id).limit(SIDE_BY_SIDE_RECORDS)
        ).all()
        count = session.scalar(select(func.count()).select_from(SourceRecord)
                               .where(SourceRecord.golden_id == gid)) or 0
        records.append({
            "golden": {**gold.snapshot(g), "provenance": g.provenance},
            "current_id": now_of.get(gid, gid),
            "source_record_count": count,
            "source_records": [
                {"id": sr.id, "source_system": code, "source_id": sr.source_id,
                 "active": sr.active, "attributes": sr.attributes,
                 "updated_at": sr.updated_at.isoformat()}
                for sr, code in rows
            ],
        })
    definition = registry.get(task.domain)
    comparison = []
    for attr in definition.attributes:
        values = [r["golden"]["attributes"].get(attr.name) for r in records]
        if all(v is None for v in values):
            continue
        present = [v for v in values if v is not None]
        comparison.append({"attribute": attr.name, "values": values,
                           "same": len(present) == len(values)
                           and len(set(map(str, present))) == 1})
    etag = task_etag(session, task)
    return {**task_dict(task, etag), "records": records, "comparison": comparison}


def _lock_task(session: Session, task_id: str, pre: Precondition | None) -> ReviewTask:
    sqlite_write_lock(session)
    task = session.scalar(select(ReviewTask).where(ReviewTask.id == task_id).with_for_update()
                          .execution_options(populate_existing=True))
    if task is None:
        raise NotFound(f"No review task '{task_id}'")
    check(pre, task_etag(session, task), f"Review task '{task_id}'")
    return task


@retried_after_lock_cycles
def assign(session: Session, ctx: RequestContext, task_id: str, *,
           assignee: str | None = None, precondition: Precondition | None = None
           ) -> ReviewTask:
    """Claim a task (``assignee`` None: the caller) or assign it to a steward; commits.

    Claiming a task someone else holds is refused; assigning it explicitly reassigns it.
    """
    task = _lock_task(session, task_id, precondition)
    if task.status not in PENDING_TASK:
        raise WrongState(f"Review task '{task_id}' is already decided ({task.status}).")
    claiming = assignee is None
    who = ctx.actor.name if claiming else assignee
    if task.assignee == who:
        session.rollback()
        return task
    if claiming and task.assignee is not None:
        raise ClaimedByAnother(f"Review task '{task_id}' is claimed by {task.assignee}.")
    before = {"assignee": task.assignee}
    task.assignee, task.updated_at = who, utcnow()
    audit(session, ctx, "review_task.claimed" if claiming else "review_task.assigned",
          "review_task", task.id, domain=task.domain, before=before,
          after={"assignee": task.assignee})
    session.commit()
    return task


@retried_after_lock_cycles
def decide(
    session: Session,
    registry: DomainRegistry,
    ctx: RequestContext,
    task_id: str,
    *,
    decision: str,
    reason: str | None,
    precondition: Precondition | None = None,
    defer_until: datetime | None = None,
) -> tuple[ReviewTask, MergeOutcome | None]:
    """Merge the task's records, mark them not-a-match, or defer the task; commits."""
    why = required_reason(reason)
    task = _lock_task(session, task_id, precondition)
    if task.status not in PENDING_TASK:
        raise WrongState(f"Review task '{task_id}' is already decided ({task.status}).")
    if task.assignee and task.assignee != ctx.actor.name and ctx.actor.role != "admin":
        raise ClaimedByAnother(f"Review task '{task_id}' is claimed by {task.assignee}.")
    before = task_dict(task)
    outcome = None
    now = utcnow()
    ids = sorted(set(survivors(session, task.golden_ids).values()))
    if decision == "merge":
        if len(ids) < 2:
            raise AlreadyOneRecord("These records are one golden record already.")
        outcome = merge_in_transaction(session, registry, ctx, ids, reason=why, preconditions={},
                                 review_task_id=task.id)
        task.status, task.operation_id = MERGED, outcome.operation.id
    elif decision == "not_a_match":
        for a, b in pairs_of(ids):
            record_not_a_match(session, ctx, task.domain, GOLDEN_KIND, a, b,
                                        reason=why, origin=f"review_task:{task.id}")
        task.status = NOT_A_MATCH
    elif decision == "defer":
        task.status, task.deferred_until = DEFERRED, defer_until
    else:
        raise ValidationFailed("Unknown decision.",
                               errors={"decision": ["One of merge, not_a_match, defer."]})
    if task.status != DEFERRED:
        task.open_key = None
    task.decision, task.decided_by, task.decided_at, task.reason = (
        decision, ctx.actor.name, now, why)
    task.updated_at = now
    audit(session, ctx, "review_task.decided", "review_task", task.id, domain=task.domain,
          before=before, after=task_dict(task), reason=why)
    session.commit()
    return task, outcome


def join_review_task(
    session: Session,
    ctx: RequestContext,
    *,
    domain: str,
    golden_ids: list[str],
    source_record_ids: list[int] | None,
    score: float,
    explanation: dict[str, Any],
) -> ReviewTask:
    """Queue a potential match as part of its group: one pending task per undecided group.

    When a pending task of the domain already holds one of these golden records, that task
    grows to hold them all (its golden ids, source records, best score and strongest
    pairs), unless it would pass ``MAX_TASK_GOLDENS``; otherwise a task is opened
    (``open_review_task``). Joins the caller's transaction and does not commit.
    """
    ids = sorted(set(survivors(session, golden_ids).values()))
    if len(ids) >= 2:
        held = select(ReviewTaskGolden.task_id).where(ReviewTaskGolden.golden_id.in_(ids))
        for task in session.scalars(
            select(ReviewTask).where(ReviewTask.id.in_(held), ReviewTask.domain == domain,
                                     ReviewTask.status.in_(PENDING_TASK))
            .order_by(ReviewTask.id)
        ):
            union = sorted(set(task.golden_ids) | set(ids))
            if union == sorted(task.golden_ids):
                return task
            if len(union) > MAX_TASK_GOLDENS:
                continue
            same = session.scalar(select(ReviewTask).where(
                ReviewTask.domain == domain, ReviewTask.open_key == group_key(union)))
            if same is not None:
                return same
            _extend(session, ctx, task, union, source_record_ids, score, explanation)
            return task
    return open_review_task(session, ctx, domain=domain, golden_ids=golden_ids,
                                    source_record_ids=source_record_ids, score=score,
                                    explanation=explanation)


def _extend(session: Session, ctx: RequestContext, task: ReviewTask, union: list[str],
            source_record_ids: list[int] | None, score: float,
            explanation: dict[str, Any]) -> None:
    before = {"golden_ids": list(task.golden_ids), "score": task.score}
    added = [g for g in union if g not in set(task.golden_ids)]
    records = list(dict.fromkeys([*(task.source_record_ids or []),
                                  *(source_record_ids or [])]))[:MAX_TASK_RECORDS]
    systems = set(session.scalars(
        select(SourceSystem.code)
        .join(SourceRecord, SourceRecord.source_system_id == SourceSystem.id)
        .where(SourceRecord.golden_id.in_(added), SourceRecord.active.is_(True)).distinct()))
    systems.update(s for s in task.source_systems.split(",") if s)
    task.golden_ids, task.open_key = union, group_key(union)
    task.source_record_ids = records or None
    task.source_systems = "," + ",".join(sorted(systems)) + ","
    task.score = max(task.score, float(score))
    task.explanation = _joined_explanation(task.explanation or {}, explanation or {})
    task.updated_at = utcnow()
    session.add_all([ReviewTaskGolden(task_id=task.id, golden_id=g) for g in added])
    audit(session, ctx, "review_task.extended", "review_task", task.id, domain=task.domain,
          before=before, after={"golden_ids": union, "score": task.score})


def _joined_explanation(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The newer explanation, with the strongest pairs of both and how many there were."""
    limit = max(len(old.get("pairs") or []), len(new.get("pairs") or []), 1)
    pairs = sorted([*(old.get("pairs") or []), *(new.get("pairs") or [])],
                   key=lambda p: -float(p.get("probability") or 0.0))
    count = (old.get("pair_count", len(old.get("pairs") or []))
             + new.get("pair_count", len(new.get("pairs") or [])))
    return {**new, "pairs": pairs[:limit], "pair_count": count}


def stats(session: Session) -> list[dict[str, Any]]:
    """Pending tasks by domain, status and age bucket, with the oldest task's age."""
    now = utcnow()
    counts: Counter[tuple[str, str, str]] = Counter()
    oldest: dict[str, datetime] = {}
    for domain, status, created in session.execute(
        select(ReviewTask.domain, ReviewTask.status, ReviewTask.created_at)
        .where(ReviewTask.status.in_(PENDING_TASK))
    ).all():
        counts[(domain, status, age_bucket(now - created))] += 1
        if domain not in oldest or created < oldest[domain]:
            oldest[domain] = created
    return [{"domain": d, "status": s, "age": a, "count": n,
             "oldest_age_seconds": int((now - oldest[d]).total_seconds())}
            for (d, s, a), n in sorted(counts.items())]


def age_bucket(age: timedelta) -> str:
    for limit, name in AGE_BUCKETS:
        if age < limit:
            return name
    return "gt_30d"
