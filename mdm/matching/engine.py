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
from mdm.matching.params import MAX_TF_BOOST, ModelParams
from mdm.matching.records import PreparedRecord, Record
from mdm.matching.rules import Outcome
from mdm.matching.settings import MatchSettings

__all__ = ["FORBIDDEN_REASON", "MAX_TF_BOOST", "MatchEngine", "RULE_MATCH_WEIGHT",
           "RULE_NON_MATCH_WEIGHT",
           "WEAK_EVIDENCE_REASON"]

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


# Where the engine caps a pair that lacks the required evidence: just under the
# auto-merge weight, so the pair goes to review instead.
_UNTRAINED_MARGIN = 1e-3
WEAK_EVIDENCE_REASON = "auto_merge_needs_stronger_evidence"
# Why two records may not share a cluster although no rule says so: an ``unless`` of
# ``auto_merge_requires`` holds for them (different legal forms, say).
FORBIDDEN_REASON = "auto_merge_forbidden"


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
        # Per comparison: None, or (feature position, value -> adjustment, unseen value's).
        self._tf: list[tuple[int, dict[Any, float], float] | None] = [
            self._tf_table(c) for c in settings.comparisons
        ]
        self._rules = [(r, r.outcome is Outcome.MATCH) for r in settings.rules]
        thresholds = settings.thresholds
        self.auto_weight = weight_from_probability(thresholds.auto_merge)
        self.review_weight = weight_from_probability(thresholds.review)
        self.conflict_evidence = thresholds.conflict_evidence_below
        # A score auto-merges only with the settings' required evidence (and, with
        # untrained parameters, their stronger evidence too).
        self._requirements = [r for r in (
            settings.auto_merge_requires,
            None if params.trained else settings.untrained_auto_merge) if r is not None]
        self._cap = self.auto_weight - _UNTRAINED_MARGIN
        link = settings.link_type
        self._skip_same_source = link == "link_only"
        self._skip_cross_source = False

    def _tf_table(self, comparison: Any) -> tuple[int, dict[Any, float], float] | None:
        """Splink's term-frequency adjustment of the exact level, per value.

        The exact level's weight log2(m/u) assumes every agreeing value is as common as
        the average one (u); for value x it becomes log2(m/tf(x)), i.e. the level weight
        plus log2(u/tf(x)): negative for values more common than average (a legal form
        every third record has), positive, at most ``MAX_TF_BOOST``, for rare ones.
        """
        tf = self.params.term_frequencies.get(comparison.name)
        if not comparison.term_frequency_adjustments or tf is None or not tf.records:
            return None
        u = min(max(self.params.comparisons[comparison.name].u[0], 1e-12), 1.0)
        floor = u * 2.0 ** -MAX_TF_BOOST
        table = {value: math.log2(u / max(count / tf.records, floor))
                 for value, count in tf.counts.items()}
        return self.settings.schema.positions[comparison.feature], table, MAX_TF_BOOST

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
        """Sum of log2 Bayes factors (term-frequency adjusted), without the prior."""
        return self._scored(a, b)[0]

    def _scored(self, a: Sequence[Any], b: Sequence[Any]) -> tuple[float, list[int]]:
        total = 0.0
        levels = []
        for (comparison, table), tf in zip(self._scorers, self._tf, strict=True):
            level = comparison.level(a, b)
            levels.append(level)
            total += table[level]
            if tf is not None and level == 0:
                total += tf[1].get(a[tf[0]], tf[2])
        return total, levels

    def _capped(self, weight: float, levels: Sequence[int]) -> float:
        """Just below auto-merge (so: review) when the required evidence is missing."""
        if weight >= self.auto_weight and not all(r.holds(levels)
                                                  for r in self._requirements):
            return self._cap
        return weight

    def weight(self, a: Sequence[Any], b: Sequence[Any]) -> float:
        """Match weight (log2 posterior odds); rule outcomes map to the sentinels."""
        for rule, is_match in self._rules:
            if rule.holds(a, b):
                return RULE_MATCH_WEIGHT if is_match else RULE_NON_MATCH_WEIGHT
        evidence, levels = self._scored(a, b)
        return self._capped(self.prior + evidence, levels)

    def weight_array(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``weight`` for many pairs at once: (pairs x features) object tables in.

        Same floating-point operations in the same order as ``weight``, so batch and
        incremental scores agree to the last bit.
        """
        total = np.zeros(len(a))
        all_levels = []
        for (comparison, table), tf in zip(self._scorers, self._tf, strict=True):
            levels = comparison.level_array(a, b)
            all_levels.append(levels)
            # Level -1 (null) picks the table's trailing 0.0, as in ``evidence``.
            total += np.asarray(table)[levels]
            if tf is not None:
                exact = np.flatnonzero(levels == 0)
                if exact.size:
                    position, adjust, unseen = tf
                    total[exact] += np.fromiter(
                        (adjust.get(v, unseen) for v in a[exact, position].tolist()),
                        dtype=np.float64, count=exact.size)
        weights = self.prior + total
        if self._requirements and len(a):
            strong = np.ones(len(a), dtype=bool)
            for requirement in self._requirements:
                strong &= requirement.holds_array(all_levels)
            weights[(weights >= self.auto_weight) & ~strong] = self._cap
        decided = np.zeros(len(a), dtype=bool)
        for rule, is_match in self._rules:
            hit = rule.holds_array(a, b) & ~decided
            weights[hit] = RULE_MATCH_WEIGHT if is_match else RULE_NON_MATCH_WEIGHT
            decided |= hit
        return weights

    def conflict(self, a: Sequence[Any], b: Sequence[Any]) -> str | None:
        """Why two rows must never share a cluster, or None.

        A rule match overrides weak evidence; a rule non-match, strongly negative
        evidence and an ``unless`` of ``auto_merge_requires`` (e.g. different legal
        forms) all conflict: what no score may merge directly must not be merged through
        a third record either ("Loky S.p.A." - "Loky" - "Loky S.r.l.").
        """
        hit = self.rule_for(a, b)
        if hit is not None:
            return None if hit[1] else f"rule:{hit[0]}"
        evidence, levels = self._scored(a, b)
        if evidence < self.conflict_evidence:
            return f"evidence:{evidence:.1f}"
        required = self.settings.auto_merge_requires
        if required is not None and required.forbids(levels):
            return FORBIDDEN_REASON
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
        levels = []
        for (comparison, table), tf in zip(self._scorers, self._tf, strict=True):
            level = comparison.level(a.values, b.values)
            levels.append(level)
            w = table[level]
            adjustment = 0.0
            if tf is not None and level == 0:
                adjustment = tf[1].get(a.values[tf[0]], tf[2])
            evidence += w
            evidence += adjustment
            label = "null" if level == NULL_LEVEL else comparison.labels[level]
            total = w + adjustment
            contributions.append(Contribution(
                comparison.name, level, label, round(2.0 ** total, 6), round(total, 4),
                round(adjustment, 4)))
        hit = self.rule_for(a.values, b.values)
        weight = self.prior + evidence
        if hit is None:
            sort_weight = self._capped(weight, levels)
            if sort_weight != weight and reason is None:
                reason = WEAK_EVIDENCE_REASON
            probability = probability_from_weight(sort_weight)
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
