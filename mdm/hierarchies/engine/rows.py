"""Effective-dated node rows: one period of one node, and the date helpers they share."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

# A node row without a start date has always been valid.
EARLIEST = date(1900, 1, 1)
ONE_DAY = timedelta(days=1)
MAX_PATHS = 100  # shared nodes can have many root paths; cap what one query returns


@dataclass(slots=True)
class NodeRow:
    """One period of one node: its parent, label and attributes from valid_from to valid_to.

    ``valid_to`` is inclusive (finance calendars end periods on their last day); ``None``
    means open-ended. A node moved to a new parent has two rows whose periods touch.
    """

    key: str
    parent: str | None
    valid_from: date = EARLIEST
    valid_to: date | None = None
    name: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    line: int | None = None
    golden_id: str | None = None

    def valid_at(self, at: date) -> bool:
        return self.valid_from <= at and (self.valid_to is None or at <= self.valid_to)

    def overlaps(self, other: NodeRow) -> bool:
        return _overlap(self.valid_from, self.valid_to, other.valid_from, other.valid_to)


def _overlap(a0: date, a1: date | None, b0: date, b1: date | None) -> bool:
    return (a1 is None or b0 <= a1) and (b1 is None or a0 <= b1)


def period_text(start: date, end: date | None) -> str:
    return f"{start.isoformat()}..{end.isoformat() if end else 'open'}"


def live(row: NodeRow) -> bool:
    """A row whose period is not empty (it ends on or after the day it starts)."""
    return row.valid_to is None or row.valid_to >= row.valid_from
