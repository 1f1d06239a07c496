"""The blocking index in the database: writing keys and feature rows, finding candidates.

Every active source record of a matched domain has its blocking keys in
``match_blocking_key`` (as 64-bit hashes, ``key_hash``) and its normalised row in
``match_prepared``. A candidate lookup reads at most ``cap`` records per key (fewer for
a rule that bounds its blocks), newest first, with their golden ids and feature rows,
in one statement per chunk of keys; the other members of a golden record are read only
for the golden records a new record might join (``members``), to refuse chained merges.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import BigInteger, Integer, Table, bindparam, column, delete, select, text
from sqlalchemy.orm import Session

from mdm.context import RequestContext
from mdm.db import bulk_insert, utcnow
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


def key_hash(domain: str, key: str) -> int:
    """The stored form of a blocking key: a signed 64-bit hash of domain and key.

    Stable across processes (unlike ``hash``); the same number is the key's advisory
    lock on PostgreSQL. Two keys colliding only add a candidate, which is then scored.
    """
    digest = hashlib.blake2b(f"{domain}\0{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def key_cap(settings: MatchSettings, key: str, cap: int = CANDIDATES_PER_KEY) -> int:
    """Records to read for ``key``: ``cap``, or fewer when its rule bounds its blocks (a
    broad typo-tolerant key would otherwise bring ``cap`` mostly unrelated records).

    The key's rule is the longest rule name followed by ":" that the key starts with."""
    bounds = _BOUNDS.get(settings.version)
    if bounds is None:
        bounds = _BOUNDS[settings.version] = {r.name: r.max_block_size for r in settings.blocking}
    bound = None
    at = key.find(":")
    while at >= 0:  # each ":" ends a candidate rule name; the last one found is the longest
        name = key[:at]
        if name in bounds:
            bound = bounds[name]
        at = key.find(":", at + 1)
    return cap if bound is None else min(cap, bound)


_BOUNDS: dict[str, dict[str, int | None]] = {}  # settings version -> rule name -> block bound


@dataclass
class Member:
    """An active stored source record as the linker sees it."""

    id: int
    golden_id: str
    prepared: PreparedRecord


# --- writing ----------------------------------------------------------------------------------

def write(session: Session, domain: str, settings: MatchSettings,
          rows: Sequence[tuple[int, str, PreparedRecord]], *, replace: bool = False,
          keys: Sequence[Sequence[int]] | None = None) -> None:
    """Index ``(source_record_id, content_hash, prepared)`` rows (bulk inserts, in the
    caller's transaction). ``keys``: the rows' key hashes when the caller has them."""
    if not rows:
        return
    if replace:
        forget(session, [r[0] for r in rows])
    key_rows: list[dict[str, Any]] = []
    prepared: list[dict[str, Any]] = []
    for n, (sr_id, digest, prep) in enumerate(rows):
        hashes = (list(dict.fromkeys(keys[n])) if keys is not None
                  else list(dict.fromkeys(key_hash(domain, k) for k in keys_of(settings, prep))))
        key_rows.extend({"key_hash": h, "source_record_id": sr_id} for h in hashes)
        prepared.append({"source_record_id": sr_id, "domain": domain,
                         "settings_version": settings.version, "content_hash": digest,
                         "features": list(prep.values), "key_hashes": hashes})
    # COPY on PostgreSQL: a batch match indexes every record of a domain at once.
    bulk_insert(session, MatchBlockingKey.__table__, key_rows)
    bulk_insert(session, MatchPrepared.__table__, prepared)


def forget(session: Session, source_record_ids: Sequence[int]) -> None:
    """Remove these records' keys and feature rows (the keys as ``match_prepared`` lists
    them), in the caller's transaction."""
    keys, prepared = cast(Table, MatchBlockingKey.__table__), cast(Table, MatchPrepared.__table__)
    K, P = keys.c, prepared.c
    # Core statements, the key rows by one executemany of a single compiled statement: an
    # ORM delete of a 500-pair tuple IN cost more to compile than the database's work.
    by_key = delete(keys).where(
        K.key_hash == bindparam("h"), K.source_record_id == bindparam("s"))
    for chunk in chunks(sorted(set(source_record_ids)), _CHUNK):
        pairs = [{"h": h, "s": sr_id} for sr_id, hashes in session.execute(
                     select(P.source_record_id, P.key_hashes)
                     .where(P.source_record_id.in_(chunk)))
                 for h in hashes or ()]
        if pairs:
            session.execute(by_key, pairs)
        session.execute(delete(prepared).where(P.source_record_id.in_(chunk)))


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
    """Remove the whole domain's index (a batch match rewrites it)."""
    K, P = MatchBlockingKey, MatchPrepared
    session.execute(delete(K).where(K.source_record_id.in_(
        select(P.source_record_id).where(P.domain == domain)))
        .execution_options(synchronize_session=False))
    session.execute(delete(P).where(P.domain == domain)
                    .execution_options(synchronize_session=False))


# --- reading ----------------------------------------------------------------------------------

def lookup(session: Session, domain: str, keys: Iterable[str],
           cap: int = CANDIDATES_PER_KEY) -> dict[str, list[int]]:
    """key -> up to ``cap`` source record ids (newest first) that share it."""
    wanted = {key_hash(domain, k): k for k in dict.fromkeys(keys)}
    found: dict[str, list[int]] = {}
    for chunk in chunks(list(wanted), _KEYS_PER_QUERY):
        params: dict[str, Any] = {f"k{i}": h for i, h in enumerate(chunk)}
        params.update({f"c{i}": cap for i in range(len(chunk))})
        for h, sr_id in session.execute(_lookup_statement(len(chunk)), params).all():
            found.setdefault(wanted[h], []).append(sr_id)
    return found


_LOOKUPS: dict[int, Any] = {}


def _hits_sql(n: int) -> str:
    """One bounded backward range scan of the primary key per key, glued with UNION ALL.

    Plain SQL text, built once per n: composing n limited subqueries with the expression
    language costs more than running them.
    """
    table = MatchBlockingKey.__tablename__
    return " UNION ALL ".join(
        f"SELECT key_hash, source_record_id FROM (SELECT key_hash, source_record_id "
        f"FROM {table} WHERE key_hash = :k{i} ORDER BY source_record_id DESC "
        f"LIMIT :c{i}) AS t{i}"
        for i in range(n)
    )


def _lookup_statement(n: int) -> Any:
    stmt = _LOOKUPS.get(n)
    if stmt is None:
        stmt = _LOOKUPS[n] = text(_hits_sql(n)).columns(
            column("key_hash", BigInteger), column("source_record_id", Integer))
    return stmt


def candidates(session: Session, domain: str, settings: MatchSettings,
               caps: Mapping[int, int]) -> tuple[dict[int, list[int]], dict[int, Member]]:
    """Candidates of the linker (the hot path): a constant number of statements per chunk
    of keys, none per record.

    ``caps``: key hash -> records to read for it. Returns (key hash -> up to its cap
    active source record ids sharing it, newest first) and those records as ``Member``s
    (golden id and feature row; a stale row is recomputed and written back, see
    ``_members``), in the caller's transaction. The hits come first as bare ids, then
    each distinct record's row once (a record shares several keys with a similar one:
    reading its features once per key cost more than the lookup).
    """
    hits: dict[int, list[int]] = {}
    for h, sr_id in _hits(session, caps):
        hits.setdefault(h, []).append(sr_id)
    wanted = sorted({sr_id for ids in hits.values() for sr_id in ids})
    heads: dict[int, tuple[str, str, str]] = {}
    stored: dict[int, tuple[str, str, list[Any]]] = {}
    for chunk in chunks(wanted, _CHUNK):
        for sr_id, golden_id, code, digest, version, stored_digest, features in (
            session.execute(_CANDIDATE_ROWS, {"ids": chunk}).all()
        ):
            heads[sr_id] = (golden_id, code, digest)
            if features is not None:
                stored[sr_id] = (version, stored_digest, features)
    found: dict[int, list[int]] = {}
    for h, ids in hits.items():
        active = sorted((sr_id for sr_id in set(ids) if sr_id in heads), reverse=True)
        if active:
            found[h] = active
    return found, _members(session, domain, settings, heads, stored)


def _member_rows() -> Any:
    """Active source records with golden id, system code, content hash and their stored
    feature row (if any); ``.where`` picks which."""
    SR, P = SourceRecord, MatchPrepared
    return (select(SR.id, SR.golden_id, SourceSystem.code, SR.content_hash,
                   P.settings_version, P.content_hash, P.features)
            .join(SourceSystem, SourceSystem.id == SR.source_system_id)
            .outerjoin(P, P.source_record_id == SR.id)
            .where(SR.active.is_(True)))


# Built once, the ids an expanding parameter: composing ``in_`` over 500 literals per
# chunk cost more than running the statement.
_CANDIDATE_ROWS = _member_rows().where(SourceRecord.id.in_(bindparam("ids", expanding=True)))
_GOLDEN_MEMBER_ROWS = _member_rows().where(
    SourceRecord.golden_id.in_(bindparam("goldens", expanding=True)))


def _hits(session: Session, caps: Mapping[int, int]) -> Iterator[tuple[int, int]]:
    """(key hash, source record id) for up to each key's cap records, newest first.

    PostgreSQL: one statement for all keys (a lateral, bounded backward scan of the
    primary key per key). SQLite: a UNION ALL of bounded scans per chunk of keys.
    """
    keys = list(caps)
    if not keys:
        return
    # Each statement's rows fetched at once (.all()): a bulk load reads tens of thousands
    # of hits, and fetching them one by one cost more than the statement.
    if session.get_bind().dialect.name == "postgresql":
        yield from session.execute(
            _PG_HITS, {"keys": keys, "caps": [caps[h] for h in keys]}).all()
        return
    for chunk in chunks(keys, _KEYS_PER_QUERY):
        params: dict[str, Any] = {f"k{i}": h for i, h in enumerate(chunk)}
        params.update({f"c{i}": caps[h] for i, h in enumerate(chunk)})
        yield from session.execute(_lookup_statement(len(chunk)), params).all()


_PG_HITS = text(
    "SELECT k.h, t.source_record_id "
    "FROM unnest(CAST(:keys AS bigint[]), CAST(:caps AS integer[])) AS k(h, c) "
    "CROSS JOIN LATERAL (SELECT source_record_id FROM match_blocking_key "
    "WHERE key_hash = k.h ORDER BY source_record_id DESC LIMIT k.c) AS t"
).columns(column("h", BigInteger), column("source_record_id", BigInteger))


def members(session: Session, domain: str, settings: MatchSettings,
            golden_ids: Iterable[str]) -> dict[str, list[Member]]:
    """Every active source record of these golden records with its feature row, one
    statement per chunk of golden records: what a merge into one of them is checked
    against (no record may join a golden record holding a record it conflicts with).
    Stale rows are recomputed and written back (``_members``), in the caller's transaction."""
    heads: dict[int, tuple[str, str, str]] = {}
    stored: dict[int, tuple[str, str, list[Any]]] = {}
    for chunk in chunks(sorted(set(golden_ids)), _CHUNK):
        for sr_id, golden_id, code, digest, version, stored_digest, features in session.execute(
            _GOLDEN_MEMBER_ROWS, {"goldens": chunk}
        ).all():
            heads[sr_id] = (golden_id, code, digest)
            if features is not None:
                stored[sr_id] = (version, stored_digest, features)
    out: dict[str, list[Member]] = defaultdict(list)
    for member in _members(session, domain, settings, heads, stored).values():
        out[member.golden_id].append(member)
    for group in out.values():
        group.sort(key=lambda m: m.id)
    return out


def _members(session: Session, domain: str, settings: MatchSettings,
             heads: dict[int, tuple[str, str, str]],
             stored: dict[int, tuple[str, str, list[Any]]]) -> dict[int, Member]:
    """Members from their stored feature rows. A stale or missing row (written under
    another settings version, or for older content) is recomputed and written back with
    its keys (``refresh``, in the caller's transaction), so each stale record is
    recomputed by one lookup, not by every lookup until ``mdm match`` rebuilds the index."""
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
        # Written before this settings version, or under an older content: recompute now,
        # and store the result so the next lookup reads it.
        rows: list[tuple[int, str, PreparedRecord]] = []
        for chunk in chunks(stale, _CHUNK):
            for sr_id, code, attrs, digest in session.execute(attributes_query(chunk)).all():
                prepared = settings.prepare(Record(record_key(sr_id), code, attrs))
                out[sr_id] = Member(sr_id, heads[sr_id][0], prepared)
                rows.append((sr_id, digest, prepared))
        refresh(session, domain, settings, rows)
    return out


def refresh(session: Session, domain: str, settings: MatchSettings,
            rows: Sequence[tuple[int, str, PreparedRecord]]) -> int:
    """Replace the index rows (feature row and key hashes) of these stored records with
    ``(source_record_id, content_hash, prepared)`` just recomputed, in the caller's
    transaction. Returns how many were written.

    PostgreSQL: only the records whose ``source_record`` row this transaction can lock
    at once (``FOR NO KEY UPDATE SKIP LOCKED``, held to commit) are written; a record
    another transaction is updating (it re-indexes it itself) or refreshing is left
    as it is and simply recomputed again by a later lookup. So no two transactions
    rewrite one record's keys at the same time. SQLite: ingestion holds the single
    write lock.
    """
    if not rows:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        SR = SourceRecord
        mine: set[int] = set()
        for chunk in chunks(sorted(r[0] for r in rows), _CHUNK):
            mine.update(session.scalars(
                select(SR.id).where(SR.id.in_(chunk))
                .with_for_update(skip_locked=True, key_share=True)))
        rows = [r for r in rows if r[0] in mine]
    write(session, domain, settings, rows, replace=True)
    return len(rows)


def attributes_query(ids: list[int]) -> Any:
    SR = SourceRecord
    return (select(SR.id, SourceSystem.code, SR.attributes, SR.content_hash)
            .join(SourceSystem, SourceSystem.id == SR.source_system_id)
            .where(SR.id.in_(ids)))


# --- parameters -------------------------------------------------------------------------------

_PARAMS: dict[tuple[str, str], ModelParams] = {}


def store_params(session: Session, ctx: RequestContext, domain: str, settings: MatchSettings,
                 params: ModelParams, records: int) -> MatchParams:
    """Keep trained parameters (by ``mdm match`` or auto-training) for these settings."""
    row = MatchParams(domain=domain, settings_version=settings.version,
                      params_version=params.version, params=params.to_dict(), records=records,
                      trained_by=ctx.actor.name, trained_at=utcnow())
    session.add(row)
    return row


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
        stored = session.scalar(select(MatchParams.params).where(MatchParams.id == row.id))
        assert stored is not None, "match_params row read above"
        params = ModelParams.from_dict(stored)
        params.check(settings)
        _PARAMS[key] = params
    return params, row.id


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
