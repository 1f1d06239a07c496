"""Alembic environment for the MDM Hub (both packages share one metadata)."""
from __future__ import annotations

from alembic import context

from contracts.registry.models import UTCDateTime as RegistryUTCDateTime
from mdm.db import UTCDateTime, make_engine
from mdm.schema import all_metadata

config = context.config


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Our timezone-aware DateTime decorator is plain TIMESTAMP WITH TIME ZONE in the database.
    if type_ == "type" and isinstance(obj, UTCDateTime | RegistryUTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=all_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=all_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
