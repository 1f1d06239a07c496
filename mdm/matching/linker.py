"""Incremental matching: the ingestion linker that matches each new record at once.

``link`` runs inside the ingest transaction and is set-based per request: it normalises
the new records, reads the candidates of all of them from the blocking index in one
statement per chunk of keys, scores every (new record, candidate) pair in one vectorised
call of the engine (``weight_array``, the batch scorer), reads the members of the golden
records a record might join, and only then decides record by record, in request order,
with ``decide``. A candidate whose stored feature row is stale (written under an older
settings version) is recomputed once and written back with its keys in the same
transaction, so it is not recomputed by every later ingest until ``mdm match`` runs.
New records of one request are candidates of the later ones. Each key
brings at most its cap of candidates (the newest: earlier records of the request first,
then stored ones), as a batch bounds a huge block by a window: a request of thousands of
near-identical names costs a bounded number of pairs per record. ``after_link`` writes
the new records into the index, opens review tasks for between-threshold matches and
stores the decisions worth keeping.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from flask import Flask
from sqlalchemy import Table, event, func, insert, inspect, select, text
from sqlalchemy.orm import Session

from mdm.context import RequestContext
from mdm.db import utcnow
from mdm.domains.definitions import DomainDefinition
from mdm.matching import autotrain, index
from mdm.matching.clustering import Constraints
from mdm.matching.comparisons import row_table
from mdm.matching.decisions import Action, MatchDecision, PairOutcome
from mdm.matching.domains import settings_for, validate_all
from mdm.matching.engine import MatchEngine
from mdm.matching.explanations import stored_pair, strongest
from mdm.matching.incremental import decide, engine_for
from mdm.matching.models import INCREMENTAL, MatchDecisionRecord
from mdm.matching.params import ModelParams
from mdm.matching.records import PreparedRecord, Record
from mdm.matching.settings import MatchSettings
from mdm.records.linking import (
    LinkDecision,
    Linker,
    NewGoldenLinker,
    PendingRecord,
    set_linker_factory,
)
from mdm.records.models import SourceRecord

_NEW = "new:"


def install(app: Flask) -> None:
    """Match ingested records of every matched domain (called by ``create_app``)."""
    validate_all(app.extensions["mdm_domains"])
    disabled = app.config["MDM"].matching_disabled
    if disabled:
        set_linker_factory(
            lambda d: NewGoldenLinker() if "*" in disabled or d.name in disabled
            else linker_factory(d)
        )
    else:
        set_linker_factory(linker_factory)
    if not event.contains(Session, "after_flush", _track_updates):
        event.listen(Session, "after_flush", _track_updates)
        event.listen(Session, "before_commit", _reindex_updates)
        event.listen(Session, "after_soft_rollback", _forget_updates)


# --- serialising matching per blocking key ------------------------------------------------
# Two transactions that each ingest one of a pair of duplicates would not see each other's
# uncommitted record and both start a golden record. Locking the new records' blocking
# keys before the candidate lookup makes the second wait until the first commits, then
# find its record: the answer concurrent ingestion gives is the sequential one.

# Above this many distinct keys one transaction locks the whole domain instead: a bulk
# load would otherwise hold thousands of locks (PostgreSQL's lock table is shared and
# sized by max_locks_per_transaction).
MAX_KEY_LOCKS = 128
_DOMAIN_LOCK_CLASS = 0x4D444D4B  # "MDMK": the two-int advisory lock space of matching


def _lock_id(name: str, *, bits: int) -> int:
    digest = hashlib.blake2b(name.encode(), digest_size=bits // 8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_domain_exclusive(session: Session, domain: str) -> None:
    """PostgreSQL: hold the domain's matching lock exclusively until the transaction ends
    (ingests that match hold it shared, so they wait, and this waits for them)."""
    session.execute(select(func.pg_advisory_xact_lock(_DOMAIN_LOCK_CLASS,
                                                      _lock_id(domain, bits=32))))


def lock_blocking_keys(session: Session, domain: str, keys: Iterable[str]) -> None:
    """Hold the blocking keys of records about to be matched until the transaction ends
    (``lock_key_hashes`` of their stored form)."""
    lock_key_hashes(session, domain, [index.key_hash(domain, k) for k in keys])


def lock_key_hashes(session: Session, domain: str, hashes: Iterable[int]) -> None:
    """Hold these blocking keys (``index.key_hash`` values) until the transaction ends.

    PostgreSQL: transaction-scoped advisory locks, the domain's lock shared and each key's
    exclusive in sorted order (no two lockers deadlock); more than ``MAX_KEY_LOCKS`` keys
    take the domain's lock exclusively. SQLite: nothing to do, ingestion already holds the
    single write lock.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    wanted = sorted(set(hashes))
    if len(wanted) > MAX_KEY_LOCKS:
        lock_domain_exclusive(session, domain)
        return
    session.execute(select(func.pg_advisory_xact_lock_shared(_DOMAIN_LOCK_CLASS,
                                                             _lock_id(domain, bits=32))))
    if wanted:
        # unnest keeps the array's (sorted) order, so the locks are taken in that order.
        session.execute(
            text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"),
            {"keys": wanted},
        )


def linker_factory(definition: DomainDefinition) -> Linker:
    settings = settings_for(definition)
    if settings is None:
        return NewGoldenLinker()
    return MatchingLinker(settings)


@dataclass
class _Placed:
    """Where one pending record went, while the request is being linked."""

    prepared: PreparedRecord
    hashes: list[int]  # its blocking keys, as stored
    cluster: str  # golden id, or "new:<index of the first pending record of the cluster>"
    decision: MatchDecision
    review: list[tuple[str, float]] = field(default_factory=list)  # other clusters to review


class MatchingLinker:
    """One instance per ingest call: ``link`` keeps what ``after_link`` writes."""

    def __init__(self, settings: MatchSettings) -> None:
        self.settings = settings
        self.placed: list[_Placed] = []
        self.params: ModelParams | None = None

    def link(self, session: Session, definition: DomainDefinition, pending: list[PendingRecord],
             ctx: RequestContext) -> list[LinkDecision]:
        """Decide where each pending record goes, in the ingest's transaction.

        Reads, except that a candidate's stale feature row (an older settings version)
        is recomputed and written back (``index.refresh``); ``after_link`` writes the rest.
        """
        settings, domain = self.settings, definition.name
        params, _ = index.current_params(session, domain, settings)
        params = autotrain.maybe_train(session, ctx, domain, settings, params, len(pending))
        self.params = params
        engine = engine_for(settings, params)
        prepared = [settings.prepare(Record(f"{_NEW}{p.index}", p.source_system, p.attributes))
                    for p in pending]
        caps, hashes = self._key_hashes(domain, prepared)
        lock_key_hashes(session, domain, caps)
        found, hits = index.candidates(session, domain, settings, caps)
        rows = _Rows(prepared, hits)
        # 1. Every record's candidates; 2. all pairs scored at once, as a batch scores them.
        left, right = self._candidate_pairs(rows, hashes, caps, found)
        scored = _scored(engine, rows, left, right)
        # 3. Members of the golden records a record might join (merges are checked
        # against every member: no chained merges).
        joinable = {hits[rows.stored_ids[j - rows.new]].golden_id
                    for pairs in scored for w, j in pairs
                    if w >= engine.auto_weight and j >= rows.new}
        members: dict[str, list[PreparedRecord]] = {
            g: [m.prepared for m in group]
            for g, group in index.members(session, domain, settings, joinable).items()}
        # 4. Record by record, in request order: an earlier record's cluster is known.
        return self._place(engine, rows, hashes, scored, members)

    def _key_hashes(self, domain: str, prepared: list[PreparedRecord]
                    ) -> tuple[dict[int, int], list[list[int]]]:
        """Each record's blocking-key hashes (in key order, once each) and each hash's cap."""
        caps: dict[int, int] = {}
        hashes: list[list[int]] = []
        for p in prepared:
            mine = []
            for key in index.keys_of(self.settings, p):
                h = index.key_hash(domain, key)
                if h not in caps:
                    caps[h] = index.key_cap(self.settings, key)
                mine.append(h)
            hashes.append(list(dict.fromkeys(mine)))
        return caps, hashes

    def _candidate_pairs(self, rows: _Rows, hashes: list[list[int]], caps: dict[int, int],
                         found: dict[int, list[int]]) -> tuple[list[int], list[int]]:
        """Pairs (row numbers) to score: per key at most its cap, the newest earlier
        records of the request first, then the newest stored ones."""
        position = {sr_id: rows.new + k for k, sr_id in enumerate(rows.stored_ids)}
        left: list[int] = []
        right: list[int] = []
        earlier: dict[int, list[int]] = defaultdict(list)
        link_only = self.settings.link_type == "link_only"
        for i, (me, mine) in enumerate(zip(rows.prepared, hashes, strict=True)):
            seen: set[int] = set()
            for h in mine:
                cap = caps[h]
                before = earlier[h]
                picked = before[-cap:][::-1]
                picked += [position[s] for s in found.get(h, ())[:cap - len(picked)]]
                before.append(i)
                for j in picked:
                    if j in seen:
                        continue
                    seen.add(j)
                    if link_only and rows.record(j).source_system == me.source_system:
                        continue
                    left.append(i)
                    right.append(j)
        return left, right

    def _place(self, engine: MatchEngine, rows: _Rows, hashes: list[list[int]],
               scored: list[list[tuple[float, int]]],
               members: dict[str, list[PreparedRecord]]) -> list[LinkDecision]:
        cluster_of: dict[str, str] = {rows.hits[s].prepared.id: rows.hits[s].golden_id
                                      for s in rows.stored_ids}
        constraints = Constraints.of(None)
        out: list[LinkDecision] = []
        for i, me in enumerate(rows.prepared):
            candidates = [(w, rows.record(j)) for w, j in scored[i]]
            decision = decide(engine, me, candidates, members, cluster_of, constraints)
            if decision.action is Action.MERGE:
                assert decision.target_cluster_id is not None
                cluster = decision.target_cluster_id
            else:
                cluster = f"{_NEW}{i}"
            review: dict[str, float] = {}
            for pair in decision.pairs:
                theirs = cluster_of.get(pair.right_id, pair.right_id)
                if pair.outcome is PairOutcome.REVIEW and theirs != cluster:
                    review[theirs] = max(review.get(theirs, 0.0), pair.probability)
            self.placed.append(_Placed(me, hashes[i], cluster, decision,
                                       sorted(review.items())))
            cluster_of[me.id] = cluster
            members.setdefault(cluster, []).append(me)
            if cluster.startswith(_NEW):
                same = int(cluster[len(_NEW):])
                out.append(LinkDecision(same_as=same) if same != i else LinkDecision())
            else:
                out.append(LinkDecision(golden_id=cluster))
        return out

    def after_link(self, session: Session, definition: DomainDefinition,
                   pending: list[PendingRecord], decisions: list[LinkDecision],
                   golden_ids: list[str], source_record_ids: list[int],
                   ctx: RequestContext) -> None:
        from mdm.records.ingest import content_hash
        from mdm.stewardship.queue import MAX_TASK_GOLDENS, join_review_task

        domain = definition.name
        rename = {f"{_NEW}{i}": index.record_key(sr) for i, sr in enumerate(source_record_ids)}
        golden_of_label = {f"{_NEW}{i}": g for i, g in enumerate(golden_ids)}
        rows = [
            (sr_id, content_hash(p.attributes, True),
             PreparedRecord(index.record_key(sr_id), placed.prepared.source_system,
                            placed.prepared.values))
            for sr_id, p, placed in zip(source_record_ids, pending, self.placed, strict=True)
        ]
        index.write(session, domain, self.settings, rows,
                    keys=[placed.hashes for placed in self.placed])

        now = utcnow()
        explanations = [_explanation(placed.decision, rename, golden_of_label)
                        for placed in self.placed]
        # Review tasks: one join per group of this request's records whose review sets
        # overlap (each at most MAX_TASK_GOLDENS golden records), not one per record.
        reviews: list[tuple[int, list[str], float]] = []
        for i, placed in enumerate(self.placed):
            related = sorted({golden_of_label.get(c, c) for c, _ in placed.review}
                             - {golden_ids[i]})
            if related:
                reviews.append((i, [golden_ids[i], *related], max(p for _, p in placed.review)))
        task_of: dict[int, str] = {}
        for batch in _review_batches(reviews, MAX_TASK_GOLDENS):
            first, _, best = min(batch, key=lambda r: (-r[2], r[0]))
            task = join_review_task(
                session, ctx, domain=domain,
                golden_ids=sorted({g for _, goldens, _ in batch for g in goldens}),
                source_record_ids=[source_record_ids[i] for i, _, _ in batch], score=best,
                explanation=explanations[first])
            task_of.update((i, task.id) for i, _, _ in batch)

        decision_rows = []
        for i, placed in enumerate(self.placed):
            golden_id = golden_ids[i]
            explanation = explanations[i]
            related = sorted({golden_of_label.get(c, c) for c, _ in placed.review} - {golden_id})
            task_id = task_of.get(i)
            if task_id is None and not _worth_keeping(placed.decision):
                continue  # a new golden record and nothing near it: nothing to explain
            target = placed.decision.target_cluster_id
            if target is not None:
                related = sorted({*related, golden_of_label.get(target, target)} - {golden_id})
            best_pair = placed.decision.pairs[0].probability if placed.decision.pairs else None
            decision_rows.append({
                "domain": domain, "mode": INCREMENTAL, "source_record_id": source_record_ids[i],
                "golden_id": golden_id, "action": placed.decision.action.value,
                "probability": best_pair, "related_golden_ids": related,
                "review_task_id": task_id,
                "settings_version": placed.decision.settings_version,
                "params_version": placed.decision.params_version,
                "explanation": explanation, "actor": ctx.actor.name,
                "request_id": ctx.request_id, "created_at": now,
            })
        if decision_rows:
            session.execute(insert(cast(Table, MatchDecisionRecord.__table__)), decision_rows)


def _review_batches(reviews: list[tuple[int, list[str], float]],
                    limit: int) -> list[list[tuple[int, list[str], float]]]:
    """Records to review, ``(index, golden ids, best probability)``, batched: records whose
    golden ids overlap (directly or through others) share a batch, cut in request order
    where a batch would hold more than ``limit`` golden records."""
    parent: dict[str, str] = {}

    def root(g: str) -> str:
        while parent.setdefault(g, g) != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    for _, goldens, _ in reviews:
        for g in goldens[1:]:
            a, b = root(goldens[0]), root(g)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[str, list[tuple[int, list[str], float]]] = defaultdict(list)
    for review in reviews:
        groups[root(review[1][0])].append(review)
    out: list[list[tuple[int, list[str], float]]] = []
    for group in groups.values():
        batch: list[tuple[int, list[str], float]] = []
        held: set[str] = set()
        for review in group:
            if batch and len(held | set(review[1])) > limit:
                out.append(batch)
                batch, held = [], set()
            batch.append(review)
            held.update(review[1])
        out.append(batch)
    return out


def _worth_keeping(decision: MatchDecision) -> bool:
    """Store a decision that changed something (a merge), or that explains a near match
    refused (a blocked pair); a review task keeps its own."""
    return decision.action is Action.MERGE or any(
        p.outcome is PairOutcome.BLOCKED for p in decision.pairs)


def _explanation(decision: MatchDecision, rename: dict[str, str],
                 golden_of: dict[str, str]) -> dict[str, Any]:
    """The engine's decision as stored JSON (its strongest pairs, compact), with
    request-local ids made permanent."""
    def permanent(record_id: str | None) -> str | None:
        return rename.get(record_id, record_id) if record_id else record_id

    out: dict[str, Any] = {
        "record_id": permanent(decision.record_id), "action": decision.action.value,
        "target_record_id": permanent(decision.target_record_id),
        "reason": decision.reason, "settings_version": decision.settings_version,
        "params_version": decision.params_version, "pair_count": len(decision.pairs),
        "pairs": [stored_pair(p) for p in strongest(decision.pairs)],
    }
    if decision.target_cluster_id:
        out["target_golden_id"] = golden_of.get(decision.target_cluster_id,
                                                decision.target_cluster_id)
    for pair in out["pairs"]:
        pair["left_id"] = permanent(pair["left_id"])
        pair["right_id"] = permanent(pair["right_id"])
    return out


# --- keeping the index current when stored records change ------------------------------------
# Ingestion updates an existing source record through the ORM (the linker only sees new
# records); these two session hooks notice such updates and re-index them before commit.

_STALE = "mdm_matching_stale"


def _track_updates(session: Session, flush_context: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, SourceRecord):
            state = inspect(obj)
            if state.attrs.attributes.history.has_changes() or \
                    state.attrs.active.history.has_changes():
                values = state.dict
                session.info.setdefault(_STALE, set()).add((values["domain"], values["id"]))


def _forget_updates(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_STALE, None)


def _reindex_updates(session: Session) -> None:
    stale = session.info.pop(_STALE, None)
    if not stale:
        return
    from flask import current_app, has_app_context

    if not has_app_context():
        return
    registry = current_app.extensions["mdm_domains"]
    by_domain: dict[str, list[int]] = defaultdict(list)
    for domain, sr_id in stale:
        by_domain[domain].append(sr_id)
    for domain, ids in by_domain.items():
        if domain not in registry:
            continue
        settings = settings_for(registry.get(domain))
        if settings is not None:
            index.reindex(session, domain, settings, ids)


class _Rows:
    """The records a link compares, by row number: the request's new records first, then
    the stored candidates in source-record id order."""

    def __init__(self, prepared: list[PreparedRecord], hits: dict[int, index.Member]) -> None:
        self.prepared, self.hits = prepared, hits
        self.new = len(prepared)
        self.stored_ids = sorted(hits)

    def record(self, j: int) -> PreparedRecord:
        return (self.prepared[j] if j < self.new
                else self.hits[self.stored_ids[j - self.new]].prepared)


def _scored(engine: MatchEngine, rows: _Rows, left: list[int], right: list[int]
            ) -> list[list[tuple[float, int]]]:
    """Each new record's candidates at or above the review weight, as (weight, row)."""
    table_rows = ([p.values for p in rows.prepared]
                  + [rows.hits[s].prepared.values for s in rows.stored_ids])
    weights: list[float] = []
    if left:
        table = row_table(table_rows)
        weights = engine.weight_array(table[np.asarray(left)],
                                      table[np.asarray(right)]).tolist()
    scored: list[list[tuple[float, int]]] = [[] for _ in rows.prepared]
    for i, j, w in zip(left, right, weights, strict=True):
        if w >= engine.review_weight:
            scored[i].append((w, j))
    return scored
