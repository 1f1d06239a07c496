"""Request and response bodies of the publication API."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate as v

from mdm.publication.models import CHANNELS, SCHEDULE_MODES, TRIGGERS
from mdm.redaction import redact

MAX_BIGINT = 2**63 - 1
NAME = v.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$",
                error="Letters, digits, '_', '.', '-'; at most 100 characters.")


class _SubscriptionFields(ma.Schema):
    description = ma.fields.String(allow_none=True, validate=v.Length(max=2000))
    target_system = ma.fields.String(
        allow_none=True, validate=v.Length(min=1, max=64),
        metadata={"description": "Source system whose own ids (crosswalk) go with each record"})
    domains = ma.fields.List(ma.fields.String(validate=v.Length(min=1, max=64)),
                             validate=v.Length(min=1, max=20))
    filter = ma.fields.Dict(metadata={
        "description": 'e.g. {"statuses": ["active"], "attributes": {"country": "DE"}, '
                       '"exclude_quality": ["error"]}'})
    channel = ma.fields.String(validate=v.OneOf(CHANNELS))
    channel_config = ma.fields.Dict(metadata={
        "description": "webhook: url, timeout_seconds; amqp: url, exchange, routing_key "
                       "(templates over {domain} and {change}), exchange_type, declare, "
                       "mandatory; file: directory, format (csv|jsonl)"})
    trigger = ma.fields.String(validate=v.OneOf(TRIGGERS))
    schedule = ma.fields.String(allow_none=True, validate=v.Length(min=1, max=100),
                                metadata={"description": "Cron expression (trigger schedule)"})
    schedule_mode = ma.fields.String(validate=v.OneOf(SCHEDULE_MODES))
    contract_subject = ma.fields.String(allow_none=True, validate=v.Length(min=1, max=200))
    contract_version = ma.fields.String(allow_none=True, validate=v.Length(min=1, max=50))
    max_attempts = ma.fields.Integer(validate=v.Range(min=1, max=100))
    retry_initial_seconds = ma.fields.Float(validate=v.Range(min=0.01, max=3600))
    retry_max_seconds = ma.fields.Float(validate=v.Range(min=0.01, max=86400))
    active = ma.fields.Boolean()


class SubscriptionInSchema(_SubscriptionFields):
    name = ma.fields.String(required=True, validate=NAME)
    domains = ma.fields.List(ma.fields.String(validate=v.Length(min=1, max=64)),
                             required=True, validate=v.Length(min=1, max=20))
    channel = ma.fields.String(required=True, validate=v.OneOf(CHANNELS))


class SubscriptionPatchSchema(_SubscriptionFields):
    pass


class SubscriptionSchema(_SubscriptionFields):
    id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    signing_secrets = ma.fields.Method(
        "_secret_count", metadata={"type": "integer",
                                   "description": "How many secrets sign (2 while rotating)"})

    def _secret_count(self, sub: Any) -> int:
        secrets = sub.get("secrets") if isinstance(sub, dict) else sub.secrets
        return len(secrets or [])

    @ma.post_dump
    def _redact(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """Passwords in broker URLs and other secrets never go out; the signing secret
        just issued is the one exception (``secret``, shown once)."""
        shown_once = data.pop("secret", None)
        data = redact(data)
        if shown_once is not None:
            data["secret"] = shown_once
        return data


class SubscriptionWithSecretSchema(SubscriptionSchema):
    secret = ma.fields.String(allow_none=True, metadata={
        "description": "The webhook signing secret (Standard Webhooks, whsec_...): shown once"})


class DeliveryArgs(ma.Schema):
    status = ma.fields.String(validate=v.OneOf(["pending", "retrying", "delivered", "dead"]))
    golden_id = ma.fields.String(validate=v.Length(min=1, max=36))
    after = ma.fields.Integer(load_default=0, validate=v.Range(min=0, max=MAX_BIGINT),
                              metadata={"description": "Cursor: the last delivery id seen"})
    limit = ma.fields.Integer(load_default=100, validate=v.Range(min=1, max=1000))


class DeliverySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(metadata={"description": "change | replay | snapshot"})
    event_id = ma.fields.String(metadata={"description": "The idempotency key"})
    change_event_id = ma.fields.Integer(allow_none=True)
    position = ma.fields.Integer(allow_none=True)
    domain = ma.fields.String()
    golden_id = ma.fields.String()
    status = ma.fields.String()
    attempts = ma.fields.Integer()
    next_attempt_at = ma.fields.DateTime()
    last_error = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    delivered_at = ma.fields.DateTime(allow_none=True)


class DeliveryPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(DeliverySchema), required=True)
    next_after = ma.fields.Integer(required=True)


class ReplaySchema(ma.Schema):
    from_position = ma.fields.Integer(allow_none=True, validate=v.Range(min=0, max=MAX_BIGINT),
                                      metadata={"description": "Replay changes after this "
                                                               "change-feed position"})
    to_position = ma.fields.Integer(allow_none=True, validate=v.Range(min=0, max=MAX_BIGINT))
    since = ma.fields.AwareDateTime(allow_none=True, default_timezone=None)
    until = ma.fields.AwareDateTime(allow_none=True, default_timezone=None)


class RequeueSchema(ma.Schema):
    delivery_ids = ma.fields.List(ma.fields.Integer(validate=v.Range(min=1, max=MAX_BIGINT)),
                                  allow_none=True, validate=v.Length(max=10000),
                                  metadata={"description": "Default: every dead letter"})


class RotateSchema(ma.Schema):
    grace_seconds = ma.fields.Integer(load_default=86400, validate=v.Range(min=0, max=2592000),
                                      metadata={"description": "How long the old secrets "
                                                               "keep signing"})


class BackfillSchema(ma.Schema):
    kind = ma.fields.String(load_default="snapshot", validate=v.OneOf(SCHEDULE_MODES))


class PublicationCountSchema(ma.Schema):
    count = ma.fields.Integer(required=True)


class PublicationRunSchema(ma.Schema):
    id = ma.fields.String(required=True)
    subscription_id = ma.fields.String()
    kind = ma.fields.String()
    reason = ma.fields.String()
    scheduled_for = ma.fields.DateTime(allow_none=True)
    status = ma.fields.String()
    from_position = ma.fields.Integer(allow_none=True)
    to_position = ma.fields.Integer(allow_none=True)
    record_count = ma.fields.Integer()
    files = ma.fields.List(ma.fields.String())
    error = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    started_at = ma.fields.DateTime(allow_none=True)
    finished_at = ma.fields.DateTime(allow_none=True)


class SubscriptionStatsSchema(ma.Schema):
    pending = ma.fields.Integer(required=True)
    retrying = ma.fields.Integer(required=True)
    delivered = ma.fields.Integer(required=True)
    dead = ma.fields.Integer(required=True)
    oldest_pending_at = ma.fields.DateTime(allow_none=True)
    last_delivered_at = ma.fields.DateTime(allow_none=True)
    runs_running = ma.fields.Integer(required=True)
