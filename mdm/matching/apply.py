"""Applying a batch re-match: merges, splits and review tasks, in bulk.

``apply_plan`` is what ``mdm match DOMAIN`` runs. Splits go first, then merges: a merge
joins the golden records that hold the proposed cluster's records once the splits are
done (not the golden records the batch read: an incrementally built golden record can
hold records the batch puts elsewhere), and a merge whose union would break a hard rule
(``MatchEngine.conflict`` over every pair across the golden records joined: different
valid tax ids, different countries) is refused and reported under ``refused``. Per chunk
of proposals it locks the golden records involved, replays the splits (or merges) in
memory in plan order, exactly
as stewardship's ``merge``/``unmerge`` would one at a time (survivor rule, version
numbers, snapshots, held four-eyes changes, lineage, settled review tasks), and then
writes the outcome set-based: record moves and golden updates as executemany, history,
change events, audit entries, lineage and match decisions with ``bulk_insert`` (COPY on
PostgreSQL). One transaction per chunk.

``apply_each`` is the same plan applied through stewardship's one-at-a-time use cases.
It is the reference the bulk path is held to (tests compare the rows both write): one
service call, lock and commit per merge, several times slower.

Rows that differ by construction: ids and clocks. A chunk's rows share its transaction,
so a failure rolls back that chunk only; chunks already applied stay (run again: a
re-match proposes only what is still to do).
"""
from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mdm.audit.models import AuditEntry
from mdm.audit.service import audit_row
from mdm.context import Actor, RequestContext
from mdm.db import bulk_insert, new_id, sqlite_write_lock, utcnow
from mdm.domains.definitions import DomainDefinition
from mdm.domains.registry import DomainRegistry
from mdm.errors import MdmError
from mdm.matching import index
from mdm.matching.decisions import ClusteringDiff, PairDecision, ReviewGroup
from mdm.matching.engine import MatchEngine
from mdm.matching.explanations import STORED_PAIRS, stored_pair, strongest
from mdm.matching.incremental import engine_for
from mdm.matching.linker import lock_domain_exclusive
from mdm.matching.models import BATCH, MatchDecisionRecord, MatchPrepared
from mdm.matching.params import ModelParams
from mdm.matching.records import PreparedRecord, Record
from mdm.matching.settings import MatchSettings
from mdm.records import golden as gold
from mdm.records.models import ACTIVE, MERGED, GoldenRecord, QualityIssue, SourceRecord
from mdm.records.survivorship import SourceView
from mdm.sources.models import SourceSystem
from mdm.stewardship import service as stewardship
from mdm.stewardship.approvals import KnownRequests, Unpublished
from mdm.stewardship.models import (
    MERGE,
    OPEN,
    PENDING,
    PENDING_TASK,
    UNMERGE,
    ChangeRequest,
    LineageLink,
    LineageOperation,
    NotAMatch,
    ReviewTask,
    ReviewTaskGolden,
)
from mdm.stewardship.models import MERGED as TASK_MERGED

MATCHING_ACTOR = "matching"
MAX_SIDE_RECORDS = 50  # records of one merge whose pairs are scored for its explanation
STORED_RECORDS = 100  # record ids listed in a stored explanation
CHUNK = 2_000  # proposals per transaction

Progress = Callable[[str, int, int | None], None]


@dataclass
class Plan:
    """What a re-match proposes, relative to the golden records it read."""

    domain: str
    settings: MatchSettings
    params: ModelParams
    diff: ClusteringDiff
    review: list[ReviewGroup]
    current: dict[str, str]  # record key -> golden id when the records were read

    @property
    def reason(self) -> str:
        return (f"batch re-match with settings {self.settings.version}, "
                f"parameters {self.params.version}")


def matching_context(request_id: str | None) -> RequestContext:
    return RequestContext(Actor(name=MATCHING_ACTOR, role="admin"),
                          request_id or f"match-{new_id()}")


def lock_domain(session: Session, domain: str) -> None:
    """Hold the domain's matching lock exclusively until the transaction ends.

    Taken first by every transaction of ``mdm match`` that writes (a chunk of splits,
    merges or review tasks, a page of the index), before it reads. PostgreSQL: the
    advisory lock that incremental matching holds shared for each ingest it matches
    (``mdm.matching.linker``), so an ingest that matches waits for the chunk to commit
    and a chunk waits for ingests in flight. SQLite: the single write lock
    (``db.sqlite_write_lock``), which every ingest takes.
    """
    if session.get_bind().dialect.name == "postgresql":
        lock_domain_exclusive(session, domain)
    else:
        sqlite_write_lock(session)


# --- explanations (both paths) ------------------------------------------------------------------

def pair_dict(pair: PairDecision) -> dict[str, Any]:
    out = pair.to_dict()
    out["outcome"] = pair.outcome.value
    return out


def merge_explanation(engine: MatchEngine, proposal: dict[str, Any], current: dict[str, str],
                      prepared: dict[str, PreparedRecord]) -> dict[str, Any]:
    """The strongest pairs across the golden records a batch merge joins (compact)."""
    keys = [r for r in proposal["records"] if r in prepared][:MAX_SIDE_RECORDS]
    records = [prepared[k] for k in keys]
    pairs = strongest([engine.explain(x, y) for k, x in enumerate(records)
                       for y in records[k + 1:] if current.get(x.id) != current.get(y.id)])
    return {"mode": BATCH, "action": "merge", "from_golden_ids": proposal["from_clusters"],
            "records": proposal["records"][:STORED_RECORDS],
            "record_count": len(proposal["records"]),
            "pairs": [stored_pair(p) for p in pairs],
            "probability": pairs[0].probability if pairs else None,
            "settings_version": engine.settings.version,
            "params_version": engine.params_version}


def review_explanation(plan: Plan, group: ReviewGroup) -> dict[str, Any]:
    """The pairs that put a group up for review: the strongest ones, and how many in all."""
    pairs = sorted(group.pairs, key=lambda p: (-p[2], p[0], p[1]))
    return {"mode": BATCH, "settings_version": plan.settings.version,
            "params_version": plan.params.version, "pair_count": len(pairs),
            "pairs": [{"left_id": x, "right_id": y, "probability": p, "reason": why}
                      for x, y, p, why in pairs[:STORED_PAIRS]]}


def _prepared(session: Session, settings: MatchSettings,
              keys: Iterable[str]) -> dict[str, PreparedRecord]:
    """Feature rows of these records: the blocking index's where current, else computed."""
    SR, MP = SourceRecord, MatchPrepared
    ids = sorted({index.record_id(k) for k in keys})
    out: dict[str, PreparedRecord] = {}
    stale: list[int] = []
    for chunk in index.chunks(ids, 500):
        for sr_id, code, digest, version, stored_digest, features in session.execute(
            select(SR.id, SourceSystem.code, SR.content_hash, MP.settings_version,
                   MP.content_hash, MP.features)
            .join(SourceSystem, SourceSystem.id == SR.source_system_id)
            .outerjoin(MP, MP.source_record_id == SR.id).where(SR.id.in_(chunk))
        ):
            if features is None or version != settings.version or stored_digest != digest:
                stale.append(sr_id)
                continue
            key = index.record_key(sr_id)
            out[key] = PreparedRecord(key, code, tuple(features))
    for chunk in index.chunks(stale, 500):
        for sr_id, code, attrs, _ in session.execute(index.attributes_query(chunk)).all():
            key = index.record_key(sr_id)
            out[key] = settings.prepare(Record(key, code, attrs))
    return out


def _proposal_keys(proposal: dict[str, Any]) -> list[str]:
    return proposal["records"][:MAX_SIDE_RECORDS]


def _decision_row(plan: Plan, ctx: RequestContext, survivor: str, goldens: list[str],
                  explanation: dict[str, Any]) -> dict[str, Any]:
    return {"domain": plan.domain, "mode": BATCH, "source_record_id": None,
            "golden_id": survivor, "action": "merge", "probability": explanation["probability"],
            "related_golden_ids": [g for g in goldens if g != survivor],
            "review_task_id": None, "settings_version": plan.settings.version,
            "params_version": plan.params.version, "explanation": explanation,
            "actor": ctx.actor.name, "request_id": ctx.request_id, "created_at": utcnow()}


def _split_parts(proposal: dict[str, Any]) -> list[list[int]]:
    """The parts of a split, largest first: the first keeps the golden id."""
    return sorted(([index.record_id(r) for r in part] for part in proposal["into"]),
                  key=lambda part: (-len(part), min(part)))


def merged_by_person(session: Session, golden_ids: list[str]) -> dict[str, str]:
    """Golden id -> a merge into it made by someone other than the matcher."""
    LO, LL = LineageOperation, LineageLink
    out: dict[str, str] = {}
    for chunk in index.chunks(golden_ids, 500):
        for golden_id, operation_id in session.execute(
            select(LL.golden_id, LO.id).join(LO, LL.operation_id == LO.id)
            .where(LL.golden_id.in_(chunk), LO.kind == MERGE, LO.actor != MATCHING_ACTOR)
        ):
            out[golden_id] = operation_id
    return out


def _held(golden_id: str, parts: list[list[int]], reason: str) -> dict[str, Any]:
    return {"golden_id": golden_id, "into": parts, "reason": reason}


def _person_reason(operation_id: str) -> str:
    return f"merge operation {operation_id} was made by a person"


def record_goldens(session: Session, keys: Iterable[str]) -> dict[str, str]:
    """Record key -> the golden record that holds it now."""
    out: dict[str, str] = {}
    for part in index.chunks(sorted({index.record_id(k) for k in keys}), 500):
        for sr_id, golden_id in session.execute(
            select(SourceRecord.id, SourceRecord.golden_id).where(SourceRecord.id.in_(part))
        ):
            out[index.record_key(sr_id)] = golden_id
    return out


def union_conflict(engine: MatchEngine, sides: list[list[PreparedRecord]]) -> str | None:
    """Why records of these golden records must never share one, or None: the engine's
    conflict (its hard rules) over every pair across two sides."""
    for k, side in enumerate(sides):
        for other in sides[k + 1:]:
            for x in side:
                for y in other:
                    why = engine.conflict(x.values, y.values)
                    if why:
                        return f"{x.id} and {y.id} must not share a golden record ({why})"
    return None


def _union_problem(engine: MatchEngine, goldens: list[str],
                   members: dict[str, list[tuple[int, bool]]],
                   prepared: dict[str, PreparedRecord]) -> str | None:
    sides = [[prepared[key] for s, active in sorted(members.get(g, ()))
              if active and (key := index.record_key(s)) in prepared] for g in goldens]
    return union_conflict(engine, sides)


def _refused(goldens: list[str], proposal: dict[str, Any], problem: str) -> dict[str, Any]:
    return {"golden_ids": goldens, "records": proposal["records"][:STORED_RECORDS],
            "reason": problem}


# --- one at a time (the reference) ------------------------------------------------------------

def apply_each(session: Session, registry: DomainRegistry, plan: Plan, ctx: RequestContext,
               progress: Progress | None = None) -> dict[str, Any]:
    """Apply ``plan`` one proposal at a time through stewardship's use cases."""
    engine = engine_for(plan.settings, plan.params)
    unpublished = Unpublished(session, plan.domain)
    split, held = _apply_splits_each(session, registry, plan, ctx, progress, unpublished)
    merged, failed, refused = 0, [], []
    for n, proposal in enumerate(plan.diff.merges, start=1):
        where = record_goldens(session, proposal["records"])
        goldens = sorted(set(stewardship.survivors(session, set(where.values())).values()))
        if len(goldens) < 2:
            continue
        members = _members(session, goldens)
        # a steward's not-a-match first (its message says how to lift it), as in bulk
        blocking = _not_a_match(session, plan.domain, [
            *goldens, *(index.record_key(s) for m in members.values() for s, _ in m)])
        problem = _merge_problem(
            list(session.scalars(select(GoldenRecord).where(GoldenRecord.id.in_(goldens)))),
            goldens, members, blocking)
        if problem:
            failed.append({"golden_ids": goldens, "error": problem})
            continue
        union = _prepared(session, plan.settings, (index.record_key(s) for m in members.values()
                                                   for s, active in m if active))
        problem = _union_problem(engine, goldens, members, union)
        if problem:
            refused.append(_refused(goldens, proposal, problem))
            continue
        prepared = _prepared(session, plan.settings, _proposal_keys(proposal))
        explanation = merge_explanation(engine, proposal, plan.current, prepared)
        survivor = min(session.scalars(select(GoldenRecord).where(GoldenRecord.id.in_(goldens))),
                       key=lambda g: (g.created_at, g.id)).id
        session.add(MatchDecisionRecord(**_decision_row(plan, ctx, survivor, goldens,
                                                        explanation)))
        try:
            unpublished.lock(session)
            unpublished.refresh(session)
            stewardship.merge(session, registry, ctx, goldens, reason=plan.reason,
                              unpublished=unpublished)
            merged += 1
        except MdmError as exc:
            session.rollback()
            failed.append({"golden_ids": goldens, "error": exc.message})
        if progress:
            progress("apply merges", n, len(plan.diff.merges))
    tasks = opened = 0
    for group in plan.review:
        goldens = sorted(set(stewardship.survivors(
            session, set(record_goldens(session, group.record_ids).values())).values()))
        if len(goldens) < 2:
            continue
        before = session.scalar(select(ReviewTask.id).where(
            ReviewTask.domain == plan.domain,
            ReviewTask.open_key == stewardship.group_key(goldens)))
        stewardship.open_review_task(
            session, ctx, domain=plan.domain, golden_ids=goldens,
            source_record_ids=[index.record_id(r) for r in group.record_ids],
            score=max((p[2] for p in group.pairs), default=0.0),
            explanation=review_explanation(plan, group))
        tasks += 1
        opened += before is None
    session.commit()
    return {"merged": merged, "failed": failed, "refused": refused, "split": split,
            "splits_held": held, "review_tasks": tasks, "review_tasks_opened": opened}


def _apply_splits_each(session: Session, registry: DomainRegistry, plan: Plan,
                       ctx: RequestContext, progress: Progress | None,
                       unpublished: Unpublished) -> tuple[int, list[dict[str, Any]]]:
    splits = plan.diff.splits
    now = stewardship.survivors(session, [proposal["cluster"] for proposal in splits])
    by_person = merged_by_person(session, sorted(set(now.values())))
    done, held = 0, []
    for n, proposal in enumerate(splits, start=1):
        golden_id = now[proposal["cluster"]]
        parts = _split_parts(proposal)
        if golden_id in by_person:
            held.append(_held(golden_id, parts, _person_reason(by_person[golden_id])))
            continue
        for part in parts[1:]:
            try:
                unpublished.lock(session)
                unpublished.refresh(session)
                outcome = stewardship.unmerge(session, registry, ctx, golden_id,
                                              reason=plan.reason, source_record_ids=part,
                                              remember=False, unpublished=unpublished)
                assert outcome.created is not None
                unpublished.add([outcome.created.id])
            except MdmError as exc:
                session.rollback()
                held.append(_held(golden_id, parts, exc.message))
                break
        else:
            done += 1
        if progress:
            progress("apply splits", n, len(splits))
    return done, held


# --- in bulk --------------------------------------------------------------------------------

@dataclass
class _GoldenCopy:
    """A golden record's row, unbound: what the golden-record helpers read and set (an ORM
    object per record would cost more than the rest of the merge)."""

    id: str
    domain: str
    status: str
    merged_into: str | None
    version: int
    attributes: dict[str, Any]
    provenance: dict[str, Any]
    quality_status: str
    overrides: dict[str, Any]
    search_name: str
    created_at: Any
    updated_at: Any

    def row(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in _GOLDEN_COLUMNS}


_GOLDEN_COLUMNS = [c.name for c in GoldenRecord.__table__.columns]


@dataclass
class _Batch:
    """The rows one chunk writes, and the golden records it changed (by id)."""

    pending: gold.Pending = field(default_factory=gold.Pending)
    goldens: dict[str, GoldenRecord] = field(default_factory=dict)  # detached working copies
    read_version: dict[str, int] = field(default_factory=dict)
    read_values: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # _VALUE_COLUMNS
    created: list[dict[str, Any]] = field(default_factory=list)  # new golden rows (splits)
    operations: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)  # {"from", "to"} golden ids
    record_moves: list[dict[str, Any]] = field(default_factory=list)  # {"sr", "to"}
    superseded: dict[str, list[str]] = field(default_factory=dict)  # survivor -> victims


def apply_plan(session: Session, registry: DomainRegistry, plan: Plan, ctx: RequestContext,
               *, chunk: int = CHUNK, progress: Progress | None = None) -> dict[str, Any]:
    """Apply ``plan`` in bulk; the same rows ``apply_each`` writes, one transaction per chunk."""
    # The plan and what the batch match left behind are millions of long-lived objects:
    # every full collection of the cyclic garbage collector walks them all, and the rows
    # a chunk collects trigger such collections again and again, so their cost grows
    # with the domain's size times the merges. Freeze them for the apply: collections
    # then walk only what it allocates.
    gc.collect()
    gc.freeze()
    try:
        return _apply_plan(session, registry, plan, ctx, chunk=chunk, progress=progress)
    finally:
        gc.unfreeze()


def _apply_plan(session: Session, registry: DomainRegistry, plan: Plan, ctx: RequestContext,
                *, chunk: int, progress: Progress | None) -> dict[str, Any]:
    definition = registry.get(plan.domain)
    engine = engine_for(plan.settings, plan.params)
    unpublished = Unpublished(session, plan.domain)
    split, held = _apply_splits(session, definition, plan, ctx, chunk, progress, unpublished)
    merged, failed, refused = 0, [], []
    merges = plan.diff.merges
    for start in range(0, len(merges), chunk):
        done, errors, refusals = _merge_chunk(session, definition, plan, ctx, engine,
                                              merges[start : start + chunk], unpublished)
        merged += done
        failed.extend(errors)
        refused.extend(refusals)
        if progress:
            progress("apply merges", min(start + chunk, len(merges)), len(merges))
    tasks, opened = _open_review_tasks(session, plan, ctx, chunk, progress)
    return {"merged": merged, "failed": failed, "refused": refused, "split": split,
            "splits_held": held, "review_tasks": tasks, "review_tasks_opened": opened}


def _load_goldens(session: Session, batch: _Batch, ids: Iterable[str]) -> None:
    """Lock the golden records (id order, so two lockers never deadlock) and copy them."""
    wanted = sorted(set(ids) - set(batch.goldens))
    if not wanted:
        return
    sqlite_write_lock(session)
    table = GoldenRecord.__table__
    for part in index.chunks(wanted, 500):
        for row in session.execute(select(table).where(table.c.id.in_(part))
                                   .order_by(table.c.id).with_for_update()).mappings():
            copy = cast(GoldenRecord, _GoldenCopy(**row))
            batch.goldens[copy.id] = copy
            batch.read_version[copy.id] = copy.version
            batch.read_values[copy.id] = tuple(getattr(copy, c) for c in _VALUE_COLUMNS)


def _members(session: Session, golden_ids: list[str]) -> dict[str, list[tuple[int, bool]]]:
    out: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    for part in index.chunks(sorted(set(golden_ids)), 500):
        for sr_id, gid, active in session.execute(
            select(SourceRecord.id, SourceRecord.golden_id, SourceRecord.active)
            .where(SourceRecord.golden_id.in_(part))
        ):
            out[gid].append((sr_id, active))
    return out


def _views(session: Session, golden_ids: list[str]) -> dict[str, list[SourceView]]:
    """``gold.source_views`` from plain rows (no ORM object per source record)."""
    SR, QI = SourceRecord, QualityIssue
    out: dict[str, list[SourceView]] = defaultdict(list)
    for part in index.chunks(sorted(set(golden_ids)), 500):
        invalid: dict[int, set[str]] = defaultdict(set)
        for sr_id, attr in session.execute(
            select(QI.source_record_id, QI.attribute)
            .join(SR, SR.id == QI.source_record_id)
            .where(SR.golden_id.in_(part), QI.severity == "error")
        ):
            invalid[sr_id].add(attr)
        for row in session.execute(
            select(SR.id, SR.golden_id, SR.source_id, SR.attributes, SR.updated_at,
                   SourceSystem.code)
            .join(SourceSystem, SourceSystem.id == SR.source_system_id)
            .where(SR.golden_id.in_(part), SR.active.is_(True))
        ):
            out[row.golden_id].append(gold.view_of(cast(SourceRecord, row), row.code,
                                                   invalid.get(row.id, ())))
    return out


def _not_a_match(session: Session, domain: str, keys: list[str]) -> dict[str, list[NotAMatch]]:
    """Active decisions by left key, for the keys given."""
    out: dict[str, list[NotAMatch]] = defaultdict(list)
    for part in index.chunks(sorted(set(keys)), 500):
        for d in session.scalars(select(NotAMatch).where(
                NotAMatch.domain == domain, NotAMatch.active_key.is_not(None),
                NotAMatch.left_key.in_(part)).order_by(NotAMatch.id)):
            out[d.left_key].append(d)
    return out


def _merge_chunk(session: Session, definition: DomainDefinition, plan: Plan,
                 ctx: RequestContext, engine: MatchEngine,
                 proposals: list[dict[str, Any]], unpublished: Unpublished
                 ) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]]]:
    batch = _Batch()
    into: dict[str, str] = {}  # merged in this chunk: victim -> survivor

    def resolve(gid: str) -> str:
        while gid in into:
            gid = into[gid]
        return gid

    lock_domain(session, plan.domain)
    unpublished.lock(session)
    unpublished.refresh(session)
    where = record_goldens(session, (r for p in proposals for r in p["records"]))
    start = stewardship.survivors(session, set(where.values()))
    involved = set(start.values())
    _load_goldens(session, batch, involved)
    known = KnownRequests(session, involved)
    members = _members(session, list(involved))
    views = _views(session, list(involved))
    keys = [*involved, *(index.record_key(s) for m in members.values() for s, _ in m)]
    blocking = _not_a_match(session, plan.domain, keys)
    tasks = _pending_tasks(session, plan.domain, list(involved))
    task_now = stewardship.survivors(session, {g for t in tasks for g in t.golden_ids})
    tasks_of: dict[str, list[ReviewTask]] = defaultdict(list)
    for t in tasks:
        for g in t.golden_ids:
            tasks_of[g].append(t)
    # one read for both: the proposals' records (explanations) and the active members of
    # the golden records involved (the union check), mostly the same records
    prepared = _prepared(session, plan.settings, {
        *(k for p in proposals for k in _proposal_keys(p)),
        *(index.record_key(s) for m in members.values() for s, active in m if active)})

    merged, failed, refused = 0, [], []
    for proposal in proposals:
        goldens = sorted({resolve(start[where[r]]) for r in proposal["records"] if r in where})
        if len(goldens) < 2:
            continue
        records = [batch.goldens[g] for g in goldens]
        survivor = min(records, key=lambda g: (g.created_at, g.id))
        problem = _merge_problem(records, goldens, members, blocking)
        if problem:
            failed.append({"golden_ids": goldens, "error": problem})
            continue
        problem = _union_problem(engine, goldens, members, prepared)
        if problem:
            refused.append(_refused(goldens, proposal, problem))
            continue
        explanation = merge_explanation(engine, proposal, plan.current, prepared)
        batch.decisions.append(_decision_row(plan, ctx, survivor.id, goldens, explanation))
        victims = sorted((g for g in records if g.id != survivor.id), key=lambda g: g.id)
        _merge(session, batch, definition, plan, ctx, survivor, victims, members, views, known,
               new_requests=survivor.id not in unpublished)
        for v in victims:
            into[v.id] = survivor.id
        _settle_tasks(batch, ctx, goldens, tasks_of, task_now, resolve,
                      batch.operations[-1]["id"])
        merged += 1
    _write(session, batch)
    session.commit()
    session.expire_all()
    return merged, failed, refused


def _merge_problem(records: list[GoldenRecord], goldens: list[str],
                   members: dict[str, list[tuple[int, bool]]],
                   blocking: dict[str, list[NotAMatch]]) -> str | None:
    """Why stewardship's merge would refuse these records (its messages), or None."""
    for g in records:
        if g.status == MERGED:
            return (f"Golden record '{g.id}' was merged into '{g.merged_into}'; "
                    "act on that record instead.")
        if g.status != ACTIVE:
            return f"Golden record '{g.id}' is {g.status}."
    group_of = {gid: gid for gid in goldens}
    for gid in goldens:
        group_of.update((index.record_key(s), gid) for s, _ in members[gid])
    found = [d for key, group in group_of.items() for d in blocking.get(key, ())
             if group_of.get(d.right_key) not in (None, group)]
    if not found:
        return None
    d = min(found, key=lambda d: d.id)
    return (f"{d.left_key} and {d.right_key} are marked not-a-match (decision "
            f"{d.id}: {d.reason}); revoke that decision before merging.")


def _merge(session: Session, batch: _Batch, definition: DomainDefinition, plan: Plan,
           ctx: RequestContext, survivor: GoldenRecord, victims: list[GoldenRecord],
           members: dict[str, list[tuple[int, bool]]],
           views: dict[str, list[SourceView]], known: KnownRequests,
           new_requests: bool) -> None:
    """Stewardship's merge, in memory: the same versions, events, audit and lineage."""
    now = utcnow()
    op_id = new_id()
    victim_ids = [v.id for v in victims]
    moved = sorted(s for v in victim_ids for s, _ in members[v])
    extra = {"survivor": survivor.id, "victims": victim_ids, "operation_id": op_id}
    stewardship.mark_merged(batch.pending, ctx, victims, survivor.id, extra,
                            reason=plan.reason, at=now)
    for v in victims:
        members[survivor.id].extend(members.pop(v.id, []))
        views[survivor.id].extend(views.pop(v.id, []))
        batch.moves.append({"from_id": v.id, "to_id": survivor.id})
    batch.superseded.setdefault(survivor.id, []).extend(victim_ids)
    gold.refresh(session, batch.pending, ctx, definition, survivor, views[survivor.id],
                 action="golden.merge", reason=plan.reason, extra=extra, force=True,
                 event_type="merged", known=known, new_requests=new_requests)
    op = _Operation(
        id=op_id, domain=plan.domain, kind=MERGE, survivor_id=survivor.id,
        other_ids=victim_ids, source_record_ids=moved, undoes=None, review_task_id=None,
        actor=ctx.actor.name, reason=plan.reason, request_id=ctx.request_id, at=now)
    _add_operation(batch, ctx, op, [(survivor.id, "survivor"), *((v, "victim")
                                                                for v in victim_ids)])


@dataclass
class _Operation:
    """A lineage operation's row, unbound (an ORM object per merge costs more than its
    audit entry); ``stewardship.operation_dict`` reads it as it reads the ORM object."""

    id: str
    domain: str
    kind: str
    survivor_id: str
    other_ids: list[str]
    source_record_ids: list[int]
    undoes: str | None
    review_task_id: str | None
    actor: str
    reason: str | None
    request_id: str | None
    at: Any


_OPERATION_COLUMNS = [c.name for c in LineageOperation.__table__.columns]


def _add_operation(batch: _Batch, ctx: RequestContext, op: _Operation,
                   links: list[tuple[str, str]]) -> None:
    batch.operations.append({c: getattr(op, c) for c in _OPERATION_COLUMNS})
    batch.links.extend({"operation_id": op.id, "golden_id": g, "role": role}
                       for g, role in links)
    action = "stewardship.merge" if op.kind == MERGE else "stewardship.unmerge"
    batch.pending.audits.append(audit_row(
        ctx, action, "lineage_operation", op.id, domain=op.domain,
        after=stewardship.operation_dict(cast(LineageOperation, op)), reason=op.reason))


def _pending_tasks(session: Session, domain: str, golden_ids: list[str]) -> list[ReviewTask]:
    ids: set[str] = set()
    for part in index.chunks(golden_ids, 500):
        ids.update(session.scalars(select(ReviewTaskGolden.task_id)
                                   .where(ReviewTaskGolden.golden_id.in_(part))))
    out: list[ReviewTask] = []
    for part in index.chunks(sorted(ids), 500):
        out.extend(session.scalars(select(ReviewTask).where(
            ReviewTask.id.in_(part), ReviewTask.status.in_(PENDING_TASK))))
    return out


def _settle_tasks(batch: _Batch, ctx: RequestContext, merged_ids: list[str],
                  tasks_of: dict[str, list[ReviewTask]], task_now: dict[str, str],
                  resolve: Callable[[str], str], op_id: str) -> None:
    """Close pending tasks whose records are now all one golden record (as merge does)."""
    seen: set[str] = set()
    for gid in merged_ids:
        for task in tasks_of.get(gid, ()):
            if task.id in seen or task.status not in PENDING_TASK:
                continue
            seen.add(task.id)
            if len({resolve(task_now.get(g, g)) for g in task.golden_ids}) > 1:
                continue
            task.status, task.open_key, task.decision = TASK_MERGED, None, "merge"
            task.decided_by, task.decided_at = ctx.actor.name, utcnow()
            task.reason, task.operation_id = f"settled by merge {op_id}", op_id
            batch.pending.audits.append(audit_row(
                ctx, "review_task.settled", "review_task", task.id, domain=task.domain,
                after={"status": task.status, "operation_id": op_id}))


def _write(session: Session, batch: _Batch) -> None:
    """Every row of a chunk, set-based, in the caller's transaction."""
    session.flush()  # held change requests and settled tasks (ORM objects)
    if batch.created:
        bulk_insert(session, GoldenRecord.__table__, batch.created)
    SR, QI = SourceRecord, QualityIssue
    if batch.moves:
        conn = session.connection()
        conn.execute(update(SR).where(SR.golden_id == bindparam("from_id"))
                     .values(golden_id=bindparam("to_id")), batch.moves)
        conn.execute(update(QI).where(QI.golden_id == bindparam("from_id"))
                     .values(golden_id=bindparam("to_id")), batch.moves)
    if batch.record_moves:
        conn = session.connection()
        conn.execute(update(SR).where(SR.id == bindparam("sr"))
                     .values(golden_id=bindparam("to_id")), batch.record_moves)
        conn.execute(update(QI).where(QI.source_record_id == bindparam("sr"))
                     .values(golden_id=bindparam("to_id")), batch.record_moves)
    _supersede_requests(session, batch.superseded)
    _update_goldens(session, batch)
    if batch.operations:
        bulk_insert(session, LineageOperation.__table__, batch.operations)
        bulk_insert(session, LineageLink.__table__, batch.links)
    if batch.decisions:
        bulk_insert(session, MatchDecisionRecord.__table__, batch.decisions)
    batch.pending.write(session)


def _update_goldens(session: Session, batch: _Batch) -> None:
    """The final state of every golden record the chunk changed, checked against the
    version read under the lock (the ORM's optimistic check, done in bulk)."""
    G = GoldenRecord
    changed = [g for g in batch.goldens.values() if g.version != batch.read_version[g.id]]
    # A golden record merged away keeps its values: only its status moves (no JSON to
    # write again for every victim).
    kept = {g.id for g in changed if all(
        a is b for a, b in zip((getattr(g, c) for c in _VALUE_COLUMNS),
                               batch.read_values[g.id], strict=True))}
    status_only = [g for g in changed if g.id in kept]
    others = [g for g in changed if g.id not in kept]
    for goldens, columns in ((status_only, _MERGED_COLUMNS), (others, _CHANGED_COLUMNS)):
        if not goldens:
            continue
        rows = [{"gid": g.id, "read": batch.read_version[g.id],
                 **{f"new_{c}": getattr(g, c) for c in columns}} for g in goldens]
        stmt = (update(G).where(G.id == bindparam("gid"), G.version == bindparam("read"))
                .values({c: bindparam(f"new_{c}") for c in columns}))
        result = session.connection().execute(stmt, rows)
        if result.rowcount not in (-1, len(rows)):
            raise MdmError("Golden records changed while the re-match was applied; "
                           "run it again.")


_CHANGED_COLUMNS = ("status", "merged_into", "version", "attributes", "provenance",
                    "quality_status", "search_name", "updated_at")
_MERGED_COLUMNS = ("status", "merged_into", "version", "updated_at")
_VALUE_COLUMNS = ("attributes", "provenance", "quality_status", "search_name")


def _supersede_requests(session: Session, survivors: dict[str, list[str]]) -> None:
    """Pending change requests of merged-away records are superseded (as merge does)."""
    victims = [v for vs in survivors.values() for v in vs]
    holding: set[str] = set()
    for part in index.chunks(victims, 500):
        holding.update(session.scalars(select(ChangeRequest.golden_id).where(
            ChangeRequest.golden_id.in_(part), ChangeRequest.status == PENDING)))
    for survivor, vs in survivors.items():
        if holding.intersection(vs):
            stewardship.supersede_requests(session, vs, f"merged into {survivor}")


# --- splits in bulk -----------------------------------------------------------------------------

def _apply_splits(session: Session, definition: DomainDefinition, plan: Plan,
                  ctx: RequestContext, chunk: int, progress: Progress | None,
                  unpublished: Unpublished) -> tuple[int, list[dict[str, Any]]]:
    """Unmerge the parts a re-match puts apart; hold those a person had merged."""
    splits = plan.diff.splits
    now = stewardship.survivors(session, [proposal["cluster"] for proposal in splits])
    by_person = merged_by_person(session, sorted(set(now.values())))
    done, held = 0, []
    for start in range(0, len(splits), chunk):
        proposals = splits[start : start + chunk]
        batch = _Batch()
        lock_domain(session, plan.domain)
        unpublished.lock(session)
        unpublished.refresh(session)
        targets = sorted({now[p["cluster"]] for p in proposals} - set(by_person))
        _load_goldens(session, batch, targets)
        known = KnownRequests(session, targets)
        attached = {gid: dict(rows) for gid, rows in _members(session, targets).items()}
        views = _views(session, targets)
        for proposal in proposals:
            golden_id = now[proposal["cluster"]]
            parts = _split_parts(proposal)
            if golden_id in by_person:
                held.append(_held(golden_id, parts, _person_reason(by_person[golden_id])))
                continue
            for part in parts[1:]:
                problem = _unmerge(session, batch, definition, plan, ctx, golden_id, part,
                                   attached, views, known, unpublished)
                if problem:
                    held.append(_held(golden_id, parts, problem))
                    break
            else:
                done += 1
        _write(session, batch)
        session.commit()
        session.expire_all()
        if progress:
            progress("apply splits", min(start + chunk, len(splits)), len(splits))
    return done, held


def _unmerge(session: Session, batch: _Batch, definition: DomainDefinition, plan: Plan,
             ctx: RequestContext, golden_id: str, part: list[int],
             attached: dict[str, dict[int, bool]],
             views: dict[str, list[SourceView]], known: KnownRequests,
             unpublished: Unpublished) -> str | None:
    """Stewardship's unmerge (``remember=False``) in memory; its refusal message, or None."""
    golden = batch.goldens[golden_id]
    if golden.status == MERGED:
        return (f"Golden record '{golden.id}' was merged into '{golden.merged_into}'; "
                "act on that record instead.")
    if golden.status != ACTIVE:
        return f"Golden record '{golden.id}' is {golden.status}."
    mine = attached.setdefault(golden_id, {})
    wanted = sorted(set(part))
    stray = [s for s in wanted if s not in mine]
    if stray:
        where = next((g for g, rows in attached.items() if stray[0] in rows), None)
        if where is None:
            where = session.scalar(select(SourceRecord.golden_id)
                                   .where(SourceRecord.id == stray[0]))
        if where is None:
            return f"No source record {stray[0]}"
        return f"Source record {stray[0]} belongs to golden record '{where}', not '{golden.id}'."
    keep = set(wanted)
    if not [s for s, active in mine.items() if active and s not in keep]:
        return ("Nothing would be left: a golden record keeps at least one active source "
                "record.")

    now = utcnow()
    op_id = new_id()
    copy = _GoldenCopy(id=new_id(), domain=golden.domain, status=ACTIVE, version=1,
                       attributes={}, provenance={}, overrides={}, search_name="",
                       quality_status="ok", merged_into=None, created_at=now, updated_at=now)
    created = cast(GoldenRecord, copy)
    attached[created.id] = {s: mine.pop(s) for s in wanted}
    views[created.id] = [v for v in views.get(golden_id, []) if v.source_record_id in keep]
    views[golden_id] = [v for v in views.get(golden_id, []) if v.source_record_id not in keep]
    created.attributes, created.provenance, created.quality_status = gold.compute(
        definition, views[created.id])
    created.search_name = gold.fold(str(created.attributes.get(definition.display, "")))
    batch.created.append(copy.row())
    batch.record_moves.extend({"sr": s, "to_id": created.id} for s in wanted)
    extra = {"split_from": golden.id, "split_into": [created.id], "source_record_ids": wanted,
             "operation_id": op_id}
    gold.record_version(batch.pending, ctx, created, action="golden.unmerge",
                        event_type="created", before=None, reason=plan.reason, extra=extra,
                        at=now)
    gold.refresh(session, batch.pending, ctx, definition, golden, views[golden_id],
                 action="golden.unmerge", reason=plan.reason, extra=extra, force=True,
                 event_type="unmerged", known=known, new_requests=golden.id not in unpublished)
    unpublished.add([created.id])
    op = _Operation(
        id=op_id, domain=golden.domain, kind=UNMERGE, survivor_id=golden.id,
        other_ids=[created.id], source_record_ids=wanted, undoes=None, review_task_id=None,
        actor=ctx.actor.name, reason=plan.reason, request_id=ctx.request_id, at=now)
    _add_operation(batch, ctx, op, [(golden.id, "source"), (created.id, "split")])
    return None


# --- review tasks in bulk -----------------------------------------------------------------------

def _open_review_tasks(session: Session, plan: Plan, ctx: RequestContext, chunk: int,
                       progress: Progress | None) -> tuple[int, int]:
    """One task per undecided group (``open_review_task``'s rows, written set-based)."""
    tasks = opened = 0
    groups = plan.review
    for start in range(0, len(groups), chunk):
        part = groups[start : start + chunk]
        try:
            n, new = _open_chunk(session, plan, ctx, part)
            session.commit()
        except IntegrityError:
            # Someone opened one of these tasks meanwhile: take the careful path.
            session.rollback()
            n = new = 0
            lock_domain(session, plan.domain)
            for group in part:
                found = _task_args(session, plan, group)
                if found is None:
                    continue
                goldens, record_ids, score, explanation = found
                before = session.scalar(select(ReviewTask.id).where(
                    ReviewTask.domain == plan.domain,
                    ReviewTask.open_key == stewardship.group_key(goldens)))
                stewardship.open_review_task(session, ctx, domain=plan.domain,
                                             golden_ids=goldens, source_record_ids=record_ids,
                                             score=score, explanation=explanation)
                n += 1
                new += before is None
            session.commit()
        tasks += n
        opened += new
        if progress:
            progress("open review tasks", min(start + chunk, len(groups)), len(groups))
    return tasks, opened


def _task_args(session: Session, plan: Plan, group: ReviewGroup,
               where: dict[str, str] | None = None, now: dict[str, str] | None = None
               ) -> tuple[list[str], list[int], float, dict[str, Any]] | None:
    """The golden records a group's task names: those that hold its records now (after
    this run's splits and merges, not those the batch read), and the task's fields."""
    if where is None:
        where = record_goldens(session, group.record_ids)
    olds = {where[r] for r in group.record_ids if r in where}
    if now is None:
        now = stewardship.survivors(session, olds)
    goldens = sorted({now[g] for g in olds})
    if len(goldens) < 2:
        return None
    return (goldens, [index.record_id(r) for r in group.record_ids],
            max((p[2] for p in group.pairs), default=0.0), review_explanation(plan, group))


def _open_chunk(session: Session, plan: Plan, ctx: RequestContext,
                groups: list[ReviewGroup]) -> tuple[int, int]:
    lock_domain(session, plan.domain)
    where = record_goldens(session, (r for g in groups for r in g.record_ids))
    now = stewardship.survivors(session, set(where.values()))
    wanted = [args for g in groups
              if (args := _task_args(session, plan, g, where, now)) is not None]
    keys = {stewardship.group_key(args[0]) for args in wanted}
    existing: set[str] = set()
    for part in index.chunks(sorted(keys), 500):
        existing.update(k for k in session.scalars(select(ReviewTask.open_key).where(
            ReviewTask.domain == plan.domain, ReviewTask.open_key.in_(part))) if k)
    systems: dict[str, set[str]] = defaultdict(set)
    for part in index.chunks(sorted({g for args in wanted for g in args[0]}), 500):
        for gid, code in session.execute(
            select(SourceRecord.golden_id, SourceSystem.code)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_system_id)
            .where(SourceRecord.golden_id.in_(part), SourceRecord.active.is_(True)).distinct()
        ):
            systems[gid].add(code)
    tasks: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    for goldens, record_ids, score, explanation in wanted:
        key = stewardship.group_key(goldens)
        if key in existing:
            continue
        existing.add(key)
        at = utcnow()
        task_id = new_id()
        codes = sorted(set().union(*(systems[g] for g in goldens)))
        tasks.append({
            "id": task_id, "domain": plan.domain, "status": OPEN, "golden_ids": goldens,
            "open_key": key, "source_record_ids": record_ids or None,
            "source_systems": "," + ",".join(codes) + ",", "score": float(score),
            "explanation": explanation or {}, "assignee": None, "created_by": ctx.actor.name,
            "created_at": at, "updated_at": at, "deferred_until": None, "decision": None,
            "decided_by": None, "decided_at": None, "reason": None, "operation_id": None,
            "version": 1})
        links.extend({"task_id": task_id, "golden_id": g} for g in goldens)
        audits.append(audit_row(ctx, "review_task.opened", "review_task", task_id,
                                domain=plan.domain,
                                after={"golden_ids": goldens, "score": float(score)}))
    if tasks:
        bulk_insert(session, ReviewTask.__table__, tasks)
        bulk_insert(session, ReviewTaskGolden.__table__, links)
        bulk_insert(session, AuditEntry.__table__, audits)
    return len(wanted), len(tasks)
