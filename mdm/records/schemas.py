from __future__ import annotations

import marshmallow as ma

from mdm.web.schemas import PageArgs


class RecordInSchema(ma.Schema):
    source_system = ma.fields.String(
        metadata={"description": "Source system code; defaults to the key's own system"}
    )
    source_id = ma.fields.Raw(
        required=True,
        metadata={
            "description": "The record's id in its system (a number is taken as its digits)",
            # What ingest._source_id accepts: a non-blank string up to 200 characters, or an
            # integer; never null.
            "anyOf": [{"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"},
                      {"type": "integer"}],
        },
    )
    attributes = ma.fields.Dict(required=True, keys=ma.fields.String())
    active = ma.fields.Boolean(load_default=True)


class BulkItemSchema(ma.Schema):
    # Items are validated one by one by the ingestion service so that one bad record is
    # reported with its reason instead of failing the whole request.
    source_id = ma.fields.Raw(required=True)
    attributes = ma.fields.Raw(load_default=dict)
    active = ma.fields.Boolean(load_default=True)


class BulkInSchema(ma.Schema):
    source_system = ma.fields.String()
    # Items are checked record by record, so one bad record (even a null or a non-object) is
    # reported as rejected in its result, not by refusing the whole call.
    records = ma.fields.List(
        ma.fields.Raw(allow_none=True, metadata={
            "description": "A record (source_id, attributes, active); anything else is "
                           "rejected in its result"}),
        required=True, validate=ma.validate.Length(min=1, max=10_000)
    )


class FindingSchema(ma.Schema):
    attribute = ma.fields.String()
    rule = ma.fields.String()
    severity = ma.fields.String()
    message = ma.fields.String()


class ResultSchema(ma.Schema):
    source_id = ma.fields.String(allow_none=True)
    status = ma.fields.String(
        required=True,
        metadata={
            "description": "created, updated, unchanged, deactivated, reactivated or rejected"
        },
    )
    golden_id = ma.fields.String(allow_none=True)
    errors = ma.fields.Dict()
    quality = ma.fields.List(ma.fields.Nested(FindingSchema))
    line = ma.fields.Integer()


class BulkResultSchema(ma.Schema):
    summary = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    results = ma.fields.List(ma.fields.Nested(ResultSchema), required=True)


class SourceRecordSchema(ma.Schema):
    domain = ma.fields.String()
    source_system = ma.fields.String()
    source_id = ma.fields.String()
    golden_id = ma.fields.String()
    active = ma.fields.Boolean()
    version = ma.fields.Integer()
    attributes = ma.fields.Dict()
    quality_status = ma.fields.String()
    quality = ma.fields.List(ma.fields.Nested(FindingSchema))
    created_at = ma.fields.String()
    updated_at = ma.fields.String()


class GoldenSearchArgs(PageArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(["active", "merged", "retired"]))
    quality_status = ma.fields.String(validate=ma.validate.OneOf(["ok", "warning", "error"]))
    q = ma.fields.String(metadata={"description": "Text contained in the display name"})
    attr = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "Exact attribute filter name:value; repeatable"},
    )


class AsOfArgs(ma.Schema):
    as_of = ma.fields.AwareDateTime(
        default_timezone=__import__("datetime").timezone.utc,
        metadata={"description": "Return the record as it was at this time (ISO 8601)"},
    )


class VersionSchema(ma.Schema):
    id = ma.fields.String()
    domain = ma.fields.String()
    version = ma.fields.Integer()
    status = ma.fields.String()
    merged_into = ma.fields.String(allow_none=True)
    attributes = ma.fields.Dict()
    provenance = ma.fields.Dict()
    valid_from = ma.fields.String()
    action = ma.fields.String()
    actor = ma.fields.String()
    reason = ma.fields.String(allow_none=True)
    request_id = ma.fields.String(allow_none=True)


class QualityArgs(PageArgs):
    rule = ma.fields.String()
    severity = ma.fields.String(validate=ma.validate.OneOf(["error", "warning"]))
    golden_id = ma.fields.String()


class QualityIssueSchema(ma.Schema):
    id = ma.fields.Integer()
    golden_id = ma.fields.String()
    source_system = ma.fields.String()
    source_id = ma.fields.String()
    attribute = ma.fields.String()
    rule = ma.fields.String()
    severity = ma.fields.String()
    message = ma.fields.String()
    created_at = ma.fields.String()


class QualityPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(QualityIssueSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True)
