"""compact change events and audit: an event refers to its golden version for its record;
indexes no query uses are dropped; an audit entry without a before/after stores NULL

Each change event held a full copy of the golden record, the very snapshot of the golden
version it names (about 1.5 KB per source record at 20k suppliers). An event whose stored
record equals its version's snapshot (redacted, as events are) now stores its payload
without "record" (mdm.events.models); reading puts the record back. Events of anything
else (hierarchies) and any event whose record differs keep their copy.

Dropped indexes, none of which a query uses: change_event (domain, id) and
(golden_id, id): the feed, routing and replay read by position; audit_entry (at): the
audit trail is read by entity, request or id; golden_version (golden_id, valid_from): an
as-of read walks the few versions of one record by its primary key (golden_id, version).

Revision ID: 0011_compact_change_events
Revises: 0010_compact_blocking_keys
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from mdm.db import UTCDateTime
from mdm.records import history
from mdm.redaction import redact

revision: str = "0011_compact_change_events"
down_revision: str | None = "0010_compact_blocking_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000

EVENTS = sa.table("change_event", sa.column("id", sa.BigInteger), sa.column("domain"),
                  sa.column("golden_id"), sa.column("golden_version"),
                  sa.column("payload", sa.JSON))
VERSIONS = sa.table("golden_version", *(sa.column(name) for name in (
    "golden_id", "version", "status", "merged_into", "quality_status")),
    sa.column("attributes", sa.JSON), sa.column("overrides", sa.JSON),
    sa.column("valid_from", UTCDateTime))


def _records(conn: sa.Connection, rows: list[Any]) -> dict[tuple[str, int], dict[str, Any]]:
    """The redacted snapshot of each golden version the events name, by (id, version)."""
    domains = {(r.golden_id, r.golden_version): r.domain for r in rows}
    keys = sorted(domains)
    out: dict[tuple[str, int], dict[str, Any]] = {}
    pair = sa.tuple_(VERSIONS.c.golden_id, VERSIONS.c.version)
    for chunk in (keys[i : i + 500] for i in range(0, len(keys), 500)):
        for v in conn.execute(sa.select(VERSIONS).where(pair.in_(chunk))):
            snap = history.snapshot_at_version(v, domains[(v.golden_id, v.version)])
            if snap is not None:
                out[(v.golden_id, v.version)] = redact(snap)
    return out


def _rewrite_events(compact: bool) -> None:
    """Every change event in the compact form (``compact``) or back to a full copy, in
    batches ordered by id."""
    conn = op.get_bind()
    stmt = EVENTS.update().where(EVENTS.c.id == sa.bindparam("k")).values(
        payload=sa.bindparam("p"))
    last = 0
    while True:
        rows = conn.execute(sa.select(EVENTS).where(EVENTS.c.id > last)
                            .order_by(EVENTS.c.id).limit(BATCH)).all()
        if not rows:
            return
        last = rows[-1].id
        todo = [r for r in rows if ("record" in r.payload) == compact]
        records = _records(conn, todo)
        updates: list[dict[str, Any]] = []
        for r in todo:
            record = records.get((r.golden_id, r.golden_version))
            if compact and record is not None and r.payload["record"] == record:
                updates.append({"k": r.id, "p": {k: v for k, v in r.payload.items()
                                                 if k != "record"}})
            elif not compact:
                if record is None:
                    raise RuntimeError(f"change event {r.id} refers to golden version "
                                       f"{r.golden_id} v{r.golden_version}, which is not stored")
                updates.append({"k": r.id, "p": {"record": record, **r.payload}})
        if updates:
            conn.execute(stmt, updates)


def upgrade() -> None:
    with op.batch_alter_table("change_event", schema=None) as batch_op:
        batch_op.drop_index("ix_change_event_domain_id")
        batch_op.drop_index("ix_change_event_golden_id")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_at")
    with op.batch_alter_table("golden_version", schema=None) as batch_op:
        batch_op.drop_index("ix_golden_version_golden_valid_from")
    _rewrite_events(compact=True)
    # JSON null read as None before too: SQL NULL takes no room
    for column in ("before", "after"):
        text = f'"{column}"' if op.get_bind().dialect.name == "sqlite" else f'"{column}"::text'
        op.execute(f"UPDATE audit_entry SET \"{column}\" = NULL WHERE {text} = 'null'")


def downgrade() -> None:
    _rewrite_events(compact=False)
    with op.batch_alter_table("golden_version", schema=None) as batch_op:
        batch_op.create_index("ix_golden_version_golden_valid_from", ["golden_id", "valid_from"],
                              unique=False)
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entry_at", ["at"], unique=False)
    with op.batch_alter_table("change_event", schema=None) as batch_op:
        batch_op.create_index("ix_change_event_golden_id", ["golden_id", "id"], unique=False)
        batch_op.create_index("ix_change_event_domain_id", ["domain", "id"], unique=False)
