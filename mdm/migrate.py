"""Alembic wiring: one migration environment (migrations/) for the whole hub."""
from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig


def migrations_dir() -> Path:
    candidates = [
        os.environ.get("MDM_MIGRATIONS_DIR"),
        Path(__file__).resolve().parent.parent / "migrations",
        Path.cwd() / "migrations",
    ]
    for c in candidates:
        if c and (Path(c) / "env.py").exists():
            return Path(c)
    raise FileNotFoundError("migrations/ not found; set MDM_MIGRATIONS_DIR")


def alembic_config(database_url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    # '%' would be read as interpolation by configparser
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def revision(database_url: str, message: str) -> None:
    command.revision(alembic_config(database_url), message=message, autogenerate=True)
