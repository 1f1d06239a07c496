"""Pure matching engine: normalise, block, score (Fellegi-Sunter), cluster without chaining.

No Flask or SQLAlchemy here: dataclasses in, dataclasses out. The DB-facing use cases
live in ``mdm.matching.service``.
"""

from mdm.matching.batch import dry_run_diff, match_batch
from mdm.matching.blocking import BlockingRule, block_on, blocking_keys
from mdm.matching.clustering import Constraints
from mdm.matching.decisions import (
    Action,
    BatchResult,
    ClusteringDiff,
    Contribution,
    MatchDecision,
    PairDecision,
    PairOutcome,
    ReviewGroup,
)
from mdm.matching.defaults import DEFAULT_SETTINGS, default_settings
from mdm.matching.engine import MatchEngine
from mdm.matching.incremental import match_one
from mdm.matching.params import ModelParams
from mdm.matching.records import PreparedRecord, Record
from mdm.matching.settings import MatchSettings
from mdm.matching.training import estimate_params

__all__ = [
    "DEFAULT_SETTINGS",
    "Action",
    "BatchResult",
    "BlockingRule",
    "ClusteringDiff",
    "Constraints",
    "Contribution",
    "MatchDecision",
    "MatchEngine",
    "MatchSettings",
    "ModelParams",
    "PairDecision",
    "PairOutcome",
    "PreparedRecord",
    "Record",
    "ReviewGroup",
    "block_on",
    "blocking_keys",
    "default_settings",
    "dry_run_diff",
    "estimate_params",
    "match_batch",
    "match_one",
]
