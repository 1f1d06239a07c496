"""The record shapes that enter the engine: raw from the hub, prepared for comparison."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["PreparedRecord", "Record"]


@dataclass(frozen=True, slots=True)
class Record:
    """A source record as the hub holds it; ``attrs`` are raw attribute strings."""

    id: str
    source_system: str
    attrs: Mapping[str, str | None]


@dataclass(frozen=True, slots=True)
class PreparedRecord:
    """A record after normalisation: ``values`` follow the settings' feature schema.

    The DB layer may store ``values`` (JSON list) to skip normalising candidates on
    every incremental match.
    """

    id: str
    source_system: str
    values: tuple[Any, ...]

    def features(self, names: list[str]) -> dict[str, Any]:
        return dict(zip(names, self.values, strict=True))
