"""Marshmallow schemas of the registry's native HTTP API (documented in the host's OpenAPI)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from contracts.compatibility.result import Mode
from contracts.registry.models import FORMATS, LIFECYCLES, VERSION_STATES
from contracts.registry.semver import BUMPS

MODES = tuple(m.value for m in Mode)
_NAME = ma.validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,199}$",
    error="1-200 letters, digits, '.', '_' or '-', starting with a letter or digit.",
)
_SEMVER = ma.validate.Regexp(
    r"^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$",
    error="A semantic version MAJOR.MINOR.PATCH, e.g. 1.2.0.",
)


def _no_control_characters(value: str) -> None:
    # PostgreSQL text cannot hold NUL, and no name or label needs a control character
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise ma.ValidationError("Must not contain control characters.")


def _text(min: int = 0, max: int | None = None) -> list[ma.validate.Validator | Any]:
    return [ma.validate.Length(min=min, max=max), _no_control_characters]


_CONTENT_DOC = (
    "The contract document: a JSON object (or boolean, for JSON Schema) or its JSON/YAML text"
)


class ContractChangeSchema(ma.Schema):
    rule = ma.fields.String(required=True, metadata={"description": "Reason code"})
    level = ma.fields.String(
        required=True, validate=ma.validate.OneOf(("breaking", "warning", "info"))
    )
    path = ma.fields.String(required=True, metadata={"description": "JSON pointer"})
    message = ma.fields.String(required=True)
    area = ma.fields.String()
    direction = ma.fields.String(validate=ma.validate.OneOf(("backward", "forward")))
    against = ma.fields.String(metadata={"description": "The earlier version compared with"})
    waived = ma.fields.String()


class ContractConsumerSchema(ma.Schema):
    subject = ma.fields.String(dump_only=True)
    system = ma.fields.String(
        required=True,
        validate=_text(min=1, max=100),
        metadata={"description": "The consuming system"},
    )
    version_range = ma.fields.String(
        required=True,
        validate=_text(min=1, max=100),
        metadata={"description": "e.g. '>=1.0.0,<2.0.0', '^1.2.0', '~1.2.0', '1.x', '*'"},
    )
    contact = ma.fields.String(allow_none=True, validate=_text(max=200))
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)


class ContractConsumerUpdateSchema(ma.Schema):
    version_range = ma.fields.String(validate=_text(min=1, max=100))
    contact = ma.fields.String(allow_none=True, validate=_text(max=200))


class ContractSubjectSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=_NAME)
    format = ma.fields.String(required=True, validate=ma.validate.OneOf(FORMATS))
    owner_team = ma.fields.String(required=True, validate=_text(min=1, max=100))
    lifecycle = ma.fields.String(load_default="draft", validate=ma.validate.OneOf(LIFECYCLES))
    sunset_date = ma.fields.Date(
        allow_none=True, load_default=None, metadata={"description": "Required when deprecated"}
    )
    domain = ma.fields.String(
        allow_none=True,
        load_default=None,
        validate=_text(min=1, max=64),
        metadata={"description": "The MDM domain this contract carries"},
    )
    compatibility = ma.fields.String(
        allow_none=True,
        load_default=None,
        validate=ma.validate.OneOf(MODES),
        metadata={"description": "The subject's own mode; null: the registry default applies"},
    )
    description = ma.fields.String(allow_none=True, load_default=None, validate=_text(max=5000))
    effective_compatibility = ma.fields.String(dump_only=True)
    latest_version = ma.fields.String(dump_only=True, allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)


class ContractSubjectQuerySchema(ma.Schema):
    format = ma.fields.String(validate=ma.validate.OneOf(FORMATS))
    lifecycle = ma.fields.String(validate=ma.validate.OneOf(LIFECYCLES))
    domain = ma.fields.String(validate=_text(min=1, max=64))
    owner_team = ma.fields.String(validate=_text(min=1, max=100))


class ContractSubjectUpdateSchema(ma.Schema):
    owner_team = ma.fields.String(validate=_text(min=1, max=100))
    lifecycle = ma.fields.String(validate=ma.validate.OneOf(LIFECYCLES))
    sunset_date = ma.fields.Date(allow_none=True)
    domain = ma.fields.String(allow_none=True, validate=_text(min=1, max=64))
    compatibility = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(MODES))
    description = ma.fields.String(allow_none=True, validate=_text(max=5000))


class ContractVersionSummarySchema(ma.Schema):
    subject = ma.fields.String(required=True)
    version = ma.fields.String(required=True, metadata={"description": "Semantic version"})
    number = ma.fields.Integer(
        required=True, metadata={"description": "Per-subject sequence (Confluent version)"}
    )
    schema_id = ma.fields.Integer(required=True, metadata={"description": "Registry-wide id"})
    fingerprint = ma.fields.String(
        required=True, metadata={"description": "SHA-256 of the canonical JSON document"}
    )
    state = ma.fields.String(required=True, validate=ma.validate.OneOf(VERSION_STATES))
    sunset_date = ma.fields.Date(allow_none=True)
    created_by = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)


class ContractVersionSchema(ContractVersionSummarySchema):
    content = ma.fields.Raw(required=True, metadata={"description": "The contract document"})
    used_by = ma.fields.List(
        ma.fields.Nested(ContractConsumerSchema),
        required=True,
        metadata={"description": "Declared consumers whose range admits this version"},
    )


class ContractRegisteredVersionSchema(ContractVersionSchema):
    created = ma.fields.Boolean(
        required=True, metadata={"description": "False: identical content was already registered"}
    )
    changes = ma.fields.List(
        ma.fields.Nested(ContractChangeSchema),
        required=True,
        metadata={"description": "Changes from the previous version"},
    )


class ContractCandidateSchema(ma.Schema):
    content = ma.fields.Raw(
        required=True,
        allow_none=False,
        metadata={
            "description": _CONTENT_DOC,
            # any JSON value but null (OpenAPI 3.0 cannot say "not null" otherwise)
            "anyOf": [
                {"type": t} for t in ("string", "number", "integer", "boolean", "object", "array")
            ],
        },
    )
    version = ma.fields.String(
        validate=_SEMVER,
        metadata={"description": "Explicit semantic version; a new major version may break"},
    )
    bump = ma.fields.String(
        validate=ma.validate.OneOf(BUMPS),
        metadata={"description": "Derive the version from the latest one; 'major' may break"},
    )


class ContractVersionUpdateSchema(ma.Schema):
    state = ma.fields.String(required=True, validate=ma.validate.OneOf(VERSION_STATES))
    sunset_date = ma.fields.Date(allow_none=True, load_default=None)


class ContractCheckReportSchema(ma.Schema):
    subject = ma.fields.String(required=True)
    mode = ma.fields.String(required=True, validate=ma.validate.OneOf(MODES))
    compatible = ma.fields.Boolean(
        required=True, metadata={"description": "Compatible under the subject's mode"}
    )
    registrable = ma.fields.Boolean(required=True)
    reason = ma.fields.String(allow_none=True, metadata={"description": "Why it would be refused"})
    proposed_version = ma.fields.String(allow_none=True)
    identical_to = ma.fields.String(
        allow_none=True, metadata={"description": "Existing version, same content"}
    )
    compared_with = ma.fields.List(ma.fields.String(), required=True)
    changes = ma.fields.List(ma.fields.Nested(ContractChangeSchema), required=True)
    affected_consumers = ma.fields.List(ma.fields.Nested(ContractConsumerSchema), required=True)


class ContractChangelogQuerySchema(ma.Schema):
    since = ma.fields.String(
        validate=_SEMVER, metadata={"description": "Exclusive lower version (default: first)"}
    )
    until = ma.fields.String(
        validate=_SEMVER, metadata={"description": "Inclusive upper version (default: latest)"}
    )


class ContractChangelogEntrySchema(ma.Schema):
    version = ma.fields.String(required=True)
    previous = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    breaking = ma.fields.Boolean(required=True)
    changes = ma.fields.List(ma.fields.Nested(ContractChangeSchema), required=True)


class ContractChangelogSchema(ma.Schema):
    subject = ma.fields.String(required=True)
    entries = ma.fields.List(ma.fields.Nested(ContractChangelogEntrySchema), required=True)


class RegistryConfigSchema(ma.Schema):
    compatibility = ma.fields.String(required=True, validate=ma.validate.OneOf(MODES))
