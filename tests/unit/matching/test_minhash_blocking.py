"""Min-hash keys: names sharing most of their letter pairs meet in one block, the keys
are the same in every process (they are stored), and a rule may window its huge blocks
along its own order."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import numpy as np
import pytest

from mdm.matching.blocking import MINHASH_FUNCTIONS, TRANSFORMS, BlockingRule, block_on
from mdm.matching.candidates import BlockIndex

minhash = TRANSFORMS["minhash"]


def _bands(value: str, bands: int = 8, rows: int = 2) -> list[str | None]:
    return [minhash(value, b, rows) for b in range(bands)]


def test_a_band_is_rows_hashes_and_the_same_value_gives_the_same_band():
    band = minhash("radiance group", 1, 2)
    assert band is not None and len(band.split(".")) == 2
    assert minhash("radiance group", 1, 2) == band
    assert minhash("radiance group", 0, 2) != band
    assert minhash("", 0, 2) is None and minhash("   ", 0, 2) is None


def test_a_band_past_the_signature_is_refused():
    with pytest.raises(ValueError, match="functions"):
        minhash("radiance", MINHASH_FUNCTIONS // 2, 2)


@pytest.mark.parametrize(("a", "b"), [
    # typos in every word, including the first letter: no word, prefix or suffix shared
    ("lombardini tessile", "lomnardini tessil"),
    ("rasmusdsen raadgivning", "rasmussen radgivning"),
    ("xcinder block", "cinder blok"),
    ("jarvinen elintarvike", "elintarvike jarvindn"),  # words swapped, one mistyped
])
def test_names_with_a_typo_in_every_word_still_share_a_band(a, b):
    assert set(_bands(a)) & set(_bands(b))


def test_unrelated_names_share_no_band():
    names = ["lombardini tessile", "rasmussen radgivning", "cinder block", "quantum capital",
             "kowalczyk transport", "jarvinen elintarvike"]
    for a, b in itertools.combinations(names, 2):
        assert not set(_bands(a)) & set(_bands(b)), (a, b)


def test_keys_are_the_same_in_another_process():
    """Stored index keys must not depend on Python's per-process string hash salt."""
    code = ("from mdm.matching.blocking import TRANSFORMS; "
            "print([TRANSFORMS['minhash']('quantm capitl', b, 2) for b in range(8)])")
    outputs = {
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip()
        for seed in ("1", "2")
    }
    assert outputs == {str(_bands("quantm capitl"))}


def test_window_sort_is_settings_data():
    rule = block_on("country", ("name", "minhash", 0, 2), max_block_size=40, window=3,
                    window_sort=("name", "reversed"))
    assert rule["window_sort"] == {"feature": "name", "transform": "reversed"}
    assert BlockingRule.from_dict(rule).to_dict() == rule
    assert "window_sort" not in block_on("tax_id")


def test_a_window_sort_must_be_one_feature_with_a_known_transform():
    rule = BlockingRule.from_dict(block_on("k", window_sort=("name", "soundex")))
    with pytest.raises(ValueError, match="window_sort"):
        rule.bind({"k": 0, "name": 1})


def test_a_huge_block_is_windowed_along_the_rules_own_order():
    # One block of 30 names; rows 0 and 29 differ only at the start, so they sit far
    # apart in name order and next to each other in reversed-name order.
    names = [f"{chr(ord('b') + i % 20)}{i:02d} firm" for i in range(30)]
    names[0], names[29] = "acinder", "zcinder"
    rows = [("all", name) for name in names]
    by_name = BlockingRule.from_dict(block_on("k", max_block_size=10, window=1))
    by_reversed = BlockingRule.from_dict(
        block_on("k", name="k_rev", max_block_size=10, window=1,
                 window_sort=("name", "reversed")))
    for rule in (by_name, by_reversed):
        rule.bind({"k": 0, "name": 1})

    def pairs(rule: BlockingRule) -> set[tuple[int, int]]:
        index = BlockIndex(rows, ["S"] * 30, [rule], max_block_size=100, window=5,
                           sort_position=1)
        return {tuple(sorted(p)) for chunk in index.pairs()
                for p in zip(chunk.left.tolist(), chunk.right.tolist(), strict=True)}

    assert (0, 29) not in pairs(by_name)
    assert (0, 29) in pairs(by_reversed)
    assert len(pairs(by_reversed)) == 29  # window 1 along 30 rows


def test_an_earlier_rules_own_window_order_is_honoured_when_deduplicating():
    # Rule 0 windows along reversed names and produces (0, 29); rule 1 (same key, name
    # order, all pairs) must not produce it again, and must produce what rule 0 did not.
    names = [f"{chr(ord('b') + i % 20)}{i:02d} firm" for i in range(30)]
    names[0], names[29] = "acinder", "zcinder"
    rows = [("all", name) for name in names]
    first = BlockingRule.from_dict(block_on("k", name="a", max_block_size=10, window=1,
                                            window_sort=("name", "reversed")))
    second = BlockingRule.from_dict(block_on("k", name="b", max_block_size=100))
    for rule in (first, second):
        rule.bind({"k": 0, "name": 1})
    index = BlockIndex(rows, ["S"] * 30, [first, second], max_block_size=100, window=5,
                       sort_position=1)
    chunks = list(index.pairs())
    produced = [tuple(sorted(p)) for c in chunks
                for p in zip(c.left.tolist(), c.right.tolist(), strict=True)]
    assert len(produced) == len(set(produced)) == 30 * 29 // 2
    assert index.produced_by(0, np.array([0]), np.array([29])).tolist() == [True]
