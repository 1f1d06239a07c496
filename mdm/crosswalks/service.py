"""Resolving source keys to golden records and to the same record in other systems."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from mdm.domains.registry import DomainRegistry
from mdm.errors import NotFound
from mdm.records.models import GoldenRecord, SourceRecord
from mdm.sources.models import SourceSystem


@dataclass(frozen=True)
class Key:
    source_system: str
    source_id: str


def _entries(session: Session, golden_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for i in range(0, len(golden_ids), 500):
        for golden_id, code, sid, active in session.execute(
            select(SourceRecord.golden_id, SourceSystem.code, SourceRecord.source_id, SourceRecord.active)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_system_id)
            .where(SourceRecord.golden_id.in_(golden_ids[i : i + 500]))
            .order_by(SourceSystem.code, SourceRecord.source_id)
        ):
            out[golden_id].append({"source_system": code, "source_id": sid, "active": active})
    return out


def _survivors(session: Session, golden_ids: set[str]) -> dict[str, GoldenRecord]:
    """Each golden id mapped to the record that stands for it now (following merges)."""
    found: dict[str, GoldenRecord] = {}
    frontier = set(golden_ids)
    while frontier:
        rows = list(session.scalars(select(GoldenRecord).where(GoldenRecord.id.in_(list(frontier)))))
        frontier = set()
        for g in rows:
            found[g.id] = g
            if g.merged_into and g.merged_into not in found:
                frontier.add(g.merged_into)
    out = {}
    for gid in golden_ids:
        g = found.get(gid)
        seen = set()
        while g is not None and g.merged_into and g.id not in seen:
            seen.add(g.id)
            g = found.get(g.merged_into)
        if g is not None:
            out[gid] = g
    return out


def resolve_many(
    session: Session, registry: DomainRegistry, domain: str, keys: list[Key]
) -> list[dict[str, Any] | None]:
    """Resolve up to a thousand keys in a handful of queries; None where a key is unknown."""
    registry.get(domain)
    wanted = list(dict.fromkeys((k.source_system, k.source_id) for k in keys))
    located: dict[tuple[str, str], str] = {}
    for i in range(0, len(wanted), 400):
        chunk = wanted[i : i + 400]
        for code, sid, gid in session.execute(
            select(SourceSystem.code, SourceRecord.source_id, SourceRecord.golden_id)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_system_id)
            .where(SourceRecord.domain == domain, tuple_(SourceSystem.code, SourceRecord.source_id).in_(chunk))
        ):
            located[(code, sid)] = gid
    survivors = _survivors(session, set(located.values()))
    entries = _entries(session, sorted({g.id for g in survivors.values()}))
    out: list[dict[str, Any] | None] = []
    for k in keys:
        gid = located.get((k.source_system, k.source_id))
        if gid is None:
            out.append(None)
            continue
        survivor = survivors[gid]
        out.append(
            {
                "source_system": k.source_system,
                "source_id": k.source_id,
                "golden_id": survivor.id,
                "requested_golden_id": gid if gid != survivor.id else None,
                "status": survivor.status,
                "records": entries.get(survivor.id, []),
            }
        )
    return out


def resolve(session: Session, registry: DomainRegistry, domain: str, key: Key) -> dict[str, Any]:
    result = resolve_many(session, registry, domain, [key])[0]
    if result is None:
        raise NotFound(f"No {domain} record '{key.source_id}' from '{key.source_system}'")
    return result


def resolve_golden(session: Session, golden_id: str) -> dict[str, Any]:
    """The source keys of a golden record; a merged id answers for its survivor."""
    survivors = _survivors(session, {golden_id})
    if golden_id not in survivors:
        raise NotFound(f"No golden record '{golden_id}'")
    survivor = survivors[golden_id]
    return {
        "golden_id": survivor.id,
        "requested_golden_id": golden_id if golden_id != survivor.id else None,
        "status": survivor.status,
        "records": _entries(session, [survivor.id]).get(survivor.id, []),
    }


def export_rows(session: Session, registry: DomainRegistry, domain: str,
                batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every crosswalk row of a domain, streamed in key order."""
    registry.get(domain)
    last = 0
    while True:
        rows = session.execute(
            select(SourceRecord.id, SourceSystem.code, SourceRecord.source_id, SourceRecord.golden_id,
                   SourceRecord.active, GoldenRecord.status, GoldenRecord.merged_into)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_system_id)
            .join(GoldenRecord, GoldenRecord.id == SourceRecord.golden_id)
            .where(SourceRecord.domain == domain, SourceRecord.id > last)
            .order_by(SourceRecord.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for rid, code, sid, gid, active, status, _merged in rows:
            yield {"source_system": code, "source_id": sid, "golden_id": gid,
                   "active": active, "golden_status": status}
        last = rows[-1][0]
