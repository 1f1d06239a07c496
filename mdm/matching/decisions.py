"""What the engine decided and why, as JSON-serialisable dataclasses.

Every decision carries the settings and parameter versions it was made with, so a
steward (or an auditor) can tell which configuration produced a merge.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import Enum, StrEnum
from typing import Any

__all__ = [
    "Action",
    "BatchResult",
    "ClusteringDiff",
    "Contribution",
    "MatchDecision",
    "PairDecision",
    "PairOutcome",
    "ReviewGroup",
]


class PairOutcome(StrEnum):
    AUTO_MERGE = "auto_merge"      # at or above the auto-merge threshold
    REVIEW = "review"              # between review and auto-merge thresholds
    NO_MATCH = "no_match"          # below the review threshold
    BLOCKED = "blocked"            # would merge, but conflicts with a cluster member


class Action(StrEnum):
    MERGE = "merge"
    REVIEW = "review"
    NEW = "new"


class _Json:
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), default=_enum_value, **kwargs)


def _enum_value(obj: Any) -> Any:
    if isinstance(obj, Enum):
        return obj.value
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


@dataclass
class Contribution(_Json):
    """One comparison's share of a pair score."""

    comparison: str
    level: int               # -1 = null (a side is missing)
    label: str
    bayes_factor: float
    log2_weight: float       # the level's weight, term-frequency adjustment included
    # The part of log2_weight that comes from how common the agreeing value is in the
    # hub (Splink's term-frequency adjustment): negative for a common city, say.
    tf_adjustment: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        # Written out: dataclasses.asdict deep-copies recursively, a hot-path cost.
        return {"comparison": self.comparison, "level": self.level, "label": self.label,
                "bayes_factor": self.bayes_factor, "log2_weight": self.log2_weight,
                "tf_adjustment": self.tf_adjustment}


@dataclass
class PairDecision(_Json):
    left_id: str
    right_id: str
    probability: float
    match_weight: float      # log2 odds including the prior
    outcome: PairOutcome
    contributions: list[Contribution]
    rule: str | None = None  # deterministic rule that decided, if any
    reason: str | None = None
    settings_version: str = ""
    params_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"left_id": self.left_id, "right_id": self.right_id,
                "probability": self.probability, "match_weight": self.match_weight,
                "outcome": self.outcome,
                "contributions": [c.to_dict() for c in self.contributions],
                "rule": self.rule, "reason": self.reason,
                "settings_version": self.settings_version,
                "params_version": self.params_version}


@dataclass
class MatchDecision(_Json):
    """Result of matching one incoming record against its candidates."""

    record_id: str
    action: Action
    target_record_id: str | None     # best candidate for MERGE
    target_cluster_id: str | None
    pairs: list[PairDecision]        # candidates at or above review, best first
    reason: str
    settings_version: str
    params_version: str

    def to_dict(self) -> dict[str, Any]:
        return {"record_id": self.record_id, "action": self.action,
                "target_record_id": self.target_record_id,
                "target_cluster_id": self.target_cluster_id,
                "pairs": [p.to_dict() for p in self.pairs], "reason": self.reason,
                "settings_version": self.settings_version,
                "params_version": self.params_version}


@dataclass
class ReviewGroup(_Json):
    """Clusters a steward should look at together, with the pairs that link them."""

    record_ids: list[str]
    pairs: list[tuple[str, str, float, str]]   # (left, right, probability, why)


@dataclass
class ClusteringDiff(_Json):
    """What a re-match would change relative to the current clustering."""

    merges: list[dict[str, Any]] = field(default_factory=list)  # new cluster <- old ones
    splits: list[dict[str, Any]] = field(default_factory=list)  # old cluster -> new ones
    unchanged: int = 0
    new_records: list[str] = field(default_factory=list)


@dataclass
class BatchResult(_Json):
    clusters: list[list[str]]                  # auto-merged clusters (size >= 1)
    review: list[ReviewGroup]
    decisions: list[PairDecision]              # every scored pair >= review threshold
    stats: dict[str, Any]
    settings_version: str
    params_version: str
    diff: ClusteringDiff | None = None

    def cluster_of(self) -> dict[str, int]:
        return {rid: k for k, members in enumerate(self.clusters) for rid in members}
