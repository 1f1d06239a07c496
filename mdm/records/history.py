"""Golden versions as the snapshots they stood for: what audit entries and change events
refer to instead of holding a copy (mdm.audit.models, mdm.events.models).

A version stores its attributes (provenance) only when they differ from the previous
version's: NULL means "as the version before" (a record merged away keeps its values, so
its last version repeats them). ``repeats_dropped`` writes that form; ``complete``,
``versions_of`` and ``values_at`` read the values back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from mdm.db import JSON_ARGS
from mdm.records.models import GoldenVersion, Provenance, SourceRecord
from mdm.sources.models import SourceSystem

_SNAPSHOT_COLUMNS = [
    GoldenVersion.__table__.c[name]
    for name in ("golden_id", "version", "status", "merged_into", "attributes", "overrides",
                 "quality_status", "valid_from", "reason")
]


def snapshot_at_version(version: Any, domain: str) -> dict[str, Any] | None:
    """``snapshot`` of a golden record as it was at ``version`` (a golden_version row or
    its dict), or None for versions written before their quality status was kept."""
    get: Any = version.get if isinstance(version, dict) else lambda n: getattr(version, n)
    if get("quality_status") is None:
        return None
    return {
        "id": get("golden_id"),
        "domain": domain,
        "status": get("status"),
        "version": get("version"),
        "merged_into": get("merged_into"),
        "attributes": get("attributes"),
        "overrides": list(get("overrides") or []),
        "quality_status": get("quality_status"),
        "updated_at": get("valid_from").astimezone(UTC).isoformat(),
    }


Values = tuple[Any, Any]  # (attributes, provenance)
_ENCODE = JSON_ARGS["json_serializer"]
_PROVENANCE = Provenance()
_REPEATED = ("attributes", "provenance")  # NULL in a version: as the version before


def _of_records(session: Session, keys: Iterable[tuple[str, int]],
                columns: Sequence[Any]) -> Iterable[Any]:
    """``columns`` of the golden versions ``keys`` names, by (golden id, version). Read by
    golden id (a list of (id, version) pairs is a slow plan on PostgreSQL: one index scan
    per pair, OR-ed) and filtered here."""
    wanted = set(keys)
    ids = sorted({gid for gid, _ in wanted})
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for row in session.execute(select(*columns).where(GoldenVersion.golden_id.in_(chunk))):
            if (row.golden_id, row.version) in wanted:
                yield row


def values_at(session: Session, keys: Iterable[tuple[str, int]], *,
              stored: bool = False) -> dict[tuple[str, int], Values]:
    """The attributes and provenance of golden versions by (golden id, version), those a
    version left to the versions before it filled in. ``stored``: as the JSON text stored
    (``stored_form``), not decoded."""
    out: dict[tuple[str, int], Values] = {}
    gaps: dict[tuple[str, int], Values] = {}
    cols = (GoldenVersion.golden_id, GoldenVersion.version, *(
        (cast(GoldenVersion.attributes, Text).label("attributes"),
         cast(GoldenVersion.provenance, Text).label("provenance")) if stored
        else (GoldenVersion.attributes, GoldenVersion.provenance)))
    for gid, version, attributes, provenance in _of_records(session, keys, cols):
        target = gaps if attributes is None or provenance is None else out
        target[(gid, version)] = (attributes, provenance)
    if gaps:
        # the versions before: walked back from each gap to the values it repeats
        ids = sorted({gid for gid, _ in gaps})
        earlier: dict[str, list[tuple[int, Any, Any]]] = {gid: [] for gid in ids}
        for part in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            for gid, version, attributes, provenance in session.execute(
                    select(*cols).where(GoldenVersion.golden_id.in_(part))
                    .order_by(GoldenVersion.golden_id, GoldenVersion.version.desc())):
                earlier[gid].append((version, attributes, provenance))
        for (gid, version), (attributes, provenance) in gaps.items():
            for v, a, p in earlier[gid]:
                if v < version:
                    attributes = a if attributes is None else attributes
                    provenance = p if provenance is None else provenance
                if attributes is not None and provenance is not None:
                    break
            out[(gid, version)] = (attributes, provenance)
    return out


def stored_form(attributes: Any, provenance: Any) -> Values:
    """The JSON text a version's attributes and provenance are stored as."""
    return (_ENCODE(attributes), _ENCODE(_PROVENANCE.process_bind_param(provenance, None)))


def repeats_dropped(session: Session, versions: Sequence[dict[str, Any]]) -> None:
    """Golden version rows about to be inserted (in version order per record) without the
    attributes and provenance they repeat from the version before (set to None)."""
    before = [(v["golden_id"], v["version"] - 1) for v in versions if v["version"] > 1]
    queued = {(v["golden_id"], v["version"]) for v in versions}
    # compared as stored: the JSON text, not decoded (equal text: equal values)
    known = values_at(session, [k for k in before if k not in queued], stored=True)
    for v in versions:
        values = stored_form(v["attributes"], v["provenance"])
        previous = known.get((v["golden_id"], v["version"] - 1))
        known[(v["golden_id"], v["version"])] = values
        if previous is not None:
            for name, value, was in zip(_REPEATED, values, previous, strict=True):
                if value == was:
                    v[name] = None


def complete(session: Session, versions: Sequence[GoldenVersion]) -> list[GoldenVersion]:
    """``versions`` with the attributes and provenance they repeat filled in (loaded, not
    changed: nothing is written)."""
    gaps = [v for v in versions if v.attributes is None or v.provenance is None]
    if gaps:
        values = values_at(session, [(v.golden_id, v.version) for v in gaps])
        for v in gaps:
            for name, value in zip(_REPEATED, values[(v.golden_id, v.version)], strict=True):
                set_committed_value(v, name, value)
    return list(versions)


def versions_of(session: Session,
                keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
    """Stored golden versions by (golden id, version), as dicts of the columns
    ``snapshot_at_version`` reads (and the reason), their attributes filled in."""
    out = {(v.golden_id, v.version): dict(v._mapping)
           for v in _of_records(session, keys, _SNAPSHOT_COLUMNS)}
    gaps = [k for k, v in out.items() if v["attributes"] is None]
    if gaps:
        values = values_at(session, gaps)
        for k in gaps:
            out[k]["attributes"] = values[k][0]
    return out


def source_states(session: Session, entity_ids: Iterable[str]) -> dict[str, tuple[Any, bool]]:
    """The current (attributes, active) of source records by their audit entity id,
    "<domain>/<system code>/<source id>" (as mdm.records.ingest names them)."""
    parts = {entity_id: entity_id.split("/", 2) for entity_id in set(entity_ids)}
    systems = dict(session.execute(select(SourceSystem.code, SourceSystem.id).where(
        SourceSystem.code.in_(sorted({code for _, code, _ in parts.values()})))).all())
    groups: dict[tuple[str, int], dict[str, str]] = {}  # (domain, system) -> source id -> key
    for entity_id, (domain, code, source_id) in parts.items():
        if code in systems:
            groups.setdefault((domain, systems[code]), {})[source_id] = entity_id
    out: dict[str, tuple[Any, bool]] = {}
    for (domain, system_id), by_source in groups.items():
        wanted = sorted(by_source)
        for chunk in (wanted[i : i + 500] for i in range(0, len(wanted), 500)):
            for source_id, attributes, active in session.execute(
                select(SourceRecord.source_id, SourceRecord.attributes, SourceRecord.active)
                .where(SourceRecord.domain == domain,
                       SourceRecord.source_system_id == system_id,
                       SourceRecord.source_id.in_(chunk))
            ):
                out[by_source[source_id]] = (attributes, active)
    return out
