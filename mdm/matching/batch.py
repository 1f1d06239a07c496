"""(Re)matching a whole domain: normalise, block, train, score, cluster.

Records stream in and only their normalised rows are kept. Scoring runs in worker
processes forked after the rows exist, so they share them copy-on-write and only
pair indices travel between processes; at most ``2 * workers`` chunks are in flight,
which bounds memory whatever the number of candidate pairs.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import numpy as np

from mdm.matching.candidates import BlockIndex, PairChunk, key_hashes
from mdm.matching.clustering import ClusterOutcome, Constraints, cluster_edges
from mdm.matching.comparisons import row_table
from mdm.matching.decisions import (
    BatchResult,
    ClusteringDiff,
    PairDecision,
    PairOutcome,
    ReviewGroup,
)
from mdm.matching.engine import MatchEngine, probability_from_weight
from mdm.matching.params import ModelParams
from mdm.matching.records import PreparedRecord, Record
from mdm.matching.settings import MatchSettings
from mdm.matching.training import Patterns, count_patterns, estimate_params, term_frequencies

__all__ = ["dry_run_diff", "match_batch"]

Progress = Callable[[str, int, int | None], None]

# Worker-process state, inherited through fork (see module docstring).
_STATE: dict[str, Any] = {}


def _prepare_chunk(records: list[tuple[str, str, tuple[Any, ...]]]) -> tuple[
        list[tuple[str, str, tuple[Any, ...]]], np.ndarray]:
    """Normalised rows of a chunk of (id, source, schema inputs) and their blocking-key
    hashes (rules x rows). Only plain tuples of the attributes the features read cross
    the process boundary: they pickle several times faster than ``Record`` objects."""
    settings: MatchSettings = _STATE["settings"]
    row = settings.schema.row_from_inputs
    prepared = [(rid, src, row(values)) for rid, src, values in records]
    return prepared, key_hashes(settings.blocking, [row for _, _, row in prepared])


def _score_chunk(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, ...]:
    # Vectorised per comparison over the whole chunk (numpy + rapidfuzz cpdist).
    table: np.ndarray = _STATE["table"]
    engine: MatchEngine = _STATE["engine"]
    weights = engine.weight_array(table[left], table[right])
    keep = weights >= engine.review_weight
    return left[keep].astype(np.int64), right[keep].astype(np.int64), weights[keep]


def _count_chunk(left: np.ndarray, right: np.ndarray) -> Patterns:
    return count_patterns(_STATE["settings"], _STATE["table"], left, right)


class _Runner:
    """Runs chunk jobs inline (workers=1) or in a fork pool with bounded backlog."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: Executor | None = None
        if workers > 1:
            self.pool = ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("fork")
            )

    def map(self, fn: Callable[..., Any], jobs: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        if self.pool is None:
            for job in jobs:
                yield fn(*job)
            return
        pending: list[Future[Any]] = []
        for job in jobs:
            pending.append(self.pool.submit(fn, *job))
            if len(pending) >= 2 * self.workers:
                yield pending.pop(0).result()
        for fut in pending:
            yield fut.result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def _split(left: np.ndarray, right: np.ndarray, size: int) -> Iterator[tuple[np.ndarray, ...]]:
    for start in range(0, left.size, size):
        yield left[start:start + size], right[start:start + size]


def match_batch(
    records: Iterable[Record],
    settings: MatchSettings,
    params: ModelParams | None = None,
    *,
    constraints: Constraints | Iterable[tuple[str, str]] | None = None,
    current: Mapping[str, str] | None = None,
    workers: int = 2,
    chunk_size: int = 5_000,
    explain: bool = False,
    progress: Progress | None = None,
    on_prepared: Callable[[list[tuple[str, str, tuple[Any, ...]]]], None] | None = None,
) -> tuple[BatchResult, ModelParams]:
    """Match every record of a domain; returns the result and the parameters used.

    Without ``params`` they are trained on these records (return them to store for
    incremental matching). ``current`` (record id -> cluster id) adds a dry-run diff
    as ``result.diff``. ``explain`` builds a full ``PairDecision`` for every
    edge, which is memory-hungry on big domains. ``on_prepared`` receives each chunk of
    normalised rows ``(id, source, features)``, e.g. to index them without normalising
    them again.
    """
    # Millions of live row tuples make every cyclic-GC pass walk them all (quadratic
    # slow-down) and, in forked workers, dirty the shared pages. Rows hold no cycles.
    gc_enabled = gc.isenabled()
    gc.disable()
    try:
        return _match_batch(records, settings, params, constraints=constraints,
                            current=current, workers=workers, chunk_size=chunk_size,
                            explain=explain, progress=progress, on_prepared=on_prepared)
    finally:
        gc.unfreeze()
        if gc_enabled:
            gc.enable()


def _match_batch(
    records: Iterable[Record],
    settings: MatchSettings,
    params: ModelParams | None,
    *,
    constraints: Constraints | Iterable[tuple[str, str]] | None,
    current: Mapping[str, str] | None,
    workers: int,
    chunk_size: int,
    explain: bool,
    progress: Progress | None,
    on_prepared: Callable[[list[tuple[str, str, tuple[Any, ...]]]], None] | None = None,
) -> tuple[BatchResult, ModelParams]:
    report = progress or (lambda stage, done, total: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    # 1. normalise (stream, in parallel)
    data = _normalise(records, settings, workers, chunk_size, report, on_prepared)
    timings["normalise"] = time.perf_counter() - t0
    # 2. block
    t = time.perf_counter()
    index = _block(settings, data)
    timings["block"] = time.perf_counter() - t
    # 3. train (when needed) and score, in workers forked now that rows exist
    engine, params, edges, scored = _train_and_score(
        settings, params, data, index, workers, report, timings)
    # 4. cluster without chaining
    t = time.perf_counter()
    edges, outcome = _cluster(settings, engine, data, edges, Constraints.of(constraints))
    timings["cluster"] = time.perf_counter() - t
    report("cluster", len(outcome.clusters), len(outcome.clusters))

    ids = data.ids
    clusters = [[ids[i] for i in members] for members in outcome.clusters]
    review = [
        ReviewGroup([ids[i] for i in nodes],
                    [(ids[i], ids[j], round(probability_from_weight(w), 6), why)
                     for i, j, w, why in pairs])
        for nodes, pairs in outcome.review
    ]
    decisions = _explain_edges(engine, data, edges, outcome) if explain else []
    timings["total"] = time.perf_counter() - t0
    stats: dict[str, Any] = {
        "records": len(data.rows),
        "pairs_scored": scored,
        "edges_at_or_above_review": int(edges[0].size),
        "auto_merge_clusters": sum(1 for c in clusters if len(c) > 1),
        "review_groups": len(review),
        "blocked_merges": len(outcome.blocked),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
    diff = dry_run_diff(current, clusters) if current is not None else None
    result = BatchResult(clusters, review, decisions, stats, settings.version,
                         params.version, diff)
    return result, params


@dataclass
class _Prepared:
    """The normalised records of a batch, by row number."""

    ids: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    hash_parts: list[np.ndarray] = field(default_factory=list)  # rules x rows, per chunk


Edges = tuple[np.ndarray, np.ndarray, np.ndarray]  # left rows, right rows, weights


def _normalise(records: Iterable[Record], settings: MatchSettings, workers: int,
               chunk_size: int, report: Progress,
               on_prepared: Callable[[list[tuple[str, str, tuple[Any, ...]]]], None] | None
               ) -> _Prepared:
    _STATE.clear()
    _STATE["settings"] = settings
    data = _Prepared()
    iterator = iter(records)
    inputs = settings.schema.inputs

    def take(size: int) -> list[tuple[str, str, tuple[Any, ...]]]:
        return [(r.id, r.source_system, inputs(r.attrs)) for r in islice(iterator, size)]

    # The first chunk runs here: it loads phone/tax/country metadata once, before the
    # fork, instead of once per worker.
    first = take(min(chunk_size, 500))
    runner = _Runner(workers)
    try:
        jobs = itertools.chain([(first,)], iter(lambda: (take(chunk_size),), ([],)))
        for chunk_rows, chunk_hashes in itertools.chain(
            [_prepare_chunk(first)],
            runner.map(_prepare_chunk, itertools.islice(jobs, 1, None)),
        ):
            for rid, src, row in chunk_rows:
                data.ids.append(rid)
                data.sources.append(src)
                data.rows.append(row)
            data.hash_parts.append(chunk_hashes)
            if on_prepared is not None:
                on_prepared(chunk_rows)
            report("normalise", len(data.rows), None)
    finally:
        runner.close()
    return data


def _block(settings: MatchSettings, data: _Prepared) -> BlockIndex:
    hashes = (np.concatenate(data.hash_parts, axis=1) if data.hash_parts
              else np.zeros((len(settings.blocking), 0), dtype=np.int64))
    data.hash_parts = []  # the index holds them now
    return BlockIndex(
        data.rows, data.sources, settings.blocking, link_type=settings.link_type,
        max_block_size=settings.max_block_size, window=settings.window,
        sort_position=(settings.schema.positions[settings.window_sort]
                       if settings.window_sort else None),
        hashes=hashes,
    )


def _train_and_score(settings: MatchSettings, params: ModelParams | None, data: _Prepared,
                     index: BlockIndex, workers: int, report: Progress,
                     timings: dict[str, float]
                     ) -> tuple[MatchEngine, ModelParams, Edges, int]:
    """Train (without ``params``) and score every candidate pair in forked workers; the
    edges at or above the review weight and the number of pairs scored."""
    _STATE["rows"] = data.rows
    # One (records x features) object array: a chunk's pair rows are then two fancy
    # indexing operations, and every comparison reads a column.
    _STATE["table"] = row_table(data.rows)
    gc.freeze()
    runner = _Runner(workers)
    try:
        t = time.perf_counter()
        if params is None:
            def counter(left: np.ndarray, right: np.ndarray) -> Patterns:
                total: Patterns = Patterns()
                for part in runner.map(_count_chunk, _split(left, right, 25_000)):
                    total.update(part)
                return total

            params = estimate_params(settings, data.rows, data.sources, index=index,
                                     counter=counter, progress=report)
        else:
            # Term frequencies always come from the records being matched.
            params = params.with_term_frequencies(term_frequencies(settings, data.rows, params))
        timings["train"] = time.perf_counter() - t
        engine = MatchEngine(settings, params)
        _STATE["engine"] = engine
        gc.freeze()
        # The pool forked before the engine existed; fork a fresh one that has it.
        runner.close()
        runner = _Runner(workers)

        t = time.perf_counter()
        parts: tuple[list[np.ndarray], ...] = ([], [], [])
        scored = 0

        def jobs_from(chunks: Iterator[PairChunk]) -> Iterator[tuple[np.ndarray, ...]]:
            nonlocal scored
            for chunk in chunks:
                for piece in _split(chunk.left, chunk.right, 50_000):
                    scored += piece[0].size
                    yield piece

        for found in runner.map(_score_chunk, jobs_from(index.pairs())):
            for part, array in zip(parts, found, strict=True):
                part.append(array)
            report("score", scored, None)
        timings["score"] = time.perf_counter() - t
    finally:
        runner.close()
        _STATE.clear()
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
    left, right, weight = (np.concatenate(part) if part else none
                           for part, none in zip(parts, empty, strict=True))
    return engine, params, (left, right, weight), scored


def _cluster(settings: MatchSettings, engine: MatchEngine, data: _Prepared, edges: Edges,
             cons: Constraints) -> tuple[Edges, ClusterOutcome]:
    """Cluster without chaining; not-a-match pairs are dropped first (they must not even
    count as an edge), so the edges are returned too."""
    ids, sources, rows = data.ids, data.sources, data.rows
    left, right, weight = edges
    link_only = settings.link_type == "link_only"

    def conflict(i: int, j: int) -> str | None:
        if cons.forbids(ids[i], ids[j]):
            return "not_a_match"
        if link_only and sources[i] == sources[j]:
            return "same_source"
        return engine.conflict(rows[i], rows[j])

    if cons.not_a_match and left.size:
        keep = np.array([not cons.forbids(ids[i], ids[j])
                         for i, j in zip(left.tolist(), right.tolist(), strict=True)],
                        dtype=bool)
        left, right, weight = left[keep], right[keep], weight[keep]
    outcome = cluster_edges(
        len(rows), left, right, weight, auto_weight=engine.auto_weight, conflict=conflict,
        # An auto edge has evidence >= auto_weight - prior; rule non-matches score -1000.
        edges_are_consistent=engine.conflict_evidence <= engine.auto_weight - engine.prior)
    return (left, right, weight), outcome


def _explain_edges(engine: MatchEngine, data: _Prepared, edges: Edges,
                   outcome: ClusterOutcome) -> list[PairDecision]:
    """A full ``PairDecision`` for every edge (memory-hungry on big domains)."""
    ids, sources, rows = data.ids, data.sources, data.rows
    cluster_index = {i: k for k, members in enumerate(outcome.clusters) for i in members}
    decisions: list[PairDecision] = []
    for i, j, w in zip(*(e.tolist() for e in edges), strict=True):
        if (i, j) in outcome.blocked:
            kind, why = PairOutcome.BLOCKED, outcome.blocked[(i, j)]
        elif cluster_index[i] == cluster_index[j]:
            kind, why = PairOutcome.AUTO_MERGE, None
        else:
            kind, why = engine.outcome(w), None
            if kind is PairOutcome.AUTO_MERGE:
                kind, why = PairOutcome.REVIEW, "not_merged"
        decisions.append(engine.explain(
            PreparedRecord(ids[i], sources[i], rows[i]),
            PreparedRecord(ids[j], sources[j], rows[j]),
            outcome=kind, reason=why,
        ))
    return decisions


def dry_run_diff(current: Mapping[str, str], clusters: Sequence[Sequence[str]]) -> ClusteringDiff:
    """Compare a proposed clustering with the current one (record id -> cluster id).

    A merge is a proposed cluster that joins records of several current clusters; a
    split is a current cluster whose records would end up in several proposed ones.
    """
    diff = ClusteringDiff()
    old_members: dict[str, set[str]] = defaultdict(set)
    for rid, cid in current.items():
        old_members[cid].add(rid)
    new_of: dict[str, int] = {}
    for k, members in enumerate(clusters):
        olds = sorted({current[r] for r in members if r in current})
        diff.new_records.extend(r for r in members if r not in current)
        for r in members:
            new_of[r] = k
        if len(olds) > 1:
            diff.merges.append({"records": sorted(members), "from_clusters": olds})
        elif len(olds) == 1 and set(members) == old_members[olds[0]]:
            diff.unchanged += 1
    for cid, old in sorted(old_members.items()):
        parts: dict[int, list[str]] = defaultdict(list)
        for r in sorted(old):
            if r in new_of:
                parts[new_of[r]].append(r)
        if len(parts) > 1:
            diff.splits.append({"cluster": cid, "into": list(parts.values())})
    diff.new_records.sort()
    return diff
