"""Stale feature rows heal themselves: after the matching settings change, an ingest
recomputes a stale candidate once and writes its row and keys back in its own
transaction; later ingests read the stored row; ``ensure_index`` still rebuilds the rest;
and the matches are the ones a freshly built index gives."""
from __future__ import annotations

from typing import Any

import pytest
from conftest import empty_database
from sqlalchemy import select, text, update

from mdm.context import cli_context
from mdm.db import db
from mdm.matching import index
from mdm.matching.domains import settings_for
from mdm.matching.models import MatchBlockingKey, MatchPrepared
from mdm.matching.records import Record
from mdm.matching.service import ensure_index
from mdm.records.ingest import IngestItem, ingest
from mdm.records.models import SourceRecord
from mdm.sources import service as sources_service

OLD = "settings-before-upgrade"
FIRST = ("Adler", "Birke", "Condor", "Delta", "Eiche", "Falke", "Granit", "Habicht",
         "Iris", "Jaguar", "Kiefer", "Lerche", "Merkur", "Nordlicht", "Orion", "Pegasus")
SECOND = ("Maschinenbau", "Logistik", "Elektrotechnik", "Feinmechanik")
CITIES = ("Berlin", "Hamburg", "München", "Köln", "Frankfurt", "Stuttgart", "Leipzig",
          "Dresden")
TOUCHED = 12  # base records that the later ingests resemble; the others stay untouched


def base() -> list[IngestItem]:
    return [IngestItem(f"S{i}", {"name": f"{FIRST[i % 16]} {SECOND[i // 16]} GmbH",
                                 "street": f"Hauptstraße {i + 1}", "postal_code": f"{10115 + i}",
                                 "city": CITIES[i % 8], "country": "DE",
                                 "phone": f"+49 30 555{i:04d}"})
            for i in range(40)]


def similar(prefix: str) -> list[IngestItem]:
    """Near copies of the first ``TOUCHED`` base records (another spelling of the form)."""
    return [IngestItem(f"{prefix}{i}", {"name": f"{FIRST[i % 16]} {SECOND[i // 16]} G.m.b.H.",
                                        "street": f"Hauptstr. {i + 1}",
                                        "postal_code": f"{10115 + i}",
                                        "city": CITIES[i % 8], "country": "DE",
                                        "phone": f"+49 30 555{i:04d}"})
            for i in range(TOUCHED)]


def grouping(session: Any) -> set[frozenset[str]]:
    """The golden records as sets of source keys (ids differ between runs)."""
    groups: dict[str, set[str]] = {}
    for golden_id, source_id in session.execute(select(SourceRecord.golden_id,
                                                       SourceRecord.source_id)):
        groups.setdefault(golden_id, set()).add(source_id)
    return {frozenset(g) for g in groups.values()}


def make_stale(session: Any) -> dict[int, int]:
    """Pretend every stored row was written under older settings: another version, wrong
    features (rotated between records) and an extra key hash the new settings do not
    make. Returns source record id -> that extra key hash."""
    rows = session.execute(select(MatchPrepared.source_record_id, MatchPrepared.features,
                                  MatchPrepared.key_hashes)
                           .order_by(MatchPrepared.source_record_id)).all()
    extra: dict[int, int] = {}
    for n, (sr_id, _, hashes) in enumerate(rows):
        extra[sr_id] = index.key_hash("supplier", f"old-settings:{sr_id}")
        session.execute(update(MatchPrepared).where(MatchPrepared.source_record_id == sr_id)
                        .values(settings_version=OLD, features=rows[n - 1][1],
                                key_hashes=[*hashes, extra[sr_id]]))
        session.execute(MatchBlockingKey.__table__.insert().values(
            key_hash=extra[sr_id], source_record_id=sr_id))
    session.commit()
    return extra


def expected_row(session: Any, settings: Any, sr_id: int) -> tuple[list[Any], set[int]]:
    code, attrs = session.execute(text(
        "SELECT s.code, r.attributes FROM source_record r JOIN source_system s "
        "ON s.id = r.source_system_id WHERE r.id = :id"), {"id": sr_id}).one()
    if isinstance(attrs, str):
        import json
        attrs = json.loads(attrs)
    prepared = settings.prepare(Record(index.record_key(sr_id), code, attrs))
    return (list(prepared.values),
            {index.key_hash("supplier", k) for k in index.keys_of(settings, prepared)})


def assert_current(session: Any, settings: Any, ids: set[int]) -> None:
    """These records' stored rows and key rows are what the current settings compute."""
    for sr_id in ids:
        features, hashes = expected_row(session, settings, sr_id)
        version, stored, stored_hashes = session.execute(
            select(MatchPrepared.settings_version, MatchPrepared.features,
                   MatchPrepared.key_hashes)
            .where(MatchPrepared.source_record_id == sr_id)).one()
        assert version == settings.version
        assert list(stored) == features
        assert set(stored_hashes) == hashes and len(stored_hashes) == len(hashes)
        keys = set(session.scalars(select(MatchBlockingKey.key_hash)
                                   .where(MatchBlockingKey.source_record_id == sr_id)))
        assert keys == hashes


def register_sources(app: Any) -> None:
    with app.app_context():
        for code, name, kind in (("SAP", "SAP S/4HANA", "erp"),
                                 ("COUPA", "Coupa", "procurement"),
                                 ("SFDC", "Salesforce", "crm")):
            sources_service.register(db.session, cli_context(), code=code, name=name, kind=kind)
        db.remove_session()


def test_a_stale_candidate_is_recomputed_once_and_written_back(
        sources: list[str], session: Any, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = app.extensions["mdm_domains"]
    settings = settings_for(registry.get("supplier"))
    ingest(session, registry, "supplier", "SAP", base(), cli_context("base"))
    extra = make_stale(session)
    all_ids = set(extra)

    recomputed: list[int] = []
    original = index.attributes_query

    def counting(ids: list[int]) -> Any:
        recomputed.extend(ids)
        return original(ids)

    monkeypatch.setattr(index, "attributes_query", counting)

    ingest(session, registry, "supplier", "COUPA", similar("C"), cli_context("first"))
    first = set(recomputed)
    assert first and len(recomputed) == len(first)  # each stale record once
    stored = dict(session.execute(select(MatchPrepared.source_record_id,
                                         MatchPrepared.settings_version)
                                  .where(MatchPrepared.source_record_id.in_(all_ids))).all())
    # Exactly the stale records this ingest touched are current now, keys included
    # (the old settings' extra key is gone); the others wait for ``mdm match``.
    assert {sr_id for sr_id, v in stored.items() if v == settings.version} == first
    assert {sr_id for sr_id, v in stored.items() if v == OLD} == all_ids - first
    assert all_ids - first  # bounded: untouched records were not rewritten
    assert_current(session, settings, first)
    assert not set(session.scalars(select(MatchBlockingKey.key_hash).where(
        MatchBlockingKey.key_hash.in_([extra[sr_id] for sr_id in first]))))

    recomputed.clear()
    ingest(session, registry, "supplier", "SFDC", similar("F"), cli_context("second"))
    assert recomputed == []  # the same candidates again: read from the stored rows
    stale_outcome = grouping(session)
    monkeypatch.undo()

    # ``mdm match``'s index pass still rebuilds every remaining stale row.
    assert ensure_index(session, "supplier", settings) == len(all_ids - first)
    every = set(session.scalars(select(SourceRecord.id)))
    assert_current(session, settings, every)
    assert not set(session.scalars(select(MatchBlockingKey.key_hash).where(
        MatchBlockingKey.key_hash.in_(list(extra.values())))))
    session.commit()

    # The same loads on a freshly built index group the records the same way.
    empty_database(app)
    register_sources(app)
    with app.app_context():
        fresh = db.session
        ingest(fresh, registry, "supplier", "SAP", base(), cli_context("base"))
        ingest(fresh, registry, "supplier", "COUPA", similar("C"), cli_context("first"))
        ingest(fresh, registry, "supplier", "SFDC", similar("F"), cli_context("second"))
        fresh_outcome = grouping(fresh)
        db.remove_session()
    assert stale_outcome == fresh_outcome
    assert any(len(g) > 1 for g in fresh_outcome)  # the loads did match something


@pytest.mark.postgres
def test_a_stale_candidate_another_transaction_holds_is_recomputed_not_written(
        sources: list[str], session: Any, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.orm import Session

    registry = app.extensions["mdm_domains"]
    settings = settings_for(registry.get("supplier"))
    ingest(session, registry, "supplier", "SAP", base(), cli_context("base"))
    make_stale(session)
    held = session.scalar(select(SourceRecord.id).where(SourceRecord.source_id == "S0"))
    session.commit()

    recomputed: list[int] = []
    original = index.attributes_query

    def counting(ids: list[int]) -> Any:
        recomputed.extend(ids)
        return original(ids)

    monkeypatch.setattr(index, "attributes_query", counting)
    with Session(db.engine) as other:
        # Another transaction updating S0 holds its row: the ingest must neither wait for
        # it nor rewrite S0's index rows (that transaction re-indexes S0 itself).
        other.execute(select(SourceRecord.id).where(SourceRecord.id == held)
                      .with_for_update(key_share=True))  # the lock an UPDATE takes
        session.execute(text("SET lock_timeout = '5s'"))
        try:
            ingest(session, registry, "supplier", "COUPA", similar("C"), cli_context("first"))
        finally:
            session.execute(text("RESET lock_timeout"))
            session.commit()
        other.rollback()
    assert held in recomputed
    version = session.scalar(select(MatchPrepared.settings_version)
                             .where(MatchPrepared.source_record_id == held))
    assert version == OLD
    assert_current(session, settings, set(recomputed) - {held})
    # S0 was matched on its recomputed row, not on the stale one.
    golden = dict(session.execute(select(SourceRecord.source_id, SourceRecord.golden_id)
                                  .where(SourceRecord.source_id.in_(["S0", "C0"]))).all())
    assert golden["S0"] == golden["C0"]

    recomputed.clear()
    ingest(session, registry, "supplier", "SFDC", similar("F"), cli_context("second"))
    assert recomputed == [held]  # written back this time, by this ingest
    assert_current(session, settings, {held})
    session.commit()
