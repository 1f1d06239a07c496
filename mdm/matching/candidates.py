"""Candidate pairs for a whole domain, generated block by block with numpy.

Each rule's keys are hashed to int64 (0 = no key) and sorted; runs of equal hashes are
blocks. Pairs come out in bounded chunks so a million records never materialise all
pairs at once. A pair already produced by an earlier rule is dropped (as Splink does),
so no global "seen" set is needed. "Produced" is exact under windowing: two rows that
share an earlier rule's key in a huge block were produced by it only if they sat
within the window of each other, so a pair windowed out there is still produced by a
later rule (the phone number two mistyped names share).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mdm.matching.blocking import BlockingRule

__all__ = ["BlockIndex", "PairChunk", "key_hashes"]


@dataclass
class PairChunk:
    rule: int
    left: np.ndarray   # int64 row indices
    right: np.ndarray


def _hash_key(key: str | None) -> int:
    if key is None:
        return 0
    h = hash(key)
    return h if h != 0 else 1


def _rank(values: list[str]) -> np.ndarray:
    """Each value's position in sorted order (ties in row order)."""
    return np.argsort(np.argsort(np.array(values, dtype=object), kind="stable"),
                      kind="stable")


def _dense_rank(values: list[str]) -> np.ndarray:
    """Each value's rank among the distinct values (equal values, equal ranks)."""
    return np.unique(np.array(values, dtype=object), return_inverse=True)[1].astype(np.int64)


def key_hashes(rules: Sequence[BlockingRule], rows: Sequence[Sequence[Any]]) -> np.ndarray:
    """(rules x rows) int64 hashes of each row's key under each rule; 0 = no key.

    Python's string hash is salted per interpreter, so hashes from different processes
    only agree between a parent and the workers it forked.
    """
    out = np.zeros((len(rules), len(rows)), dtype=np.int64)
    for r, rule in enumerate(rules):
        out[r] = np.fromiter((_hash_key(rule.key(row)) for row in rows), dtype=np.int64,
                             count=len(rows))
    return out


class BlockIndex:
    """Key hashes per rule for rows held in memory, and the pairs they imply."""

    def __init__(
        self,
        rows: Sequence[Sequence[Any]],
        sources: Sequence[str],
        rules: Sequence[BlockingRule],
        *,
        link_type: str = "dedupe_only",
        max_block_size: int = 500,
        window: int = 25,
        sort_position: int | None = None,
        hashes: np.ndarray | None = None,
    ) -> None:
        self.n = len(rows)
        self.rules = list(rules)
        self.link_type = link_type
        self.max_block_size = max_block_size
        self.window = window
        # A rule may bound its own blocks more tightly (broad typo-tolerant keys).
        self.rule_max = [rule.max_block_size or max_block_size for rule in self.rules]
        self.rule_window = [rule.window or window for rule in self.rules]
        if hashes is not None:  # computed where the rows were (``key_hashes``)
            if hashes.shape != (len(self.rules), self.n):
                raise ValueError("hashes must be (rules x rows)")
            self.hashes = hashes
        else:
            self.hashes = key_hashes(self.rules, rows)
        source_codes: dict[str, int] = {}
        self.sources = np.fromiter(
            (source_codes.setdefault(s, len(source_codes)) for s in sources),
            dtype=np.int32, count=self.n,
        )
        if sort_position is None:
            self.sort_rank = np.zeros(self.n, dtype=np.int64)
        else:
            # Rank of the sort value: huge blocks are windowed in this order.
            self.sort_rank = _rank([("" if row[sort_position] is None
                                     else str(row[sort_position])) for row in rows])
        # A rule with its own window order: its rank first, the settings' order on ties
        # (one rank per distinct order, shared by the rules that use it).
        ranks: dict[str, np.ndarray] = {}
        self.rule_rank: list[np.ndarray | None] = []
        for rule in self.rules:
            if rule.window_sort is None:
                self.rule_rank.append(None)
                continue
            spec = repr(rule.window_sort)
            if spec not in ranks:
                ranks[spec] = _dense_rank([rule.sort_value(row) for row in rows])
            self.rule_rank.append(ranks[spec])
        # Each rule's blocks, sorted once: training and scoring walk them many times.
        self._runs = [self._sort_runs(r) for r in range(len(self.rules))]
        # Per rule and row: position in the rule's sorted order and whether the row's
        # block is windowed, so "an earlier rule produced this pair" is exact.
        self.position = np.zeros((len(self.rules), self.n), dtype=np.int32)
        self.windowed = np.zeros((len(self.rules), self.n), dtype=bool)
        for r, (order, _, sizes) in enumerate(self._runs):
            if order.size:
                self.position[r, order] = np.arange(order.size, dtype=np.int32)
                self.windowed[r, order] = np.repeat(sizes > self.rule_max[r], sizes)

    def _rule_runs(self, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows sorted into blocks for rule r: (order, block starts, block sizes)."""
        return self._runs[r]

    def _sort_runs(self, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h = self.hashes[r]
        keyed = np.flatnonzero(h != 0)
        if keyed.size == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        rank = self.rule_rank[r]
        sort_keys = ((self.sort_rank[keyed], h[keyed]) if rank is None
                     else (self.sort_rank[keyed], rank[keyed], h[keyed]))
        order = keyed[np.lexsort(sort_keys)]
        hs = h[order]
        starts = np.flatnonzero(np.r_[True, hs[1:] != hs[:-1]])
        sizes = np.diff(np.r_[starts, hs.size])
        return order, starts, sizes

    def produced_by(self, q: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Mask of the pairs rule ``q`` generates (same key; within the window if huge)."""
        hl = self.hashes[q, left]
        same = (hl != 0) & (hl == self.hashes[q, right])
        if self.link_type == "link_only":
            same &= self.sources[left] != self.sources[right]
        windowed = same & self.windowed[q, left]
        if windowed.any():
            gap = np.abs(self.position[q, left].astype(np.int64) - self.position[q, right])
            same &= ~windowed | (gap <= self.rule_window[q])
        return same

    def count_pairs(self, r: int) -> int:
        """Pairs rule r generates before de-duplication against earlier rules."""
        _, _, sizes = self._rule_runs(r)
        small = sizes[sizes <= self.rule_max[r]]
        big = sizes[sizes > self.rule_max[r]]
        return int((small * (small - 1) // 2).sum() + (big * self.rule_window[r]).sum())

    def pairs(self, chunk_rows: int = 200_000) -> Iterator[PairChunk]:
        """Every candidate pair exactly once, in chunks of about ``chunk_rows`` rows."""
        for r in range(len(self.rules)):
            yield from self.rule_pairs(r, chunk_rows=chunk_rows)

    def rule_pairs(
        self, r: int, *, chunk_rows: int = 200_000, dedupe_earlier: bool = True
    ) -> Iterator[PairChunk]:
        order, starts, sizes = self._rule_runs(r)
        multi = sizes > 1
        starts, sizes = starts[multi], sizes[multi]
        if starts.size == 0:
            return
        # Split the block list into chunks of roughly chunk_rows rows.
        cum = np.cumsum(sizes)
        bounds = np.searchsorted(cum, np.arange(chunk_rows, cum[-1] + chunk_rows, chunk_rows))
        first = 0
        for last in np.unique(np.r_[bounds, starts.size - 1]):
            if last < first:
                continue
            chunk = self._pairs_for_blocks(r, order, starts[first:last + 1],
                                           sizes[first:last + 1], dedupe_earlier)
            first = last + 1
            if chunk is not None:
                yield chunk

    def _pairs_for_blocks(
        self, r: int, order: np.ndarray, starts: np.ndarray, sizes: np.ndarray,
        dedupe_earlier: bool,
    ) -> PairChunk | None:
        # For each sorted position, how many later positions of its block it pairs with:
        # all of them in a normal block, the next `window` ones in a huge block.
        n_pos = int(sizes.sum())
        pos = np.repeat(starts, sizes) + (
            np.arange(n_pos) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        )
        ends = np.repeat(starts + sizes, sizes)
        after = ends - pos - 1
        huge = np.repeat(sizes > self.rule_max[r], sizes)
        after = np.where(huge, np.minimum(after, self.rule_window[r]), after)
        total = int(after.sum())
        if total == 0:
            return None
        left_pos = np.repeat(pos, after)
        offsets = np.arange(total) - np.repeat(np.cumsum(after) - after, after) + 1
        left = order[left_pos]
        right = order[left_pos + offsets]
        keep = np.ones(total, dtype=bool)
        if self.link_type == "link_only":
            keep &= self.sources[left] != self.sources[right]
        if dedupe_earlier:
            for q in range(r):
                keep &= ~self.produced_by(q, left, right)
        if not keep.all():
            left, right = left[keep], right[keep]
        if left.size == 0:
            return None
        return PairChunk(r, left, right)
