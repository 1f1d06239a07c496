"""A human changelog (markdown) and a machine one (JSON) between two contract versions."""

from __future__ import annotations

import json
from typing import Any

from contracts.compatibility.result import Change, CompatibilityResult, Direction, Level

_SECTIONS = (
    (Level.BREAKING, "Breaking changes"),
    (Level.WARNING, "Warnings"),
    (Level.INFO, "Other changes"),
)


# Version of the JSON shape `check`, `diff` and `changelog` print (bump on a breaking change).
REPORT_SCHEMA_VERSION = 1


def report_data(
    result: CompatibilityResult, kind: str, old: str | list[str], new: str
) -> dict[str, Any]:
    """The one JSON shape of every report: verdicts, counts and placed changes."""
    counts = {level.value: 0 for level, _ in _SECTIONS}
    for change in result.changes:
        counts[change.level.value] += 1
    counts["waived"] = sum(1 for c in result.changes if c.waived)
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "kind": kind,
        "format": result.format.value,
        "mode": result.mode.value,
        "compatible": result.compatible,
        "backward_compatible": result.verdict(Direction.BACKWARD),
        "forward_compatible": result.verdict(Direction.FORWARD),
        "old": old,
        "new": new,
        "summary": counts,
        "changes": [change.to_dict() for change in result.changes],
    }


def changelog_data(result: CompatibilityResult, old: str, new: str) -> dict[str, Any]:
    data = report_data(result, "changelog", old, new)
    data.update({"from": old, "to": new})  # the names earlier versions printed
    return data


def changelog_json(result: CompatibilityResult, old: str, new: str) -> str:
    return json.dumps(changelog_data(result, old, new), indent=2)


def changelog_markdown(result: CompatibilityResult, old: str, new: str) -> str:
    lines = [f"# Changes from `{old}` to `{new}`", ""]
    backward = result.verdict(Direction.BACKWARD)
    forward = result.verdict(Direction.FORWARD)
    lines.append(f"- Backward compatible: {'yes' if backward else 'no'}")
    lines.append(f"- Forward compatible: {'yes' if forward else 'no'}")
    if not result.changes:
        lines += ["", "No changes."]
    for level, title in _SECTIONS:
        section = [c for c in result.changes if c.level is level]
        if not section:
            continue
        lines += ["", f"## {title}", ""]
        lines += [_bullet(change) for change in section]
    return "\n".join(lines) + "\n"


def _bullet(change: Change) -> str:
    direction = f" ({change.direction.value})" if change.direction is Direction.FORWARD else ""
    waived = f" — waived: {change.waived}" if change.waived else ""
    return f"- `{change.rule}` at `{change.path or '/'}`{direction}: {change.message}{waived}"
