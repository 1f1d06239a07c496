"""The published message: a CloudEvents 1.0 envelope around the canonical golden record.

``data`` carries the record as the hub's canonical snapshot, the change that produced it,
any change-specific fields the event recorded (a merge's ``victims`` and ``survivor``, for
instance) and, when the subscription names a target system, that system's own ids from the
crosswalk. The JSON Schema is ``event_schemas/golden-record-event.schema.json``.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import orjson

SPEC_VERSION = "1.0"
TYPE_PREFIX = "org.mdmhub.golden-record."
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


def cloud_event(
    *,
    event_id: str,
    domain: str,
    golden_id: str,
    change: str,
    occurred_at: datetime,
    record: dict[str, Any],
    extra: dict[str, Any] | None = None,
    position: int | None = None,
    target_system: str | None = None,
    target_ids: list[str] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "domain": domain,
        "golden_id": golden_id,
        "version": record.get("version"),
        "change": change,
        "record": record,
    }
    for key, value in (extra or {}).items():
        data.setdefault(key, value)
    if target_system:
        ids = target_ids or []
        data["target"] = {"system": target_system, "id": ids[0] if ids else None, "ids": ids}
    event: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": event_id,
        "source": f"/mdm/domains/{domain}",
        "type": TYPE_PREFIX + change,
        "subject": golden_id,
        "time": occurred_at.isoformat(),
        "datacontenttype": "application/json",
    }
    if position is not None:
        event["sequence"] = str(position)  # CloudEvents "sequence" extension: a string
    event["data"] = data
    return event


# datetimes pass through to ``default=str`` so nested ones read as they always have
_ORJSON_OPTS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def encode(event: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON (orjson: the worker's hot path)."""
    try:
        return orjson.dumps(event, default=str, option=_ORJSON_OPTS)
    except (TypeError, orjson.JSONEncodeError):  # e.g. an integer beyond 64 bits
        return json.dumps(event, separators=(",", ":"), ensure_ascii=False,
                          default=str).encode()
