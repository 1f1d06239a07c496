"""Marshmallow pieces shared by several blueprints."""
from __future__ import annotations

import marshmallow as ma

# OpenAPI 3.0 has no "not null" for an untyped value: list every JSON type except null, so the
# document refuses null where the server does (a Raw field with allow_none=False).
ANY_BUT_NULL: dict = {"anyOf": [{"type": t} for t in
                                ("string", "number", "integer", "boolean", "object", "array")]}


class PageArgs(ma.Schema):
    cursor = ma.fields.String(metadata={"description": "Opaque cursor from a previous page"})
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))


class GoldenSchema(ma.Schema):
    id = ma.fields.String(required=True)
    domain = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    merged_into = ma.fields.String(allow_none=True)
    attributes = ma.fields.Dict(required=True)
    overrides = ma.fields.List(ma.fields.String())
    quality_status = ma.fields.String()
    updated_at = ma.fields.String(allow_none=True)
    provenance = ma.fields.Dict()


class GoldenPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(GoldenSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True)
