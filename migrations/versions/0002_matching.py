"""matching: blocking index, prepared feature rows, trained parameters, decisions

Revision ID: 0002_matching
Revises: 0001_initial
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002_matching'
down_revision: str | None = '0001_initial'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('match_blocking_key',
    sa.Column('domain', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('source_record_id', BIG_ID, nullable=False),
    sa.ForeignKeyConstraint(['source_record_id'], ['source_record.id'],
                            name=op.f('fk_match_blocking_key_source_record_id_source_record')),
    sa.PrimaryKeyConstraint('domain', 'key', 'source_record_id', name=op.f('pk_match_blocking_key'))
    )
    with op.batch_alter_table('match_blocking_key', schema=None) as batch_op:
        batch_op.create_index('ix_match_blocking_key_source_record', ['source_record_id'],
                              unique=False)

    op.create_table('match_prepared',
    sa.Column('source_record_id', BIG_ID, autoincrement=False, nullable=False),
    sa.Column('domain', sa.String(length=64), nullable=False),
    sa.Column('settings_version', sa.String(length=100), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('features', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['source_record_id'], ['source_record.id'],
                            name=op.f('fk_match_prepared_source_record_id_source_record')),
    sa.PrimaryKeyConstraint('source_record_id', name=op.f('pk_match_prepared'))
    )

    op.create_table('match_params',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('domain', sa.String(length=64), nullable=False),
    sa.Column('settings_version', sa.String(length=100), nullable=False),
    sa.Column('params_version', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('trained_by', sa.String(length=200), nullable=False),
    sa.Column('trained_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_params'))
    )
    with op.batch_alter_table('match_params', schema=None) as batch_op:
        batch_op.create_index('ix_match_params_domain_settings',
                              ['domain', 'settings_version', 'id'], unique=False)

    op.create_table('match_decision',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('domain', sa.String(length=64), nullable=False),
    sa.Column('mode', sa.String(length=12), nullable=False),
    sa.Column('source_record_id', BIG_ID, nullable=True),
    sa.Column('golden_id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=12), nullable=False),
    sa.Column('probability', sa.Float(), nullable=True),
    sa.Column('related_golden_ids', sa.JSON(), nullable=False),
    sa.Column('review_task_id', sa.String(length=36), nullable=True),
    sa.Column('settings_version', sa.String(length=100), nullable=False),
    sa.Column('params_version', sa.String(length=40), nullable=False),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('request_id', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_decision'))
    )
    with op.batch_alter_table('match_decision', schema=None) as batch_op:
        batch_op.create_index('ix_match_decision_domain', ['domain', 'id'], unique=False)
        batch_op.create_index('ix_match_decision_golden', ['golden_id', 'id'], unique=False)
        batch_op.create_index('ix_match_decision_source_record', ['source_record_id', 'id'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('match_decision')
    op.drop_table('match_params')
    op.drop_table('match_prepared')
    op.drop_table('match_blocking_key')
