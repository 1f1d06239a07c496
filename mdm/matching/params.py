"""Fellegi-Sunter parameters (m, u per comparison level and the prior), serialisable.

A trained ``ModelParams`` is stored next to the settings version it was trained for,
so incremental matching scores new records exactly as the last batch run did.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from mdm.matching.settings import MatchSettings

__all__ = ["ComparisonParams", "ModelParams", "default_m", "default_u"]

# Probabilities are clamped so a level never becomes certain proof either way.
_FLOOR = 1e-6


def _clamp(p: float) -> float:
    return min(max(p, _FLOOR), 1.0 - _FLOOR)


def default_m(n_levels: int) -> list[float]:
    """Prior m: matches mostly agree exactly, a few are fuzzy, very few disagree."""
    if n_levels == 1:
        return [1.0]
    raw = [0.7] + [0.3 * 0.5 ** k for k in range(n_levels - 2)] + [0.02]
    total = sum(raw)
    return [x / total for x in raw]


def default_u(n_levels: int) -> list[float]:
    """Prior u: random pairs almost always fall in the last ("else") level."""
    if n_levels == 1:
        return [1.0]
    raw = [0.001] + [0.005 * 2 ** k for k in range(n_levels - 2)] + [0.95]
    total = sum(raw)
    return [x / total for x in raw]


@dataclass
class ComparisonParams:
    m: list[float]
    u: list[float]

    def weights(self) -> list[float]:
        """log2 Bayes factor of each level."""
        return [math.log2(_clamp(m) / _clamp(u)) for m, u in zip(self.m, self.u, strict=True)]


@dataclass
class ModelParams:
    settings_version: str
    probability_two_random_records_match: float
    comparisons: dict[str, ComparisonParams]
    training: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def defaults(cls, settings: MatchSettings, prior: float = 1e-4) -> ModelParams:
        """Untrained parameters: usable, but a trained set is much better."""
        return cls(
            settings.version,
            settings.training.probability_two_random_records_match or prior,
            {
                c.name: ComparisonParams(default_m(len(c.labels)), default_u(len(c.labels)))
                for c in settings.comparisons
            },
            {"source": "defaults"},
        )

    def check(self, settings: MatchSettings) -> None:
        """Raise if these parameters do not fit the comparisons of ``settings``."""
        for c in settings.comparisons:
            p = self.comparisons.get(c.name)
            if p is None or len(p.m) != len(c.labels) or len(p.u) != len(c.labels):
                raise ValueError(
                    f"parameters do not fit comparison {c.name!r} of settings "
                    f"{settings.version}; retrain"
                )

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings_version": self.settings_version,
            "probability_two_random_records_match": self.probability_two_random_records_match,
            "comparisons": {k: {"m": v.m, "u": v.u} for k, v in self.comparisons.items()},
            "training": self.training,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelParams:
        return cls(
            data["settings_version"],
            float(data["probability_two_random_records_match"]),
            {k: ComparisonParams(list(v["m"]), list(v["u"]))
             for k, v in data["comparisons"].items()},
            dict(data.get("training", {})),
        )

    @property
    def version(self) -> str:
        body = {k: v for k, v in self.to_dict().items() if k != "training"}
        return hashlib.sha256(
            json.dumps(body, sort_keys=True).encode()
        ).hexdigest()[:12]
