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

__all__ = ["MAX_TF_BOOST", "MIN_TF_COUNT", "ComparisonParams", "ModelParams",
           "TermFrequencies", "default_m", "default_u", "prior_m", "prior_u"]

# Probabilities are clamped so a level never becomes certain proof either way.
_FLOOR = 1e-6
# A value rarer than the hub has seen may raise a level's weight by at most this many
# bits (Splink's ``tf_minimum_u_value``, relative to u): a value new to an incremental
# hub may be about to become common. It also bounds which values are worth storing.
MAX_TF_BOOST = 2.0
# A value seen fewer times than this counts as rare: a handful of records sharing a
# name is more likely one organisation sent by several systems than a common name
# (frequencies counted over data with duplicates overstate them, most on small data).
MIN_TF_COUNT = 5


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


def prior_m(comparison: Any) -> list[float]:
    """The comparison's declared m prior, else the generic one."""
    return comparison.m_prior or default_m(len(comparison.labels))


def prior_u(comparison: Any) -> list[float]:
    """The comparison's declared u prior, else the generic one."""
    return comparison.u_prior or default_u(len(comparison.labels))


@dataclass
class ComparisonParams:
    m: list[float]
    u: list[float]

    def weights(self) -> list[float]:
        """log2 Bayes factor of each level."""
        return [math.log2(_clamp(m) / _clamp(u)) for m, u in zip(self.m, self.u, strict=True)]


@dataclass
class TermFrequencies:
    """How often values of one comparison's feature occur among a domain's records.

    ``counts`` holds only the values frequent enough to change a score; any other value
    is rarer than that, so it gets the largest boost the engine allows.

    Where they come from: a batch counts them over the records it matches, and
    ``mdm match`` stores them with the trained parameters, which incremental matching
    then reads; a young domain's ingestion recounts them with every automatic training
    (``mdm.matching.autotrain``: at each doubling of the domain up to its
    ``auto_train_until``). They are not counted up in every ingest transaction on purpose: a
    counter row for "GmbH" or "Berlin" would be written by nearly every ingest and
    serialise them all, while a value's share of a hub changes slowly. A value new
    since the last run counts as rare (boost capped at ``MAX_TF_BOOST``), and safety
    before any training comes from the level priors and ``untrained_auto_merge``, not
    from frequencies.
    """

    records: int
    counts: dict[str, int]

    def frequency(self, value: Any) -> float:
        """Share of records with ``value`` (0.0 for a value rarer than those kept)."""
        return self.counts.get(value, 0) / self.records if self.records else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"records": self.records, "counts": self.counts}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TermFrequencies:
        return cls(int(data["records"]), {str(k): int(v) for k, v in data["counts"].items()})


@dataclass
class ModelParams:
    settings_version: str
    probability_two_random_records_match: float
    comparisons: dict[str, ComparisonParams]
    training: dict[str, Any] = field(default_factory=dict)
    # Comparison name -> value frequencies, for comparisons with term-frequency adjustment.
    term_frequencies: dict[str, TermFrequencies] = field(default_factory=dict)
    _version: str | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def defaults(cls, settings: MatchSettings, prior: float = 1e-4) -> ModelParams:
        """Untrained parameters: each comparison's declared priors (else the generic ones).

        The engine holds untrained parameters to the settings' ``untrained_auto_merge``
        requirement, because priors cannot know which values are common in this hub.
        """
        return cls(
            settings.version,
            settings.training.probability_two_random_records_match or prior,
            {
                c.name: ComparisonParams(prior_m(c), prior_u(c))
                for c in settings.comparisons
            },
            {"source": "defaults"},
        )

    @property
    def trained(self) -> bool:
        return self.training.get("source") != "defaults"

    def with_term_frequencies(self, tf: dict[str, TermFrequencies]) -> ModelParams:
        """A copy scoring with ``tf`` (the same m, u and prior)."""
        return ModelParams(self.settings_version, self.probability_two_random_records_match,
                           self.comparisons, dict(self.training), dict(tf))

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
        out = {
            "settings_version": self.settings_version,
            "probability_two_random_records_match": self.probability_two_random_records_match,
            "comparisons": {k: {"m": v.m, "u": v.u} for k, v in self.comparisons.items()},
            "training": self.training,
        }
        if self.term_frequencies:
            out["term_frequencies"] = {k: v.to_dict()
                                       for k, v in self.term_frequencies.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelParams:
        return cls(
            data["settings_version"],
            float(data["probability_two_random_records_match"]),
            {k: ComparisonParams(list(v["m"]), list(v["u"]))
             for k, v in data["comparisons"].items()},
            dict(data.get("training", {})),
            {k: TermFrequencies.from_dict(v)
             for k, v in (data.get("term_frequencies") or {}).items()},
        )

    @property
    def version(self) -> str:
        """Hash of everything that changes a score (term frequencies included).

        Computed once: parameters are not edited after construction, and a term
        frequency table makes the hash worth keeping.
        """
        if self._version is None:
            body = {k: v for k, v in self.to_dict().items() if k != "training"}
            self._version = hashlib.sha256(
                json.dumps(body, sort_keys=True).encode()
            ).hexdigest()[:12]
        return self._version
