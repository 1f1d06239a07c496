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

__all__ = ["Outcome", "Rule", "RuleTest", "TESTS"]


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
