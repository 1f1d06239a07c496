"""Where a new source record goes: the seam between ingestion and matching.

Ingestion asks a ``Linker`` for each new source record whether it joins an existing golden
record, joins another new record of the same request, or starts a golden record of its own.
The default links nothing (every record gets its own golden record); the matching engine
plugs in its own linker without changing the ingestion path.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from mdm.context import RequestContext
from mdm.domains.definitions import DomainDefinition


@dataclass
class PendingRecord:
    index: int  # position among the new records of this request
    source_system: str
    source_id: str
    attributes: dict[str, Any]


@dataclass
class LinkDecision:
    golden_id: str | None = None  # join this existing golden record
    same_as: int | None = None  # join the golden record of an earlier pending record
    # Anything the linker wants persisted with the decision (scores, explanation, tasks).
    details: dict[str, Any] = field(default_factory=dict)


class Linker(Protocol):
    def link(
        self,
        session: Session,
        definition: DomainDefinition,
        pending: list[PendingRecord],
        ctx: RequestContext,
    ) -> list[LinkDecision]: ...

    def after_link(
        self,
        session: Session,
        definition: DomainDefinition,
        pending: list[PendingRecord],
        decisions: list[LinkDecision],
        golden_ids: list[str],
        source_record_ids: list[int],
        ctx: RequestContext,
    ) -> None: ...


class NewGoldenLinker:
    """Every new source record starts its own golden record."""

    def link(self, session: Session, definition: DomainDefinition, pending: list[PendingRecord],
             ctx: RequestContext) -> list[LinkDecision]:
        return [LinkDecision() for _ in pending]

    def after_link(self, *args: Any, **kwargs: Any) -> None:
        return None


_factory: Callable[[DomainDefinition], Linker] = lambda _definition: NewGoldenLinker()  # noqa: E731


def set_linker_factory(factory: Callable[[DomainDefinition], Linker]) -> None:
    """Install the linker used for a domain (the matching engine calls this at app start)."""
    global _factory
    _factory = factory


def linker_for(definition: DomainDefinition) -> Linker:
    return _factory(definition)
