"""Differences between two versions of a hierarchy, as of a date or over all periods."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mdm.hierarchies.engine.rows import ONE_DAY, NodeRow, live


@dataclass
class Diff:
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    moved: list[dict[str, Any]] = field(default_factory=list)
    renamed: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"added": self.added, "removed": self.removed, "moved": self.moved,
                "renamed": self.renamed}


def _group(rows: Iterable[NodeRow]) -> dict[str, list[NodeRow]]:
    out: dict[str, list[NodeRow]] = defaultdict(list)
    for row in rows:
        if live(row):
            out[row.key].append(row)
    return out


def _state(rows: list[NodeRow], at: date) -> tuple[list[str | None], str | None] | None:
    valid = [r for r in rows if r.valid_at(at)]
    if not valid:
        return None
    return sorted((r.parent for r in valid), key=lambda p: p or ""), valid[0].name


def diff(base: Iterable[NodeRow], other: Iterable[NodeRow], at: date | None = None) -> Diff:
    """What ``other`` changes against ``base``: nodes added, removed, moved and renamed.

    With ``at``, the two versions are compared on that date. Without it, each node's whole
    timeline is compared and a change is reported from the first date the versions differ,
    so a reorganisation planned for next quarter shows up with its effective date.
    """
    old, new = _group(base), _group(other)
    result = Diff()
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key, []), new.get(key, [])
        if at is not None:
            dates = [at]
        else:
            dates = sorted({r.valid_from for r in a + b}
                           | {r.valid_to + ONE_DAY for r in a + b if r.valid_to})
        moved = renamed = False
        for day in dates:
            sa, sb = _state(a, day), _state(b, day)
            if sa is None and sb is None:
                continue
            if sa is None or sb is None:
                # in one version only on this date: added (or removed) from this date on
                target = result.added if sa is None else result.removed
                state = sb or sa
                assert state is not None
                target.append({"node": key, "parents": state[0], "name": state[1],
                               "on": day.isoformat()})
                break
            if not moved and sa[0] != sb[0]:
                moved = True
                result.moved.append({"node": key, "from_parents": sa[0], "to_parents": sb[0],
                                     "on": day.isoformat()})
            if not renamed and sa[1] != sb[1]:
                renamed = True
                result.renamed.append({"node": key, "from_name": sa[1], "to_name": sb[1],
                                       "on": day.isoformat()})
            if moved and renamed:
                break
    return result
