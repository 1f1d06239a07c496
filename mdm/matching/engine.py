"""The compiled scorer: settings + parameters -> pair scores, rules and explanations.

``MatchEngine`` is the one place a pair is scored, used alike by incremental
matching, batch matching and training, so the three can never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from mdm.matching.comparisons import NULL_LEVEL
from mdm.matching.decisions import Contribution, PairDecision, PairOutcome
from mdm.matching.params import ModelParams
from mdm.matching.records import PreparedRecord, Record
from mdm.matching.rules import Outcome
from mdm.matching.settings import MatchSettings

__all__ = ["MatchEngine", "RULE_MATCH_WEIGHT", "RULE_NON_MATCH_WEIGHT"]

# Sentinel weights for pairs a deterministic rule decided; far outside what evidence
# can produce so sorting by weight puts rule matches first and rule non-matches last.
RULE_MATCH_WEIGHT = 1000.0
RULE_NON_MATCH_WEIGHT = -1000.0


def probability_from_weight(weight: float) -> float:
    if weight >= RULE_MATCH_WEIGHT:
        return 1.0
    if weight <= RULE_NON_MATCH_WEIGHT:
        return 0.0
    return 1.0 / (1.0 + 2.0 ** (-weight)) if weight > -1000 else 0.0


def weight_from_probability(p: float) -> float:
    p = min(max(p, 1e-15), 1 - 1e-15)
    return math.log2(p / (1 - p))


class MatchEngine:
    """Scores pairs of prepared rows under one settings/params combination."""

    def __init__(self, settings: MatchSettings, params: ModelParams) -> None:
        params.check(settings)
        self.settings = settings
        self.params = params
        self.params_version = params.version
        lam = min(max(params.probability_two_random_records_match, 1e-12), 1 - 1e-12)
        self.prior = math.log2(lam / (1 - lam))
        # Level -1 (null) indexes the trailing 0.0: a missing value is no evidence.
        self._tables = [
            [*params.comparisons[c.name].weights(), 0.0] for c in settings.comparisons
        ]
        self._scorers = list(zip(settings.comparisons, self._tables, strict=True))
        self._rules = [(r, r.outcome is Outcome.MATCH) for r in settings.rules]
        thresholds = settings.thresholds
        self.auto_weight = weight_from_probability(thresholds.auto_merge)
        self.review_weight = weight_from_probability(thresholds.review)
        self.conflict_evidence = thresholds.conflict_evidence_below
        link = settings.link_type
        self._skip_same_source = link == "link_only"
        self._skip_cross_source = False

    # -- preparation -------------------------------------------------------------------
    def prepare(self, record: Record | PreparedRecord) -> PreparedRecord:
        if isinstance(record, PreparedRecord):
            return record
        return self.settings.schema.prepare(record)

    def comparable(self, a: PreparedRecord, b: PreparedRecord) -> bool:
        """Whether the link type allows comparing these two records at all."""
        if a.id == b.id:
            return False
        return not (self._skip_same_source and a.source_system == b.source_system)

    # -- scoring (hot path) ------------------------------------------------------------
    def levels(self, a: Sequence[Any], b: Sequence[Any]) -> tuple[int, ...]:
        return tuple(c.level(a, b) for c in self.settings.comparisons)

    def rule_for(self, a: Sequence[Any], b: Sequence[Any]) -> tuple[str, bool] | None:
        """(rule name, is_match) of the first deterministic rule that holds, if any."""
        for rule, is_match in self._rules:
            if rule.holds(a, b):
                return rule.name, is_match
        return None

    def evidence(self, a: Sequence[Any], b: Sequence[Any]) -> float:
        """Sum of log2 Bayes factors, without the prior."""
        total = 0.0
        for comparison, table in self._scorers:
            total += table[comparison.level(a, b)]
        return total

    def weight(self, a: Sequence[Any], b: Sequence[Any]) -> float:
        """Match weight (log2 posterior odds); rule outcomes map to the sentinels."""
        for rule, is_match in self._rules:
            if rule.holds(a, b):
                return RULE_MATCH_WEIGHT if is_match else RULE_NON_MATCH_WEIGHT
        return self.prior + self.evidence(a, b)

    def weight_array(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``weight`` for many pairs at once: (pairs x features) object tables in.

        Same floating-point operations in the same order as ``weight``, so batch and
        incremental scores agree to the last bit.
        """
        total = np.zeros(len(a))
        for comparison, table in self._scorers:
            # Level -1 (null) picks the table's trailing 0.0, as in ``evidence``.
            total += np.asarray(table)[comparison.level_array(a, b)]
        weights = self.prior + total
        decided = np.zeros(len(a), dtype=bool)
        for rule, is_match in self._rules:
            hit = rule.holds_array(a, b) & ~decided
            weights[hit] = RULE_MATCH_WEIGHT if is_match else RULE_NON_MATCH_WEIGHT
            decided |= hit
        return weights

    def conflict(self, a: Sequence[Any], b: Sequence[Any]) -> str | None:
        """Why two rows must never share a cluster, or None.

        A rule match overrides weak evidence; a rule non-match and strongly negative
        evidence both conflict.
        """
        hit = self.rule_for(a, b)
        if hit is not None:
            return None if hit[1] else f"rule:{hit[0]}"
        evidence = self.evidence(a, b)
        if evidence < self.conflict_evidence:
            return f"evidence:{evidence:.1f}"
        return None

    def outcome(self, weight: float) -> PairOutcome:
        if weight >= self.auto_weight:
            return PairOutcome.AUTO_MERGE
        if weight >= self.review_weight:
            return PairOutcome.REVIEW
        return PairOutcome.NO_MATCH

    # -- explanation -------------------------------------------------------------------
    def explain(
        self, a: PreparedRecord, b: PreparedRecord, *, reason: str | None = None,
        outcome: PairOutcome | None = None,
    ) -> PairDecision:
        contributions = []
        evidence = 0.0
        for comparison, table in self._scorers:
            level = comparison.level(a.values, b.values)
            w = table[level]
            evidence += w
            label = "null" if level == NULL_LEVEL else comparison.labels[level]
            contributions.append(
                Contribution(comparison.name, level, label, round(2.0 ** w, 6), round(w, 4))
            )
        hit = self.rule_for(a.values, b.values)
        weight = self.prior + evidence
        if hit is None:
            probability = probability_from_weight(weight)
            sort_weight = weight
        else:
            probability = 1.0 if hit[1] else 0.0
            sort_weight = RULE_MATCH_WEIGHT if hit[1] else RULE_NON_MATCH_WEIGHT
        return PairDecision(
            left_id=a.id,
            right_id=b.id,
            probability=probability,
            match_weight=round(weight, 4),
            outcome=outcome or self.outcome(sort_weight),
            contributions=contributions,
            rule=hit[0] if hit else None,
            reason=reason,
            settings_version=self.settings.version,
            params_version=self.params_version,
        )
