"""Shared fixtures: one database per test session (SQLite file or PostgreSQL), migrated with
Alembic, cleaned between tests; an app, a client and API keys per role.

Set MDM_TEST_DATABASE_URL to run against PostgreSQL, e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/test
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from mdm.app import create_app
from mdm.config import Config
from mdm.context import cli_context
from mdm.db import db

PG_REASON = "needs PostgreSQL: set MDM_TEST_DATABASE_URL=postgresql+psycopg://..."
# Tests deliver to receivers on this machine, which publication refuses unless allowed
# (also for the processes tests start: `mdm worker`, the README's commands)
LOCAL_TARGETS = ("127.0.0.1", "::1")
os.environ["MDM_ALLOWED_TARGETS"] = ",".join(LOCAL_TARGETS)


@pytest.fixture(scope="session", autouse=True)
def file_drop_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """File drops may go anywhere under pytest's temporary folders (tmp_path)."""
    root = tmp_path_factory.getbasetemp().resolve()
    os.environ["MDM_FILE_DROP_ROOT"] = str(root)
    return root


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("MDM_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'mdm-test.sqlite3'}"


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    """The test database, emptied and migrated to head once per session."""
    from mdm import migrate
    from mdm.db import make_engine
    from mdm.schema import all_metadata

    engine = make_engine(database_url)
    with engine.begin() as conn:
        if is_postgres(database_url):
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            for metadata in all_metadata:
                metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    migrate.upgrade(database_url)
    return database_url


@pytest.fixture(scope="session")
def app(migrated: str, file_drop_root: Path) -> Any:
    app = create_app(Config(database_url=migrated, testing=True,
                            domains_path=str(Path(__file__).parent / "data" / "domains"),
                            allowed_targets=LOCAL_TARGETS, file_drop_root=file_drop_root))
    return app


@pytest.fixture
def clean_db(app: Any) -> Iterator[None]:
    """Empty every table after the test (services commit for real, so no rollback trick)."""
    yield
    empty_database(app)


def empty_database(app: Any) -> None:
    """Every table emptied, ids restarted (``clean_db`` after a test; a test that runs the
    same scenario twice calls it in between: ``from conftest import empty_database``)."""
    from mdm.schema import all_metadata

    with app.app_context():
        db.remove_session()
        engine = db.engine
        assert engine is not None
        with engine.begin() as conn:
            tables = [t.name for metadata in all_metadata for t in metadata.sorted_tables]
            if engine.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for name in reversed(tables):
                    conn.execute(text(f"DELETE FROM {name}"))
                conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sequence(conn) else None


def _has_sequence(conn: Any) -> bool:
    return bool(conn.execute(
        text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first())


@pytest.fixture
def client(app: Any, clean_db: None) -> Any:
    return app.test_client()


@pytest.fixture
def ctx() -> Any:
    return cli_context("test-request")


@pytest.fixture
def session(app: Any, clean_db: None) -> Iterator[Any]:
    with app.app_context():
        yield db.session
        db.session.rollback()


@pytest.fixture
def sources(app: Any, clean_db: None) -> list[str]:
    """Three registered source systems: an ERP, a procurement suite and a CRM."""
    from mdm.sources import service

    with app.app_context():
        for code, name, kind in (("SAP", "SAP S/4HANA", "erp"), ("COUPA", "Coupa", "procurement"),
                                 ("SFDC", "Salesforce", "crm")):
            service.register(db.session, cli_context(), code=code, name=name, kind=kind)
        db.remove_session()
    return ["SAP", "COUPA", "SFDC"]


@pytest.fixture
def make_key(app: Any, clean_db: None) -> Callable[..., dict[str, str]]:
    """make_key("steward") -> headers carrying a fresh key of that role."""
    from mdm.auth import service

    def make(role: str, source: str | None = None) -> dict[str, str]:
        with app.app_context():
            issued = service.create_key(db.session, cli_context(), role=role, source=source)
            db.remove_session()
        return {"Authorization": f"Bearer {issued.secret}"}

    return make


@pytest.fixture
def admin(make_key: Callable[..., dict[str, str]]) -> dict[str, str]:
    return make_key("admin")


@pytest.fixture
def steward(make_key: Callable[..., dict[str, str]]) -> dict[str, str]:
    return make_key("steward")


@pytest.fixture
def reader(make_key: Callable[..., dict[str, str]]) -> dict[str, str]:
    return make_key("reader")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    url = os.environ.get("MDM_TEST_DATABASE_URL", "")
    if not is_postgres(url):
        skip = pytest.mark.skip(reason=PG_REASON)
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)
