"""Matching one incoming record against candidates from the blocking index."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence

from mdm.matching.clustering import Constraints
from mdm.matching.decisions import Action, MatchDecision, PairDecision, PairOutcome
from mdm.matching.engine import MatchEngine, probability_from_weight
from mdm.matching.explanations import STORED_PAIRS
from mdm.matching.params import ModelParams
from mdm.matching.records import PreparedRecord, Record
from mdm.matching.settings import MatchSettings

__all__ = ["decide", "engine_for", "match_one"]

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
    return decide(engine, me, scored, members, clusters, Constraints.of(constraints))


# Pairs at or above the review threshold explained per decision: the strongest ones. A
# record among thousands of near-identical names ("Supplier 17 GmbH") would otherwise
# build an explanation for each; the decision itself never needs more than its target.
MAX_EXPLAINED_PAIRS = 20


def decide(
    engine: MatchEngine,
    me: PreparedRecord,
    scored: list[tuple[float, PreparedRecord]],
    members: Mapping[str, Sequence[PreparedRecord]],
    cluster_of: Mapping[str, str],
    constraints: Constraints,
    *,
    max_pairs: int = MAX_EXPLAINED_PAIRS,
) -> MatchDecision:
    """Where ``me`` goes, given its candidates already scored (``weight``, candidate).

    ``members``: cluster id -> its members, for at least every cluster a candidate at
    or above the auto-merge weight belongs to (a merge is refused when any member
    conflicts with ``me``). Explains at most ``max_pairs`` pairs, strongest first, and
    always looks on for a target while auto-merge candidates remain.
    """
    settings = engine.settings
    found, target, target_cluster = _classify(engine, me, scored, members, cluster_of,
                                              constraints, max_pairs)
    pairs = _explained(engine, me, found, target)
    target_pair = pairs[target] if target is not None else None
    if target_pair is not None:
        action, why = Action.MERGE, f"auto-merge with {target_pair.right_id}"
        if any(p.reason == "bridges_clusters" for p in pairs):
            why += "; also matches another cluster (review suggested)"
    elif pairs:
        action, why = Action.REVIEW, "candidates between thresholds or blocked by conflicts"
    else:
        action, why = Action.NEW, "no candidate at or above the review threshold"
    return MatchDecision(
        record_id=me.id,
        action=action,
        target_record_id=target_pair.right_id if target_pair else None,
        target_cluster_id=target_cluster,
        pairs=pairs,
        reason=why,
        settings_version=settings.version,
        params_version=engine.params_version,
    )


_Found = list[tuple[float, PreparedRecord, PairOutcome, str | None]]


def _classify(engine: MatchEngine, me: PreparedRecord,
              scored: list[tuple[float, PreparedRecord]],
              members: Mapping[str, Sequence[PreparedRecord]], cluster_of: Mapping[str, str],
              constraints: Constraints, max_pairs: int) -> tuple[_Found, int | None, str | None]:
    """Each candidate's outcome, strongest first (weight, candidate, outcome, reason), and
    the merge target among them (its position and cluster), if any."""
    link_only = engine.settings.link_type == "link_only"
    target: int | None = None
    target_cluster: str | None = None
    found: _Found = []
    tried: set[str] = set()
    for weight, other in sorted(scored, key=lambda item: -item[0]):
        outcome = engine.outcome(weight)
        if outcome is PairOutcome.NO_MATCH:
            break
        if len(found) >= max_pairs and (target is not None
                                        or outcome is not PairOutcome.AUTO_MERGE):
            break
        cluster = cluster_of.get(other.id, other.id)
        reason = None
        if outcome is PairOutcome.AUTO_MERGE:
            if target is None and cluster not in tried:
                tried.add(cluster)
                reason = _conflict(engine, constraints, me, members.get(cluster, (other,)),
                                   link_only=link_only)
                if reason is None:
                    target, target_cluster = len(found), cluster
                    found.append((weight, other, outcome, None))
                    continue
                outcome = PairOutcome.BLOCKED
            elif target is not None and cluster != target_cluster:
                outcome, reason = PairOutcome.REVIEW, "bridges_clusters"
            elif target is None:
                # A cluster already refused for a conflict: this member is blocked too.
                outcome, reason = PairOutcome.BLOCKED, "cluster_conflict"
        found.append((weight, other, outcome, reason))
    return found, target, target_cluster


def _explained(engine: MatchEngine, me: PreparedRecord, found: _Found,
               target: int | None) -> list[PairDecision]:
    """Full explanations (every comparison's level and weight) for the target and the
    pairs a stored decision keeps; the others carry their score and outcome only."""
    settings = engine.settings
    ranked = sorted(range(len(found)), key=lambda k: (
        -probability_from_weight(found[k][0]), me.id, found[k][1].id))
    explained = set(ranked[:STORED_PAIRS])
    if target is not None:
        explained.add(target)
    pairs: list[PairDecision] = []
    for k, (weight, other, outcome, reason) in enumerate(found):
        if k in explained:
            pairs.append(engine.explain(me, other, outcome=outcome, reason=reason))
        else:
            pairs.append(PairDecision(
                me.id, other.id, probability_from_weight(weight), round(weight, 4), outcome,
                [], None, reason, settings.version, engine.params_version))
    return pairs


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
