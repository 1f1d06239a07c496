"""registry: Confluent schema references (registry_reference)

Revision ID: 0008_registry_references
Revises: 0007_registry_schema_ids
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_registry_references"
down_revision: str | None = "0007_registry_schema_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registry_reference",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["registry_version.id"],
            name=op.f("fk_registry_reference_target_id_registry_version"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["registry_version.id"],
            name=op.f("fk_registry_reference_version_id_registry_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_reference")),
        sa.UniqueConstraint("version_id", "name", name="uq_registry_reference_version_name"),
    )
    op.create_index(
        "ix_registry_reference_target_id", "registry_reference", ["target_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_registry_reference_target_id", table_name="registry_reference")
    op.drop_table("registry_reference")
