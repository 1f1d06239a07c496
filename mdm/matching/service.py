"""Matching use cases: decisions and explanations for the API, settings, batch re-matching.

The incremental path lives in ``mdm.matching.linker`` (it runs inside ingestion); this
module serves the API and ``mdm match DOMAIN``: read decisions, explain a pair live,
show the settings, and re-match a whole domain (dry run: report only).
"""
from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mdm.context import RequestContext
from mdm.domains.definitions import DomainDefinition
from mdm.domains.registry import DomainRegistry
from mdm.errors import MatchingOff, NotFound, ValidationFailed
from mdm.matching import index
from mdm.matching.apply import (
    MAX_SIDE_RECORDS,
    Plan,
    apply_each,
    apply_plan,
    lock_domain,
    matching_context,
    pair_dict,
)
from mdm.matching.batch import dry_run_diff, match_batch
from mdm.matching.decisions import BatchResult, ClusteringDiff
from mdm.matching.domains import settings_block, settings_for, settings_origin
from mdm.matching.engine import MatchEngine
from mdm.matching.incremental import engine_for
from mdm.matching.models import MatchDecisionRecord, MatchParams, MatchPrepared
from mdm.matching.params import ModelParams
from mdm.matching.records import PreparedRecord, Record
from mdm.matching.settings import MatchSettings
from mdm.records.models import MERGED, GoldenRecord, SourceRecord
from mdm.sources.models import SourceSystem
from mdm.stewardship.not_a_match import not_a_match_pairs

# Bounds that keep the two read endpoints' answers in kilobytes whatever the data.
MAX_EXPLAINED_PAIRS = 10  # live pairs scored by explain, the strongest first
MAX_DECISIONS = 100  # decisions listed for a golden record (the oldest first)
MAX_STORED_SHOWN = 20  # stored decisions explain shows between the two sides
MAX_STORED_SCANNED = 500  # decisions read to find those

Progress = Callable[[str, int, int | None], None]

log = logging.getLogger(__name__)


def _matched(definition: DomainDefinition) -> MatchSettings:
    settings = settings_for(definition)
    if settings is None:
        raise MatchingOff(f"Matching is off for domain '{definition.name}'.",
                          errors={"domain": ["Its definition sets match.enabled: false or "
                                             "has no match settings."]})
    return settings


# --- settings ---------------------------------------------------------------------------------

def settings_view(session: Session, registry: DomainRegistry, domain: str) -> dict[str, Any]:
    """A domain's match settings as data, their version and the parameters in use."""
    definition = registry.get(domain)
    settings = settings_for(definition)
    out: dict[str, Any] = {"domain": domain, "enabled": settings is not None,
                           "origin": settings_origin(definition), "version": None,
                           "settings": None, "params": None}
    if settings is None:
        return out
    block, _ = settings_block(definition)
    out["version"] = settings.version
    out["settings"] = settings.to_dict() if block is not None else None
    params, row_id = index.current_params(session, domain, settings)
    row = session.get(MatchParams, row_id) if row_id is not None else None
    out["params"] = {
        "version": params.version,
        "source": "trained" if row is not None else "defaults",
        "trained_at": row.trained_at.isoformat() if row is not None else None,
        "trained_by": row.trained_by if row is not None else None,
        "records": row.records if row is not None else None,
        "probability_two_random_records_match": params.probability_two_random_records_match,
        "comparisons": {k: {"m": v.m, "u": v.u} for k, v in params.comparisons.items()},
    }
    return out


# --- decisions --------------------------------------------------------------------------------

def decisions_for_golden(session: Session, golden_id: str) -> list[MatchDecisionRecord]:
    """Decisions about the golden record and about every source record it holds now."""
    if session.get(GoldenRecord, golden_id) is None:
        raise NotFound(f"No golden record '{golden_id}'")
    members = select(SourceRecord.id).where(SourceRecord.golden_id == golden_id)
    D = MatchDecisionRecord
    return list(session.scalars(
        select(D).where(or_(D.golden_id == golden_id, D.source_record_id.in_(members)))
        .order_by(D.id).limit(MAX_DECISIONS)
    ))


def decision_dict(d: MatchDecisionRecord) -> dict[str, Any]:
    return {
        "id": d.id, "domain": d.domain, "mode": d.mode, "source_record_id": d.source_record_id,
        "golden_id": d.golden_id, "action": d.action, "probability": d.probability,
        "related_golden_ids": d.related_golden_ids, "review_task_id": d.review_task_id,
        "settings_version": d.settings_version, "params_version": d.params_version,
        "explanation": d.explanation, "actor": d.actor, "request_id": d.request_id,
        "created_at": d.created_at.isoformat(),
    }


# --- explaining a pair ------------------------------------------------------------------------

@dataclass
class _Side:
    key: str
    golden_ids: list[str]
    records: list[tuple[int, str, dict[str, Any]]]  # (source record id, system, attributes)


def _resolve_side(session: Session, domain: str, key: str, name: str) -> _Side:
    SR = SourceRecord
    base = (select(SR.id, SR.golden_id, SourceSystem.code, SR.attributes)
            .join(SourceSystem, SourceSystem.id == SR.source_system_id)
            .where(SR.domain == domain))
    if key.startswith(index.SR_PREFIX):
        raw = key[len(index.SR_PREFIX):]
        if not raw.isdigit() or len(raw) > 18:
            raise ValidationFailed("Not a source record key.",
                                   errors={name: ["Use sr:<source record id>."]})
        rows = session.execute(base.where(SR.id == int(raw))).all()
    elif "/" in key:
        system, source_id = key.split("/", 1)
        rows = session.execute(base.where(SourceSystem.code == system,
                                          SR.source_id == source_id)).all()
    else:
        golden = session.get(GoldenRecord, key)
        if golden is None or golden.domain != domain:
            raise NotFound(f"No {domain} golden record '{key}'",
                           errors={name: ["Unknown golden record."]})
        seen = set()
        while golden.status == MERGED and golden.merged_into and golden.id not in seen:
            seen.add(golden.id)
            golden = session.get(GoldenRecord, golden.merged_into) or golden
        rows = session.execute(base.where(SR.golden_id == golden.id, SR.active.is_(True))
                               .order_by(SR.id).limit(MAX_SIDE_RECORDS)).all()
        return _Side(key, [golden.id], [(r[0], r[2], r[3]) for r in rows])
    if not rows:
        raise NotFound(f"No {domain} source record '{key}'",
                       errors={name: ["Unknown source record."]})
    return _Side(key, [rows[0][1]], [(r[0], r[2], r[3]) for r in rows])


def explain(session: Session, registry: DomainRegistry, domain: str, a: str,
            b: str) -> dict[str, Any]:
    """Score two golden or source records now, and list the stored decisions between them.

    ``a``/``b``: a golden id, ``sr:<source record id>`` or ``<SYSTEM>/<source id>``.
    """
    definition = registry.get(domain)
    settings = _matched(definition)
    left = _resolve_side(session, domain, a, "a")
    right = _resolve_side(session, domain, b, "b")
    params, _ = index.current_params(session, domain, settings)
    engine = engine_for(settings, params)

    def prepared(side: _Side) -> list[PreparedRecord]:
        return [settings.prepare(Record(index.record_key(i), code, attrs))
                for i, code, attrs in side.records]

    pairs: list[dict[str, Any]] = []
    for x in prepared(left):
        for y in prepared(right):
            if x.id != y.id:
                pairs.append(_pair_dict(engine, x, y))
    pairs.sort(key=lambda p: (-p["probability"], -p["match_weight"]))
    return {
        "domain": domain, "settings_version": settings.version, "params_version": params.version,
        "a": _side_dict(left), "b": _side_dict(right),
        "best": pairs[0] if pairs else None, "pairs": pairs[:MAX_EXPLAINED_PAIRS],
        "stored": [decision_dict(d) for d in _stored_between(session, left, right)],
    }


def _pair_dict(engine: MatchEngine, x: PreparedRecord, y: PreparedRecord) -> dict[str, Any]:
    out = pair_dict(engine.explain(x, y))
    out["conflict"] = engine.conflict(x.values, y.values)
    return out


def _side_dict(side: _Side) -> dict[str, Any]:
    return {"key": side.key, "golden_ids": side.golden_ids,
            "source_record_ids": [r[0] for r in side.records]}


def _stored_between(session: Session, left: _Side, right: _Side) -> list[MatchDecisionRecord]:
    D = MatchDecisionRecord
    ids = [r[0] for r in left.records] + [r[0] for r in right.records]
    goldens = set(left.golden_ids) | set(right.golden_ids)
    rows = session.scalars(select(D).where(or_(D.source_record_id.in_(ids),
                                               D.golden_id.in_(list(goldens))))
                           .order_by(D.id).limit(MAX_STORED_SCANNED))
    sides = [({index.record_key(r[0]) for r in s.records}, set(s.golden_ids))
             for s in (left, right)]
    out = []
    for d in rows:
        mentioned = {d.golden_id, *d.related_golden_ids}
        if d.source_record_id is not None:
            mentioned.add(index.record_key(d.source_record_id))
        for p in (d.explanation or {}).get("pairs", []):
            mentioned.update((p.get("left_id"), p.get("right_id")))
        if all(keys & mentioned or golds & mentioned for keys, golds in sides):
            out.append(d)
    return out[-MAX_STORED_SHOWN:]


# --- batch re-matching ------------------------------------------------------------------------

@dataclass
class RematchReport:
    domain: str
    dry_run: bool
    records: int = 0
    settings_version: str = ""
    params_version: str = ""
    trained: bool = False
    merges: list[dict[str, Any]] = field(default_factory=list)
    splits: list[dict[str, Any]] = field(default_factory=list)
    review_groups: int = 0
    unchanged: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    applied: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # match, apply, index

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def rematch(
    session: Session,
    registry: DomainRegistry,
    ctx: RequestContext,
    domain: str,
    *,
    dry_run: bool = False,
    train: bool = True,
    workers: int = 2,
    progress: Progress | None = None,
    one_at_a_time: bool = False,
) -> RematchReport:
    """Match a whole domain again and compare with today's golden records.

    ``train`` estimates new parameters (stored unless ``dry_run``, which changes nothing);
    otherwise the stored ones (or the defaults) are used, as incremental matching uses them.
    Applying: splits first (as stewardship's unmerge; the largest part keeps the golden id),
    except where a person merged records into that golden record (``splits_held``: undoing
    a steward's ruling needs a steward); then merges (as stewardship's merge, actor
    "matching"), refusing one that would break a hard rule (different valid tax ids or
    countries); then one review task per undecided group. Applied in bulk
    (``mdm.matching.apply``); ``one_at_a_time`` goes through stewardship's use cases, the
    reference the bulk path is tested against.
    """
    definition = registry.get(domain)
    settings = _matched(definition)
    report = RematchReport(domain, dry_run, settings_version=settings.version, trained=train)
    params: ModelParams | None = None
    if not train:
        params, _ = index.current_params(session, domain, settings)

    current: dict[str, str] = {}
    streamed = _Streamed()
    result, params, indexed_meanwhile = _batch(session, domain, settings, params, current,
                                               streamed, report, dry_run=dry_run,
                                               workers=workers, progress=progress)
    diff = dry_run_diff(current, result.clusters)
    _describe(report, result, diff, params, len(current))
    if dry_run:
        session.rollback()
        return report

    if train:
        index.store_params(session, ctx, domain, settings, params, len(current))
    session.commit()
    plan = Plan(domain, settings, params, diff, result.review, current)
    # The index first: it holds no golden ids, and explanations read its feature rows.
    started = time.monotonic()
    reindexed = indexed_meanwhile + ensure_index(session, domain, settings, progress=progress,
                                                 known=streamed)
    streamed.features.clear()
    report.seconds["index"] = time.monotonic() - started
    started = time.monotonic()
    actor = matching_context(ctx.request_id)
    if one_at_a_time:
        report.applied = apply_each(session, registry, plan, actor, progress)
    else:
        report.applied = apply_plan(session, registry, plan, actor, progress=progress)
    report.applied["decisions"] = report.applied["merged"]
    report.applied["reindexed"] = reindexed
    report.seconds["apply"] = time.monotonic() - started
    return report


def _batch(session: Session, domain: str, settings: MatchSettings, params: ModelParams | None,
           current: dict[str, str], streamed: _Streamed, report: RematchReport, *,
           dry_run: bool, workers: int, progress: Progress | None
           ) -> tuple[BatchResult, ModelParams, int]:
    """Run the batch engine over the domain's stored records (``current`` and ``streamed``
    fill as they stream), indexing them in the background unless ``dry_run``; also the
    number of records indexed meanwhile."""
    started = time.monotonic()
    constraints = _constraints(session, domain, not_a_match_pairs(session, domain))
    background = None if dry_run else _BackgroundIndex(session, domain, settings, streamed)
    try:
        result, params = match_batch(
            _stream(session, domain, current, streamed), settings, params,
            constraints=constraints, workers=workers,
            progress=background.progress(progress) if background else progress,
            on_prepared=None if dry_run else streamed.keep)
    finally:
        indexed_meanwhile = background.join() if background else 0
    report.seconds["match"] = time.monotonic() - started
    if background is not None and background.thread is not None:
        report.seconds["index during match"] = background.seconds
    return result, params, indexed_meanwhile


def _describe(report: RematchReport, result: BatchResult, diff: ClusteringDiff,
              params: ModelParams, records: int) -> None:
    """What the batch found and proposes, in source record ids, on the report."""
    report.records = records
    report.params_version = params.version
    report.stats = result.stats
    report.unchanged = diff.unchanged
    report.review_groups = len(result.review)
    report.merges = [{"golden_ids": m["from_clusters"],
                      "source_record_ids": [index.record_id(r) for r in m["records"]]}
                     for m in diff.merges]
    report.splits = [{"golden_id": s["cluster"],
                      "into": [[index.record_id(r) for r in part] for part in s["into"]]}
                     for s in diff.splits]


@dataclass
class _Streamed:
    """What the batch read and normalised, kept so the index need not normalise again."""

    hashes: dict[str, str] = field(default_factory=dict)  # record key -> content hash
    features: dict[str, tuple[str, tuple[Any, ...]]] = field(default_factory=dict)

    def keep(self, rows: list[tuple[str, str, tuple[Any, ...]]]) -> None:
        self.features.update((rid, (src, row)) for rid, src, row in rows)

    def prepared(self, sr_id: int, digest: str) -> PreparedRecord | None:
        """The batch's feature row of a record, if its content is still what was read."""
        key = index.record_key(sr_id)
        found = self.features.get(key)
        if found is None or self.hashes.get(key) != digest:
            return None
        return PreparedRecord(key, found[0], found[1])


def _stream(session: Session, domain: str, current: dict[str, str],
            streamed: _Streamed) -> Iterator[Record]:
    SR = SourceRecord
    rows = session.execute(
        select(SR.id, SourceSystem.code, SR.attributes, SR.golden_id, SR.content_hash)
        .join(SourceSystem, SourceSystem.id == SR.source_system_id)
        .where(SR.domain == domain, SR.active.is_(True)).order_by(SR.id)
        .execution_options(yield_per=5_000)
    )
    for sr_id, code, attrs, golden_id, digest in rows:
        key = index.record_key(sr_id)
        current[key] = golden_id
        streamed.hashes[key] = digest
        yield Record(key, code, attrs)


def _constraints(session: Session, domain: str,
                 pairs: set[frozenset[str]]) -> set[tuple[str, str]]:
    """Stewards' not-a-match pairs as pairs of engine record ids."""
    goldens = {k for p in pairs for k in p if not k.startswith(index.SR_PREFIX)}
    members: dict[str, list[str]] = defaultdict(list)
    for chunk in index.chunks(sorted(goldens), 500):
        for sr_id, gid in session.execute(select(SourceRecord.id, SourceRecord.golden_id)
                                          .where(SourceRecord.golden_id.in_(chunk))).all():
            members[gid].append(index.record_key(sr_id))
    out: set[tuple[str, str]] = set()
    for pair in pairs:
        a, b = sorted(pair)
        left = [a] if a.startswith(index.SR_PREFIX) else members.get(a, [])
        right = [b] if b.startswith(index.SR_PREFIX) else members.get(b, [])
        out.update((x, y) for x in left for y in right)
    return out


def ensure_index(session: Session, domain: str, settings: MatchSettings, *,
                 chunk: int = 5_000, progress: Progress | None = None,
                 known: _Streamed | None = None) -> int:
    """Index every source record of the domain missing or stale under these settings.

    Records loaded before matching was on, or indexed under an older settings version,
    are (re)written in transactions of ``chunk`` records, walked in id order (each page
    starts after the last, so a million records cost one pass, not one per page); a
    record that has no index rows yet is written without deleting first. Each page holds
    the domain's matching lock (``apply.lock_domain``) from its read to its commit, so
    incremental matching never indexes the same record meanwhile. Returns how many.
    ``known``: feature rows a batch match just computed (used where the content is
    unchanged).
    """
    SR, MP = SourceRecord, MatchPrepared
    stale = or_(MP.source_record_id.is_(None), MP.settings_version != settings.version,
                MP.content_hash != SR.content_hash)
    total = session.scalar(
        select(func.count()).select_from(SR).outerjoin(MP, MP.source_record_id == SR.id)
        .where(SR.domain == domain, stale)) or 0
    done = last = 0
    while True:
        lock_domain(session, domain)
        page = session.execute(
            select(SR.id, SR.content_hash, MP.source_record_id.is_not(None))
            .outerjoin(MP, MP.source_record_id == SR.id)
            .where(SR.domain == domain, SR.id > last, stale)
            .order_by(SR.id).limit(chunk)).all()
        if not page:
            session.rollback()
            break
        last = page[-1][0]
        fresh: list[tuple[int, str, PreparedRecord]] = []
        replaced: list[tuple[int, str, PreparedRecord]] = []
        recompute: list[int] = []
        for sr_id, digest, indexed in page:
            prepared = known.prepared(sr_id, digest) if known is not None else None
            if prepared is None:
                recompute.append(sr_id)
            else:
                (replaced if indexed else fresh).append((sr_id, digest, prepared))
        index.write(session, domain, settings, fresh)
        index.write(session, domain, settings, replaced, replace=True)
        if recompute:
            index.reindex(session, domain, settings, recompute)
        session.commit()
        done += len(page)
        if progress:
            progress("index", done, total)
    return done


class _BackgroundIndex:
    """``ensure_index`` from a batch's feature rows, in a thread with its own session.

    Started once the batch has normalised every record (its stage is no longer
    "normalise"): the engine then trains and scores in its worker processes while this
    process mostly waits, so writing the index meanwhile hides most of its cost. Errors
    are kept, not raised: whatever is left is indexed by the ``ensure_index`` that runs
    after the match anyway.
    """

    def __init__(self, session: Session, domain: str, settings: MatchSettings,
                 known: _Streamed) -> None:
        self.bind = session.get_bind()
        self.domain, self.settings, self.known = domain, settings, known
        self.done = 0
        self.seconds = 0.0
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def progress(self, outer: Progress | None) -> Progress:
        """A progress callback that starts the thread when normalising ends."""
        def report(stage: str, done: int, total: int | None) -> None:
            if stage != "normalise" and self.thread is None:
                self.start()
            if outer is not None:
                outer(stage, done, total)
        return report

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name=f"index-{self.domain}",
                                       daemon=True)
        self.thread.start()

    def _run(self) -> None:
        started = time.monotonic()
        try:
            with Session(bind=self.bind, expire_on_commit=False) as session:
                self.done = ensure_index(session, self.domain, self.settings,
                                         known=self.known)
        except Exception as exc:  # noqa: BLE001 -- kept; the caller's ensure_index follows
            self.error = exc
        self.seconds = time.monotonic() - started

    def join(self) -> int:
        if self.thread is not None:
            self.thread.join()
        if self.error is not None:
            log.warning("background index of %s stopped (%s); indexing in the foreground",
                        self.domain, self.error)
        return self.done
