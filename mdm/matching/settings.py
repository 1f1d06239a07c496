"""Match settings: everything that defines how a domain is matched, as plain data.

``MatchSettings.from_dict`` reads the ``match`` block of a domain definition;
``to_dict`` writes it back (JSON/YAML safe). ``version`` stamps every decision: it is
the optional human label plus a hash of the content, so any edit yields a new version.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from mdm.matching.blocking import BlockingRule, blocking_keys
from mdm.matching.comparisons import Comparison, comparison_from_dict
from mdm.matching.features import FeatureSchema, FeatureSpec
from mdm.matching.records import PreparedRecord, Record
from mdm.matching.rules import EvidenceRequirement, Rule

__all__ = ["LINK_TYPES", "MatchSettings", "Thresholds", "TrainingSettings"]

LINK_TYPES = ("dedupe_only", "link_only", "link_and_dedupe")


@dataclass(frozen=True)
class Thresholds:
    """Match-probability cut-offs and the evidence level that counts as a conflict.

    ``conflict_evidence_below`` is in log2 Bayes-factor units *without* the prior: a
    pair whose comparisons together point this strongly at "different" may not end up
    in one cluster through a chain of other pairs.
    """

    auto_merge: float = 0.99
    review: float = 0.8
    conflict_evidence_below: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 < self.review <= self.auto_merge <= 1.0:
            raise ValueError("thresholds need 0 < review <= auto_merge <= 1")


@dataclass(frozen=True)
class TrainingSettings:
    """How m/u are estimated when no stored parameters are given."""

    max_u_pairs: int = 200_000
    max_em_pairs: int = 200_000
    em_max_iterations: int = 30
    em_tolerance: float = 1e-4
    # Names of blocking rules to run EM sessions on; None = every prediction rule.
    em_blocking: list[str] | None = None
    # Known prior (e.g. 1/N for one-to-one linkage); None = estimated from the data.
    probability_two_random_records_match: float | None = None
    # Weight of the default m/u priors, in pseudo-pairs, so small data cannot push a
    # level to probability zero.
    prior_strength: float = 1.0
    seed: int = 42
    # Ingestion trains the parameters itself once the domain holds this many records,
    # and again each time it has doubled, up to ``auto_train_until`` records
    # (``mdm.matching.autotrain``); None = only ``mdm match`` trains.
    auto_train_from: int | None = None
    auto_train_until: int = 25_000


@dataclass
class MatchSettings:
    features: list[FeatureSpec]
    comparisons: list[Comparison]
    blocking: list[BlockingRule]
    rules: list[Rule] = field(default_factory=list)
    thresholds: Thresholds = field(default_factory=Thresholds)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    link_type: str = "dedupe_only"
    # Blocks above this size are compared within a sliding window over the records
    # sorted by ``window_sort`` instead of all-pairs, so one common key ("gmbh",
    # a shared call-centre phone) cannot make the job quadratic.
    max_block_size: int = 500
    window: int = 25
    window_sort: str | None = None
    label: str | None = None
    # What any score needs to auto-merge, and what untrained (default) parameters need
    # on top; None = no condition. Rule matches are not affected.
    auto_merge_requires: EvidenceRequirement | None = None
    untrained_auto_merge: EvidenceRequirement | None = None

    def __post_init__(self) -> None:
        if self.link_type not in LINK_TYPES:
            raise ValueError(f"link_type must be one of {LINK_TYPES}")
        self.schema = FeatureSchema(self.features)
        positions = self.schema.positions
        names = [c.name for c in self.comparisons]
        if len(set(names)) != len(names):
            raise ValueError("comparison names must be unique")
        parts: tuple[Any, ...] = (*self.comparisons, *self.blocking, *self.rules)
        for part in parts:
            missing = set(part.features) - set(positions)
            if missing:
                raise ValueError(f"{part!r} uses unknown features {sorted(missing)}")
            part.bind(positions)
        for requirement in (self.auto_merge_requires, self.untrained_auto_merge):
            if requirement is not None:
                requirement.bind({c.name: c.labels for c in self.comparisons})
        if self.window_sort is not None and self.window_sort not in positions:
            raise ValueError(f"window_sort feature {self.window_sort!r} is unknown")
        self._version: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchSettings:
        return cls(
            features=[FeatureSpec.from_dict(f) for f in data["features"]],
            comparisons=[comparison_from_dict(c) for c in data["comparisons"]],
            blocking=[BlockingRule.from_dict(b) for b in data["blocking"]],
            rules=[Rule.from_dict(r) for r in data.get("rules", [])],
            thresholds=Thresholds(**data.get("thresholds", {})),
            training=TrainingSettings(**data.get("training", {})),
            link_type=data.get("link_type", "dedupe_only"),
            max_block_size=data.get("max_block_size", 500),
            window=data.get("window", 25),
            window_sort=data.get("window_sort"),
            label=data.get("version"),
            auto_merge_requires=(EvidenceRequirement.from_dict(data["auto_merge_requires"])
                                 if data.get("auto_merge_requires") else None),
            untrained_auto_merge=(EvidenceRequirement.from_dict(data["untrained_auto_merge"])
                                  if data.get("untrained_auto_merge") else None),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.label:
            out["version"] = self.label
        out.update({
            "link_type": self.link_type,
            "features": [f.to_dict() for f in self.features],
            "comparisons": [c.to_dict() for c in self.comparisons],
            "blocking": [b.to_dict() for b in self.blocking],
            "rules": [r.to_dict() for r in self.rules],
            "thresholds": _dataclass_dict(self.thresholds),
            "training": _dataclass_dict(self.training),
            "max_block_size": self.max_block_size,
            "window": self.window,
        })
        if self.window_sort:
            out["window_sort"] = self.window_sort
        if self.auto_merge_requires is not None:
            out["auto_merge_requires"] = self.auto_merge_requires.to_dict()
        if self.untrained_auto_merge is not None:
            out["untrained_auto_merge"] = self.untrained_auto_merge.to_dict()
        return out

    @property
    def version(self) -> str:
        """``<label>+<hash>`` of the content; stable across from_dict/to_dict."""
        if self._version is None:
            content = self.to_dict()
            content.pop("version", None)
            digest = hashlib.sha256(
                json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
            ).hexdigest()[:12]
            self._version = f"{self.label}+{digest}" if self.label else digest
        return self._version

    def prepare(self, record: Record | PreparedRecord) -> PreparedRecord:
        """Normalise a record into this domain's feature row."""
        if isinstance(record, PreparedRecord):
            return record
        return self.schema.prepare(record)

    def blocking_keys(self, record: Record | PreparedRecord) -> list[str]:
        """Keys for the hub's blocking index: two records sharing any key are candidates."""
        return blocking_keys(self.prepare(record), self.blocking)

    def comparisons_using(self, features: set[str]) -> set[str]:
        """Names of comparisons that read any of ``features``."""
        return {c.name for c in self.comparisons if set(c.features) & features}


def _dataclass_dict(obj: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(obj)
