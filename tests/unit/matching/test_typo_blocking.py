"""Typo-tolerant blocking: one typo in the distinctive word still makes a candidate pair."""

from __future__ import annotations

import itertools
import random

import pytest

from mdm.matching import DEFAULT_SETTINGS, MatchSettings, Record
from mdm.matching.blocking import TRANSFORMS, BlockingRule, block_on
from mdm.matching.candidates import BlockIndex
from mdm.matching.index import key_cap, keys_of

# Pairs from the issue: no identifier, website, phone or postcode in common.
TYPO_PAIRS = [
    ("Radiance Group Ltd", "Radiaace Group Ltd"),
    ("Quantum Capital GmbH", "Quantm Capitl GmbH"),
    ("Cinder Block SARL", "xCinder Block SARL"),
    ("Lindqvist Bygg AB", "Lindqvits Bygg AB"),  # transposition near the start
    ("Kowalczyk Transport", "Kowlaczyk Transport"),
]


def _settings() -> MatchSettings:
    return MatchSettings.from_dict(DEFAULT_SETTINGS["supplier"])


def _batch_pairs(settings: MatchSettings, rows: list[tuple]) -> list[tuple[int, int]]:
    index = BlockIndex(rows, ["A"] * len(rows), settings.blocking,
                       link_type=settings.link_type, max_block_size=settings.max_block_size,
                       window=settings.window,
                       sort_position=settings.schema.positions[settings.window_sort])
    return [tuple(sorted(p)) for chunk in index.pairs(chunk_rows=97)
            for p in zip(chunk.left.tolist(), chunk.right.tolist(), strict=True)]


@pytest.mark.parametrize(("a", "b"), TYPO_PAIRS)
def test_a_typo_in_the_distinctive_word_still_makes_a_candidate_pair(a, b):
    settings = _settings()
    left = settings.prepare(Record("1", "SAP", {"name": a, "country": "DE"}))
    right = settings.prepare(Record("2", "COUPA", {"name": b, "country": "DE"}))
    # Exact-word keys alone (what blocking had) miss the pair...
    exact = [r for r in settings.blocking
             if r.name in ("country+name:first_token", "country+name:longest_tokens:1")]
    assert len(exact) == 2
    assert not set(keys_of_rules(left, exact)) & set(keys_of_rules(right, exact))
    # ...the shipped rules put it up, both in the incremental index and in batch.
    assert set(keys_of(settings, left)) & set(keys_of(settings, right))
    assert _batch_pairs(settings, [left.values, right.values]) == [(0, 1)]


def keys_of_rules(prepared, rules: list[BlockingRule]) -> list[str]:
    return [f"{r.name}:{k}" for r in rules if (k := r.key(prepared.values)) is not None]


def test_same_house_number_and_name_start_meet_without_country_or_postcode():
    settings = _settings()
    left = settings.prepare(Record("1", "SAP", {"name": "Esposito Meccanica",
                                                "street": "Via Mazzini 86", "city": "Firenze"}))
    right = settings.prepare(Record("2", "ERP", {"name": "Espostio Mecc. Srl", "country": "Italia",
                                                 "street": "V. Mazoni 86", "city": "Florence"}))
    assert set(keys_of(settings, left)) & set(keys_of(settings, right))


@pytest.mark.parametrize(("transform", "value", "args", "expected"), [
    ("word_prefix", "j moutinho metalomecanica", (4, "first"), "mout"),  # skips the initial
    ("word_prefix", "ab", (4, "first"), "ab"),          # no long word: the first one
    ("word_prefix", "radiance grp", (4, "longest"), "radi"),
    ("word_suffix", "xcinder block", (4, "first"), "nder"),
    ("word_suffix", "alpha beta", (3, "longest"), "pha"),  # ties: alphabetically first
    ("word_prefix", "", (4, "first"), None),
])
def test_word_transforms(transform, value, args, expected):
    assert TRANSFORMS[transform](value, *args) == expected


def test_an_unknown_word_pick_is_refused():
    with pytest.raises(ValueError, match="word pick"):
        TRANSFORMS["word_prefix"]("a b", 3, "middle")


def _reference(rows, rules, max_block: int, window: int, sort: int) -> set[tuple[int, int]]:
    """Brute force over every rule: same key, and within the window in a huge block
    (the rule's own bounds where it has them)."""
    out: set[tuple[int, int]] = set()
    for rule in rules:
        rule_max, rule_window = rule.max_block_size or max_block, rule.window or window
        blocks: dict[str, list[int]] = {}
        for i, row in enumerate(rows):
            key = rule.key(row)
            if key is not None:
                blocks.setdefault(key, []).append(i)
        for members in blocks.values():
            # The rule's own window order first where it has one, then the settings'.
            members.sort(key=lambda i: (rule.sort_value(rows[i]) if rule.window_sort else "",
                                        rows[i][sort] or "", i))
            for x, y in itertools.combinations(range(len(members)), 2):
                if len(members) <= rule_max or y - x <= rule_window:
                    out.add(tuple(sorted((members[x], members[y]))))
    return out


@pytest.mark.parametrize("seed", [3, 4])
def test_default_supplier_rules_give_exactly_the_blocked_pairs_once(seed):
    """With the typo keys (many overlapping, some huge and windowed blocks), batch
    candidates equal the brute-force set and no pair comes twice."""
    rng = random.Random(seed)
    words = ["radiance", "radiaace", "quantum", "quantm", "cinder", "xcinder", "nord",
             "nordic", "bau", "grp"]
    records = []
    for i in range(400):
        name = " ".join(rng.choice(words) for _ in range(rng.randint(1, 3)))
        attrs = {"name": name, "country": rng.choice(["DE", "DE", "AT", None]),
                 "city": rng.choice(["Wien", "Berlin", None]),
                 "street": rng.choice([f"Hauptstr {rng.randint(1, 4)}", "Ringweg 2", None])}
        records.append(Record(str(i), "A", {k: v for k, v in attrs.items() if v}))
    settings = _settings()
    settings.max_block_size = 30
    settings.window = 5
    assert {(r.max_block_size, r.window) for r in settings.blocking} > {(None, None)}
    assert {r.window_sort.transform for r in settings.blocking if r.window_sort} == {
        "reversed", None}
    rows = [settings.prepare(r).values for r in records]
    produced = _batch_pairs(settings, rows)
    assert len(produced) == len(set(produced)), "a pair was produced twice"
    expected = _reference(rows, settings.blocking, 30, 5,
                          settings.schema.positions[settings.window_sort])
    assert set(produced) == expected


def test_typo_rules_are_plain_settings_data():
    rule = block_on(("name", "word_suffix", 4, "first"), max_block_size=20, window=3)
    assert rule == {"name": "name:word_suffix:4:first",
                    "keys": [{"feature": "name", "transform": "word_suffix", "args": [4, "first"]}],
                    "max_block_size": 20, "window": 3}
    assert BlockingRule.from_dict(rule).to_dict() == rule
    assert "max_block_size" not in block_on("tax_id")


def test_the_index_reads_fewer_records_for_a_key_of_a_bounded_rule():
    settings = _settings()
    prepared = settings.prepare(Record("1", "SAP", {"name": "Radiance Group", "country": "DE",
                                                    "tax_id": "DE136695976"}))
    rules = {rule.name: rule for rule in settings.blocking}
    caps = {name: key_cap(settings, key, 50) for key in keys_of(settings, prepared)
            for name in rules if key.startswith(f"{name}:")}
    assert caps["tax_id"] == 50
    assert caps["country+name:first_token"] == 50
    # the typo keys: the longest words, the name's min-hash bands
    assert caps["name:longest_tokens:2"] == 20
    assert caps["country+name:minhash:0:2"] == 20
    assert key_cap(settings, "name:word_suffix:4:first:ance", 10) == 10
