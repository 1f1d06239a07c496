"""The vectorised scorers (batch) must agree exactly with the per-pair ones (incremental)."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from mdm.matching import MatchEngine
from mdm.matching.comparisons import (
    DateDistanceAtThresholds,
    ExactMatch,
    IdentifierComparison,
    JaroWinklerAtThresholds,
    LevenshteinAtThresholds,
    NumericDistanceAtThresholds,
    TokenSetAtThresholds,
    row_table,
)
from mdm.matching.training import count_patterns

from .factories import acme_family, strangers, supplier, supplier_params, supplier_settings

WORDS = ["acme", "acne", "logistik", "logistics", "gmbh", "nordwind", "nordwnd", "", "a b",
         "log", "holding"]


def _values(rng: random.Random) -> str | None:
    if rng.random() < 0.15:
        return None
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3))).strip()


@pytest.mark.parametrize("comparison", [
    ExactMatch("v"),
    JaroWinklerAtThresholds("v", [0.9, 0.7]),
    LevenshteinAtThresholds("v", [1, 2]),
    LevenshteinAtThresholds("v", [1], damerau=True),
    TokenSetAtThresholds("v", [0.92, 0.85, 0.7]),
    TokenSetAtThresholds("v", [0.9], subset=True),
    TokenSetAtThresholds("v", [0.92, 0.85, 0.7], words_agree=True),
    TokenSetAtThresholds("v", [0.92, 0.85, 0.7], words_agree=True, adds_words=True),
    IdentifierComparison("v"),
    NumericDistanceAtThresholds("v"),  # no vectorised form: the fallback loop
    DateDistanceAtThresholds("v"),
], ids=lambda c: type(c).__name__)
def test_level_array_equals_level_pair_by_pair(comparison):
    comparison.bind({"v": 0, "v.valid": 1})
    rng = random.Random(5)
    rows = [(_values(rng), rng.random() < 0.5) for _ in range(400)]
    a, b = rows[:200], rows[200:]
    a += rows[:50]  # equal values, both sides
    b += rows[:50]
    expected = [comparison.level(x, y) for x, y in zip(a, b, strict=True)]
    assert comparison.level_array(a, b).tolist() == expected
    assert comparison.level_array(row_table(a), row_table(b)).tolist() == expected


def test_weight_array_equals_weight_bit_for_bit():
    settings = supplier_settings()
    engine = MatchEngine(settings, supplier_params(settings))
    records = [*acme_family(), *strangers(),
               supplier("x1", name="Acme Logistik GmbH", country="FR"),  # rule: other country
               supplier("x2", name="ACME Logistik", tax_id="DE 129 273 398")]
    rows = [settings.prepare(r).values for r in records]
    left, right = np.triu_indices(len(rows), 1)
    table = row_table(rows)
    weights = engine.weight_array(table[left], table[right])
    expected = [engine.weight(rows[i], rows[j]) for i, j in zip(left, right, strict=True)]
    assert weights.tolist() == expected
    naive = Counter(tuple(c.level(rows[i], rows[j]) for c in settings.comparisons)
                    for i, j in zip(left, right, strict=True))
    assert count_patterns(settings, table, left, right) == naive
    assert count_patterns(settings, rows, left, right) == naive
