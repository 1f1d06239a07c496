"""Deterministic rules that override the probabilistic score.

Rules are data: a name, an outcome and a list of tests, all of which must hold. They
are tried in order and the first that holds decides. ``non_match`` is hard: the pair
is never merged, directly or through a chain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

__all__ = ["EvidenceRequirement", "LevelTest", "Outcome", "Rule", "RuleTest", "TESTS"]


class Outcome(StrEnum):
    MATCH = "match"
    NON_MATCH = "non_match"


def _equal(x: Any, y: Any, vx: Any, vy: Any) -> bool:
    return x is not None and y is not None and x == y


def _different(x: Any, y: Any, vx: Any, vy: Any) -> bool:
    return x is not None and y is not None and x != y


def _valid_equal(x: Any, y: Any, vx: Any, vy: Any) -> bool:
    return bool(vx) and bool(vy) and x is not None and x == y


def _valid_different(x: Any, y: Any, vx: Any, vy: Any) -> bool:
    return bool(vx) and bool(vy) and x is not None and y is not None and x != y


# name -> (needs the "<feature>.valid" companion, predicate)
TESTS: dict[str, tuple[bool, Callable[[Any, Any, Any, Any], bool]]] = {
    "equal": (False, _equal),
    "different": (False, _different),
    "valid_equal": (True, _valid_equal),
    "valid_different": (True, _valid_different),
}


# The same tests over whole columns of pairs (object arrays; validity already as bool).
Columns = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _both(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x != None) & (y != None)  # noqa: E711 - element-wise on object arrays


VECTOR_TESTS: dict[str, Columns] = {
    "equal": lambda x, y, vx, vy: _both(x, y) & (x == y),
    "different": lambda x, y, vx, vy: _both(x, y) & (x != y),
    "valid_equal": lambda x, y, vx, vy: vx & vy & (x != None) & (x == y),  # noqa: E711
    "valid_different": lambda x, y, vx, vy: vx & vy & _both(x, y) & (x != y),
}


@dataclass(frozen=True)
class RuleTest:
    feature: str
    test: str

    def to_dict(self) -> dict[str, str]:
        return {"feature": self.feature, "test": self.test}


@dataclass
class Rule:
    name: str
    outcome: Outcome
    when: list[RuleTest]

    def __post_init__(self) -> None:
        for t in self.when:
            if t.test not in TESTS:
                raise ValueError(f"unknown rule test {t.test!r} in rule {self.name!r}")
        self._compiled: list[tuple[int, int, Callable[..., bool]]] = []

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rule:
        return cls(
            data["name"],
            Outcome(data["outcome"]),
            [RuleTest(t["feature"], t["test"]) for t in data["when"]],
        )

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "outcome": self.outcome.value,
                "when": [t.to_dict() for t in self.when]}

    @property
    def features(self) -> set[str]:
        return {t.feature for t in self.when}

    def bind(self, positions: dict[str, int]) -> None:
        compiled = []
        for t in self.when:
            needs_valid, fn = TESTS[t.test]
            v = positions[f"{t.feature}.valid"] if needs_valid else -1
            compiled.append((positions[t.feature], v, fn))
        self._compiled = compiled

    def holds(self, a: Sequence[Any], b: Sequence[Any]) -> bool:
        for i, v, fn in self._compiled:
            if v >= 0:
                if not fn(a[i], b[i], a[v], b[v]):
                    return False
            elif not fn(a[i], b[i], None, None):
                return False
        return True

    def holds_array(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``holds`` for many pairs: ``a`` and ``b`` are (pairs x features) object tables."""
        out = np.ones(len(a), dtype=bool)
        for t, (i, v, _) in zip(self.when, self._compiled, strict=True):
            x, y = a[:, i], b[:, i]
            if v >= 0:
                vx, vy = a[:, v].astype(bool), b[:, v].astype(bool)
            else:
                vx = vy = out  # unused by tests without a validity companion
            out &= VECTOR_TESTS[t.test](x, y, vx, vy)
        return out


# --- what untrained parameters need before they may auto-merge --------------------------------


@dataclass(frozen=True)
class LevelTest:
    """A comparison's level: ``at_least`` that level (or a more similar one, not null),
    ``is`` exactly that level ({"is": "else"}: the values disagree), or ``is_not`` that
    level ({"is_not": "else"}: the values agree somewhat, or one is missing)."""

    comparison: str
    level: str  # a level label of that comparison, e.g. "token_set>=0.85"
    mode: str = "at_least"

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> LevelTest:
        modes = [m for m in _MODES if m in data]
        if len(modes) != 1:
            raise ValueError(f"a level test needs one of {_MODES}: {data!r}")
        return cls(data["comparison"], data[modes[0]], modes[0])

    def to_dict(self) -> dict[str, str]:
        return {"comparison": self.comparison, self.mode: self.level}


_MODES = ("at_least", "is", "is_not")


Compiled = list[list[tuple[int, int, str]]]


@dataclass
class EvidenceRequirement:
    """What a pair needs before the score alone may auto-merge it.

    ``any``: alternatives, one of which must hold with all its tests; ``unless``:
    alternatives that, when one holds, forbid the auto-merge whatever the score. A pair
    that fails goes to review at most; deterministic rules are not affected. Written in
    settings as ``{"any": [[test, ...], ...], "unless": [[test, ...], ...]}``.
    """

    any: list[list[LevelTest]]
    unless: list[list[LevelTest]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if any(not tests for tests in (*self.any, *self.unless)):
            raise ValueError("an evidence alternative needs at least one test")
        self._any: Compiled = []
        self._unless: Compiled = []

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvidenceRequirement:
        unknown = set(data) - {"any", "unless"}
        if unknown:
            raise ValueError(f"evidence requirement: unknown keys {sorted(unknown)}")

        def tests(groups: list[list[dict[str, str]]]) -> list[list[LevelTest]]:
            return [[LevelTest.from_dict(t) for t in group] for group in groups]

        return cls(tests(data.get("any") or []), tests(data.get("unless") or []))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"any": [[t.to_dict() for t in g] for g in self.any]}
        if self.unless:
            out["unless"] = [[t.to_dict() for t in g] for g in self.unless]
        return out

    def bind(self, labels: dict[str, list[str]]) -> None:
        """Resolve (comparison name -> level labels) to (comparison index, level, exact)."""
        names = list(labels)

        def compile_(groups: list[list[LevelTest]]) -> Compiled:
            out = []
            for group in groups:
                tests = []
                for t in group:
                    if t.comparison not in labels:
                        raise ValueError(f"evidence requirement names unknown comparison "
                                         f"{t.comparison!r}")
                    if t.level not in labels[t.comparison]:
                        raise ValueError(f"comparison {t.comparison!r} has no level "
                                         f"{t.level!r}; its levels are {labels[t.comparison]}")
                    tests.append((names.index(t.comparison),
                                  labels[t.comparison].index(t.level), t.mode))
                out.append(tests)
            return out

        self._any, self._unless = compile_(self.any), compile_(self.unless)

    @staticmethod
    def _one(level: int, top: int, mode: str) -> bool:
        if mode == "is":
            return level == top
        if mode == "is_not":
            return level != top
        return 0 <= level <= top

    def holds(self, levels: Sequence[int]) -> bool:
        one = self._one
        if self._any and not any(all(one(levels[k], top, ex) for k, top, ex in tests)
                                 for tests in self._any):
            return False
        return not any(all(one(levels[k], top, ex) for k, top, ex in tests)
                       for tests in self._unless)

    def forbids(self, levels: Sequence[int]) -> bool:
        """Whether an ``unless`` alternative holds: no score may merge this pair."""
        one = self._one
        return any(all(one(levels[k], top, ex) for k, top, ex in tests)
                   for tests in self._unless)

    def holds_array(self, levels: Sequence[np.ndarray]) -> np.ndarray:
        """``holds`` for many pairs: one level array per comparison."""
        size = len(levels[0]) if levels else 0

        def some(groups: Compiled) -> np.ndarray:
            out = np.zeros(size, dtype=bool)
            for tests in groups:
                every = np.ones(size, dtype=bool)
                for k, top, mode in tests:
                    every &= (levels[k] == top) if mode == "is" else \
                        (levels[k] != top) if mode == "is_not" else \
                        (levels[k] >= 0) & (levels[k] <= top)
                out |= every
            return out

        ok = some(self._any) if self._any else np.ones(size, dtype=bool)
        return ok & ~some(self._unless)
