"""Safe defaults: level priors, the untrained evidence requirement, term frequencies."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mdm.matching import MatchSettings, ModelParams, Record, default_settings, match_batch
from mdm.matching.comparisons import row_table
from mdm.matching.decisions import PairOutcome
from mdm.matching.engine import WEAK_EVIDENCE_REASON, MatchEngine
from mdm.matching.params import MAX_TF_BOOST, MIN_TF_COUNT, TermFrequencies
from mdm.matching.training import term_frequencies

from .factories import supplier, supplier_settings


def _pair(settings: MatchSettings, a: Record, b: Record) -> tuple[tuple, tuple]:
    return settings.prepare(a).values, settings.prepare(b).values


def _contribution(decision, name: str):
    return next(c for c in decision.contributions if c.comparison == name)


def test_shared_legal_form_postcode_and_city_do_not_outweigh_different_names():
    settings = supplier_settings()
    engine = MatchEngine(settings, ModelParams.defaults(settings))
    a = supplier("a", name="Alpha Logistik GmbH", street="Lindenweg 1", postal_code="10115",
                 city="Berlin")
    b = supplier("b", name="Alpha Consulting GmbH", street="Gartenweg 9",
                 postal_code="10115", city="Berlin")

    decision = engine.explain(settings.prepare(a), settings.prepare(b))

    assert decision.outcome is PairOutcome.NO_MATCH
    shared = sum(_contribution(decision, c).log2_weight
                 for c in ("legal_form", "postcode", "city"))
    assert shared < abs(_contribution(decision, "name").log2_weight) + abs(
        _contribution(decision, "street").log2_weight) + abs(engine.prior)


def test_untrained_parameters_send_a_high_score_without_strong_evidence_to_review():
    settings = supplier_settings()
    # Same name and place, nothing else: likely, but not proof without trained parameters.
    a = supplier("a", name="Radiance Group GmbH", postal_code="10115", city="Berlin")
    b = supplier("b", name="Radiance Group GmbH", postal_code="10117", city="Berlin",
                 email="ap@radiance.de")
    untrained = ModelParams.defaults(settings, prior=0.01)
    trained = ModelParams.from_dict({**untrained.to_dict(), "training": {"records": 2}})
    x, y = _pair(settings, a, b)

    cautious = MatchEngine(settings, untrained)
    confident = MatchEngine(settings, trained)

    assert confident.weight(x, y) >= confident.auto_weight
    assert cautious.review_weight <= cautious.weight(x, y) < cautious.auto_weight
    decision = cautious.explain(settings.prepare(a), settings.prepare(b))
    assert (decision.outcome, decision.reason) == (PairOutcome.REVIEW, WEAK_EVIDENCE_REASON)
    # The vectorised path caps exactly alike.
    weights = cautious.weight_array(row_table([x]), row_table([y]))
    assert weights.tolist() == [cautious.weight(x, y)]


def test_untrained_parameters_still_merge_a_typo_at_the_same_street():
    settings = supplier_settings()
    engine = MatchEngine(settings, ModelParams.defaults(settings))
    a = supplier("a", name="Quantum Capital GmbH", street="Hauptstraße 5", postal_code="10115",
                 city="Berlin", phone="030 5550101")
    b = supplier("b", name="Quantm Capital GmbH", street="Hauptstr. 5", postal_code="10115",
                 city="Berlin")
    x, y = _pair(settings, a, b)
    assert engine.outcome(engine.weight(x, y)) is PairOutcome.AUTO_MERGE


def _tf_records() -> list[Record]:
    """40 companies in Berlin, 2 in Potsdam; the Berlin ones all GmbH."""
    out = [supplier(f"b{k}", name=f"Firma {k} GmbH", city="Berlin", postal_code="10115")
           for k in range(40)]
    out += [supplier(f"p{k}", name=f"Werk {k} AG", city="Potsdam", postal_code="14467")
            for k in range(2)]
    return out


def test_term_frequencies_weaken_common_values_and_boost_rare_ones_within_a_cap():
    settings = supplier_settings()
    params = ModelParams.defaults(settings)
    records = _tf_records()
    rows = [settings.prepare(r).values for r in records]
    tf = term_frequencies(settings, rows, params)
    engine = MatchEngine(settings, params.with_term_frequencies(tf))

    assert tf["city"].counts == {"berlin": 40}  # Potsdam is below MIN_TF_COUNT
    assert tf["city"].records == 42 and 2 < MIN_TF_COUNT
    berlin = engine.explain(settings.prepare(records[0]), settings.prepare(records[1]))
    potsdam = engine.explain(settings.prepare(records[40]), settings.prepare(records[41]))
    u_city = params.comparisons["city"].u[0]
    common = _contribution(berlin, "city")
    assert common.tf_adjustment == pytest.approx(math.log2(u_city / (40 / 42)), abs=1e-4)
    rare = _contribution(potsdam, "city")
    assert rare.tf_adjustment == MAX_TF_BOOST
    base = params.comparisons["city"].weights()[0]
    assert rare.log2_weight == pytest.approx(base + MAX_TF_BOOST, abs=1e-4)
    assert common.log2_weight < 0 < rare.log2_weight
    # Only comparisons with the switch on are adjusted.
    assert _contribution(berlin, "phone").tf_adjustment == 0.0


def test_term_frequency_scores_agree_between_the_scalar_and_the_vectorised_path():
    settings = supplier_settings()
    records = _tf_records()
    rows = [settings.prepare(r).values for r in records]
    params = ModelParams.defaults(settings)
    engine = MatchEngine(settings, params.with_term_frequencies(
        term_frequencies(settings, rows, params)))
    left, right = np.triu_indices(len(rows), 1)
    table = row_table(rows)
    vectorised = engine.weight_array(table[left], table[right])
    assert vectorised.tolist() == [engine.weight(rows[i], rows[j])
                                   for i, j in zip(left.tolist(), right.tolist(), strict=True)]


def test_term_frequencies_travel_with_the_parameters():
    settings = supplier_settings()
    records = _tf_records()
    result, params = match_batch(records, settings, ModelParams.defaults(settings), workers=1)
    again = ModelParams.from_dict(json.loads(json.dumps(params.to_dict())))

    assert params.term_frequencies["city"] == TermFrequencies(42, {"berlin": 40})
    assert again.version == params.version != ModelParams.defaults(settings).version
    assert not again.trained  # term frequencies do not make defaults "trained"
    # No Berlin GmbH absorbed another: a common city and legal form prove nothing.
    assert all(len(c) == 1 for c in result.clusters)


def test_comparison_priors_are_checked_and_serialised():
    data = default_settings("supplier")
    settings = MatchSettings.from_dict(data)
    legal = next(c for c in settings.comparisons if c.name == "legal_form")
    assert legal.to_dict()["u"] == legal.u_prior and legal.term_frequency_adjustments
    assert ModelParams.defaults(settings).comparisons["legal_form"].u == legal.u_prior

    bad = default_settings("supplier")
    bad["comparisons"][1]["u"] = [0.5]
    with pytest.raises(ValueError, match="one per level"):
        MatchSettings.from_dict(bad)


@pytest.mark.parametrize(("test", "message"), [
    ({"comparison": "shoe", "at_least": "exact"}, "unknown comparison"),
    ({"comparison": "name", "at_least": "token_set>=0.5"}, "has no level"),
    ({"comparison": "name"}, "needs one of"),
    ({"comparison": "name", "at_least": "exact", "is_not": "else"}, "needs one of"),
])
def test_evidence_requirement_names_real_comparisons_and_levels(test, message):
    data = default_settings("supplier")
    data["untrained_auto_merge"] = {"any": [[test]]}
    with pytest.raises(ValueError, match=message):
        MatchSettings.from_dict(data)


def test_a_street_with_other_house_numbers_is_another_building():
    settings = supplier_settings()
    street = next(c for c in settings.comparisons if c.name == "street")
    pos = settings.schema.positions["street"]

    def level(x: str, y: str) -> int:
        a = [None] * len(settings.schema.names)
        b = list(a)
        a[pos], b[pos] = x, y
        scalar = street.level(a, b)
        assert street.level_array(row_table([a]), row_table([b])).tolist() == [scalar]
        return scalar

    assert street.labels[level("stationsstraat 146", "stationsstraat 93")] == "else"
    assert street.labels[level("niittyt 133", "niittytie 133")] != "else"
    assert street.labels[level("stationsstraat", "stationsstraat 93")] != "else"
