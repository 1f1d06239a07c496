"""The public entry points: check a candidate against earlier versions under a mode, or diff.

Each format provides one function "changes for those holding the first document when the
second replaces it". BACKWARD runs it from the earlier version to the candidate, FORWARD from
the candidate to the earlier version; FULL runs both; *_TRANSITIVE repeats the check for every
earlier version instead of only the latest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from contracts.compatibility.asyncapi_diff import asyncapi_changes
from contracts.compatibility.changes import schema_change
from contracts.compatibility.jsonschema_diff import DiffOptions, schema_findings
from contracts.compatibility.loader import Contract, load_contract
from contracts.compatibility.openapi_diff import openapi_changes
from contracts.compatibility.result import (
    Change,
    CompatibilityResult,
    Direction,
    Format,
    Level,
    Mode,
)
from contracts.errors import InvalidDocument


def jsonschema_changes(
    old: Contract, new: Contract, direction: Direction, options: DiffOptions | None = None
) -> list[Change]:
    """BACKWARD: `new` reads what `old` accepted. FORWARD (arguments swapped by the caller)."""
    labels = ("old", "new") if direction is Direction.BACKWARD else ("new", "old")
    options = options or DiffOptions()
    findings = schema_findings(old.schema_document(), new.schema_document(), options)
    return [schema_change(f, direction, labels[0], labels[1]) for f in findings]


_ENGINES: dict[Format, Callable[[Contract, Contract, Direction], list[Change]]] = {
    Format.JSONSCHEMA: jsonschema_changes,
    Format.OPENAPI: openapi_changes,
    Format.ASYNCAPI: asyncapi_changes,
}


def direction_changes(
    earlier: Contract, candidate: Contract, direction: Direction, *, confluent: bool = False
) -> list[Change]:
    """Changes of one direction between an earlier version and the candidate.

    `confluent`: JSON Schema read as Confluent Schema Registry reads it (see DiffOptions).
    """
    if earlier.format is not candidate.format:
        raise InvalidDocument(
            f"cannot compare a {earlier.format.value} document with a {candidate.format.value} one"
        )
    engine = _ENGINES[candidate.format]
    if confluent and candidate.format is Format.JSONSCHEMA:
        engine = partial(jsonschema_changes, options=DiffOptions(confluent=True))
    if direction is Direction.BACKWARD:
        return engine(earlier, candidate, direction)
    return engine(candidate, earlier, direction)


def check_compatibility(
    new: Any,
    previous_versions: Sequence[Any],
    mode: Mode | str = Mode.BACKWARD,
    fmt: Format | str = "auto",
    *,
    labels: Sequence[str] | None = None,
    confluent: bool = False,
) -> CompatibilityResult:
    """Judge `new` against earlier versions (oldest first) under `mode`.

    Documents may be text (JSON/YAML), parsed data or `Contract`s. Raises ContractError only
    for input that cannot be judged; incompatibility is in the result.
    """
    mode = Mode.parse(mode) if isinstance(mode, str) else mode
    candidate = load_contract(new, fmt, source="new")
    earlier = [
        load_contract(doc, fmt, source=_label(labels, i)) for i, doc in enumerate(previous_versions)
    ]
    indexed = list(enumerate(earlier))
    targets = indexed if mode.transitive else indexed[-1:]
    changes: list[Change] = []
    for index, contract in targets if mode.directions else []:
        against = _label(labels, index)
        for direction in mode.directions:
            changes.extend(
                replace(change, against=against)
                for change in direction_changes(contract, candidate, direction, confluent=confluent)
            )
    return CompatibilityResult(mode, candidate.format, tuple(changes), mode.directions)


def diff_contracts(old: Any, new: Any, fmt: Format | str = "auto") -> CompatibilityResult:
    """Every change from `old` to `new`: all backward findings plus forward problems."""
    earlier = load_contract(old, fmt, source="old")
    candidate = load_contract(new, fmt, source="new")
    backward = direction_changes(earlier, candidate, Direction.BACKWARD)
    forward = [
        change
        for change in direction_changes(earlier, candidate, Direction.FORWARD)
        if change.level is not Level.INFO
    ]
    return CompatibilityResult(
        Mode.FULL, candidate.format, tuple(backward + forward), Mode.FULL.directions
    )


def _label(labels: Sequence[str] | None, index: int) -> str:
    if labels is not None and index < len(labels):
        return labels[index]
    return f"version {index + 1}"
