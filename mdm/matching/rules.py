"""Deterministic rules that override the probabilistic score.

Rules are data: a name, an outcome and a list of tests, all of which must hold. They
are tried in order and the first that holds decides. ``non_match`` is hard: the pair
is never merged, directly or through a chain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
    """Comparison ``comparison`` reached level ``at_least`` or a more similar one."""

    comparison: str
    at_least: str  # a level label of that comparison, e.g. "token_set>=0.85"

    def to_dict(self) -> dict[str, str]:
        return {"comparison": self.comparison, "at_least": self.at_least}


@dataclass
class EvidenceRequirement:
    """Alternatives of strong evidence: one alternative must hold, with all its tests.

    Untrained parameters cannot know that half the hub shares a legal form or a city,
    so without training an auto-merge needs evidence of this kind (e.g. a close name
    *and* a matching street or phone); anything else goes to review at most.
    """

    alternatives: list[list[LevelTest]]

    def __post_init__(self) -> None:
        if any(not tests for tests in self.alternatives):
            raise ValueError("an evidence alternative needs at least one test")
        self._compiled: list[list[tuple[int, int]]] = []

    @classmethod
    def from_list(cls, data: list[list[dict[str, str]]]) -> EvidenceRequirement:
        return cls([[LevelTest(t["comparison"], t["at_least"]) for t in tests]
                    for tests in data])

    def to_list(self) -> list[list[dict[str, str]]]:
        return [[t.to_dict() for t in tests] for tests in self.alternatives]

    def bind(self, labels: dict[str, list[str]]) -> None:
        """Resolve (comparison name -> level labels) to (comparison index, max level)."""
        names = list(labels)
        compiled = []
        for alternative in self.alternatives:
            tests = []
            for t in alternative:
                if t.comparison not in labels:
                    raise ValueError(f"evidence requirement names unknown comparison "
                                     f"{t.comparison!r}")
                if t.at_least not in labels[t.comparison]:
                    raise ValueError(f"comparison {t.comparison!r} has no level {t.at_least!r}; "
                                     f"its levels are {labels[t.comparison]}")
                tests.append((names.index(t.comparison),
                              labels[t.comparison].index(t.at_least)))
            compiled.append(tests)
        self._compiled = compiled

    def holds(self, levels: Sequence[int]) -> bool:
        return any(all(0 <= levels[k] <= top for k, top in tests) for tests in self._compiled)

    def holds_array(self, levels: Sequence[np.ndarray]) -> np.ndarray:
        """``holds`` for many pairs: one level array per comparison."""
        size = len(levels[0]) if levels else 0
        out = np.zeros(size, dtype=bool)
        for tests in self._compiled:
            every = np.ones(size, dtype=bool)
            for k, top in tests:
                every &= (levels[k] >= 0) & (levels[k] <= top)
            out |= every
        return out
