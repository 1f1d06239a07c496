from __future__ import annotations

import marshmallow as ma


class CrosswalkEntrySchema(ma.Schema):
    source_system = ma.fields.String(required=True)
    source_id = ma.fields.String(required=True)
    active = ma.fields.Boolean()


class ResolutionSchema(ma.Schema):
    source_system = ma.fields.String()
    source_id = ma.fields.String()
    golden_id = ma.fields.String(required=True)
    requested_golden_id = ma.fields.String(
        allow_none=True, metadata={"description": "Set when the key's golden id was merged away"}
    )
    status = ma.fields.String()
    records = ma.fields.List(ma.fields.Nested(CrosswalkEntrySchema), required=True)


class SourceKeySchema(ma.Schema):
    source_system = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40))
    source_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


class BatchResolveInSchema(ma.Schema):
    keys = ma.fields.List(ma.fields.Nested(SourceKeySchema), required=True,
                          validate=ma.validate.Length(min=1, max=1000))


class BatchItemSchema(ma.Schema):
    source_system = ma.fields.String(required=True)
    source_id = ma.fields.String(required=True)
    found = ma.fields.Boolean(required=True)
    golden_id = ma.fields.String(allow_none=True)
    requested_golden_id = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    records = ma.fields.List(ma.fields.Nested(CrosswalkEntrySchema))


class BatchResolveOutSchema(ma.Schema):
    results = ma.fields.List(ma.fields.Nested(BatchItemSchema), required=True)
