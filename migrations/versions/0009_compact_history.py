"""compact history: provenance names each source once; golden versions keep their snapshot's
quality status and pinned attributes, so audit entries refer to a version instead of copying it

Existing provenance (golden records and their versions) is rewritten in the compact form; it
reads back unchanged. Existing audit entries keep their copies (they read the same).

Revision ID: 0009_compact_history
Revises: 0008_registry_references
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from mdm.records import history
from mdm.records.models import Provenance
from mdm.redaction import redact

revision: str = "0009_compact_history"
down_revision: str | None = "0008_registry_references"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def _rewrite_provenance(table: str, keys: list[str], compact: bool) -> None:
    """Every provenance of ``table`` in the compact form (or back to plain, ``compact``
    False), in batches ordered by primary key."""
    conn = op.get_bind()
    typed = sa.table(table, *(sa.column(k) for k in keys),
                     sa.column("provenance", Provenance if compact else sa.JSON))
    reader = sa.table(table, *(sa.column(k) for k in keys),
                      sa.column("provenance", sa.JSON if compact else Provenance))
    order = [reader.c[k] for k in keys]
    last: tuple[Any, ...] | None = None
    while True:
        q = sa.select(*order, reader.c.provenance).order_by(*order).limit(BATCH)
        if last is not None:
            q = q.where(sa.tuple_(*order) > sa.tuple_(*last))
        rows = conn.execute(q).all()
        if not rows:
            return
        stmt = typed.update().where(
            *(typed.c[k] == sa.bindparam(f"k_{k}") for k in keys)
        ).values(provenance=sa.bindparam("p"))
        conn.execute(stmt, [{**{f"k_{k}": r[i] for i, k in enumerate(keys)},
                             "p": r[len(keys)]} for r in rows])
        last = tuple(rows[-1][: len(keys)])


def upgrade() -> None:
    with op.batch_alter_table("golden_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quality_status", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("overrides", sa.JSON(), nullable=True))
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("before_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("after_version", sa.Integer(), nullable=True))
    _rewrite_provenance("golden_record", ["id"], compact=True)
    _rewrite_provenance("golden_version", ["golden_id", "version"], compact=True)


def _copy_referred_states() -> None:
    """Audit entries that refer to a golden version get their before/after copied back."""
    conn = op.get_bind()
    session = Session(bind=conn)
    audit = sa.table("audit_entry", sa.column("id"), sa.column("entity_id"), sa.column("domain"),
                     sa.column("before", sa.JSON), sa.column("after", sa.JSON),
                     sa.column("before_version"), sa.column("after_version"))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(audit.c.id, audit.c.entity_id, audit.c.domain, audit.c.before_version,
                      audit.c.after_version)
            .where(audit.c.id > last,
                   sa.or_(audit.c.before_version.isnot(None), audit.c.after_version.isnot(None)))
            .order_by(audit.c.id).limit(BATCH)).all()
        if not rows:
            return
        keys = [(r.entity_id, v) for r in rows for v in (r.before_version, r.after_version)
                if v is not None]
        stored = history.versions_of(session, keys)

        def state(gid: str, version: int | None, domain: str | None,
                  stored: dict[Any, Any] = stored) -> Any:
            row = stored.get((gid, version)) if version is not None else None
            snap = history.snapshot_at_version(row, domain or "") if row is not None else None
            return redact(snap) if snap else None

        updates = [{"k": r.id, "b": state(r.entity_id, r.before_version, r.domain),
                    "a": state(r.entity_id, r.after_version, r.domain)} for r in rows]
        for u, r in zip(updates, rows, strict=True):
            stmt = audit.update().where(audit.c.id == u["k"])
            values: dict[str, Any] = {}
            if r.before_version is not None:
                values["before"] = u["b"]
            if r.after_version is not None:
                values["after"] = u["a"]
            conn.execute(stmt.values(**values))
        last = rows[-1].id


def downgrade() -> None:
    _copy_referred_states()
    _rewrite_provenance("golden_record", ["id"], compact=False)
    _rewrite_provenance("golden_version", ["golden_id", "version"], compact=False)
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_column("after_version")
        batch_op.drop_column("before_version")
    with op.batch_alter_table("golden_version", schema=None) as batch_op:
        batch_op.drop_column("overrides")
        batch_op.drop_column("quality_status")
