"""Named, parameterised comparisons that turn a pair of feature values into a level.

Each comparison has ordered levels, most similar first and "else" last; a pair where
either side is missing gets ``NULL_LEVEL`` (-1), which carries no evidence. Levels,
not raw similarities, are what the Fellegi-Sunter model learns m and u for, as in
Splink's ``comparison_library``. Comparisons serialise to ``{"type": ..., ...}``.
"""

from __future__ import annotations

import itertools
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import date
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler, Levenshtein
from rapidfuzz.process import cpdist

__all__ = [
    "NULL_LEVEL",
    "Comparison",
    "DateDistanceAtThresholds",
    "ExactMatch",
    "IdentifierComparison",
    "JaroWinklerAtThresholds",
    "LevenshteinAtThresholds",
    "NumericDistanceAtThresholds",
    "TokenSetAtThresholds",
    "comparison_from_dict",
    "row_table",
    "words_added",
    "words_conflict",
]

NULL_LEVEL = -1

Row = Sequence[Any]
# Many rows: a sequence of rows, or a (rows x features) object array from ``row_table``.
Rows = Sequence[Row] | np.ndarray


class Comparison(ABC):
    """One comparison of one feature; ``bind`` resolves feature names to row positions."""

    type_name: ClassVar[str]
    registry: ClassVar[dict[str, type[Comparison]]] = {}

    def __init__(self, feature: str, *, name: str | None = None) -> None:
        self.feature = feature
        self.name = name or feature
        self._i = -1
        # Prior m and u per level (None: the generic ``default_m``/``default_u``): what
        # an untrained hub scores with, and what training smooths towards.
        self.m_prior: list[float] | None = None
        self.u_prior: list[float] | None = None
        # Splink-style term-frequency adjustment of the exact level: agreeing on a
        # value every third record has (a legal form, a capital city) is weak evidence.
        self.term_frequency_adjustments = False

    def configure(
        self, *, m: Sequence[float] | None = None, u: Sequence[float] | None = None,
        term_frequency_adjustments: bool = False,
    ) -> Comparison:
        """Set the level priors and the term-frequency switch (returns self)."""
        for which, values in (("m", m), ("u", u)):
            if values is None:
                continue
            if len(values) != len(self.labels) or not all(0 < v < 1 for v in values):
                raise ValueError(
                    f"{self.name}: {which} needs {len(self.labels)} probabilities in (0, 1), "
                    f"one per level {self.labels}")
            if abs(sum(values) - 1.0) > 1e-6:
                raise ValueError(f"{self.name}: {which} must sum to 1")
        self.m_prior = [float(v) for v in m] if m is not None else None
        self.u_prior = [float(v) for v in u] if u is not None else None
        self.term_frequency_adjustments = bool(term_frequency_adjustments)
        return self

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "type_name" in cls.__dict__:  # abstract helpers have none
            Comparison.registry[cls.type_name] = cls

    @property
    def features(self) -> tuple[str, ...]:
        """Every feature this comparison reads (used to deactivate it during EM)."""
        return (self.feature,)

    def bind(self, positions: dict[str, int]) -> None:
        self._i = positions[self.feature]

    @property
    @abstractmethod
    def labels(self) -> list[str]:
        """Human-readable label of each non-null level, most similar first."""

    @abstractmethod
    def level(self, a: Row, b: Row) -> int:
        """Level index for the pair, or ``NULL_LEVEL``."""

    def level_array(self, a: Rows, b: Rows) -> np.ndarray:
        """Levels of many pairs (``a[k]`` vs ``b[k]``) at once, exactly as ``level``.

        Subclasses vectorise this (numpy masks, ``rapidfuzz.process.cpdist``); this
        fallback loops.
        """
        return np.fromiter((self.level(x, y) for x, y in zip(a, b, strict=True)),
                           dtype=np.int8, count=len(a))

    def _columns(self, a: Rows, b: Rows) -> tuple[
            np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(left values, right values, null mask, equal mask) of the pairs' feature."""
        xs = _objects(a, self._i)
        ys = _objects(b, self._i)
        # Element-wise on object arrays (C loops), unlike a generator over the pairs.
        null = (xs == None) | (ys == None)  # noqa: E711
        return xs, ys, null, xs == ys

    def params(self) -> dict[str, Any]:
        return {}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type_name, "feature": self.feature}
        if self.name != self.feature:
            out["name"] = self.name
        out.update(self.params())
        if self.m_prior is not None:
            out["m"] = self.m_prior
        if self.u_prior is not None:
            out["u"] = self.u_prior
        if self.term_frequency_adjustments:
            out["term_frequency_adjustments"] = True
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_dict()!r})"


def comparison_from_dict(data: dict[str, Any]) -> Comparison:
    """Build a comparison from its ``to_dict`` form."""
    spec = dict(data)
    type_name = spec.pop("type")
    try:
        cls = Comparison.registry[type_name]
    except KeyError:
        raise ValueError(f"unknown comparison type {type_name!r}") from None
    feature = spec.pop("feature")
    m, u = spec.pop("m", None), spec.pop("u", None)
    tf = spec.pop("term_frequency_adjustments", False)
    return cls(feature, **spec).configure(m=m, u=u, term_frequency_adjustments=tf)


def _objects(rows: Rows, i: int) -> np.ndarray:
    if isinstance(rows, np.ndarray):  # a (pairs x features) object table: a column view
        return rows[:, i]
    return np.fromiter((r[i] for r in rows), dtype=object, count=len(rows))


def row_table(rows: Sequence[Row]) -> np.ndarray:
    """Rows as one (rows x features) object array: columns are then cheap to take."""
    width = len(rows[0]) if len(rows) else 0
    table = np.empty((len(rows), width), dtype=object)
    if len(rows):
        table[:] = rows
    return table


class ExactMatch(Comparison):
    type_name = "ExactMatch"

    @property
    def labels(self) -> list[str]:
        return ["exact", "else"]

    def level(self, a: Row, b: Row) -> int:
        x, y = a[self._i], b[self._i]
        if x is None or y is None:
            return NULL_LEVEL
        return 0 if x == y else 1

    def level_array(self, a: Rows, b: Rows) -> np.ndarray:
        _, _, null, equal = self._columns(a, b)
        out = np.where(equal, 0, 1).astype(np.int8)
        out[null] = NULL_LEVEL
        return out


def _fuzzy_levels(
    xs: np.ndarray, ys: np.ndarray, null: np.ndarray, equal: np.ndarray,
    score: Any, exceeded: Any, **kwargs: Any,
) -> np.ndarray:
    """Levels from a vectorised score: 0 when equal, ``1 + exceeded(scores)`` otherwise.

    ``exceeded`` counts the thresholds each score fails (thresholds are ordered from
    most to least similar, so the first one met gives the level).
    """
    out = np.zeros(len(xs), dtype=np.int8)
    fuzzy = np.flatnonzero(~null & ~equal)
    if fuzzy.size:
        scores = score(xs[fuzzy].tolist(), ys[fuzzy].tolist(), **kwargs)
        out[fuzzy] = 1 + exceeded(scores)
    out[null] = NULL_LEVEL
    return out


class _ThresholdComparison(Comparison):
    """Exact level, one level per threshold, else: the shape most comparisons share."""

    def __init__(
        self, feature: str, thresholds: Sequence[float], *, name: str | None = None
    ) -> None:
        super().__init__(feature, name=name)
        self.thresholds = list(thresholds)

    def params(self) -> dict[str, Any]:
        return {"thresholds": self.thresholds}


class JaroWinklerAtThresholds(_ThresholdComparison):
    type_name = "JaroWinklerAtThresholds"

    def __init__(
        self,
        feature: str,
        thresholds: Sequence[float] = (0.92, 0.88, 0.7),
        *,
        name: str | None = None,
    ) -> None:
        super().__init__(feature, sorted(thresholds, reverse=True), name=name)

    @property
    def labels(self) -> list[str]:
        return ["exact", *(f"jaro_winkler>={t}" for t in self.thresholds), "else"]

    def level(self, a: Row, b: Row) -> int:
        x, y = a[self._i], b[self._i]
        if x is None or y is None:
            return NULL_LEVEL
        if x == y:
            return 0
        sim = JaroWinkler.similarity(x, y)
        for k, t in enumerate(self.thresholds):
            if sim >= t:
                return k + 1
        return len(self.thresholds) + 1

    def level_array(self, a: Rows, b: Rows) -> np.ndarray:
        thresholds = np.array(self.thresholds)
        return _fuzzy_levels(
            *self._columns(a, b),
            # Below the lowest threshold every score means "else": let rapidfuzz stop early.
            lambda x, y: cpdist(x, y, scorer=JaroWinkler.similarity, dtype=np.float64,
                                score_cutoff=self.thresholds[-1]),
            lambda sim: (sim[:, None] < thresholds).sum(axis=1))


class LevenshteinAtThresholds(_ThresholdComparison):
    """Edit distance levels; ``damerau=True`` counts a transposition as one edit."""

    type_name = "LevenshteinAtThresholds"

    def __init__(
        self,
        feature: str,
        thresholds: Sequence[int] = (1, 2),
        *,
        damerau: bool = False,
        name: str | None = None,
    ) -> None:
        super().__init__(feature, sorted(int(t) for t in thresholds), name=name)
        self.damerau = damerau
        self._distance: Callable[..., int] = (DamerauLevenshtein.distance if damerau
                                               else Levenshtein.distance)

    def params(self) -> dict[str, Any]:
        return {"thresholds": self.thresholds, "damerau": self.damerau}

    @property
    def labels(self) -> list[str]:
        metric = "damerau_levenshtein" if self.damerau else "levenshtein"
        return ["exact", *(f"{metric}<={t}" for t in self.thresholds), "else"]

    def level(self, a: Row, b: Row) -> int:
        x, y = a[self._i], b[self._i]
        if x is None or y is None:
            return NULL_LEVEL
        if x == y:
            return 0
        dist = self._distance(x, y, score_cutoff=self.thresholds[-1])
        for k, t in enumerate(self.thresholds):
            if dist <= t:
                return k + 1
        return len(self.thresholds) + 1

    def level_array(self, a: Rows, b: Rows) -> np.ndarray:
        thresholds = np.array(self.thresholds)
        distance: Any = self._distance
        return _fuzzy_levels(
            *self._columns(a, b),
            lambda x, y: cpdist(x, y, scorer=distance, score_cutoff=self.thresholds[-1]),
            lambda dist: (dist[:, None] > thresholds).sum(axis=1))


class TokenSetAtThresholds(_ThresholdComparison):
    """Token-set similarity (0-1): word order and repeated words do not matter.

    With ``subset=False`` (the default) a name whose words are a strict subset of the
    other's ("acme" vs "acme logistics") is capped below the top fuzzy level, because
    for organisations that is usually a sibling company, not a typo.

    With ``numbers_agree=True`` (street lines) two values whose numbers differ ("Main
    Street 12" vs "Main Street 93") are "else" however alike their words: one street,
    two buildings.

    With ``words_agree=True`` (organisation names) two values that *each* have a word
    the other lacks ("Denomli Alimentari" vs "Denomli Impianti", "Acme Holding" vs
    "Acme Services", "Rota Verkstad" vs "Ulom Verkstad") are "else" however alike their
    characters: a long shared word (a brand, or a trade every tenth firm has) must not
    make two names close. Words are paired when equal, within a typo of each other, an
    abbreviation of the other ("Trasp." / "Trasporti", "Maskinfab." / "Maskinfabrik") or
    an initial ("J." / "Javier"); a name that only adds words to the other (a dropped
    word, or a sibling) is left to the fuzzy levels, unless ``adds_words=True``.

    With ``adds_words=True`` (and ``words_agree``) such a pair gets a level of its own,
    "adds_words", between the fuzzy levels and "else": "Xiarlux" / "Xiarlux Handel",
    "Dennear Techniek" / "Dennear Techniek Nordic". A group names its companies so
    (brand, then trade or region), so this is weaker evidence than a typo, and the
    settings can require an identifier before such a pair auto-merges.
    """

    type_name = "TokenSetAtThresholds"

    def __init__(
        self,
        feature: str,
        thresholds: Sequence[float] = (0.95, 0.85, 0.7),
        *,
        subset: bool = False,
        numbers_agree: bool = False,
        words_agree: bool = False,
        adds_words: bool = False,
        name: str | None = None,
    ) -> None:
        super().__init__(feature, sorted(thresholds, reverse=True), name=name)
        if adds_words and not words_agree:
            raise ValueError(f"{self.name}: adds_words needs words_agree")
        self.subset = subset
        self.numbers_agree = numbers_agree
        self.words_agree = words_agree
        self.adds_words = adds_words
        # Level indexes: the "adds_words" level (when on) and "else".
        self._adds = len(self.thresholds) + 1
        self._else = len(self.thresholds) + (2 if adds_words else 1)

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {"thresholds": self.thresholds, "subset": self.subset}
        if self.numbers_agree:
            out["numbers_agree"] = True
        if self.words_agree:
            out["words_agree"] = True
        if self.adds_words:
            out["adds_words"] = True
        return out

    def _words_or_numbers_differ(self, x: str, y: str) -> bool:
        if self.numbers_agree:
            nx, ny = _numbers(x), _numbers(y)
            if nx and ny and nx != ny:
                return True
        return self.words_agree and words_conflict(x, y)

    @property
    def labels(self) -> list[str]:
        adds = ["adds_words"] if self.adds_words else []
        return ["exact", *(f"token_set>={t}" for t in self.thresholds), *adds, "else"]

    def level(self, a: Row, b: Row) -> int:
        x, y = a[self._i], b[self._i]
        if x is None or y is None:
            return NULL_LEVEL
        if x == y:
            return 0
        if self._words_or_numbers_differ(x, y):
            return self._else
        level = self._similarity_level(x, y)
        if self.words_agree and (level != self._else or _share_a_word(x, y)):
            return self._word_level(x, y, level)
        return level

    def _word_level(self, x: str, y: str, level: int) -> int:
        """The similarity ``level`` corrected by how the words pair: one name only adding
        words gets "adds_words" (when on); names whose every word pairs ("tazen bud" /
        "tazen budownictwo") get at least the lowest fuzzy level, however short an
        abbreviation made one of them. ``level_array`` asks this only of pairs at a
        fuzzy level or sharing a word, so both paths must too."""
        difference = _word_difference(x, y)
        if difference == _ADDED and self.adds_words:
            return self._adds
        if difference == _SAME and level == self._else:
            return len(self.thresholds)
        return level

    def _similarity_level(self, x: str, y: str) -> int:
        if self.subset:
            sim = fuzz.token_set_ratio(x, y) / 100.0
        else:
            # token_sort compares whole multisets of words, so extra words cost.
            sim = max(fuzz.token_sort_ratio(x, y), fuzz.ratio(x, y)) / 100.0
        if self.words_agree:  # words run together ("lukaszind" / "lukasz industries")
            sim = max(sim, _joined_ratio(x, y) / 100.0)
        for k, t in enumerate(self.thresholds):
            if sim >= t:
                return k + 1
        return self._else

    def level_array(self, a: Rows, b: Rows) -> np.ndarray:
        thresholds = np.array(self.thresholds)

        # Scores under the lowest threshold all mean "else": rapidfuzz may stop early.
        cutoff = self.thresholds[-1] * 100.0

        def similarity(x: list[Any], y: list[Any]) -> np.ndarray:
            if self.subset:
                return cpdist(x, y, scorer=fuzz.token_set_ratio, dtype=np.float64,
                              score_cutoff=cutoff) / 100.0
            # float64, as the scalar path computes: cpdist defaults to float32 for
            # these scorers, which would move scores sitting exactly on a threshold.
            sim = np.maximum(
                cpdist(x, y, scorer=fuzz.token_sort_ratio, dtype=np.float64,
                       score_cutoff=cutoff),
                cpdist(x, y, scorer=fuzz.ratio, dtype=np.float64, score_cutoff=cutoff),
            )
            if self.words_agree:
                sim = np.maximum(sim, cpdist(x, y, scorer=fuzz.ratio, dtype=np.float64,
                                             processor=_unspaced, score_cutoff=cutoff))
            return sim / 100.0

        xs, ys, null, equal = self._columns(a, b)
        out = _fuzzy_levels(xs, ys, null, equal, similarity,
                            lambda sim: (sim[:, None] < thresholds).sum(axis=1))
        if not (self.numbers_agree or self.words_agree):
            return out
        fuzzy_else = len(self.thresholds) + 1
        fuzzy = np.flatnonzero((out > 0) & (out < fuzzy_else))
        if self.words_agree:
            # Pairs below every threshold: only those sharing a word can pair all their
            # words or only add words (a cheap test that keeps the word pairing off the
            # many unrelated pairs of a batch).
            low = np.flatnonzero(out == fuzzy_else)
            if low.size:
                low = low[np.fromiter(
                    (_share_a_word(x, y)
                     for x, y in zip(xs[low].tolist(), ys[low].tolist(), strict=True)),
                    dtype=bool, count=low.size)]
            fuzzy = np.concatenate([fuzzy, low])
        out[out == fuzzy_else] = self._else
        if fuzzy.size:
            levels = out[fuzzy].tolist()
            pairs = zip(xs[fuzzy].tolist(), ys[fuzzy].tolist(), levels, strict=True)
            out[fuzzy] = np.fromiter(
                (self._else if self._words_or_numbers_differ(x, y)
                 else self._word_level(x, y, level) if self.words_agree else level
                 for x, y, level in pairs), dtype=np.int8, count=fuzzy.size)
        return out


def _share_a_word(x: str, y: str) -> bool:
    return not set(x.split()).isdisjoint(y.split())


# Two words are one when two typos apart (one in a word of three letters), within this
# Indel similarity...
_WORD_SIMILARITY = 0.7
# ... or when the shorter is an abbreviation of the longer: its letters in order with
# the same first letter ("svs" / "services", one typo allowed: "sxvcs"), or this close
# to a part of the longer, typo included ("metqlomec" / "metalomecanica").
_ABBREVIATION_SIMILARITY = 0.75


# Names whose letters, spaces removed, are this similar are one name written apart.
_JOINED_SIMILARITY = 0.85


def _unspaced(value: str) -> str:
    return value.replace(" ", "")


def _joined_ratio(x: str, y: str) -> float:
    return fuzz.ratio(_unspaced(x), _unspaced(y))


def _in_order(short: str, long_: str) -> bool:
    letters = iter(long_)
    return all(ch in letters for ch in short)


def _words_pair(x: str, y: str) -> bool:
    if x == y:
        return True
    short, long_ = (x, y) if len(x) <= len(y) else (y, x)
    if len(short) == 1:  # an initial
        return short == long_[0]
    if len(short) == 2:  # "fg" / "manufacturing", "nd" / "industries", "de" / "di"
        return _in_order(short, long_) or (
            len(long_) == 2 and (short[0] == long_[0] or short[1] == long_[1]))
    typos = 2 if len(long_) >= 4 else 1  # "jous" / "jones", "blu" / "bule"
    if (DamerauLevenshtein.distance(x, y, score_cutoff=typos) <= typos
            or fuzz.ratio(x, y) >= _WORD_SIMILARITY * 100):
        return True
    return len(long_) - len(short) >= 2 and (
        _abbreviates(short, long_)
        or fuzz.partial_ratio(short, long_) >= _ABBREVIATION_SIMILARITY * 100)


def _abbreviates(short: str, long_: str) -> bool:
    """``short``'s letters in ``long_``'s order, same first letter, one typo allowed."""
    if short[0] == long_[0] and _in_order(short, long_):
        return True
    if len(short) >= 4 and _in_order(short[1:], long_[1:]):  # a typo in the first letter
        return True
    return any(_in_order(cut, long_) and cut[0] == long_[0]
               for cut in (short[:k] + short[k + 1:] for k in range(len(short))))


def words_conflict(x: str, y: str) -> bool:
    """Whether each of two normalised names has a word the other lacks.

    Words are paired when equal, within a typo, or an abbreviation of each other
    (``_words_pair``); a one-letter word (an initial, a stray "k" for "&") is never the
    unpaired one; a one-word acronym of the other name pairs with it.
    True only when both sides keep an unpaired word: "acme holding" / "acme services"
    conflict, "acme" / "acme services" do not.
    """
    return _word_difference(x, y) == _CONFLICT


def words_added(x: str, y: str) -> bool:
    """Whether one name only adds words to the other ("acme" / "acme services",
    "dennear techniek" / "dennear techniek nordic"): every word of one pairs with a word
    of the other (as in ``words_conflict``), which keeps a word of more than one letter
    unpaired. Words merely run together ("acme ind" / "acmeind") add nothing."""
    return _word_difference(x, y) == _ADDED


def _run_together(shorter: list[str], longer: list[str]) -> bool:
    """Whether a word of ``shorter`` is two adjacent words of ``longer`` written as one,
    the second perhaps abbreviated ("lukaszind" / "lukasz industries")."""
    return any(len(v) > len(u1) and v.startswith(u1) and _words_pair(v[len(u1):], u2)
               for v in shorter for u1, u2 in itertools.pairwise(longer))


# How two names' words differ: every word pairs; one name adds words; each has a word
# the other lacks; one is the other's acronym (no conflict, but too loose to count as
# every word pairing: "md" is the acronym of many names).
_SAME, _ADDED, _CONFLICT, _ACRONYM = 0, 1, 2, 3


@lru_cache(maxsize=262144)
def _word_difference(x: str, y: str) -> int:
    xs, ys = x.split(), y.split()
    for one, other in ((xs, ys), (ys, xs)):  # an acronym: "nnb" / "norvikri nabytek baltic"
        if len(one) == 1 and len(other) > 1 and one[0] == "".join(w[0] for w in other):
            return _ACRONYM
    # Words both names have pair at once; the rest must find a partner among the rest.
    common = set(xs) & set(ys)
    rest_x = [w for w in xs if w not in common]
    rest_y = [v for v in ys if v not in common]
    # A one-letter word (an initial, a stray "k" for "&") is never the unpaired one.
    unpaired_x = any(len(w) > 1 and not any(_words_pair(w, v) for v in rest_y)
                     for w in rest_x)
    unpaired_y = any(len(v) > 1 and not any(_words_pair(v, w) for w in rest_x)
                     for v in rest_y)
    if not (unpaired_x or unpaired_y):
        return _SAME
    joined_x, joined_y = sorted((_unspaced(x), _unspaced(y)), key=len)
    if not (unpaired_x and unpaired_y):
        longer, shorter = (xs, ys) if unpaired_x else (ys, xs)
        return _SAME if joined_x == joined_y or _run_together(shorter, longer) else _ADDED
    # Words run together or split elsewhere ("acmeind" / "acme ind", "stones vcs" /
    # "stone services"): one name after all.
    if joined_x[0] == joined_y[0] and _in_order(joined_x, joined_y):
        return _SAME
    if len(xs) == len(ys) or _joined_ratio(x, y) < _JOINED_SIMILARITY * 100:
        return _CONFLICT
    return _SAME


_DIGITS = re.compile(r"\d+")


@lru_cache(maxsize=262144)
def _numbers(value: str) -> tuple[str, ...]:
    """The numbers in a value, in order ("Hauptstr. 5-7" -> ("5", "7"))."""
    return tuple(_DIGITS.findall(value))


@lru_cache(maxsize=65536)
def _to_float(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class NumericDistanceAtThresholds(_ThresholdComparison):
    """Absolute (or, with ``relative=True``, relative) numeric difference levels."""

    type_name = "NumericDistanceAtThresholds"

    def __init__(
        self,
        feature: str,
        thresholds: Sequence[float] = (0.01, 0.1),
        *,
        relative: bool = False,
        name: str | None = None,
    ) -> None:
        super().__init__(feature, sorted(thresholds), name=name)
        self.relative = relative

    def params(self) -> dict[str, Any]:
        return {"thresholds": self.thresholds, "relative": self.relative}

    @property
    def labels(self) -> list[str]:
        kind = "relative" if self.relative else "absolute"
        return ["exact", *(f"{kind}_difference<={t}" for t in self.thresholds), "else"]

    def level(self, a: Row, b: Row) -> int:
        x, y = a[self._i], b[self._i]
        if x is None or y is None:
            return NULL_LEVEL
        fx, fy = _to_float(x), _to_float(y)
        if fx is None or fy is None:
            return NULL_LEVEL
        if fx == fy:
            return 0
        diff = abs(fx - fy)
        if self.relative:
            diff /= max(abs(fx), abs(fy))
        for k, t in enumerate(self.thresholds):
            if diff <= t:
                return k + 1
        return len(self.thresholds) + 1


@lru_cache(maxsize=65536)
def _ordinal(iso: str) -> int | None:
    try:
        return date.fromisoformat(iso).toordinal()
    except ValueError:
        return None


class DateDistanceAtThresholds(_ThresholdComparison):
    """Dates (ISO strings): exact, one-character typo, then within N days, else.

    The typo level exists because dates are keyed in by hand: 1984-07-12 vs
    1984-07-21 is more likely the same date than two dates nine days apart.
    """

    type_name = "DateDistanceAtThresholds"

    def __init__(
        self,
        feature: str,
        thresholds: Sequence[int] = (31, 365, 3653),
        *,
        typo_level: bool = True,
        name: str | None = None,
    ) -> None:
        super().__init__(feature, sorted(int(t) for t in thresholds), name=name)
        self.typo_level = typo_level

    def params(self) -> dict[str, Any]:
        return {"thresholds": self.thresholds, "typo_level": self.typo_level}

    @property
    def labels(self) -> list[str]:
        typo = ["one_edit"] if self.typo_level else []
        return ["exact", *typo, *(f"within_{t}_days" for t in self.thresholds), "else"]

    def level(self, a: Row, b: Row) -> int:
        x, y = a[self._i], b[self._i]
        if x is None or y is None:
            return NULL_LEVEL
        if x == y:
            return 0
        offset = 1
        if self.typo_level:
            if Levenshtein.distance(x, y, score_cutoff=1) <= 1:
                return 1
            offset = 2
        ox, oy = _ordinal(x), _ordinal(y)
        if ox is None or oy is None:
            return len(self.labels) - 1
        days = abs(ox - oy)
        for k, t in enumerate(self.thresholds):
            if days <= t:
                return k + offset
        return len(self.thresholds) + offset


class IdentifierComparison(Comparison):
    """An identifier with a checksum (tax id, IBAN, LEI).

    Levels: both valid and equal; equal (not validated); within ``max_edits`` (a typo,
    possible only when not both valid); both valid and different (strong evidence of
    two entities); else. Validity is read from the ``<feature>.valid`` feature.
    """

    type_name = "IdentifierComparison"

    def __init__(
        self,
        feature: str,
        *,
        valid_feature: str | None = None,
        max_edits: int = 1,
        name: str | None = None,
    ) -> None:
        super().__init__(feature, name=name)
        self.valid_feature = valid_feature or f"{feature}.valid"
        self.max_edits = max_edits
        self._v = -1

    @property
    def features(self) -> tuple[str, ...]:
        return (self.feature, self.valid_feature)

    def bind(self, positions: dict[str, int]) -> None:
        super().bind(positions)
        self._v = positions[self.valid_feature]

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {"max_edits": self.max_edits}
        if self.valid_feature != f"{self.feature}.valid":
            out["valid_feature"] = self.valid_feature
        return out

    @property
    def labels(self) -> list[str]:
        return ["valid_equal", "equal", f"within_{self.max_edits}_edits",
                "valid_different", "else"]

    def level(self, a: Row, b: Row) -> int:
        x, y = a[self._i], b[self._i]
        if x is None or y is None:
            return NULL_LEVEL
        both_valid = bool(a[self._v]) and bool(b[self._v])
        if x == y:
            return 0 if both_valid else 1
        if both_valid:
            return 3
        if self.max_edits and Levenshtein.distance(x, y, score_cutoff=self.max_edits) <= (
            self.max_edits
        ):
            return 2
        return 4

    def level_array(self, a: Rows, b: Rows) -> np.ndarray:
        xs, ys, null, equal = self._columns(a, b)
        valid = _objects(a, self._v).astype(bool) & _objects(b, self._v).astype(bool)
        out = np.full(len(xs), 4, dtype=np.int8)
        out[equal] = np.where(valid[equal], 0, 1)
        out[~equal & valid] = 3
        typo = np.flatnonzero(~null & ~equal & ~valid)
        if self.max_edits and typo.size:
            dist = cpdist(xs[typo].tolist(), ys[typo].tolist(),
                          scorer=Levenshtein.distance, score_cutoff=self.max_edits)
            out[typo[dist <= self.max_edits]] = 2
        out[null] = NULL_LEVEL
        return out
