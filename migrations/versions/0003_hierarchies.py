"""finance hierarchies: named hierarchies, versions and effective-dated nodes

Revision ID: 0003_hierarchies
Revises: 0002_matching
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_hierarchies"
down_revision: str | None = "0002_matching"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "hierarchy",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("domain", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("allow_shared", sa.Boolean(), nullable=False),
        sa.Column("chart", sa.String(length=40), nullable=True),
        sa.Column("legal_entity_code", sa.String(length=40), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hierarchy")),
        sa.UniqueConstraint("name", name=op.f("uq_hierarchy_name")),
    )
    with op.batch_alter_table("hierarchy", schema=None) as batch_op:
        batch_op.create_index("ix_hierarchy_domain", ["domain", "name"], unique=False)

    op.create_table(
        "hierarchy_version",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("hierarchy_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("node_count", sa.Integer(), nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=200), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["hierarchy_id"], ["hierarchy.id"],
                                name=op.f("fk_hierarchy_version_hierarchy_id_hierarchy")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hierarchy_version")),
        sa.UniqueConstraint("hierarchy_id", "number", name="uq_hierarchy_version_number"),
    )
    with op.batch_alter_table("hierarchy_version", schema=None) as batch_op:
        batch_op.create_index("ix_hierarchy_version_status", ["hierarchy_id", "status"],
                              unique=False)

    op.create_table(
        "hierarchy_node",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("version_id", BigId, nullable=False),
        sa.Column("node_key", sa.String(length=120), nullable=False),
        sa.Column("parent_key", sa.String(length=120), nullable=True),
        sa.Column("golden_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["version_id"], ["hierarchy_version.id"],
                                name=op.f("fk_hierarchy_node_version_id_hierarchy_version"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hierarchy_node")),
    )
    with op.batch_alter_table("hierarchy_node", schema=None) as batch_op:
        batch_op.create_index("ix_hierarchy_node_parent",
                              ["version_id", "parent_key", "valid_from"], unique=False)
        batch_op.create_index("ix_hierarchy_node_key",
                              ["version_id", "node_key", "valid_from"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hierarchy_node", schema=None) as batch_op:
        batch_op.drop_index("ix_hierarchy_node_key")
        batch_op.drop_index("ix_hierarchy_node_parent")
    op.drop_table("hierarchy_node")
    with op.batch_alter_table("hierarchy_version", schema=None) as batch_op:
        batch_op.drop_index("ix_hierarchy_version_status")
    op.drop_table("hierarchy_version")
    with op.batch_alter_table("hierarchy", schema=None) as batch_op:
        batch_op.drop_index("ix_hierarchy_domain")
    op.drop_table("hierarchy")
