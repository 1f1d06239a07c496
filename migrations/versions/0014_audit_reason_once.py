"""audit reason once: an audit entry that refers to the golden version it describes
(after_version) takes that version's reason instead of storing it again

A batch re-match writes the same reason into every golden version it makes and into each
version's audit entry (about 75 bytes each). Existing entries whose reason is their
version's are rewritten; a downgrade copies the reasons back.

Revision ID: 0014_audit_reason_once
Revises: 0013_compact_source_audit
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mdm.redaction import redact_text

revision: str = "0014_audit_reason_once"
down_revision: str | None = "0013_compact_source_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSION_REASON = (
    "(SELECT v.reason FROM golden_version v WHERE v.golden_id = audit_entry.entity_id "
    "AND v.version = audit_entry.after_version)"
)


def upgrade() -> None:
    op.execute("UPDATE audit_entry SET reason = NULL WHERE after_version IS NOT NULL "
               f"AND reason = {VERSION_REASON}")


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        f"SELECT id, {VERSION_REASON} FROM audit_entry "
        "WHERE after_version IS NOT NULL AND reason IS NULL")).all()
    # audit entries hold their reason redacted (mdm.redaction), versions as given
    params = [{"k": k, "r": redact_text(r)} for k, r in rows if r]
    if params:
        conn.execute(sa.text("UPDATE audit_entry SET reason = :r WHERE id = :k"), params)
