"""Request and response shapes of the stewardship API."""
from __future__ import annotations

import marshmallow as ma

from mdm.stewardship.models import CHANGE_STATUSES, DECISIONS, TASK_STATUSES
from mdm.web.schemas import ANY_BUT_NULL, GoldenSchema, PageArgs

GOLDEN_ID = ma.fields.String(validate=ma.validate.Length(min=1, max=36))
REASON = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000),
                          metadata={"description": "Why (kept in the audit trail)"})


class StewardSourceKeySchema(ma.Schema):
    source_system = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=50))
    source_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


# --- review queue ---------------------------------------------------------------------------

class ReviewTaskListArgs(PageArgs):
    domain = ma.fields.String()
    status = ma.fields.String(load_default="open", validate=ma.validate.OneOf(TASK_STATUSES))
    min_score = ma.fields.Float(allow_nan=False)
    max_score = ma.fields.Float(allow_nan=False)
    min_age_hours = ma.fields.Float(allow_nan=False, validate=ma.validate.Range(min=0, max=1e6),
                                    metadata={"description": "Only tasks at least this old"})
    max_age_hours = ma.fields.Float(allow_nan=False, validate=ma.validate.Range(min=0, max=1e6),
                                    metadata={"description": "Only tasks at most this old"})
    assignee = ma.fields.String()
    unassigned = ma.fields.Boolean()
    source_system = ma.fields.List(ma.fields.String(), metadata={
        "description": "Tasks involving records of any of these systems (repeatable)"})
    golden_id = ma.fields.String()


class ReviewTaskSchema(ma.Schema):
    id = ma.fields.String(required=True)
    domain = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    golden_ids = ma.fields.List(ma.fields.String(), required=True)
    score = ma.fields.Float(required=True)
    source_record_ids = ma.fields.List(ma.fields.Integer(), allow_none=True)
    source_systems = ma.fields.List(ma.fields.String())
    explanation = ma.fields.Dict()
    assignee = ma.fields.String(allow_none=True)
    created_by = ma.fields.String()
    created_at = ma.fields.String()
    age_seconds = ma.fields.Integer()
    deferred_until = ma.fields.String(allow_none=True)
    decision = ma.fields.String(allow_none=True)
    decided_by = ma.fields.String(allow_none=True)
    decided_at = ma.fields.String(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    operation_id = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()
    etag = ma.fields.String(allow_none=True, metadata={
        "description": "Send as If-Match when claiming or deciding (GET sets the ETag header)"})


class ReviewTaskPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ReviewTaskSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True)


class ReviewSourceRecordSchema(ma.Schema):
    id = ma.fields.Integer()
    source_system = ma.fields.String()
    source_id = ma.fields.String()
    active = ma.fields.Boolean()
    attributes = ma.fields.Dict()
    updated_at = ma.fields.String()


class ReviewRecordSchema(ma.Schema):
    golden = ma.fields.Nested(GoldenSchema)
    current_id = ma.fields.String()
    source_record_count = ma.fields.Integer()
    source_records = ma.fields.List(ma.fields.Nested(ReviewSourceRecordSchema))


class ReviewComparisonSchema(ma.Schema):
    attribute = ma.fields.String()
    values = ma.fields.List(ma.fields.Raw(allow_none=True))
    same = ma.fields.Boolean()


class ReviewTaskDetailSchema(ReviewTaskSchema):
    records = ma.fields.List(ma.fields.Nested(ReviewRecordSchema))
    comparison = ma.fields.List(ma.fields.Nested(ReviewComparisonSchema))


class ReviewAssignInSchema(ma.Schema):
    assignee = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


class ReviewDecisionInSchema(ma.Schema):
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(DECISIONS))
    reason = REASON
    defer_until = ma.fields.AwareDateTime(
        default_timezone=__import__("datetime").timezone.utc,
        metadata={"description": "defer: when to look again (informational)"})


class LineageOperationSchema(ma.Schema):
    id = ma.fields.String(required=True)
    domain = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "merge or unmerge"})
    survivor_id = ma.fields.String(metadata={
        "description": "merge: the record that stands for the others; unmerge: the record "
                       "split from"})
    other_ids = ma.fields.List(ma.fields.String(), metadata={
        "description": "merge: the records merged away; unmerge: the new record(s)"})
    source_record_ids = ma.fields.List(ma.fields.Integer())
    undoes = ma.fields.String(allow_none=True)
    review_task_id = ma.fields.String(allow_none=True)
    actor = ma.fields.String()
    reason = ma.fields.String()
    request_id = ma.fields.String(allow_none=True)
    at = ma.fields.String(allow_none=True)


class ReviewDecisionResultSchema(ma.Schema):
    task = ma.fields.Nested(ReviewTaskSchema, required=True)
    operation = ma.fields.Nested(LineageOperationSchema, allow_none=True)
    golden = ma.fields.Nested(GoldenSchema, allow_none=True)


class ReviewQueueStatSchema(ma.Schema):
    domain = ma.fields.String()
    status = ma.fields.String()
    age = ma.fields.String(metadata={"description": "lt_1d, 1d_7d, 7d_30d or gt_30d"})
    count = ma.fields.Integer()
    oldest_age_seconds = ma.fields.Integer()


# --- merge, unmerge, lineage ----------------------------------------------------------------

class StewardMergeInSchema(ma.Schema):
    golden_ids = ma.fields.List(GOLDEN_ID, required=True,
                                validate=ma.validate.Length(min=1, max=100), metadata={
                                    "description": "The other golden records to merge with "
                                                   "this one"})
    versions = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), metadata={
        "description": "Optional: the version you saw of each other record (412 if stale)"})
    reason = REASON


class StewardUnmergeInSchema(ma.Schema):
    source_records = ma.fields.List(ma.fields.Nested(StewardSourceKeySchema),
                                    validate=ma.validate.Length(min=1, max=10_000))
    operation_id = ma.fields.String(validate=ma.validate.Length(min=1, max=36), metadata={
        "description": "Split out what this earlier merge brought in"})
    reason = REASON

    @ma.validates_schema
    def _one_of(self, data: dict, **_kwargs: object) -> None:
        if ("source_records" in data) == ("operation_id" in data):
            raise ma.ValidationError("Give source_records or operation_id (one of them).",
                                     "source_records")


class StewardMergeResultSchema(ma.Schema):
    operation = ma.fields.Nested(LineageOperationSchema, required=True)
    golden = ma.fields.Nested(GoldenSchema, required=True, metadata={
        "description": "merge: the survivor; unmerge: the record split from"})
    created = ma.fields.Nested(GoldenSchema, allow_none=True, metadata={
        "description": "unmerge: the new golden record"})


class LineageSchema(ma.Schema):
    golden_id = ma.fields.String(required=True)
    current_id = ma.fields.String(required=True, metadata={
        "description": "The record that stands for this one now"})
    came_from = ma.fields.List(ma.fields.String())
    went_to = ma.fields.List(ma.fields.String())
    related_ids = ma.fields.List(ma.fields.String())
    operations = ma.fields.List(ma.fields.Nested(LineageOperationSchema))


# --- not-a-match ----------------------------------------------------------------------------

class NotAMatchInSchema(ma.Schema):
    golden_ids = ma.fields.List(GOLDEN_ID, validate=ma.validate.Length(equal=2))
    source_records = ma.fields.List(ma.fields.Nested(StewardSourceKeySchema),
                                    validate=ma.validate.Length(equal=2))
    reason = REASON

    @ma.validates_schema
    def _one_of(self, data: dict, **_kwargs: object) -> None:
        if ("golden_ids" in data) == ("source_records" in data):
            raise ma.ValidationError("Give golden_ids or source_records (one of them).",
                                     "golden_ids")


class NotAMatchArgs(PageArgs):
    active = ma.fields.Boolean(load_default=True)
    key = ma.fields.String(metadata={"description": "A golden id or sr:<source record id>"})


class NotAMatchSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    domain = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "golden or source_record"})
    left = ma.fields.String()
    right = ma.fields.String()
    active = ma.fields.Boolean()
    origin = ma.fields.String()
    reason = ma.fields.String()
    created_by = ma.fields.String()
    created_at = ma.fields.String(allow_none=True)
    request_id = ma.fields.String(allow_none=True)
    revoked_by = ma.fields.String(allow_none=True)
    revoked_at = ma.fields.String(allow_none=True)
    revoke_reason = ma.fields.String(allow_none=True)


class NotAMatchPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(NotAMatchSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True)


class StewardReasonInSchema(ma.Schema):
    reason = REASON


# --- overrides and change requests ----------------------------------------------------------

class StewardOverrideInSchema(ma.Schema):
    value = ma.fields.Raw(required=True, allow_none=False, metadata=ANY_BUT_NULL)
    reason = REASON


class StewardReasonArgs(ma.Schema):
    reason = REASON


class ChangeRequestSchema(ma.Schema):
    id = ma.fields.String(required=True)
    domain = ma.fields.String()
    golden_id = ma.fields.String()
    attribute = ma.fields.String()
    value = ma.fields.Raw(allow_none=True)
    previous = ma.fields.Raw(allow_none=True)
    provenance = ma.fields.Dict(allow_none=True)
    origin = ma.fields.String(metadata={"description": "override (a steward's pin) or "
                                                      "survivorship (from source records)"})
    status = ma.fields.String()
    requested_by = ma.fields.String()
    requested_at = ma.fields.String(allow_none=True)
    request_id = ma.fields.String(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    decided_by = ma.fields.String(allow_none=True)
    decided_at = ma.fields.String(allow_none=True)
    decision_reason = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()


class StewardOverrideResultSchema(ma.Schema):
    golden = ma.fields.Nested(GoldenSchema, required=True)
    change_request = ma.fields.Nested(ChangeRequestSchema, allow_none=True, metadata={
        "description": "Set when the change waits for a second steward's approval"})


class ChangeRequestArgs(PageArgs):
    domain = ma.fields.String()
    status = ma.fields.String(load_default="pending", validate=ma.validate.OneOf(CHANGE_STATUSES))
    golden_id = ma.fields.String()


class ChangeRequestPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ChangeRequestSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True)


class ChangeApproveInSchema(ma.Schema):
    reason = ma.fields.String(validate=ma.validate.Length(max=2000))
