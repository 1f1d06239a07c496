"""Resolving source keys to golden records and to the same record in other systems."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, aliased

from mdm.domains.registry import DomainRegistry
from mdm.errors import NotFound
from mdm.records.models import GoldenRecord, SourceRecord
from mdm.records.service import survivor_ids
from mdm.sources.models import SourceSystem


@dataclass(frozen=True)
class Key:
    source_system: str
    source_id: str


def _entries(session: Session, golden_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for i in range(0, len(golden_ids), 500):
        for golden_id, code, sid, active in session.execute(
            select(
                SourceRecord.golden_id,
                SourceSystem.code,
                SourceRecord.source_id,
                SourceRecord.active,
            )
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_system_id)
            .where(SourceRecord.golden_id.in_(golden_ids[i : i + 500]))
            .order_by(SourceSystem.code, SourceRecord.source_id)
        ):
            out[golden_id].append({"source_system": code, "source_id": sid, "active": active})
    return out


def _survivors(session: Session, golden_ids: set[str]) -> dict[str, GoldenRecord]:
    """Each golden id mapped to the record that stands for it now (following merges)."""
    now = survivor_ids(session, golden_ids)
    wanted = sorted(set(now.values()))
    rows: dict[str, GoldenRecord] = {}
    for i in range(0, len(wanted), 500):
        for row in session.scalars(
            select(GoldenRecord).where(GoldenRecord.id.in_(wanted[i : i + 500]))
        ):
            rows[row.id] = row
    return {gid: rows[sid] for gid, sid in now.items() if sid in rows}


_other = aliased(SourceRecord)
_other_system = aliased(SourceSystem)
# Built once: statement construction costs more than the indexed query it runs.
_RESOLVE = (
    select(
        SourceRecord.source_id,
        GoldenRecord.id,
        GoldenRecord.status,
        GoldenRecord.merged_into,
        _other_system.code,
        _other.source_id,
        _other.active,
    )
    .join(SourceSystem, SourceSystem.id == SourceRecord.source_system_id)
    .join(GoldenRecord, GoldenRecord.id == SourceRecord.golden_id)
    .join(_other, _other.golden_id == SourceRecord.golden_id)
    .join(_other_system, _other_system.id == _other.source_system_id)
    .where(
        SourceRecord.domain == bindparam("domain"),
        SourceSystem.code == bindparam("code"),
        SourceRecord.source_id.in_(bindparam("sids", expanding=True)),
    )
)


def resolve_many(
    session: Session, registry: DomainRegistry, domain: str, keys: list[Key]
) -> list[dict[str, Any] | None]:
    """Resolve up to a thousand keys; None where a key is unknown.

    One query per source system finds each key's golden record and every source record of
    that golden record (source records move to the survivor on a merge, so the golden
    record found this way is current). This is the hot path of downstream systems.
    """
    registry.get(domain)
    by_system: dict[str, list[str]] = defaultdict(list)
    for code, sid in dict.fromkeys((k.source_system, k.source_id) for k in keys):
        by_system[code].append(sid)
    located: dict[tuple[str, str], str] = {}
    goldens: dict[str, tuple[str, str | None]] = {}
    entries: dict[str, dict[tuple[str, str], bool]] = defaultdict(dict)
    for code, sids in by_system.items():
        for i in range(0, len(sids), 500):
            rows = session.execute(
                _RESOLVE, {"domain": domain, "code": code, "sids": sids[i : i + 500]}
            ).all()
            for sid, gid, status, merged_into, ocode, osid, oactive in rows:
                located[(code, sid)] = gid
                goldens[gid] = (status, merged_into)
                entries[gid][(ocode, osid)] = oactive
    # Defensive: a key whose golden record was merged without its records moving still
    # resolves to the survivor.
    stale = {gid for gid, (_, merged_into) in goldens.items() if merged_into}
    survivors = _survivors(session, stale) if stale else {}
    if survivors:
        for survivor in {g.id for g in survivors.values()} - set(entries):
            for e in _entries(session, [survivor]).get(survivor, []):
                entries[survivor][(e["source_system"], e["source_id"])] = e["active"]
    out: list[dict[str, Any] | None] = []
    for k in keys:
        where = located.get((k.source_system, k.source_id))
        if where is None:
            out.append(None)
            continue
        final = survivors[where].id if where in survivors else where
        status = survivors[where].status if where in survivors else goldens[where][0]
        out.append(
            {
                "source_system": k.source_system,
                "source_id": k.source_id,
                "golden_id": final,
                "requested_golden_id": where if where != final else None,
                "status": status,
                "records": [
                    {"source_system": c, "source_id": s, "active": a}
                    for (c, s), a in sorted(entries[final].items())
                ],
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


def export_rows(
    session: Session, registry: DomainRegistry, domain: str, batch: int = 5000
) -> Iterator[dict[str, Any]]:
    """Every crosswalk row of a domain, streamed in key order."""
    registry.get(domain)
    last = 0
    while True:
        rows = session.execute(
            select(
                SourceRecord.id,
                SourceSystem.code,
                SourceRecord.source_id,
                SourceRecord.golden_id,
                SourceRecord.active,
                GoldenRecord.status,
                GoldenRecord.merged_into,
            )
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_system_id)
            .join(GoldenRecord, GoldenRecord.id == SourceRecord.golden_id)
            .where(SourceRecord.domain == domain, SourceRecord.id > last)
            .order_by(SourceRecord.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for _rid, code, sid, gid, active, status, _merged in rows:
            yield {
                "source_system": code,
                "source_id": sid,
                "golden_id": gid,
                "active": active,
                "golden_status": status,
            }
        last = rows[-1][0]
