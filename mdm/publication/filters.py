"""Which records a subscription receives: a small declarative filter, checked without a DB.

``{"statuses": ["active"], "attributes": {"country": ["DE", "AT"]}, "exclude_quality": ["error"]}``

The status filter applies to created, updated and snapshot messages. Lifecycle changes
(merged, unmerged, retired, reactivated) always pass it, so a target that holds a record
learns when the record leaves the set; attribute and quality filters apply to every message.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

GOLDEN_STATUSES = ("active", "merged", "retired")
QUALITY_STATUSES = ("ok", "warning", "error")
LIFECYCLE_CHANGES = frozenset({"merged", "unmerged", "retired", "reactivated"})
FILTER_KEYS = ("statuses", "attributes", "exclude_quality")


def validate(spec: Any, attribute_names: Iterable[str]) -> dict[str, list[str]]:
    """Field errors of a filter spec (empty when it is valid)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(spec, dict):
        return {"filter": ["Must be an object."]}
    unknown = sorted(set(spec) - set(FILTER_KEYS))
    if unknown:
        errors["filter"] = [f"Unknown keys: {', '.join(unknown)}; use {', '.join(FILTER_KEYS)}."]
    for key, allowed in (("statuses", GOLDEN_STATUSES), ("exclude_quality", QUALITY_STATUSES)):
        value = spec.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors[f"filter.{key}"] = ["Must be a list of strings."]
        elif set(value) - set(allowed):
            errors[f"filter.{key}"] = [f"Allowed values: {', '.join(allowed)}."]
    attrs = spec.get("attributes")
    if attrs is not None:
        names = set(attribute_names)
        if not isinstance(attrs, dict):
            errors["filter.attributes"] = ["Must be an object of attribute: value(s)."]
        else:
            bad = sorted(a for a in attrs if a not in names)
            if bad:
                errors["filter.attributes"] = [f"Unknown attributes: {', '.join(bad)}."]
            for name, value in attrs.items():
                values = value if isinstance(value, list) else [value]
                if not values or not all(isinstance(v, str | int | float | bool) for v in values):
                    errors[f"filter.attributes.{name}"] = ["Must be a scalar or a list of them."]
    return errors


def matches(spec: dict[str, Any], record: dict[str, Any], change: str | None = None) -> bool:
    """Does a record (the canonical snapshot) pass the filter, for this kind of change?"""
    if not spec:
        return True
    statuses = spec.get("statuses")
    if statuses and change not in LIFECYCLE_CHANGES and record.get("status") not in statuses:
        return False
    excluded = spec.get("exclude_quality")
    if excluded and record.get("quality_status") in excluded:
        return False
    attributes = record.get("attributes") or {}
    for name, wanted in (spec.get("attributes") or {}).items():
        allowed = wanted if isinstance(wanted, list) else [wanted]
        if attributes.get(name) not in allowed:
            return False
    return True
