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


def changelog_data(result: CompatibilityResult, old: str, new: str) -> dict[str, Any]:
    counts = {level.value: 0 for level, _ in _SECTIONS}
    for change in result.changes:
        counts[change.level.value] += 1
    return {
        "from": old,
        "to": new,
        "format": result.format.value,
        "backward_compatible": result.verdict(Direction.BACKWARD),
        "forward_compatible": result.verdict(Direction.FORWARD),
        "summary": counts,
        "changes": [change.to_dict() for change in result.changes],
    }


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
