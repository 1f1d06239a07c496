"""Matching one incoming record against candidates from the blocking index."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence

from mdm.matching.clustering import Constraints
from mdm.matching.decisions import Action, MatchDecision, PairDecision, PairOutcome
from mdm.matching.engine import MatchEngine
from mdm.matching.params import ModelParams
from mdm.matching.records import PreparedRecord, Record
from mdm.matching.settings import MatchSettings

__all__ = ["engine_for", "match_one"]

_ENGINES: OrderedDict[tuple[int, str, str], MatchEngine] = OrderedDict()


def engine_for(settings: MatchSettings, params: ModelParams) -> MatchEngine:
    """A compiled engine, cached because compiling on every request wastes the budget."""
    key = (id(settings), settings.version, params.version)
    engine = _ENGINES.get(key)
    if engine is None or engine.settings is not settings:
        engine = MatchEngine(settings, params)
        _ENGINES[key] = engine
        while len(_ENGINES) > 16:
            _ENGINES.popitem(last=False)
    else:
        _ENGINES.move_to_end(key)
    return engine


def match_one(
    record: Record | PreparedRecord,
    candidates: Sequence[Record | PreparedRecord],
    settings: MatchSettings,
    params: ModelParams,
    constraints: Constraints | Iterable[tuple[str, str]] | None = None,
    *,
    cluster_of: Mapping[str, str] | None = None,
) -> MatchDecision:
    """Decide whether ``record`` joins an existing cluster.

    ``candidates`` come from the blocking index; for the no-chaining guarantee they
    should include every member of each candidate's cluster (``cluster_of`` maps
    candidate id -> cluster id; without it each candidate is its own cluster). The
    record joins the best auto-merge cluster none of whose members conflicts with it.
    """
    engine = engine_for(settings, params)
    cons = Constraints.of(constraints)
    me = engine.prepare(record)
    clusters = cluster_of or {}

    scored: list[tuple[float, PreparedRecord]] = []
    members: dict[str, list[PreparedRecord]] = {}
    for cand in candidates:
        other = engine.prepare(cand)
        if other.id == me.id:
            continue
        members.setdefault(clusters.get(other.id, other.id), []).append(other)
        if engine.comparable(me, other):
            scored.append((engine.weight(me.values, other.values), other))
    scored.sort(key=lambda item: -item[0])

    target: PairDecision | None = None
    target_cluster: str | None = None
    pairs: list[PairDecision] = []
    tried: set[str] = set()
    for weight, other in scored:
        outcome = engine.outcome(weight)
        if outcome is PairOutcome.NO_MATCH:
            break
        cluster = clusters.get(other.id, other.id)
        reason = None
        if outcome is PairOutcome.AUTO_MERGE:
            if target is None and cluster not in tried:
                tried.add(cluster)
                reason = _conflict(engine, cons, me, members[cluster],
                                   link_only=settings.link_type == "link_only")
                if reason is None:
                    decision = engine.explain(me, other, outcome=outcome)
                    target, target_cluster = decision, cluster
                    pairs.append(decision)
                    continue
                outcome = PairOutcome.BLOCKED
            elif target is not None and cluster != target_cluster:
                outcome, reason = PairOutcome.REVIEW, "bridges_clusters"
        pairs.append(engine.explain(me, other, outcome=outcome, reason=reason))

    if target is not None:
        action, why = Action.MERGE, f"auto-merge with {target.right_id}"
        if any(p.reason == "bridges_clusters" for p in pairs):
            why += "; also matches another cluster (review suggested)"
    elif pairs:
        action, why = Action.REVIEW, "candidates between thresholds or blocked by conflicts"
    else:
        action, why = Action.NEW, "no candidate at or above the review threshold"
    return MatchDecision(
        record_id=me.id,
        action=action,
        target_record_id=target.right_id if target else None,
        target_cluster_id=target_cluster,
        pairs=pairs,
        reason=why,
        settings_version=settings.version,
        params_version=engine.params_version,
    )


def _conflict(
    engine: MatchEngine, cons: Constraints, me: PreparedRecord,
    members: Sequence[PreparedRecord], *, link_only: bool,
) -> str | None:
    for other in members:
        if cons.forbids(me.id, other.id):
            return "not_a_match"
        if link_only and other.source_system == me.source_system:
            return "same_source"
        reason = engine.conflict(me.values, other.values)
        if reason is not None:
            return reason
    return None
