"""Training, batch and incremental matching on small synthetic data."""

from __future__ import annotations

import json
import random
import string

import pytest

from mdm.matching import (
    Action,
    MatchSettings,
    ModelParams,
    PairOutcome,
    Record,
    dry_run_diff,
    estimate_params,
    match_batch,
    match_one,
)

from .factories import acme_family, strangers, supplier_params, supplier_settings

PERSON = {
    "version": "person-test",
    "features": [
        {"name": "first", "from": "first"},
        {"name": "last", "from": "last"},
        {"name": "dob", "from": "dob", "normalizer": "date"},
        {"name": "city", "from": "city"},
    ],
    "comparisons": [
        {"type": "JaroWinklerAtThresholds", "feature": "first", "thresholds": [0.9, 0.7]},
        {"type": "JaroWinklerAtThresholds", "feature": "last", "thresholds": [0.9, 0.7]},
        {"type": "DateDistanceAtThresholds", "feature": "dob", "thresholds": [365]},
        {"type": "ExactMatch", "feature": "city"},
    ],
    "blocking": [
        {"name": "dob", "keys": ["dob"]},
        {"name": "last", "keys": ["last"]},
        {"name": "first_city", "keys": ["first", "city"]},
    ],
    "thresholds": {"auto_merge": 0.95, "review": 0.5},
    "training": {"max_u_pairs": 20000, "max_em_pairs": 20000},
}
FIRST = ["anna", "bernd", "clara", "dieter", "emma", "felix", "greta", "hans", "ida",
         "jonas", "karin", "lukas", "mia", "noah", "olga", "paul"]
LAST = ["schmidt", "meyer", "weber", "wagner", "becker", "hoffmann", "koch", "richter",
        "klein", "wolf", "neumann", "schulz", "kraus", "vogel", "jung", "hahn", "lang"]
CITY = ["berlin", "hamburg", "koeln", "bonn", "essen", "kiel"]


def _typo(word, rng):
    i = rng.randrange(len(word))
    return word[:i] + rng.choice(string.ascii_lowercase) + word[i + 1:]


def people(n_entities=300, seed=3):
    """Entities with 1-3 noisy copies each; returns (records, entity of record id)."""
    rng = random.Random(seed)
    records, truth = [], {}
    for e in range(n_entities):
        base = {"first": rng.choice(FIRST), "last": rng.choice(LAST),
                "dob": f"{rng.randint(1940, 2000)}-{rng.randint(1, 12):02d}-"
                       f"{rng.randint(1, 28):02d}", "city": rng.choice(CITY)}
        for k in range(rng.choice([1, 1, 2, 3])):
            attrs = dict(base)
            if k and rng.random() < 0.4:
                field = rng.choice(["first", "last"])
                attrs[field] = _typo(attrs[field], rng)
            if k and rng.random() < 0.2:
                attrs["city"] = None
            rid = f"p{e}-{k}"
            records.append(Record(rid, "src", attrs))
            truth[rid] = e
    return records, truth


def _pairs(clusters):
    return {frozenset((a, b)) for c in clusters for a in c for b in c if a < b}


def test_em_learns_sensible_m_u_and_prior():
    settings = MatchSettings.from_dict(PERSON)
    records, truth = people()
    rows = [settings.prepare(r).values for r in records]
    params = estimate_params(settings, rows, [r.source_system for r in records])

    first = params.comparisons["first"]
    dob = params.comparisons["dob"]
    # Matches agree exactly far more often than random pairs do, and vice versa.
    assert first.m[0] > 0.6 and first.u[0] < 0.15
    assert dob.m[0] > 0.8 and dob.u[0] < 0.01
    assert first.weights()[0] > 2 and dob.weights()[-1] < -2
    n = len(records)
    true_pairs = len({frozenset((a, b)) for a in truth for b in truth
                      if a < b and truth[a] == truth[b]})
    true_prior = true_pairs / (n * (n - 1) / 2)
    assert true_prior / 3 < params.probability_two_random_records_match < true_prior * 3


def test_batch_finds_the_duplicates_and_returns_reusable_params():
    settings = MatchSettings.from_dict(PERSON)
    records, truth = people()
    result, params = match_batch(records, settings, workers=1)
    predicted = _pairs(result.clusters)
    actual = {frozenset((a, b)) for a in truth for b in truth
              if a < b and truth[a] == truth[b]}
    tp = len(predicted & actual)
    assert tp / len(predicted) > 0.95 and tp / len(actual) > 0.9
    assert ModelParams.from_dict(params.to_dict()).version == result.params_version


def test_batch_with_two_workers_matches_single_process():
    settings = MatchSettings.from_dict(PERSON)
    records, _ = people(120)
    one, params = match_batch(records, settings, workers=1)
    two, _ = match_batch(records, settings, params, workers=2, chunk_size=50)
    assert sorted(map(sorted, one.clusters)) == sorted(map(sorted, two.clusters))


def test_batch_and_incremental_agree_on_small_data():
    settings = supplier_settings()
    params = supplier_params(settings)
    records = acme_family() + strangers()
    # The batch adds term frequencies of these records; incremental scores with them.
    batch, params = match_batch(records, settings, params, workers=1)

    cluster_of: dict[str, str] = {}
    seen: list[Record] = []
    for record in records:
        decision = match_one(record, seen, settings, params, cluster_of=cluster_of)
        if decision.action is Action.MERGE:
            cluster_of[record.id] = decision.target_cluster_id
        else:
            cluster_of[record.id] = record.id
        seen.append(record)
    incremental: dict[str, list[str]] = {}
    for rid, cid in cluster_of.items():
        incremental.setdefault(cid, []).append(rid)
    assert sorted(map(sorted, batch.clusters)) == sorted(map(sorted, incremental.values()))
    assert ["s1", "s2", "s3"] in batch.clusters       # one German entity
    assert ["f1"] in batch.clusters                   # French sibling stays apart
    assert ["x1", "x2"] in batch.clusters             # Müller = Mueller


def test_match_one_respects_not_a_match_and_explains_itself():
    settings = supplier_settings()
    params = supplier_params(settings)
    s1, s2, *_ = acme_family()
    merged = match_one(s2, [s1], settings, params)
    assert merged.action is Action.MERGE and merged.target_record_id == "s1"
    assert merged.pairs[0].rule == "same_valid_tax_id"
    assert merged.settings_version == settings.version

    refused = match_one(s2, [s1], settings, params, constraints=[("s1", "s2")])
    assert refused.action is Action.REVIEW
    assert refused.pairs[0].outcome is PairOutcome.BLOCKED
    assert refused.pairs[0].reason == "not_a_match"

    payload = json.loads(merged.to_json())
    assert payload["action"] == "merge"
    assert {c["comparison"] for c in payload["pairs"][0]["contributions"]} >= {"name", "tax_id"}


def test_match_one_does_not_join_a_cluster_with_a_conflicting_member():
    settings = supplier_settings()
    params = supplier_params(settings)
    s1, s2, s3, _ = acme_family()
    # s3 matches s1 on its VAT, but s1's cluster holds a member with another valid VAT.
    s3 = Record("s3", "COUPA", {**s3.attrs, "tax_id": "DE136695976"})
    rival = Record("r", "SAP", {**s2.attrs, "tax_id": "DE129273398"})
    decision = match_one(s3, [s1, rival], settings, params,
                         cluster_of={"s1": "C1", "r": "C1"})
    assert decision.action is not Action.MERGE
    assert any(p.outcome is PairOutcome.BLOCKED for p in decision.pairs)


def test_no_candidates_means_new():
    settings = supplier_settings()
    decision = match_one(strangers()[2], [], settings, supplier_params(settings))
    assert decision.action is Action.NEW and decision.pairs == []


def test_dry_run_diff_reports_merges_and_splits():
    current = {"a": "C1", "b": "C2", "c": "C3", "d": "C3"}
    proposed = [["a", "b"], ["c"], ["d"], ["e"]]
    diff = dry_run_diff(current, proposed)
    assert diff.merges == [{"records": ["a", "b"], "from_clusters": ["C1", "C2"]}]
    assert diff.splits == [{"cluster": "C3", "into": [["c"], ["d"]]}]
    assert diff.new_records == ["e"]
    assert json.loads(diff.to_json())["splits"][0]["cluster"] == "C3"


def test_batch_result_serialises_with_explanations():
    settings = supplier_settings()
    params = supplier_params(settings)
    result, _ = match_batch(acme_family(), settings, params, workers=1, explain=True,
                            current={"s1": "G1", "s2": "G2"})
    payload = json.loads(result.to_json())
    assert payload["diff"]["merges"][0]["from_clusters"] == ["G1", "G2"]
    assert payload["decisions"] and all(
        d["settings_version"] == settings.version for d in payload["decisions"])


@pytest.mark.parametrize("link_type", ["link_only"])
def test_link_only_never_puts_two_records_of_one_source_together(link_type):
    settings = MatchSettings.from_dict({**PERSON, "link_type": link_type})
    a = Record("a", "left", {"first": "anna", "last": "koch", "dob": "1980-01-01",
                             "city": "bonn"})
    b = Record("b", "left", dict(a.attrs))
    c = Record("c", "right", dict(a.attrs))
    params = ModelParams.defaults(settings, prior=0.01)
    result, _ = match_batch([a, b, c], settings, params, workers=1)
    assert not any({"a", "b"} <= set(cl) for cl in result.clusters)
