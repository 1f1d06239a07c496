"""Finding the golden records that hierarchy nodes name, in bulk.

Nodes name golden records by business key (gl_account: the hierarchy's chart + code;
cost_center and legal_entity: code). Keys are looked up with chunked IN lists over the JSON
``code`` attribute; a very large key set scans the domain once instead, because an IN list
per thousand keys would re-read the unindexed JSON for every chunk.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from mdm.hierarchies.engine import RecordFacts
from mdm.records.models import ACTIVE, GoldenRecord

CHUNK = 900  # below SQLite's oldest bind-parameter limit
SCAN_ABOVE = 5_000  # keys; above this one pass over the domain is cheaper than IN lists

_BOOLEAN = {"posting_allowed"}
# The attributes each domain's validation rules read.
FIELDS: dict[str, tuple[str, ...]] = {
    "gl_account": ("chart", "account_type", "posting_allowed", "valid_from", "valid_to"),
    "cost_center": ("legal_entity_code", "valid_from", "valid_to"),
    "legal_entity": ("valid_from", "valid_to"),
}


def _attr(name: str) -> ColumnElement[Any]:
    expr = GoldenRecord.attributes[name]
    return expr.as_boolean() if name in _BOOLEAN else expr.as_string()


def resolve(session: Session, domain: str, keys: Iterable[str],
            chart: str | None = None) -> dict[str, RecordFacts]:
    """Node key -> facts of the active golden record it names (missing keys are absent).

    When two active records carry the same key the oldest wins, so the answer is stable.
    """
    wanted = set(keys)
    if not wanted:
        return {}
    fields = FIELDS.get(domain, ())
    code = _attr("code")
    columns = [GoldenRecord.id, code, *(_attr(f).label(f) for f in fields)]
    conds: list[ColumnElement[bool]] = [GoldenRecord.domain == domain,
                                        GoldenRecord.status == ACTIVE]
    if domain == "gl_account":
        conds.append(_attr("chart") == chart)
    base = select(*columns).where(*conds).order_by(GoldenRecord.id)
    if len(wanted) > SCAN_ABOVE:
        batches = [session.execute(base)]
    else:
        ordered = sorted(wanted)
        batches = [session.execute(base.where(code.in_(ordered[i:i + CHUNK])))
                   for i in range(0, len(ordered), CHUNK)]
    out: dict[str, RecordFacts] = {}
    for rows in batches:
        for row in rows:
            key = row[1]
            if key in wanted and key not in out:
                out[key] = RecordFacts(row[0], dict(zip(fields, row[2:], strict=True)))
    return out
