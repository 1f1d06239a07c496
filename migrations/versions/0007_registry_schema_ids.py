"""registry: one schema id per distinct document (registry_schema), soft-deleted versions

Existing versions keep the ids clients may have cached: each distinct (format, document) takes
the id of the first version that held it.

Revision ID: 0007_registry_schema_ids
Revises: 0006_stewardship
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_registry_schema_ids"
down_revision: str | None = "0006_stewardship"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FIRST_HOLDER = """
    SELECT MIN(v2.id) FROM registry_version v2
    JOIN registry_subject s2 ON s2.id = v2.subject_id
    WHERE v2.fingerprint = registry_version.fingerprint AND s2.format = (
        SELECT s.format FROM registry_subject s WHERE s.id = registry_version.subject_id
    )
"""


def upgrade() -> None:
    op.create_table(
        "registry_schema",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=12), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_schema")),
        sa.UniqueConstraint(
            "format", "fingerprint", name="uq_registry_schema_format_fingerprint"
        ),
    )
    with op.batch_alter_table("registry_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("schema_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        """
        INSERT INTO registry_schema (id, format, fingerprint, document, created_at)
        SELECT v.id, s.format, v.fingerprint, v.document, v.created_at
        FROM registry_version v JOIN registry_subject s ON s.id = v.subject_id
        WHERE v.id = (
            SELECT MIN(v2.id) FROM registry_version v2
            JOIN registry_subject s2 ON s2.id = v2.subject_id
            WHERE v2.fingerprint = v.fingerprint AND s2.format = s.format
        )
        """
    )
    op.execute(f"UPDATE registry_version SET schema_id = ({_FIRST_HOLDER})")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('registry_schema', 'id'), "
            "COALESCE((SELECT MAX(id) FROM registry_schema), 0) + 1, false)"
        )
    with op.batch_alter_table("registry_version", schema=None) as batch_op:
        batch_op.alter_column("schema_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            op.f("fk_registry_version_schema_id_registry_schema"),
            "registry_schema",
            ["schema_id"],
            ["id"],
        )
        batch_op.create_index("ix_registry_version_schema_id", ["schema_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("registry_version", schema=None) as batch_op:
        batch_op.drop_index("ix_registry_version_schema_id")
        batch_op.drop_constraint(
            op.f("fk_registry_version_schema_id_registry_schema"), type_="foreignkey"
        )
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("schema_id")
    op.drop_table("registry_schema")
