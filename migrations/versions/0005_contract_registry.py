"""contract registry: subjects, versions, consumers, settings

Revision ID: 0005_contract_registry
Revises: 0004_publication
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_contract_registry"
down_revision: str | None = "0004_publication"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registry_subject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("format", sa.String(length=12), nullable=False),
        sa.Column("owner_team", sa.String(length=100), nullable=False),
        sa.Column("lifecycle", sa.String(length=12), nullable=False),
        sa.Column("sunset_date", sa.Date(), nullable=True),
        sa.Column("domain", sa.String(length=64), nullable=True),
        sa.Column("compatibility", sa.String(length=20), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_subject")),
        sa.UniqueConstraint("name", name=op.f("uq_registry_subject_name")),
    )
    with op.batch_alter_table("registry_subject", schema=None) as batch_op:
        batch_op.create_index("ix_registry_subject_domain", ["domain"], unique=False)

    op.create_table(
        "registry_setting",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_registry_setting")),
    )

    op.create_table(
        "registry_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("major", sa.Integer(), nullable=False),
        sa.Column("minor", sa.Integer(), nullable=False),
        sa.Column("patch", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("sunset_date", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["registry_subject.id"],
            name=op.f("fk_registry_version_subject_id_registry_subject"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_version")),
        sa.UniqueConstraint("subject_id", "number", name="uq_registry_version_subject_number"),
        sa.UniqueConstraint("subject_id", "version", name="uq_registry_version_subject_version"),
    )
    with op.batch_alter_table("registry_version", schema=None) as batch_op:
        batch_op.create_index(
            "ix_registry_version_fingerprint", ["subject_id", "fingerprint"], unique=False
        )

    op.create_table(
        "registry_consumer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=100), nullable=False),
        sa.Column("version_range", sa.String(length=100), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["registry_subject.id"],
            name=op.f("fk_registry_consumer_subject_id_registry_subject"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_consumer")),
        sa.UniqueConstraint("subject_id", "system", name="uq_registry_consumer_subject_system"),
    )


def downgrade() -> None:
    op.drop_table("registry_consumer")
    with op.batch_alter_table("registry_version", schema=None) as batch_op:
        batch_op.drop_index("ix_registry_version_fingerprint")
    op.drop_table("registry_version")
    op.drop_table("registry_setting")
    with op.batch_alter_table("registry_subject", schema=None) as batch_op:
        batch_op.drop_index("ix_registry_subject_domain")
    op.drop_table("registry_subject")
