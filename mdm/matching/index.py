"""The blocking index in the database: writing keys and feature rows, finding candidates.

Every active source record of a matched domain has its blocking keys in
``match_blocking_key`` and its normalised row in ``match_prepared``. A candidate lookup
reads at most ``cap`` records per key (fewer for a rule that bounds its blocks), then
every active member of those records' golden records (the engine needs whole clusters
to refuse chained merges).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Integer, String, column, delete, select, text
from sqlalchemy.orm import Session

from mdm.db import bulk_insert
from mdm.matching.models import KEY_LENGTH, MatchBlockingKey, MatchParams, MatchPrepared
from mdm.matching.params import ModelParams
from mdm.matching.records import PreparedRecord, Record
from mdm.matching.settings import MatchSettings
from mdm.records.models import SourceRecord
from mdm.sources.models import SourceSystem

# Records read per blocking key: keeps a lookup bounded when one key is very common.
CANDIDATES_PER_KEY = 50
_KEYS_PER_QUERY = 200  # SQLite allows 500 terms in one compound SELECT
_CHUNK = 500


SR_PREFIX = "sr:"


def record_key(source_record_id: int) -> str:
    """The engine's id of a stored source record (the stewards' "sr:<id>" form)."""
    return f"{SR_PREFIX}{source_record_id}"


def record_id(key: str) -> int:
    return int(key.removeprefix(SR_PREFIX))


def keys_of(settings: MatchSettings, prepared: PreparedRecord) -> list[str]:
    return list(dict.fromkeys(k[:KEY_LENGTH] for k in settings.blocking_keys(prepared)))


def key_cap(settings: MatchSettings, key: str, cap: int = CANDIDATES_PER_KEY) -> int:
    """Records to read for ``key``: ``cap``, or fewer when its rule bounds its blocks (a
    broad typo-tolerant key would otherwise bring ``cap`` mostly unrelated records)."""
    owner = max((rule for rule in settings.blocking if key.startswith(f"{rule.name}:")),
                key=lambda rule: len(rule.name), default=None)
    if owner is None or owner.max_block_size is None:
        return cap
    return min(cap, owner.max_block_size)


@dataclass
class Member:
    """An active stored source record as the linker sees it."""

    id: int
    golden_id: str
    prepared: PreparedRecord


# --- writing ----------------------------------------------------------------------------------

def write(session: Session, domain: str, settings: MatchSettings,
          rows: Sequence[tuple[int, str, PreparedRecord]], *, replace: bool = False) -> None:
    """Index ``(source_record_id, content_hash, prepared)`` rows (bulk inserts)."""
    if not rows:
        return
    if replace:
        forget(session, [r[0] for r in rows])
    keys: list[dict[str, Any]] = []
    prepared: list[dict[str, Any]] = []
    for sr_id, digest, prep in rows:
        keys.extend({"domain": domain, "key": k, "source_record_id": sr_id}
                    for k in keys_of(settings, prep))
        prepared.append({"source_record_id": sr_id, "domain": domain,
                         "settings_version": settings.version, "content_hash": digest,
                         "features": list(prep.values)})
    # COPY on PostgreSQL: a batch match indexes every record of a domain at once.
    bulk_insert(session, MatchBlockingKey.__table__, keys)
    bulk_insert(session, MatchPrepared.__table__, prepared)


def forget(session: Session, source_record_ids: Sequence[int]) -> None:
    for chunk in chunks(list(source_record_ids), _CHUNK):
        session.execute(delete(MatchBlockingKey).where(MatchBlockingKey.source_record_id.in_(chunk))
                        .execution_options(synchronize_session=False))
        session.execute(delete(MatchPrepared).where(MatchPrepared.source_record_id.in_(chunk))
                        .execution_options(synchronize_session=False))


def reindex(session: Session, domain: str, settings: MatchSettings,
            source_record_ids: Iterable[int]) -> int:
    """Recompute the index rows of these source records (after their attributes changed)."""
    ids = sorted(set(source_record_ids))
    rows = []
    for chunk in chunks(ids, _CHUNK):
        for sr_id, code, attrs, digest in session.execute(attributes_query(chunk)).all():
            rows.append((sr_id, digest, settings.prepare(Record(record_key(sr_id), code, attrs))))
    forget(session, ids)
    write(session, domain, settings, rows)
    return len(rows)


def clear(session: Session, domain: str) -> None:
    session.execute(delete(MatchBlockingKey).where(MatchBlockingKey.domain == domain))
    session.execute(delete(MatchPrepared).where(MatchPrepared.domain == domain))


# --- reading ----------------------------------------------------------------------------------

def lookup(session: Session, domain: str, keys: Iterable[str],
           cap: int = CANDIDATES_PER_KEY) -> dict[str, list[int]]:
    """key -> up to ``cap`` source record ids (newest first) that share it."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, list[int]] = {}
    for chunk in chunks(wanted, _KEYS_PER_QUERY):
        params: dict[str, Any] = {"domain": domain}
        params.update({f"k{i}": key for i, key in enumerate(chunk)})
        params.update({f"c{i}": cap for i in range(len(chunk))})
        for key, sr_id in session.execute(_lookup_statement(len(chunk)), params).all():
            found.setdefault(key, []).append(sr_id)
    return found


_LOOKUPS: dict[int, Any] = {}


def _lookup_statement(n: int) -> Any:
    """One bounded index range scan per key, glued with UNION ALL (built once per n).

    Plain SQL text: composing n limited subqueries with the expression language costs
    more than running them.
    """
    stmt = _LOOKUPS.get(n)
    if stmt is None:
        table = MatchBlockingKey.__tablename__
        parts = [
            f"SELECT key, source_record_id FROM (SELECT key, source_record_id FROM {table} "
            f"WHERE domain = :domain AND key = :k{i} ORDER BY source_record_id DESC "
            f"LIMIT :c{i}) AS t{i}"
            for i in range(n)
        ]
        stmt = _LOOKUPS[n] = text(" UNION ALL ".join(parts)).columns(
            column("key", String), column("source_record_id", Integer))
    return stmt


def candidates(session: Session, domain: str, settings: MatchSettings, keys: Iterable[str],
               cap: int = CANDIDATES_PER_KEY) -> tuple[dict[str, list[int]], dict[int, Member]]:
    """Candidates of the linker, one statement per key chunk (the hot path).

    Returns (key -> up to ``cap`` source record ids sharing it, newest first) and every
    active member of those records' golden records with its stored feature row, as
    ``Member``s. One round trip instead of four (hits, their golden ids, members, rows).
    """
    wanted = list(dict.fromkeys(keys))
    found: dict[str, list[int]] = {}
    heads: dict[int, tuple[str, str, str]] = {}
    stored: dict[int, tuple[str, str, list[Any]]] = {}
    for chunk in chunks(wanted, _KEYS_PER_QUERY):
        params: dict[str, Any] = {"domain": domain}
        params.update({f"k{i}": key for i, key in enumerate(chunk)})
        params.update({f"c{i}": key_cap(settings, key, cap) for i, key in enumerate(chunk)})
        seen: set[tuple[str, int]] = set()
        for row in session.execute(_candidates_statement(len(chunk)), params):
            key, sr_id, golden_id, code, digest, version, stored_digest, features = row
            if key is not None and (key, sr_id) not in seen:
                seen.add((key, sr_id))
                found.setdefault(key, []).append(sr_id)
            if sr_id in heads:
                continue
            heads[sr_id] = (golden_id, code, digest)
            if features is not None:
                stored[sr_id] = (version, stored_digest, features)
    for ids in found.values():
        ids.sort(reverse=True)
    return found, _members(session, settings, heads, stored)


_CANDIDATES: dict[int, Any] = {}


def _candidates_statement(n: int) -> Any:
    """Hits per key (bounded), then whole clusters with their feature rows, as one query.

    Rows: (key or NULL, source_record_id, golden_id, system code, content hash, settings
    version, stored content hash, features); a member that was hit by no key has a NULL
    key, one hit by several keys comes once per key.
    """
    stmt = _CANDIDATES.get(n)
    if stmt is None:
        table = MatchBlockingKey.__tablename__
        hits = " UNION ALL ".join(
            f"SELECT key, source_record_id FROM (SELECT key, source_record_id FROM {table} "
            f"WHERE domain = :domain AND key = :k{i} ORDER BY source_record_id DESC "
            f"LIMIT :c{i}) AS t{i}"
            for i in range(n)
        )
        # Joined from the (few) golden ids outwards, so both databases probe the
        # golden_id index per cluster; "golden_id IN (subquery)" let PostgreSQL plan a
        # parallel scan of source_record.
        sql = (
            f"WITH hits AS ({hits}), "
            "g AS (SELECT DISTINCT s.golden_id FROM hits "
            "JOIN source_record s ON s.id = hits.source_record_id) "
            "SELECT h.key, m.id, m.golden_id, ss.code, m.content_hash, p.settings_version, "
            "p.content_hash, p.features "
            "FROM g JOIN source_record m ON m.golden_id = g.golden_id "
            "JOIN source_system ss ON ss.id = m.source_system_id "
            "LEFT JOIN match_prepared p ON p.source_record_id = m.id "
            "LEFT JOIN hits h ON h.source_record_id = m.id "
            "WHERE m.active = :active"
        )
        stmt = _CANDIDATES[n] = text(sql).bindparams(active=True).columns(
            column("key", String), column("id", Integer), column("golden_id", String),
            column("code", String), column("content_hash", String),
            column("settings_version", String), column("stored_hash", String),
            column("features", JSON))
    return stmt


def _members(session: Session, settings: MatchSettings, heads: dict[int, tuple[str, str, str]],
             stored: dict[int, tuple[str, str, list[Any]]]) -> dict[int, Member]:
    """Members from their stored feature rows; stale or missing rows are recomputed."""
    out: dict[int, Member] = {}
    stale: list[int] = []
    version = settings.version
    for sr_id, (golden_id, code, digest) in heads.items():
        hit = stored.get(sr_id)
        if hit is None or hit[0] != version or hit[1] != digest:
            stale.append(sr_id)
            continue
        out[sr_id] = Member(sr_id, golden_id, PreparedRecord(record_key(sr_id), code,
                                                             tuple(hit[2])))
    if stale:
        # Written before this settings version, or under an older content: recompute now.
        for chunk in chunks(stale, _CHUNK):
            for sr_id, code, attrs, _digest in session.execute(attributes_query(chunk)).all():
                out[sr_id] = Member(sr_id, heads[sr_id][0],
                                    settings.prepare(Record(record_key(sr_id), code, attrs)))
    return out


def attributes_query(ids: list[int]) -> Any:
    SR = SourceRecord
    return (select(SR.id, SourceSystem.code, SR.attributes, SR.content_hash)
            .join(SourceSystem, SourceSystem.id == SR.source_system_id)
            .where(SR.id.in_(ids)))


# --- parameters -------------------------------------------------------------------------------

_PARAMS: dict[tuple[str, str], ModelParams] = {}


def current_params(session: Session, domain: str,
                   settings: MatchSettings) -> tuple[ModelParams, int | None]:
    """The newest trained parameters for these settings (and their row id), else defaults."""
    P = MatchParams.__table__.c
    row = session.execute(
        select(P.id, P.params_version)
        .where(P.domain == domain, P.settings_version == settings.version)
        .order_by(P.id.desc()).limit(1)
    ).first()
    if row is None:
        key = (settings.version, "defaults")
        params = _PARAMS.get(key)
        if params is None:
            params = _PARAMS[key] = ModelParams.defaults(settings)
        return params, None
    key = (settings.version, row.params_version)
    params = _PARAMS.get(key)
    if params is None:
        params = ModelParams.from_dict(session.scalar(
            select(MatchParams.params).where(MatchParams.id == row.id)))
        params.check(settings)
        _PARAMS[key] = params
    return params, row.id


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
