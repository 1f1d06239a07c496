"""Database plumbing: the declarative base, engine and session bound to the Flask app."""

from __future__ import annotations

import operator
import os
import secrets
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


# Surrogate keys of the big tables: SQLite only auto-increments an INTEGER PRIMARY KEY;
# PostgreSQL gets a real BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamps on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


_entropy = threading.local()


def _random_bits() -> int:
    """74 random bits from the OS's generator, read 256 ids' worth at a time (one system
    call per id cost more than the rest of the id). Per thread, and never across a fork:
    a forked worker reads its own."""
    buf: bytes = getattr(_entropy, "buf", b"")
    pos: int = getattr(_entropy, "pos", 0)
    if pos + 10 > len(buf) or getattr(_entropy, "pid", None) != os.getpid():
        buf, pos = secrets.token_bytes(10 * 256), 0
        _entropy.buf, _entropy.pid = buf, os.getpid()
    _entropy.pos = pos + 10
    return int.from_bytes(buf[pos : pos + 10]) >> 6


def new_id() -> str:
    """A time-ordered UUID (version 7 layout): unique, never reused, sortable by creation."""
    ms = time.time_ns() // 1_000_000
    rand = _random_bits()
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= (rand >> 62) << 64  # 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)
    h = f"{value:032x}"  # str(uuid.UUID(int=value)), without the object
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _json_dumps(value: Any) -> str:
    # JSON columns are on the hot ingestion path; orjson is several times faster than json.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


JSON_ARGS = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **JSON_ARGS)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    pool_size = int(os.environ.get("MDM_DB_POOL_SIZE", "5"))
    return create_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True, **JSON_ARGS)


class Database:
    """Flask extension: one engine per app, one session per request (scoped)."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session_factory: sessionmaker[Session] | None = None
        self._session: scoped_session[Session] | None = None

    @property
    def session(self) -> Session:
        """The scoped session: a proxy that resolves, on every use, to the current thread's
        session, so a reference kept across ``remove_session()`` reaches the fresh session
        rather than a closed one. Typed as the ``Session`` it proxies (scoped_session offers
        the same methods), which is what the services take. An error before ``init_app``."""
        if self._session is None:
            raise RuntimeError("Database not initialised: call init_app(app) first")
        return cast(Session, self._session)

    def remove_session(self) -> None:
        """Close and forget the current scope's session (the next use opens a fresh one)."""
        if self._session is not None:
            self._session.remove()

    def init_app(self, app: Any) -> None:
        self.engine = make_engine(app.config["MDM"].database_url)
        self.session_factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._session = scoped_session(self.session_factory)
        app.extensions["mdm_db"] = self

        @app.teardown_appcontext
        def _remove_session(_exc: BaseException | None) -> None:
            self.remove_session()

    def new_session(self) -> Session:
        assert self.session_factory is not None, "Database not initialised"
        return self.session_factory()


db = Database()
JSONType = JSON


def bulk_insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows in the caller's transaction: COPY on PostgreSQL, executemany elsewhere.

    Every row must carry the same keys. Values go through each column's own bind processor
    (JSON, timestamps), so what is stored is exactly what a Core insert would store, but
    without the Core compiler's per-row bookkeeping: on the ingestion path that bookkeeping
    cost more than the database's own work. COPY streams every row in one statement.
    """
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    columns = list(rows[0])
    missing_defaults = [
        c for c in table.c if c.name not in rows[0] and c.default is not None
    ]
    if missing_defaults:
        # Column defaults are applied by Core, not by a raw statement.
        session.execute(table.insert(), rows)
        return
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    names = ", ".join(f'"{name}"' for name in columns)
    if dialect.name != "postgresql":
        values = _processed(rows, columns, processors, keep_none=False)
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", values)
        return
    driver = conn.connection.driver_connection
    assert driver is not None, "a live psycopg connection"
    with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in _processed(rows, columns, processors, keep_none=True):
            copy.write_row(row)


def _processed(
    rows: list[dict[str, Any]], columns: list[str], processors: list[Any], *, keep_none: bool
) -> list[tuple[Any, ...]]:
    """Rows as tuples of bound values, built column by column (C-level loops). A column
    whose rows all hold the same object (one timestamp for a whole request, the domain)
    is processed once. ``keep_none`` writes None as SQL NULL instead of handing it to the
    processor (COPY's convention)."""
    getter = operator.itemgetter(*columns)
    cols: list[Any]
    if len(columns) == 1:  # itemgetter of one name returns the value, not a tuple
        cols = [list(map(getter, rows))]
    else:
        cols = list(zip(*map(getter, rows), strict=True))
    for k, proc in enumerate(processors):
        if proc is None:
            continue
        col = cols[k]
        first = col[0]
        if all(v is first for v in col):
            cols[k] = [None if keep_none and first is None else proc(first)] * len(col)
        elif keep_none:
            cols[k] = [None if v is None else proc(v) for v in col]
        else:
            cols[k] = list(map(proc, col))
    return list(zip(*cols, strict=True))


def sqlite_write_lock(session: Session) -> None:
    """SQLite: take the database's single write lock now, before reading.

    SQLite has no row locks; an empty write makes the reads that follow current and a
    concurrent writer wait instead of failing later (a missed candidate, a duplicate key).
    Nothing on PostgreSQL, which locks rows and keys instead.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE golden_record SET version = version WHERE 1 = 0"))
