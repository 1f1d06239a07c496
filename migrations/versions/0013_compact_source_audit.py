"""compact source-record audit: an entry stores only the golden id of its after; the
attributes and active flag are the record's until its next change (mdm.audit.models)

Every source record's creation copied everything the source sent into its audit entry
(about 330 bytes per source record at 20k suppliers), while the record itself, or the
before of its next entry, holds the same. Existing entries are rewritten where that holds;
a downgrade copies the states back.

Revision ID: 0013_compact_source_audit
Revises: 0012_compact_golden_versions
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from mdm.records import history
from mdm.redaction import redact

revision: str = "0013_compact_source_audit"
down_revision: str | None = "0012_compact_golden_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTITIES_PER_BATCH = 2000
STATE = ["attributes", "active", "golden_id"]

AUDIT = sa.table("audit_entry", sa.column("id", sa.BigInteger), sa.column("entity_type"),
                 sa.column("entity_id"), sa.column("before", sa.JSON(none_as_null=True)),
                 sa.column("after", sa.JSON(none_as_null=True)))


def _rewrite(compact: bool) -> None:
    """Each source record's entries in id order: an after whose attributes and active flag
    are the next entry's before (or the record's, for the last) keeps only its golden id
    (``compact``), or gets them back."""
    conn = op.get_bind()
    session = Session(bind=conn)
    a = AUDIT.c
    stmt = AUDIT.update().where(a.id == sa.bindparam("k")).values(after=sa.bindparam("x"))
    last = ""
    while True:
        ids = list(conn.scalars(
            sa.select(a.entity_id).distinct()
            .where(a.entity_type == "source_record", a.entity_id > last)
            .order_by(a.entity_id).limit(ENTITIES_PER_BATCH)))
        if not ids:
            return
        last = ids[-1]
        rows = conn.execute(sa.select(a.id, a.entity_id, a.before, a.after)
                            .where(a.entity_type == "source_record", a.entity_id.in_(ids))
                            .order_by(a.entity_id, a.id)).all()
        current = history.source_states(session, ids)
        updates: list[dict[str, Any]] = []
        for n, row in enumerate(rows):
            if row.after is None:
                continue
            nxt = None
            for later in rows[n + 1:]:
                if later.entity_id != row.entity_id or later.before:
                    nxt = later.before if later.entity_id == row.entity_id else None
                    break
            if nxt is not None:
                state = (nxt.get("attributes"), nxt.get("active"))
            elif row.entity_id in current:
                attributes, active = current[row.entity_id]
                state = (redact(attributes), active)
            else:
                continue
            if compact and list(row.after) == STATE and (
                    row.after["attributes"], row.after["active"]) == state:
                updates.append({"k": row.id, "x": {"golden_id": row.after["golden_id"]}})
            elif not compact and list(row.after) == ["golden_id"]:
                updates.append({"k": row.id, "x": {"attributes": state[0], "active": state[1],
                                                   "golden_id": row.after["golden_id"]}})
        if updates:
            conn.execute(stmt, updates)


def upgrade() -> None:
    _rewrite(compact=True)


def downgrade() -> None:
    _rewrite(compact=False)
