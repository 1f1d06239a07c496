"""Finding the golden records that hierarchy nodes name, in bulk.

Nodes name golden records by business key (gl_account: the hierarchy's chart + code;
cost_center and legal_entity: code). Keys are looked up with chunked IN lists over the JSON
``code`` attribute; a very large key set scans the domain once instead, because an IN list
per thousand keys would re-read the unindexed JSON for every chunk. Records come back
with their attributes as stored (the rules read them defensively): one JSON decode per
record is cheaper than one SQL JSON extraction per attribute the rules need, and decoding
the JSON text here (orjson) cheaper than SQLAlchemy's per-row JSON processing.
"""
from __future__ import annotations

from collections.abc import Iterable

import orjson
from sqlalchemy import ColumnElement, Text, cast, select
from sqlalchemy.orm import Session

from mdm.hierarchies.engine import RecordFacts
from mdm.records.models import ACTIVE, GoldenRecord

CHUNK = 900  # below SQLite's oldest bind-parameter limit
SCAN_ABOVE = 5_000  # keys; above this one pass over the domain is cheaper than IN lists


def resolve(session: Session, domain: str, keys: Iterable[str],
            chart: str | None = None) -> dict[str, RecordFacts]:
    """Node key -> facts of the active golden record it names (missing keys are absent).

    When two active records carry the same key the oldest wins, so the answer is stable.
    """
    wanted = set(keys)
    if not wanted:
        return {}
    g = GoldenRecord.__table__.c
    code = g.attributes["code"].as_string()
    conds: list[ColumnElement[bool]] = [g.domain == domain, g.status == ACTIVE]
    if domain == "gl_account":
        conds.append(g.attributes["chart"].as_string() == chart)
    base = select(g.id, code, cast(g.attributes, Text)).where(*conds).order_by(g.id)
    if len(wanted) > SCAN_ABOVE:
        batches = [session.execute(base).all()]  # all(): one fetch, not one per row
    else:
        ordered = sorted(wanted)
        batches = [session.execute(base.where(code.in_(ordered[i:i + CHUNK]))).all()
                   for i in range(0, len(ordered), CHUNK)]
    out: dict[str, RecordFacts] = {}
    for rows in batches:
        for golden_id, key, attributes in rows:
            if key in wanted and key not in out:
                out[key] = RecordFacts(golden_id,
                                       orjson.loads(attributes) if attributes else {})
    return out
