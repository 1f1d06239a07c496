"""Request and response shapes of the matching API."""
from __future__ import annotations

import marshmallow as ma

RECORD_KEY = ma.fields.String(
    required=True, validate=ma.validate.Length(min=1, max=300),
    metadata={"description": "A golden id, sr:<source record id> or <SYSTEM>/<source id>"})


class ExplainArgs(ma.Schema):
    a = RECORD_KEY
    b = RECORD_KEY


class ContributionSchema(ma.Schema):
    comparison = ma.fields.String(required=True)
    level = ma.fields.Integer(required=True, metadata={"description": "-1 when a side is null"})
    label = ma.fields.String(required=True)
    bayes_factor = ma.fields.Float(required=True)
    log2_weight = ma.fields.Float(required=True)
    tf_adjustment = ma.fields.Float(metadata={
        "description": "part of log2_weight from how common the agreeing value is in the "
                       "domain (term-frequency adjustment); absent in older decisions"})


class PairSchema(ma.Schema):
    left_id = ma.fields.String(required=True)
    right_id = ma.fields.String(required=True)
    probability = ma.fields.Float(required=True)
    match_weight = ma.fields.Float(required=True, metadata={
        "description": "log2 posterior odds (prior included)"})
    outcome = ma.fields.String(required=True, metadata={
        "description": "auto_merge, review, no_match or blocked"})
    contributions = ma.fields.List(ma.fields.Nested(ContributionSchema), required=True)
    rule = ma.fields.String(allow_none=True, metadata={
        "description": "Deterministic rule that decided the pair"})
    reason = ma.fields.String(allow_none=True)
    conflict = ma.fields.String(allow_none=True, metadata={
        "description": "Why the two may never share a golden record, if they may not"})
    settings_version = ma.fields.String()
    params_version = ma.fields.String()


class MatchDecisionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    domain = ma.fields.String(required=True)
    mode = ma.fields.String(required=True, metadata={"description": "incremental or batch"})
    source_record_id = ma.fields.Integer(allow_none=True)
    golden_id = ma.fields.String(required=True, metadata={
        "description": "The golden record the record joined (batch: the merge survivor)"})
    action = ma.fields.String(required=True, metadata={"description": "merge, review or new"})
    probability = ma.fields.Float(allow_none=True, metadata={
        "description": "Probability of the best candidate pair"})
    related_golden_ids = ma.fields.List(ma.fields.String(), required=True)
    review_task_id = ma.fields.String(allow_none=True)
    settings_version = ma.fields.String(required=True)
    params_version = ma.fields.String(required=True)
    explanation = ma.fields.Dict(required=True, metadata={
        "description": "The engine's decision: pairs with comparison levels and weights"})
    actor = ma.fields.String(required=True)
    request_id = ma.fields.String(allow_none=True)
    created_at = ma.fields.String(required=True)


class SideSchema(ma.Schema):
    key = ma.fields.String(required=True)
    golden_ids = ma.fields.List(ma.fields.String(), required=True)
    source_record_ids = ma.fields.List(ma.fields.Integer(), required=True)


class ExplainSchema(ma.Schema):
    domain = ma.fields.String(required=True)
    settings_version = ma.fields.String(required=True)
    params_version = ma.fields.String(required=True)
    a = ma.fields.Nested(SideSchema, required=True)
    b = ma.fields.Nested(SideSchema, required=True)
    best = ma.fields.Nested(PairSchema, allow_none=True, required=True)
    pairs = ma.fields.List(ma.fields.Nested(PairSchema), required=True, metadata={
        "description": "Live scores of record pairs across the two sides, best first"})
    stored = ma.fields.List(ma.fields.Nested(MatchDecisionSchema), required=True, metadata={
        "description": "Stored decisions that involve both sides"})


class ParamsInfoSchema(ma.Schema):
    version = ma.fields.String(required=True)
    source = ma.fields.String(required=True, metadata={"description": "trained or defaults"})
    trained_at = ma.fields.String(allow_none=True)
    trained_by = ma.fields.String(allow_none=True)
    records = ma.fields.Integer(allow_none=True)
    probability_two_random_records_match = ma.fields.Float(required=True)
    comparisons = ma.fields.Dict(required=True, metadata={
        "description": "comparison -> {m: [...], u: [...]} per level"})


class MatchSettingsSchema(ma.Schema):
    domain = ma.fields.String(required=True)
    enabled = ma.fields.Boolean(required=True)
    origin = ma.fields.String(required=True, metadata={
        "description": "defaults (built-in settings) or domain (the YAML's match block)"})
    version = ma.fields.String(allow_none=True, required=True)
    settings = ma.fields.Dict(allow_none=True, required=True)
    params = ma.fields.Nested(ParamsInfoSchema, allow_none=True, required=True)
