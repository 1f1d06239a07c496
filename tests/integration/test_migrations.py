"""The models and the Alembic migrations describe the same database."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mdm.db import make_engine
from mdm.schema import all_metadata


def test_autogenerate_finds_no_difference(migrated: str) -> None:
    engine = make_engine(migrated)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, all_metadata)
    engine.dispose()
    assert diff == []
