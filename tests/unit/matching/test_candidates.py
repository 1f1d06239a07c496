"""Candidate generation: every pair the blocking rules imply, exactly once."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from mdm.matching.blocking import BlockingRule, block_on
from mdm.matching.candidates import BlockIndex


def _reference(rows, rules: list[BlockingRule], max_block: int, window: int,
               sort_position: int) -> set[tuple[int, int]]:
    """Brute force: a pair is a candidate when some rule puts it in one block and,
    for a block above ``max_block`` rows, within ``window`` of each other in the
    block's order (sort value, then row number)."""
    out: set[tuple[int, int]] = set()
    for rule in rules:
        blocks: dict[str, list[int]] = {}
        for i, row in enumerate(rows):
            key = rule.key(row)
            if key is not None:
                blocks.setdefault(key, []).append(i)
        for members in blocks.values():
            members.sort(key=lambda i: (rows[i][sort_position] or "", i))
            for a, b in itertools.combinations(range(len(members)), 2):
                if len(members) <= max_block or b - a <= window:
                    out.add(tuple(sorted((members[a], members[b]))))
    return out


def _rules(*features: str) -> list[BlockingRule]:
    rules = [BlockingRule.from_dict(block_on(f)) for f in features]
    for rule in rules:
        rule.bind({"c0": 0, "c1": 1, "c2": 2, "sort": 3})
    return rules


def _rows(n: int, seed: int) -> list[tuple[str | None, ...]]:
    rng = random.Random(seed)
    # Column 0: a key shared by almost everyone (a huge block); 1 and 2: small blocks.
    return [(rng.choice(["common", "common", "common", "rare"]),
             rng.choice([None, *"abcdefgh"]),
             f"p{rng.randrange(40)}" if rng.random() < 0.7 else None,
             f"{rng.random():.6f}")
            for _ in range(n)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pairs_are_exactly_the_blocked_pairs_once_even_when_blocks_are_windowed(seed):
    rows = _rows(300, seed)
    rules = _rules("c0", "c1", "c2")
    index = BlockIndex(rows, ["S"] * len(rows), rules, max_block_size=50, window=4,
                       sort_position=3)
    produced = [tuple(sorted(p)) for chunk in index.pairs(chunk_rows=64)
                for p in zip(chunk.left.tolist(), chunk.right.tolist(), strict=True)]
    assert len(produced) == len(set(produced)), "a pair was produced twice"
    assert set(produced) == _reference(rows, rules, 50, 4, 3)


def test_a_pair_windowed_out_of_a_huge_block_is_still_produced_by_a_later_rule():
    # Everyone shares c0; rows 0 and 199 are far apart in its window order but share c2.
    rows = [("all", None, None, f"{i:04d}") for i in range(200)]
    rows[0] = ("all", None, "phone-1", "0000")
    rows[199] = ("all", None, "phone-1", "0199")
    rules = _rules("c0", "c2")
    index = BlockIndex(rows, ["S"] * 200, rules, max_block_size=10, window=3, sort_position=3)
    later = {tuple(sorted(p)) for chunk in index.rule_pairs(1)
             for p in zip(chunk.left.tolist(), chunk.right.tolist(), strict=True)}
    assert later == {(0, 199)}
    assert np.sum(index.produced_by(0, np.array([0, 0]), np.array([2, 199]))) == 1
