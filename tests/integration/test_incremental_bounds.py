"""Incremental matching stays bounded on crowds of similar records, keeps the
deterministic rules, and stores its blocking keys compactly (hashes, one row per key)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select

from mdm import migrate
from mdm.context import cli_context
from mdm.matching import index
from mdm.matching.domains import settings_for
from mdm.matching.incremental import MAX_EXPLAINED_PAIRS
from mdm.matching.models import MatchBlockingKey, MatchDecisionRecord, MatchPrepared
from mdm.matching.records import Record
from mdm.records.ingest import IngestItem, ingest
from mdm.records.models import SourceRecord
from mdm.stewardship.models import ReviewTask
from mdm.stewardship.queue import MAX_TASK_GOLDENS

VAT = "DE136695976"
CROWD = 300  # several times every key's cap


def crowd(n: int) -> list[IngestItem]:
    """``n`` near-identical suppliers in one city: every name key is a huge block."""
    return [IngestItem(f"S{i}", {"name": f"Supplier {i} GmbH", "city": "Berlin",
                                 "country": "DE", **({"tax_id": VAT} if i == 0 else {})})
            for i in range(n)]


def test_a_crowd_in_one_request_is_bounded_and_the_tax_id_rule_still_joins(
        sources: list[str], session: Any, app: Any) -> None:
    registry = app.extensions["mdm_domains"]
    # The last record shares its name keys with the 299 before it (each key reads only
    # its newest ones) and its valid tax id with the first one only.
    items = [*crowd(CROWD), IngestItem("LAST", {"name": "Lieferant Null GmbH",
                                                "city": "Berlin", "country": "DE",
                                                "tax_id": "DE 136 695 976"})]
    results = ingest(session, registry, "supplier", "SAP", items, cli_context("crowd"))

    assert all(r.status == "created" for r in results)
    assert results[-1].golden_id == results[0].golden_id  # same valid tax id decides
    assert len({r.golden_id for r in results[:CROWD]}) == CROWD  # different numbers
    for d in session.scalars(select(MatchDecisionRecord)):
        assert d.explanation["pair_count"] <= MAX_EXPLAINED_PAIRS
        assert len(d.explanation["pairs"]) <= 3
    tasks = list(session.scalars(select(ReviewTask)))
    assert all(len(t.golden_ids) <= MAX_TASK_GOLDENS for t in tasks)
    reviewed = session.scalars(select(MatchDecisionRecord.review_task_id)
                               .where(MatchDecisionRecord.action == "review")).all()
    assert reviewed and set(reviewed) <= {t.id for t in tasks}
    # One task per group of the request, not one per reviewed record.
    assert len(tasks) < len(reviewed)
    session.rollback()


def test_a_crowd_arriving_one_record_at_a_time_keeps_the_tax_id_rule(
        sources: list[str], session: Any, app: Any) -> None:
    registry = app.extensions["mdm_domains"]
    for item in crowd(120):
        ingest(session, registry, "supplier", "SAP", [item], cli_context("one"))
    [late] = ingest(session, registry, "supplier", "COUPA",
                    [IngestItem("C1", {"name": "Supplier 0 GmbH", "country": "DE",
                                       "tax_id": VAT})], cli_context("late"))
    first = session.scalar(select(SourceRecord.golden_id).where(SourceRecord.source_id == "S0"))
    session.rollback()
    assert late.golden_id == first


def test_each_key_is_one_hashed_row_and_forget_removes_exactly_them(
        sources: list[str], session: Any, app: Any) -> None:
    registry = app.extensions["mdm_domains"]
    ingest(session, registry, "supplier", "SAP", crowd(3), cli_context("three"))
    settings = settings_for(registry.get("supplier"))
    expected: set[tuple[int, int]] = set()
    for sr_id, attrs in session.execute(select(SourceRecord.id, SourceRecord.attributes)):
        prepared = settings.prepare(Record("x", "SAP", attrs))
        hashes = {index.key_hash("supplier", k) for k in index.keys_of(settings, prepared)}
        expected |= {(h, sr_id) for h in hashes}
        stored = session.scalar(select(MatchPrepared.key_hashes)
                                .where(MatchPrepared.source_record_id == sr_id))
        assert set(stored) == hashes and len(stored) == len(hashes)
    rows = set(session.execute(select(MatchBlockingKey.key_hash,
                                      MatchBlockingKey.source_record_id)).all())
    assert rows == expected

    gone = min(sr_id for _, sr_id in expected)
    index.forget(session, [gone])
    rows = set(session.execute(select(MatchBlockingKey.key_hash,
                                      MatchBlockingKey.source_record_id)).all())
    assert rows == {r for r in expected if r[1] != gone}
    assert session.scalar(select(func.count()).select_from(MatchPrepared)
                          .where(MatchPrepared.source_record_id == gone)) == 0
    session.rollback()


def test_the_migration_hashes_existing_string_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    migrate.upgrade(url, "0009_compact_history")
    engine = sa.create_engine(url)
    keys = {1: ["tax_id:DE136695976", "name:word_prefix:4:first:supp"], 2: ["phone:+4930123"]}
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO source_system (id, code, name, kind, active, created_at) "
                          "VALUES (1, 'SAP', 'SAP', 'erp', 1, '2026-01-01 00:00:00')")
        for sr_id in (1, 2, 3):
            c.exec_driver_sql(
                "INSERT INTO golden_record (id, domain, status, version, attributes, provenance,"
                " quality_status, overrides, search_name, created_at, updated_at) VALUES "
                f"('g{sr_id}', 'supplier', 'active', 1, '{{}}', '{{}}', 'ok', '{{}}', 'x', "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')")
            c.exec_driver_sql(
                "INSERT INTO source_record (id, domain, source_system_id, source_id, golden_id,"
                " attributes, content_hash, active, quality_status, version, created_at,"
                f" updated_at) VALUES ({sr_id}, 'supplier', 1, 'S{sr_id}', 'g{sr_id}', '{{}}',"
                " 'h', 1, 'ok', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')")
            c.exec_driver_sql(
                "INSERT INTO match_prepared (source_record_id, domain, settings_version, "
                f"content_hash, features) VALUES ({sr_id}, 'supplier', 'v', 'h', '[]')")
        for sr_id, ks in keys.items():
            for k in ks:
                c.exec_driver_sql("INSERT INTO match_blocking_key (domain, key, source_record_id)"
                                  f" VALUES ('supplier', '{k}', {sr_id})")
    engine.dispose()
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    with engine.connect() as c:
        rows = set(c.execute(select(MatchBlockingKey.key_hash,
                                    MatchBlockingKey.source_record_id)).all())
        stored = dict(c.execute(select(MatchPrepared.source_record_id,
                                       MatchPrepared.key_hashes)).all())
    engine.dispose()
    assert rows == {(index.key_hash("supplier", k), sr_id)
                    for sr_id, ks in keys.items() for k in ks}
    assert stored == {sr_id: tuple(index.key_hash("supplier", k) for k in keys.get(sr_id, []))
                      for sr_id in (1, 2, 3)}
