"""publication: subscriptions, deliveries, runs, router cursor; change_event.position

Revision ID: 0004_publication
Revises: 0003_hierarchies
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_publication"
down_revision: str | None = "0003_hierarchies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("change_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("position", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_change_event_position", ["position"], unique=True)
        batch_op.create_index("ix_change_event_domain_position", ["domain", "position"],
                              unique=False)

    op.create_table(
        "publication_subscription",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("target_system", sa.String(length=64), nullable=True),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("channel_config", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("schedule", sa.String(length=100), nullable=True),
        sa.Column("schedule_mode", sa.String(length=20), nullable=False),
        sa.Column("contract_subject", sa.String(length=200), nullable=True),
        sa.Column("contract_version", sa.String(length=50), nullable=True),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("retry_initial_seconds", sa.Float(), nullable=False),
        sa.Column("retry_max_seconds", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication_subscription")),
        sa.UniqueConstraint("name", name=op.f("uq_publication_subscription_name")),
    )
    with op.batch_alter_table("publication_subscription", schema=None) as batch_op:
        batch_op.create_index("ix_publication_subscription_active", ["active", "trigger"],
                              unique=False)

    op.create_table(
        "publication_delivery",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("change_event_id", sa.BigInteger(), nullable=True),
        sa.Column("position", sa.BigInteger(), nullable=True),
        sa.Column("domain", sa.String(length=64), nullable=False),
        sa.Column("golden_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"], ["publication_subscription.id"],
            name=op.f("fk_publication_delivery_subscription_id_publication_subscription"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication_delivery")),
    )
    with op.batch_alter_table("publication_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_publication_delivery_claim",
                              ["subscription_id", "status", "id"], unique=False)
        batch_op.create_index("ix_publication_delivery_order",
                              ["subscription_id", "golden_id", "id"], unique=False)

    op.create_table(
        "publication_run",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("from_position", sa.BigInteger(), nullable=True),
        sa.Column("to_position", sa.BigInteger(), nullable=True),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"], ["publication_subscription.id"],
            name=op.f("fk_publication_run_subscription_id_publication_subscription"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication_run")),
        sa.UniqueConstraint("subscription_id", "scheduled_for", name="uq_publication_run_tick"),
    )
    with op.batch_alter_table("publication_run", schema=None) as batch_op:
        batch_op.create_index("ix_publication_run_subscription_status",
                              ["subscription_id", "status"], unique=False)

    op.create_table(
        "publication_cursor",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_publication_cursor")),
    )


def downgrade() -> None:
    op.drop_table("publication_cursor")
    with op.batch_alter_table("publication_run", schema=None) as batch_op:
        batch_op.drop_index("ix_publication_run_subscription_status")
    op.drop_table("publication_run")
    with op.batch_alter_table("publication_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_publication_delivery_order")
        batch_op.drop_index("ix_publication_delivery_claim")
    op.drop_table("publication_delivery")
    with op.batch_alter_table("publication_subscription", schema=None) as batch_op:
        batch_op.drop_index("ix_publication_subscription_active")
    op.drop_table("publication_subscription")
    with op.batch_alter_table("change_event", schema=None) as batch_op:
        batch_op.drop_index("ix_change_event_domain_position")
        batch_op.drop_index("ix_change_event_position")
        batch_op.drop_column("position")
