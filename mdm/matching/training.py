"""Unsupervised estimation of m, u and the prior, following Splink's recipe.

* u: comparison levels of random pairs (nearly all non-matches).
* m: expectation-maximisation over the pairs of each training blocking rule, with u
  held fixed; comparisons that read a feature of the rule are left out of that session
  (every blocked pair agrees on them, so their m would be meaningless) and the m of
  each comparison is averaged over the sessions that could estimate it.
* prior: EM on the union of prediction blocks, scaled from blocked to all pairs.

Counts are blended with default priors (``prior_strength`` pseudo-pairs) so small or
odd data still yields finite, sensible weights.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mdm.matching.candidates import BlockIndex
from mdm.matching.comparisons import NULL_LEVEL, row_table
from mdm.matching.params import (
    MAX_TF_BOOST,
    MIN_TF_COUNT,
    ComparisonParams,
    ModelParams,
    TermFrequencies,
    prior_m,
    prior_u,
)
from mdm.matching.settings import MatchSettings

__all__ = ["PatternCounter", "count_patterns", "estimate_params", "level_matrix", "run_em",
           "term_frequencies"]

Patterns = Counter[tuple[int, ...]]
PatternCounter = Callable[[np.ndarray, np.ndarray], Patterns]
Progress = Callable[[str, int, int | None], None]


def count_patterns(
    settings: MatchSettings, rows: Sequence[Sequence[Any]] | np.ndarray, left: np.ndarray,
    right: np.ndarray,
) -> Patterns:
    """How often each comparison-level vector occurs among the given pairs."""
    counter: Patterns = Counter()
    if left.size == 0:
        return counter
    levels = level_matrix(settings, rows, left, right)
    width = levels.shape[1]
    if width <= 15 and int(levels.max()) < 15:
        # One int64 code per pattern (4 bits per comparison, null = 0): a 1-d unique
        # sorts integers, far cheaper than np.unique(axis=0) on rows.
        shifts = np.arange(width, dtype=np.int64) * 4
        codes, counts = np.unique(((levels.astype(np.int64) + 1) << shifts).sum(axis=1),
                                  return_counts=True)
        patterns = ((codes[:, None] >> shifts) & 15) - 1
    else:
        patterns, counts = np.unique(levels, axis=0, return_counts=True)
    for pattern, count in zip(patterns.tolist(), counts.tolist(), strict=True):
        counter[tuple(pattern)] += count
    return counter


def level_matrix(
    settings: MatchSettings, rows: Sequence[Sequence[Any]] | np.ndarray, left: np.ndarray,
    right: np.ndarray,
) -> np.ndarray:
    """(pairs x comparisons) int8 levels, one vectorised pass per comparison."""
    if isinstance(rows, np.ndarray):
        a, b = rows[left], rows[right]
    else:
        a = row_table([rows[i] for i in left.tolist()])
        b = row_table([rows[j] for j in right.tolist()])
    out = np.empty((len(a), len(settings.comparisons)), dtype=np.int8)
    for k, comparison in enumerate(settings.comparisons):
        out[:, k] = comparison.level_array(a, b)
    return out


def _random_pairs(
    n: int, sources: np.ndarray, link_type: str, max_pairs: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    total = n * (n - 1) // 2
    if total <= max_pairs:
        left, right = np.triu_indices(n, 1)
    else:
        # Oversample, then drop self-pairs; duplicates are harmless at this scale.
        left = rng.integers(0, n, size=int(max_pairs * 1.1))
        right = rng.integers(0, n, size=left.size)
    keep = left != right
    if link_type == "link_only":
        keep &= sources[left] != sources[right]
    left, right = left[keep][:max_pairs], right[keep][:max_pairs]
    return left.astype(np.int64), right.astype(np.int64)


def _level_arrays(patterns: Patterns, n_comparisons: int) -> tuple[np.ndarray, np.ndarray]:
    if not patterns:
        return np.zeros((0, n_comparisons), dtype=np.int64), np.zeros(0)
    keys = list(patterns)
    return np.array(keys, dtype=np.int64).reshape(len(keys), n_comparisons), np.array(
        [patterns[k] for k in keys], dtype=float
    )


def _smoothed(counts: np.ndarray, prior: list[float], strength: float) -> list[float]:
    total = counts.sum()
    probs = (counts + strength * np.asarray(prior)) / (total + strength)
    return [float(p) for p in probs]


def estimate_u(
    settings: MatchSettings, patterns: Patterns
) -> dict[str, list[float]]:
    levels, counts = _level_arrays(patterns, len(settings.comparisons))
    out = {}
    for c_idx, comparison in enumerate(settings.comparisons):
        n_levels = len(comparison.labels)
        col = levels[:, c_idx] if levels.size else np.zeros(0, dtype=np.int64)
        per_level = np.array([counts[col == lv].sum() for lv in range(n_levels)])
        out[comparison.name] = _smoothed(per_level, prior_u(comparison),
                                         settings.training.prior_strength)
    return out


def run_em(
    settings: MatchSettings,
    patterns: Patterns,
    m: dict[str, list[float]],
    u: dict[str, list[float]],
    *,
    active: set[str],
    prior: float,
    estimate_m: bool = True,
) -> tuple[dict[str, list[float]], float, int]:
    """EM with u fixed; returns (m for the active comparisons, lambda, iterations)."""
    comparisons = settings.comparisons
    levels, counts = _level_arrays(patterns, len(comparisons))
    if counts.sum() == 0:
        return {}, prior, 0
    act = [k for k, c in enumerate(comparisons) if c.name in active]
    m_now = {k: np.array(m[comparisons[k].name], dtype=float) for k in act}
    u_arr = {k: np.clip(np.array(u[comparisons[k].name], dtype=float), 1e-9, 1) for k in act}
    lam = min(max(prior, 1e-6), 1 - 1e-6)
    strength = settings.training.prior_strength
    iterations = 0
    for iterations in range(1, settings.training.em_max_iterations + 1):  # noqa: B007
        log_odds = np.full(counts.size, math.log(lam / (1 - lam)))
        for k in act:
            col = levels[:, k]
            nonnull = col != NULL_LEVEL
            ratio = np.log(np.clip(m_now[k], 1e-9, 1)) - np.log(u_arr[k])
            log_odds[nonnull] += ratio[col[nonnull]]
        post = 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700)))
        weighted = post * counts
        new_lam = float(weighted.sum() / counts.sum())
        delta = abs(new_lam - lam)
        if estimate_m:
            for k in act:
                col = levels[:, k]
                n_levels = m_now[k].size
                per_level = np.array([weighted[col == lv].sum() for lv in range(n_levels)])
                new_m = np.array(_smoothed(per_level, prior_m(comparisons[k]), strength))
                delta = max(delta, float(np.abs(new_m - m_now[k]).max()))
                m_now[k] = new_m
        lam = min(max(new_lam, 1e-9), 1 - 1e-9)
        if delta < settings.training.em_tolerance:
            break
    return ({comparisons[k].name: [float(x) for x in m_now[k]] for k in act},
            lam, iterations)


def estimate_params(
    settings: MatchSettings,
    rows: Sequence[Sequence[Any]],
    sources: Sequence[str],
    *,
    index: BlockIndex | None = None,
    counter: PatternCounter | None = None,
    progress: Progress | None = None,
) -> ModelParams:
    """Train m, u and the prior on the rows of one domain."""
    training = settings.training
    rng = np.random.default_rng(training.seed)
    n = len(rows)
    if counter is None:
        table = row_table(rows)

        def counter(left: np.ndarray, right: np.ndarray) -> Patterns:
            return count_patterns(settings, table, left, right)

    if index is None:
        index = BlockIndex(
            rows, sources, settings.blocking, link_type=settings.link_type,
            max_block_size=settings.max_block_size, window=settings.window,
            sort_position=(settings.schema.positions[settings.window_sort]
                           if settings.window_sort else None),
        )
    report = progress or (lambda stage, done, total: None)

    # u from random pairs
    left, right = _random_pairs(n, index.sources, settings.link_type, training.max_u_pairs, rng)
    u = estimate_u(settings, counter(left, right) if left.size else Counter())
    u_pairs = int(left.size)
    report("train_u", u_pairs, u_pairs)

    m, sessions = _estimate_m(settings, index, counter, u, rng, report)
    lam_global, blocked_total, expected_matches = _estimate_prior(
        settings, index, counter, m, u, rng, n)
    report("train_prior", 1, 1)

    params = ModelParams(
        settings.version,
        float(lam_global),
        {c.name: ComparisonParams(m[c.name], u[c.name]) for c in settings.comparisons},
        {"records": n, "u_pairs": u_pairs, "em_sessions": sessions,
         "blocked_pairs_estimate": blocked_total,
         "expected_matches": round(expected_matches, 1)},
    )
    return params.with_term_frequencies(term_frequencies(settings, rows, params))


def _estimate_m(settings: MatchSettings, index: BlockIndex, counter: PatternCounter,
                u: dict[str, list[float]], rng: np.random.Generator, report: Progress
                ) -> tuple[dict[str, list[float]], list[dict[str, Any]]]:
    """m by EM, one session per training blocking rule, averaged; and the sessions."""
    training = settings.training
    names = [rule.name for rule in settings.blocking]
    em_rules = training.em_blocking or names
    m_sum: dict[str, list[np.ndarray]] = {c.name: [] for c in settings.comparisons}
    m_start = {c.name: prior_m(c) for c in settings.comparisons}
    sessions: list[dict[str, Any]] = []
    for rule_name in em_rules:
        r = names.index(rule_name)
        rule = settings.blocking[r]
        active = {c.name for c in settings.comparisons} - settings.comparisons_using(
            rule.features
        )
        left, right = _sample_rule_pairs(index, r, training.max_em_pairs, rng)
        if left.size == 0 or not active:
            continue
        patterns = counter(left, right)
        m_new, lam, iters = run_em(settings, patterns, m_start, u, active=active, prior=0.1)
        for name, values in m_new.items():
            m_sum[name].append(np.array(values))
        sessions.append({"rule": rule_name, "pairs": int(left.size), "lambda": lam,
                         "iterations": iters})
        report("train_m", len(sessions), len(em_rules))
    m = {
        name: ([float(x) for x in np.mean(vals, axis=0)] if vals else m_start[name])
        for name, vals in m_sum.items()
    }
    return m, sessions


def _estimate_prior(settings: MatchSettings, index: BlockIndex, counter: PatternCounter,
                    m: dict[str, list[float]], u: dict[str, list[float]],
                    rng: np.random.Generator, n: int) -> tuple[float, int, float]:
    """The prior: the share of matches among all blocked pairs (EM per rule with m and u
    fixed), scaled to all pairs; with the blocked pairs and expected matches it rests on."""
    training = settings.training
    lam_global = training.probability_two_random_records_match
    blocked_total = 0
    expected_matches = 0.0
    if lam_global is not None:
        return lam_global, blocked_total, expected_matches
    names = [rule.name for rule in settings.blocking]
    per_rule = max(1, training.max_em_pairs // max(1, len(names)))
    everything = {c.name for c in settings.comparisons}
    for r in range(len(names)):
        count = index.count_pairs(r)
        left, right = _sample_rule_pairs(index, r, per_rule, rng, dedupe_earlier=True)
        if left.size == 0:
            continue
        rate = min(1.0, per_rule / count)
        _, lam_rule, _ = run_em(settings, counter(left, right), m, u,
                                active=everything, prior=0.1, estimate_m=False)
        blocked_total += int(left.size / rate)
        expected_matches += lam_rule * left.size / rate
    if expected_matches > 0:
        lam_global = expected_matches / max(1, _total_pairs(index))
    else:
        lam_global = 1.0 / max(2, n)
    return min(max(lam_global, 1e-10), 0.5), blocked_total, expected_matches


def term_frequencies(
    settings: MatchSettings, rows: Sequence[Sequence[Any]], params: ModelParams,
) -> dict[str, TermFrequencies]:
    """Value counts of every comparison with term-frequency adjustment, from ``rows``.

    Only values more frequent than the boost floor (u * 2**-MAX_TF_BOOST) and seen at
    least ``MIN_TF_COUNT`` times are kept: every rarer value gets the same, largest
    boost, so keeping it would change nothing but the size of the stored parameters.
    """
    out: dict[str, TermFrequencies] = {}
    for comparison in settings.comparisons:
        if not comparison.term_frequency_adjustments:
            continue
        position = settings.schema.positions[comparison.feature]
        counts = Counter(row[position] for row in rows if isinstance(row[position], str))
        records = sum(counts.values())
        if not records:
            continue
        u = params.comparisons[comparison.name].u[0]
        keep_above = max(records * u * 2.0 ** -MAX_TF_BOOST, MIN_TF_COUNT - 1)
        out[comparison.name] = TermFrequencies(
            records, {v: c for v, c in counts.most_common() if c > keep_above})
    return out


def _total_pairs(index: BlockIndex) -> int:
    n = index.n
    if index.link_type == "link_only":
        _, counts = np.unique(index.sources, return_counts=True)
        return int((n * n - (counts.astype(np.int64) ** 2).sum()) // 2)
    return n * (n - 1) // 2


def _sample_rule_pairs(
    index: BlockIndex, r: int, max_pairs: int, rng: np.random.Generator, *,
    dedupe_earlier: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    count = index.count_pairs(r)
    if count == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rate = min(1.0, max_pairs / count)
    lefts, rights = [], []
    for chunk in index.rule_pairs(r, dedupe_earlier=dedupe_earlier):
        if rate < 1.0:
            keep = rng.random(chunk.left.size) < rate
            lefts.append(chunk.left[keep])
            rights.append(chunk.right[keep])
        else:
            lefts.append(chunk.left)
            rights.append(chunk.right)
    if not lefts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(lefts), np.concatenate(rights)
