"""The comparator's vocabulary: findings, options, and small helpers on them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from contracts.compatibility import schema_facts as sf
from contracts.compatibility.pointer import join as join_pointer
from contracts.compatibility.result import Level
from contracts.compatibility.rules import SCHEMA_RULES, SchemaRule
from contracts.compatibility.schema_facts import MISSING

Path = tuple[str, ...]


class Finding(NamedTuple):
    """One difference seen by a reader: rule, location relative to the compared pair, values."""

    rule: SchemaRule
    path: Path
    writer: Any = MISSING
    reader: Any = MISSING

    @property
    def breaking(self) -> bool:
        return SCHEMA_RULES[self.rule][0] is Level.BREAKING


@dataclass(frozen=True, slots=True)
class DiffOptions:
    """How to read the documents.

    open_writer_carries_unknown: a writer without `additionalProperties` may produce any extra
    property (JSON Schema registries, Confluent). API descriptions set it False: a server or a
    client sends the properties it declares, so declaring a new optional one is safe.
    context: "request" skips readOnly properties, "response" skips writeOnly ones.
    annotations: report title/description/default changes as info.
    confluent: read as Confluent Schema Registry does where it differs from the specification
    (used by the Confluent-compatible API only): `additionalItems` is compared even without
    tuple `items` (draft-07 ignores it there), and `required` names without a declared
    property are ignored (they do constrain instances, so the stricter reading reports them).
    """

    open_writer_carries_unknown: bool = True
    context: str | None = None
    annotations: bool = True
    confluent: bool = False


def breaking(findings: list[Finding]) -> bool:
    return any(f.breaking for f in findings)


def is_open(model: Any) -> bool:
    return model is True or model == {}


def is_closed(model: Any) -> bool:
    return model is False


def under(prefix: Path, findings: list[Finding] | Iterator[Finding]) -> Iterator[Finding]:
    for f in findings:
        yield f._replace(path=prefix + f.path)


def weight(findings: list[Finding]) -> int:
    return sum(1 for f in findings if f.breaking)


def differs(w_value: Any, r_value: Any) -> bool:
    if w_value is MISSING or r_value is MISSING:
        return (w_value is MISSING) != (r_value is MISSING)
    return sf.value_key(w_value) != sf.value_key(r_value)


def render_pointer(path: Path) -> str:
    return join_pointer(path)
