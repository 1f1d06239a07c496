"""compact golden versions: a version stores its attributes (provenance) only when they
differ from the version before; NULL means "as the version before"

A record merged away keeps its values, so its last version repeated them in full (about
600 bytes each; 17k such versions at 20k suppliers). Existing versions are rewritten in
that form, one record's versions at a time in order; mdm.records.history reads them back
unchanged. A downgrade writes every value out again.

Revision ID: 0012_compact_golden_versions
Revises: 0011_compact_change_events
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012_compact_golden_versions"
down_revision: str | None = "0011_compact_change_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORDS_PER_BATCH = 2000
NAMES = ("attributes", "provenance")

# The stored JSON is compared and copied as it is (the provenance's compact form included).
VERSIONS = sa.table("golden_version", sa.column("golden_id"), sa.column("version"),
                    sa.column("attributes", sa.JSON(none_as_null=True)),
                    sa.column("provenance", sa.JSON(none_as_null=True)))


def _rewrite(compact: bool) -> None:
    """Every record's versions in order: a value equal to the one before it becomes NULL
    (``compact``), or a NULL becomes the value before it."""
    conn = op.get_bind()
    v = VERSIONS.c
    stmt = VERSIONS.update().where(v.golden_id == sa.bindparam("g"),
                                   v.version == sa.bindparam("n"))
    last = ""
    while True:
        ids = list(conn.scalars(sa.select(v.golden_id).distinct().where(v.golden_id > last)
                                .order_by(v.golden_id).limit(RECORDS_PER_BATCH)))
        if not ids:
            return
        last = ids[-1]
        # compared as the JSON text stored (as mdm.records.history does), copied decoded
        rows = conn.execute(sa.select(v.golden_id, v.version, v.attributes, v.provenance,
                                      *(sa.cast(v[n], sa.Text).label(f"{n}_text") for n in NAMES))
                            .where(v.golden_id.in_(ids))
                            .order_by(v.golden_id, v.version)).all()
        changes: dict[str, list[dict[str, Any]]] = {name: [] for name in NAMES}
        gid: str | None = None
        previous: list[Any] = [None, None]  # (text, value) of each as of the version before
        for row in rows:
            if row.golden_id != gid:
                gid, previous = row.golden_id, [None, None]
            values = [None if row.attributes_text is None else (row.attributes_text,
                                                                 row.attributes),
                      None if row.provenance_text is None else (row.provenance_text,
                                                                row.provenance)]
            for name, value, was in zip(NAMES, values, previous, strict=True):
                if compact and value is not None and was is not None and value[0] == was[0]:
                    changes[name].append({"g": gid, "n": row.version, "x": None})
                elif not compact and value is None and was is not None:
                    changes[name].append({"g": gid, "n": row.version, "x": was[1]})
            previous = [was if value is None else value
                        for value, was in zip(values, previous, strict=True)]
        for name, params in changes.items():
            if params:
                conn.execute(stmt.values({name: sa.bindparam("x")}), params)


def upgrade() -> None:
    with op.batch_alter_table("golden_version", schema=None) as batch_op:
        batch_op.alter_column("attributes", existing_type=sa.JSON(), nullable=True)
        batch_op.alter_column("provenance", existing_type=sa.JSON(), nullable=True)
    _rewrite(compact=True)


def downgrade() -> None:
    _rewrite(compact=False)
    with op.batch_alter_table("golden_version", schema=None) as batch_op:
        batch_op.alter_column("provenance", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("attributes", existing_type=sa.JSON(), nullable=False)
