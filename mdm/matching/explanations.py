"""The stored form of an explanation: small enough to keep one per decision at scale.

A stored pair keeps what a steward or an auditor needs to see why two records were (or
were not) put together: both ids, the probability, the match weight, the outcome, the
deciding rule and each comparison's level and weight. It leaves out what the settings
can tell again (level labels, Bayes factors = 2 ** weight) and comparisons where a side
had no value (weight 0). ``GET /domains/{d}/match/explain`` scores a pair live in full.
"""
from __future__ import annotations

from typing import Any

from mdm.matching.decisions import PairDecision

STORED_PAIRS = 3  # pairs kept per stored decision or review task, the strongest first
DIGITS = 4


def stored_pair(pair: PairDecision) -> dict[str, Any]:
    """One pair as stored with a decision or a review task."""
    contributions = []
    for c in pair.contributions:
        if c.level < 0:
            continue
        entry: dict[str, Any] = {"comparison": c.comparison, "level": c.level,
                                 "log2_weight": round(c.log2_weight, DIGITS)}
        tf = getattr(c, "tf_adjustment", 0.0)
        if tf:
            entry["tf_adjustment"] = round(tf, DIGITS)
        contributions.append(entry)
    return {"left_id": pair.left_id, "right_id": pair.right_id,
            "probability": round(pair.probability, 6),
            "match_weight": round(pair.match_weight, DIGITS),
            "outcome": pair.outcome.value, "rule": pair.rule, "reason": pair.reason,
            "contributions": contributions}


def strongest(pairs: list[PairDecision], limit: int = STORED_PAIRS) -> list[PairDecision]:
    """The ``limit`` most probable pairs (ties by ids, so the choice is repeatable)."""
    return sorted(pairs, key=lambda p: (-p.probability, p.left_id, p.right_id))[:limit]
