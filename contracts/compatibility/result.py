"""Value types every engine returns: changes, levels, modes and the compatibility result."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    BREAKING = "breaking"
    WARNING = "warning"
    INFO = "info"


class Direction(StrEnum):
    """Which pairing found a change.

    BACKWARD: the new contract reads what the old one allowed (consumers upgrade first).
    FORWARD: the old contract reads what the new one allows (producers upgrade first).
    """

    BACKWARD = "backward"
    FORWARD = "forward"


class Mode(StrEnum):
    """Confluent-compatible compatibility modes."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def directions(self) -> tuple[Direction, ...]:
        if self is Mode.NONE:
            return ()
        if self.value.startswith("BACKWARD"):
            return (Direction.BACKWARD,)
        if self.value.startswith("FORWARD"):
            return (Direction.FORWARD,)
        return (Direction.BACKWARD, Direction.FORWARD)

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_TRANSITIVE")

    @classmethod
    def parse(cls, text: str) -> Mode:
        return cls(text.strip().upper().replace("-", "_"))


class Format(StrEnum):
    JSONSCHEMA = "jsonschema"
    OPENAPI = "openapi"
    ASYNCAPI = "asyncapi"


@dataclass(frozen=True, slots=True)
class Change:
    """One classified difference. `path` says what was compared (through `$ref`s, parameters
    by name); `document`, `pointer` and `line`, when placed (see `locate.place`), say where it
    is: a pointer that resolves in that document (old for removals, new otherwise)."""

    rule: str
    level: Level
    path: str
    message: str
    area: str | None = None
    direction: Direction | None = None
    against: str | None = None  # label of the earlier version (transitive checks)
    waived: str | None = None  # reason, when a configured waiver covers this change
    document: str | None = None
    pointer: str | None = None
    line: int | None = None

    @property
    def blocking(self) -> bool:
        return self.level is Level.BREAKING and self.waived is None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "level": self.level.value,
            "path": self.path,
            "message": self.message,
        }
        for key in ("area", "against", "waived", "document", "pointer", "line"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.direction is not None:
            data["direction"] = self.direction.value
        return data


@dataclass(frozen=True, slots=True)
class CompatibilityResult:
    """The verdict of one check: compatible iff no unwaived breaking change was found."""

    mode: Mode
    format: Format
    changes: tuple[Change, ...] = ()
    checked: tuple[Direction, ...] = field(default=())

    @property
    def compatible(self) -> bool:
        return not any(change.blocking for change in self.changes)

    def verdict(self, direction: Direction) -> bool | None:
        """Verdict for one direction, None when the mode did not check it."""
        if direction not in self.checked:
            return None
        return not any(c.blocking and c.direction is direction for c in self.changes)

    @property
    def breaking(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.blocking)

    def with_changes(self, changes: Iterable[Change]) -> CompatibilityResult:
        return replace(self, changes=tuple(changes))

    def to_dict(self) -> dict[str, Any]:
        return {
            "compatible": self.compatible,
            "mode": self.mode.value,
            "changes": [change.to_dict() for change in self.changes],
        }
