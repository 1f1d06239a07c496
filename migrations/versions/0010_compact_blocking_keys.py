"""matching: blocking keys stored as 64-bit hashes, one index; key hashes kept per record

The key text was stored twice per row (table and primary key) with a second index on
source_record_id: about 1.6 KB per source record. A row is now (key_hash, source_record_id)
under its primary key only; ``match_prepared.key_hashes`` lists a record's rows so they
are removed without that second index. Existing keys are hashed as ``index.key_hash``
does (blake2b-64 of "<domain>\\0<key>"), so the index stays valid across the upgrade.

Revision ID: 0010_compact_blocking_keys
Revises: 0009_compact_history
"""
from __future__ import annotations

import hashlib
import struct
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010_compact_blocking_keys'
down_revision: str | None = '0009_compact_history'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_IDS_PER_PAGE = 20_000


def _key_hash(domain: str, key: str) -> int:
    # The same function as mdm.matching.index.key_hash, frozen here as migrations must be.
    digest = hashlib.blake2b(f"{domain}\0{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def upgrade() -> None:
    conn = op.get_bind()
    pg = conn.dialect.name == 'postgresql'
    op.rename_table('match_blocking_key', 'match_blocking_key_old')
    if pg:  # constraint names are schema-wide there; the new table takes the old name
        op.execute('ALTER TABLE match_blocking_key_old RENAME CONSTRAINT pk_match_blocking_key '
                   'TO pk_match_blocking_key_old')
    op.create_table('match_blocking_key',
    sa.Column('key_hash', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('source_record_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('key_hash', 'source_record_id', name=op.f('pk_match_blocking_key')),
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('match_prepared', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_hashes', sa.LargeBinary(), nullable=True))

    old = sa.table('match_blocking_key_old', sa.column('domain', sa.String),
                   sa.column('key', sa.String), sa.column('source_record_id', sa.BigInteger))
    new = sa.table('match_blocking_key', sa.column('key_hash', sa.BigInteger),
                   sa.column('source_record_id', sa.BigInteger))
    prepared = sa.table('match_prepared', sa.column('source_record_id', sa.BigInteger),
                        sa.column('key_hashes', sa.LargeBinary))
    low, high = conn.execute(sa.select(sa.func.min(old.c.source_record_id),
                                       sa.func.max(old.c.source_record_id))).one()
    if low is not None:
        start = low
        while start <= high:
            stop = start + _IDS_PER_PAGE
            per_record: dict[int, list[int]] = defaultdict(list)
            for domain, key, sr_id in conn.execute(
                sa.select(old.c.domain, old.c.key, old.c.source_record_id)
                .where(old.c.source_record_id >= start, old.c.source_record_id < stop)
            ):
                per_record[sr_id].append(_key_hash(domain, key))
            rows = [{'key_hash': h, 'source_record_id': sr_id}
                    for sr_id, hashes in per_record.items() for h in dict.fromkeys(hashes)]
            if rows:
                conn.execute(new.insert(), rows)
                conn.execute(
                    prepared.update()
                    .where(prepared.c.source_record_id == sa.bindparam('sr'))
                    .values(key_hashes=sa.bindparam('blob')),
                    [{'sr': sr_id, 'blob': struct.pack(f'<{len(h)}q', *dict.fromkeys(h))}
                     for sr_id, h in per_record.items()])
            start = stop
    conn.execute(prepared.update().where(prepared.c.key_hashes.is_(None))
                 .values(key_hashes=b''))
    op.drop_table('match_blocking_key_old')
    with op.batch_alter_table('match_prepared', schema=None) as batch_op:
        batch_op.alter_column('key_hashes', existing_type=sa.LargeBinary(), nullable=False)


def downgrade() -> None:
    # Hashes cannot be turned back into keys: the index is emptied, and the next
    # `mdm match DOMAIN` rebuilds it (it indexes every record missing from it).
    op.drop_table('match_blocking_key')
    op.execute('DELETE FROM match_prepared')
    with op.batch_alter_table('match_prepared', schema=None) as batch_op:
        batch_op.drop_column('key_hashes')
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
