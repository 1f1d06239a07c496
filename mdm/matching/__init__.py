"""Pure matching engine: normalise, block, score (Fellegi-Sunter), cluster without chaining.

This package holds two rooms. The engine (batch, blocking, candidates, clustering,
comparisons, decisions, defaults, engine, explanations, features, incremental, normalize,
params, records, rules, schemas, settings, training, and this file) is pure: no Flask, no
SQLAlchemy, dataclasses and arrays in and out (tests/unit/test_layering.py holds it to
that). The hub's side (models, index, linker, service, apply, api, cli, domains) stores
what the engine decides and is the only part that touches the database.
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
