"""What a published record carries besides the event: the current canonical snapshot of
records (for snapshots) and the target system's own ids from the crosswalk."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from mdm.records.golden import snapshot
from mdm.records.models import GoldenRecord, SourceRecord
from mdm.sources.models import SourceSystem

CHUNK = 500

# The columns golden.snapshot reads, so rows stream without building ORM objects
SNAPSHOT_COLUMNS = (GoldenRecord.id, GoldenRecord.domain, GoldenRecord.status,
                    GoldenRecord.version, GoldenRecord.merged_into, GoldenRecord.attributes,
                    GoldenRecord.overrides, GoldenRecord.quality_status, GoldenRecord.updated_at)


def target_ids(session: Session, system_code: str | None,
               golden_ids: Iterable[str]) -> dict[str, list[str]]:
    """golden id -> the target system's active source ids of that record, sorted."""
    out: dict[str, list[str]] = defaultdict(list)
    ids = sorted(set(golden_ids))
    if not system_code or not ids:
        return out
    system_id = session.scalar(select(SourceSystem.id).where(SourceSystem.code == system_code))
    if system_id is None:
        return out
    for i in range(0, len(ids), CHUNK):
        for gid, sid in session.execute(
            select(SourceRecord.golden_id, SourceRecord.source_id)
            .where(SourceRecord.source_system_id == system_id,
                   SourceRecord.golden_id.in_(ids[i:i + CHUNK]),
                   SourceRecord.active.is_(True))
            .order_by(SourceRecord.source_id)
        ):
            out[gid].append(sid)
    return out


def records_by_id(session: Session, golden_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    ids = sorted(set(golden_ids))
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(ids), CHUNK):
        for row in session.execute(select(*SNAPSHOT_COLUMNS)
                                   .where(GoldenRecord.id.in_(ids[i:i + CHUNK]))):
            out[row.id] = snapshot(row)  # type: ignore[arg-type]
    return out


def stream_records(session: Session, query: Select[Any], system_code: str | None = None,
                   chunk: int = 10_000
                   ) -> Iterator[list[tuple[dict[str, Any], list[str]]]]:
    """Canonical snapshots of the golden records ``query`` selects (over SNAPSHOT_COLUMNS),
    in id order, a page at a time, each with the target system's active source ids (sorted).

    Keyset pagination keeps memory flat; each page is one Core statement (the page of
    golden records, outer-joined to their crosswalk ids) that builds no ORM objects.
    """
    system_id = (session.scalar(select(SourceSystem.id).where(SourceSystem.code == system_code))
                 if system_code else None)
    conn = session.connection()
    last = ""
    while True:
        page = (query.where(GoldenRecord.id > last).order_by(GoldenRecord.id).limit(chunk)
                .subquery("page"))
        if system_id is None:
            stmt = select(page).order_by(page.c.id)
        else:
            src = SourceRecord.__table__
            stmt = (select(page, src.c.source_id)
                    .select_from(page.outerjoin(src, and_(
                        src.c.golden_id == page.c.id, src.c.source_system_id == system_id,
                        src.c.active.is_(True))))
                    .order_by(page.c.id, src.c.source_id))
        out: list[tuple[dict[str, Any], list[str]]] = []
        ids: list[str] = []
        current = None
        for row in conn.execute(stmt).all():  # one fetch per page
            if row[0] != current:  # rows come grouped by golden id (the first column)
                current, ids = row[0], []
                out.append((snapshot(row), ids))  # type: ignore[arg-type]
            if system_id is not None and row[-1] is not None:  # the crosswalk's source_id
                ids.append(row[-1])
        if not out:
            return
        yield out
        if len(out) < chunk:
            return
        last = out[-1][0]["id"]
