"""Turn schema findings into `Change` values: levels from the rule table, readable messages."""

from __future__ import annotations

import json
from typing import Any

from contracts.compatibility.jsonschema_diff import Finding, render_pointer
from contracts.compatibility.result import Change, Direction, Level
from contracts.compatibility.rules import (
    API_RULES,
    API_SCHEMA_LEVEL_OVERRIDES,
    SCHEMA_RULES,
    ApiRule,
    schema_rule_as_change,
)
from contracts.compatibility.schema_facts import MISSING

# A finding under one of these keywords concerns a property rather than the whole body.
_PROPERTY_KEYWORDS = frozenset({"properties", "required", "patternProperties", "dependencies"})


def _show(value: Any) -> str:
    if value is MISSING:
        return "absent"
    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def schema_change(
    finding: Finding,
    direction: Direction,
    writer_label: str,
    reader_label: str,
    prefix: str = "",
) -> Change:
    """A JSON Schema finding as a change; the rule keeps its Confluent name."""
    level, summary = SCHEMA_RULES[finding.rule]
    summary = summary.replace("the reader", f"the {reader_label} schema").replace(
        "the writer", f"the {writer_label} schema"
    )
    detail = _values(finding, writer_label, reader_label)
    return Change(
        rule=finding.rule.value,
        level=level,
        path=prefix + render_pointer(finding.path),
        message=summary + detail,
        direction=direction,
    )


def _values(finding: Finding, writer_label: str, reader_label: str) -> str:
    if finding.writer is MISSING and finding.reader is MISSING:
        return ""
    return f" ({writer_label}: {_show(finding.writer)}, {reader_label}: {_show(finding.reader)})"


def api_schema_change(
    finding: Finding,
    location: str,
    writer_is_old: bool,
    pointer: str,
    what: str,
    area: str,
    direction: Direction,
    labels: tuple[str, str] = ("old", "new"),
) -> Change:
    """A finding inside an API description, renamed old -> new (e.g. response-property-...).

    `labels` name the first and second document (swapped when a FORWARD check diffs the
    candidate against an earlier version).
    """
    where = location
    if location.endswith("-body") and _PROPERTY_KEYWORDS.intersection(finding.path):
        where = location.removesuffix("-body") + "-property"
    rule = f"{where}-{schema_rule_as_change(finding.rule, writer_is_old)}"
    level, summary = SCHEMA_RULES[finding.rule]
    level = API_SCHEMA_LEVEL_OVERRIDES.get(rule, level)
    writer_label, reader_label = labels if writer_is_old else labels[::-1]
    summary = summary.replace("the reader", f"the {reader_label} schema").replace(
        "the writer", f"the {writer_label} schema"
    )
    sub = render_pointer(finding.path)
    return Change(
        rule=rule,
        level=level,
        path=pointer + sub,
        message=f"{what}: {summary}{_values(finding, writer_label, reader_label)}",
        area=area,
        direction=direction,
    )


def api_change(
    rule: ApiRule,
    pointer: str,
    what: str,
    area: str,
    direction: Direction,
    level: Level | None = None,
) -> Change:
    default_level, summary = API_RULES[rule]
    return Change(
        rule=rule.value,
        level=level or default_level,
        path=pointer,
        message=f"{what}: {summary}",
        area=area,
        direction=direction,
    )
