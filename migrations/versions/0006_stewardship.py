"""stewardship: review tasks, not-a-match decisions, merge lineage, change requests

Revision ID: 0006_stewardship
Revises: 0005_contract_registry
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_stewardship'
down_revision: str | None = '0005_contract_registry'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('lineage_operation',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('domain', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('survivor_id', sa.String(length=36), nullable=False),
    sa.Column('other_ids', sa.JSON(), nullable=False),
    sa.Column('source_record_ids', sa.JSON(), nullable=False),
    sa.Column('undoes', sa.String(length=36), nullable=True),
    sa.Column('review_task_id', sa.String(length=36), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('request_id', sa.String(length=100), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lineage_operation'))
    )
    with op.batch_alter_table('lineage_operation', schema=None) as batch_op:
        batch_op.create_index('ix_lineage_operation_survivor', ['survivor_id'], unique=False)
        batch_op.create_index('ix_lineage_operation_undoes', ['undoes'], unique=False)

    op.create_table('not_a_match',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('domain', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('left_key', sa.String(length=40), nullable=False),
    sa.Column('right_key', sa.String(length=40), nullable=False),
    sa.Column('active_key', sa.String(length=90), nullable=True),
    sa.Column('origin', sa.String(length=60), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_id', sa.String(length=100), nullable=True),
    sa.Column('revoked_by', sa.String(length=200), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_not_a_match')),
    sa.UniqueConstraint('domain', 'active_key', name='uq_not_a_match_active_key')
    )
    with op.batch_alter_table('not_a_match', schema=None) as batch_op:
        batch_op.create_index('ix_not_a_match_left', ['domain', 'left_key'], unique=False)
        batch_op.create_index('ix_not_a_match_right', ['domain', 'right_key'], unique=False)

    op.create_table('review_task',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('domain', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('golden_ids', sa.JSON(), nullable=False),
    sa.Column('open_key', sa.String(length=64), nullable=True),
    sa.Column('source_record_ids', sa.JSON(), nullable=True),
    sa.Column('source_systems', sa.String(length=400), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.Column('assignee', sa.String(length=200), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deferred_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('operation_id', sa.String(length=36), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_task')),
    sa.UniqueConstraint('domain', 'open_key', name='uq_review_task_open_key')
    )
    with op.batch_alter_table('review_task', schema=None) as batch_op:
        batch_op.create_index('ix_review_task_assignee', ['assignee', 'status'], unique=False)
        batch_op.create_index('ix_review_task_domain_status', ['domain', 'status', 'id'], unique=False)

    op.create_table('change_request',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('domain', sa.String(length=64), nullable=False),
    sa.Column('golden_id', sa.String(length=36), nullable=False),
    sa.Column('attribute', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('previous', sa.JSON(), nullable=True),
    sa.Column('provenance', sa.JSON(), nullable=True),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('pending_key', sa.String(length=120), nullable=True),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_id', sa.String(length=100), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['golden_id'], ['golden_record.id'], name=op.f('fk_change_request_golden_id_golden_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_request')),
    sa.UniqueConstraint('pending_key', name='uq_change_request_pending_key')
    )
    with op.batch_alter_table('change_request', schema=None) as batch_op:
        batch_op.create_index('ix_change_request_domain_status', ['domain', 'status', 'id'], unique=False)
        batch_op.create_index('ix_change_request_golden', ['golden_id', 'status'], unique=False)

    op.create_table('lineage_link',
    sa.Column('operation_id', sa.String(length=36), nullable=False),
    sa.Column('golden_id', sa.String(length=36), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['operation_id'], ['lineage_operation.id'], name=op.f('fk_lineage_link_operation_id_lineage_operation')),
    sa.PrimaryKeyConstraint('operation_id', 'golden_id', name=op.f('pk_lineage_link'))
    )
    with op.batch_alter_table('lineage_link', schema=None) as batch_op:
        batch_op.create_index('ix_lineage_link_golden', ['golden_id'], unique=False)

    op.create_table('review_task_golden',
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('golden_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['review_task.id'], name=op.f('fk_review_task_golden_task_id_review_task')),
    sa.PrimaryKeyConstraint('task_id', 'golden_id', name=op.f('pk_review_task_golden'))
    )
    with op.batch_alter_table('review_task_golden', schema=None) as batch_op:
        batch_op.create_index('ix_review_task_golden_golden', ['golden_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('review_task_golden', schema=None) as batch_op:
        batch_op.drop_index('ix_review_task_golden_golden')

    op.drop_table('review_task_golden')
    with op.batch_alter_table('lineage_link', schema=None) as batch_op:
        batch_op.drop_index('ix_lineage_link_golden')

    op.drop_table('lineage_link')
    with op.batch_alter_table('change_request', schema=None) as batch_op:
        batch_op.drop_index('ix_change_request_golden')
        batch_op.drop_index('ix_change_request_domain_status')

    op.drop_table('change_request')
    with op.batch_alter_table('review_task', schema=None) as batch_op:
        batch_op.drop_index('ix_review_task_domain_status')
        batch_op.drop_index('ix_review_task_assignee')

    op.drop_table('review_task')
    with op.batch_alter_table('not_a_match', schema=None) as batch_op:
        batch_op.drop_index('ix_not_a_match_right')
        batch_op.drop_index('ix_not_a_match_left')

    op.drop_table('not_a_match')
    with op.batch_alter_table('lineage_operation', schema=None) as batch_op:
        batch_op.drop_index('ix_lineage_operation_undoes')
        batch_op.drop_index('ix_lineage_operation_survivor')

    op.drop_table('lineage_operation')
