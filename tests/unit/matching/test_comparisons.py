from __future__ import annotations

import json

import pytest

from mdm.matching.comparisons import (
    NULL_LEVEL,
    DateDistanceAtThresholds,
    ExactMatch,
    IdentifierComparison,
    JaroWinklerAtThresholds,
    LevenshteinAtThresholds,
    NumericDistanceAtThresholds,
    TokenSetAtThresholds,
    comparison_from_dict,
)


def level(comparison, a, b, *, valid=(False, False)):
    """Compare two single values (plus validity flags for identifiers)."""
    comparison.bind({comparison.feature: 0, f"{comparison.feature}.valid": 1})
    return comparison.level((a, valid[0]), (b, valid[1]))


def label(comparison, a, b, **kw):
    lv = level(comparison, a, b, **kw)
    return "null" if lv == NULL_LEVEL else comparison.labels[lv]


def test_exact_match():
    c = ExactMatch("x")
    assert [label(c, "a", "a"), label(c, "a", "b"), label(c, None, "b")] == [
        "exact", "else", "null"]


def test_jaro_winkler_levels_fall_with_similarity():
    c = JaroWinklerAtThresholds("x", [0.92, 0.8])
    assert label(c, "martha", "martha") == "exact"
    assert label(c, "martha", "marhta") == "jaro_winkler>=0.92"
    assert label(c, "dixon", "dicksonx") == "jaro_winkler>=0.8"
    assert label(c, "martha", "zoe") == "else"


def test_levenshtein_and_damerau():
    plain = LevenshteinAtThresholds("x", [1, 2])
    damerau = LevenshteinAtThresholds("x", [1, 2], damerau=True)
    assert label(plain, "12345", "12354") == "levenshtein<=2"
    assert label(damerau, "12345", "12354") == "damerau_levenshtein<=1"
    assert label(plain, "12345", "99999") == "else"


def test_token_set_ignores_order_but_not_extra_words_by_default():
    c = TokenSetAtThresholds("x", [0.95, 0.8])
    assert label(c, "muller backerei", "backerei muller") == "token_set>=0.95"
    assert label(c, "acme", "acme logistics") == "else"
    subset = TokenSetAtThresholds("x", [0.95, 0.8], subset=True)
    assert label(subset, "acme", "acme logistics") == "token_set>=0.95"


def test_numeric_distance_absolute_and_relative():
    absolute = NumericDistanceAtThresholds("x", [1, 10])
    relative = NumericDistanceAtThresholds("x", [0.05], relative=True)
    assert label(absolute, "100", "100.0") == "exact"
    assert label(absolute, "100", "105") == "absolute_difference<=10"
    assert label(relative, "1000", "1040") == "relative_difference<=0.05"
    assert level(absolute, "abc", "1") == NULL_LEVEL


def test_date_distance_has_typo_then_day_windows():
    c = DateDistanceAtThresholds("x", [31, 365])
    assert label(c, "1980-01-02", "1980-01-02") == "exact"
    assert label(c, "1980-01-02", "1980-01-03") == "one_edit"
    assert label(c, "1980-01-02", "1980-01-25") == "within_31_days"
    assert label(c, "1980-01-02", "1980-11-20") == "within_365_days"
    assert label(c, "1980-01-02", "1999-05-05") == "else"


def test_identifier_both_valid_and_different_is_its_own_level():
    c = IdentifierComparison("tax")
    assert label(c, "DE1", "DE1", valid=(True, True)) == "valid_equal"
    assert label(c, "DE1", "DE1", valid=(True, False)) == "equal"
    assert label(c, "DE12", "DE13", valid=(True, False)) == "within_1_edits"
    assert label(c, "DE12", "DE13", valid=(True, True)) == "valid_different"
    assert label(c, "DE1234", "FR9999", valid=(False, False)) == "else"


@pytest.mark.parametrize(
    "comparison",
    [
        ExactMatch("a", name="a_exact"),
        JaroWinklerAtThresholds("a", [0.9]),
        LevenshteinAtThresholds("a", [1, 3], damerau=True),
        TokenSetAtThresholds("a", [0.9, 0.7], subset=True),
        NumericDistanceAtThresholds("a", [0.1], relative=True),
        DateDistanceAtThresholds("a", [10], typo_level=False),
        IdentifierComparison("a", max_edits=2),
    ],
)
def test_comparisons_round_trip_through_json(comparison):
    data = json.loads(json.dumps(comparison.to_dict()))
    rebuilt = comparison_from_dict(data)
    assert rebuilt.to_dict() == comparison.to_dict()
    assert rebuilt.labels == comparison.labels


def test_unknown_comparison_type_is_rejected():
    with pytest.raises(ValueError, match="unknown comparison"):
        comparison_from_dict({"type": "Telepathy", "feature": "a"})
