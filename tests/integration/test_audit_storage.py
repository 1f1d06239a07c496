"""A source record's audit entry stores only the golden id of its after: the attributes and
active flag it had are the record's own until its next change, whose entry holds them as
its before. The audit trail answers every state as it was written, redacted."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from mdm import migrate
from mdm.audit import service as audit
from mdm.context import cli_context
from mdm.db import db, make_engine
from mdm.records.ingest import IngestItem, ingest
from mdm.records.models import SourceRecord
from mdm.redaction import redact
from mdm.stewardship import service as stewardship

ACME = {"name": "Acme Tools GmbH", "country": "DE", "city": "Berlin",
        "website": "https://ap:hunter2@acme.example"}
ZEN = {"name": "Zenith Shipping Oy", "country": "FI", "city": "Turku"}
AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def send(app: Any, system: str, source_id: str, attrs: dict[str, Any],
         active: bool = True) -> str:
    [result] = ingest(db.session, app.extensions["mdm_domains"], "supplier", system,
                      [IngestItem(source_id, attrs, active=active)],
                      cli_context(f"load-{system}"))
    assert result.golden_id is not None, result.errors
    return result.golden_id


def trail(session: Any, entity_id: str) -> list[Any]:
    session.expire_all()
    return audit.list_entries(session, entity_type="source_record", entity_id=entity_id)


def golden_of(session: Any, source_id: str) -> str:
    session.expire_all()
    return session.scalars(select(SourceRecord.golden_id).where(
        SourceRecord.source_id == source_id)).one()  # type: ignore[no-any-return]


def test_source_record_states_read_back_as_written(app: Any, sources: Any,
                                                   session: Any) -> None:
    zen = send(app, "COUPA", "9", ZEN)
    acme = send(app, "SAP", "1", ACME)
    states = [{"attributes": redact(ACME), "active": True, "golden_id": acme}]
    assert [e.after for e in trail(session, "supplier/SAP/1")] == states  # the record's own

    moved = {**ACME, "city": "Potsdam"}
    send(app, "SAP", "1", moved)
    states.append({"attributes": redact(moved), "active": True, "golden_id": acme})
    # the record moves to the older golden record, without an entry of its own
    stewardship.merge(session, app.extensions["mdm_domains"], cli_context("steward"),
                      [zen, acme], reason="same company")
    assert golden_of(session, "1") == zen
    send(app, "SAP", "1", moved, active=False)
    states.append({"attributes": redact(moved), "active": False,
                   "golden_id": golden_of(session, "1")})
    send(app, "SAP", "1", ACME)
    states.append({"attributes": redact(ACME), "active": True,
                   "golden_id": golden_of(session, "1")})

    entries = trail(session, "supplier/SAP/1")
    assert [e.action for e in entries] == [
        "source_record.created", "source_record.updated", "source_record.deactivated",
        "source_record.reactivated"]
    assert [e.after for e in entries] == states
    # each before is the state before, with the golden record the source was in then
    assert [e.before for e in entries[1:]] == [
        {**states[0], "golden_id": acme}, {**states[1], "golden_id": zen},
        {**states[2], "golden_id": zen}]
    assert "hunter2" not in json.dumps([e.after for e in entries])
    # stored: the golden id alone, never the attributes
    session.rollback()
    raw = session.execute(text("SELECT after FROM audit_entry WHERE entity_type = "
                               "'source_record' AND entity_id = 'supplier/SAP/1' "
                               "ORDER BY id")).scalars().all()
    assert [json.loads(r) if isinstance(r, str) else r for r in raw] == [
        {"golden_id": s["golden_id"]} for s in states]
    # entries of other kinds keep what they say
    other = audit.list_entries(session, entity_type="lineage_operation")
    assert other and all("survivor_id" in e.after for e in other)


def test_migration_compacts_source_entries_and_downgrade_restores_them(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    migrate.upgrade(url, "0012_compact_golden_versions")
    engine = make_engine(url)
    first = {"attributes": {"name": "Acme"}, "active": True, "golden_id": "g1"}
    second = {"attributes": {"name": "Acme AG"}, "active": True, "golden_id": "g2"}
    odd = {"attributes": {"name": "not what the record says"}, "active": True,
           "golden_id": "g3"}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO source_system (id, code, name, kind, active, "
                          "created_at) VALUES (1, 'SAP', 'SAP', 'erp', 1, :t)"), {"t": AT})
        for gid in ("g1", "g2", "g3"):
            conn.execute(text(
                "INSERT INTO golden_record (id, domain, status, version, attributes, "
                "provenance, quality_status, overrides, search_name, created_at, updated_at) "
                "VALUES (:g, 'supplier', 'active', 1, '{}', '{}', 'ok', '{}', '', :t, :t)"),
                {"g": gid, "t": AT})
        for sid, attrs, gid in (("1", {"name": "Acme AG"}, "g2"), ("2", {"name": "Zen"}, "g3")):
            conn.execute(text(
                "INSERT INTO source_record (domain, source_system_id, source_id, golden_id, "
                "attributes, content_hash, active, quality_status, version, created_at, "
                "updated_at) VALUES ('supplier', 1, :s, :g, :a, 'h', 1, 'ok', 1, :t, :t)"),
                {"s": sid, "g": gid, "a": json.dumps(attrs), "t": AT})
        for entity, before, after in (("supplier/SAP/1", None, first),
                                      ("supplier/SAP/1", first, second),
                                      ("supplier/SAP/2", None, odd)):
            conn.execute(text(
                "INSERT INTO audit_entry (at, actor, action, entity_type, entity_id, domain, "
                "before, after) VALUES (:t, 'alice', 'source_record.x', 'source_record', :e, "
                "'supplier', :b, :a)"),
                {"t": AT, "e": entity, "b": before and json.dumps(before),
                 "a": json.dumps(after)})

    def afters() -> list[Any]:
        with engine.connect() as conn:
            return [json.loads(a) for a in conn.scalars(
                text("SELECT after FROM audit_entry ORDER BY id"))]

    migrate.upgrade(url)
    assert afters() == [{"golden_id": "g1"}, {"golden_id": "g2"}, odd]
    migrate.downgrade(url, "0012_compact_golden_versions")
    assert afters() == [first, second, odd]
    engine.dispose()


def test_a_golden_entry_reads_its_versions_reason(app: Any, sources: Any,
                                                  session: Any) -> None:
    zen = send(app, "COUPA", "9", ZEN)
    acme = send(app, "SAP", "1", ACME)
    reason = "same company, see https://ap:hunter2@crm.example/case/7"
    stewardship.merge(session, app.extensions["mdm_domains"], cli_context("steward"),
                      [zen, acme], reason=reason)
    session.expire_all()
    entries = audit.list_entries(session, entity_type="golden_record")
    merged = [e for e in entries if e.action == "golden.merge"]
    assert {e.entity_id for e in merged} == {zen, acme}
    assert [e.reason for e in merged] == ["same company, see https://ap:***@crm.example/case/7"] * 2
    assert [e.reason for e in entries if e.action == "golden.create"] == [None, None]
    session.rollback()
    raw = session.execute(text("SELECT reason FROM audit_entry WHERE action = 'golden.merge'"))
    assert raw.scalars().all() == [None, None]  # the versions hold it


def test_migration_drops_reasons_their_version_holds(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    migrate.upgrade(url, "0013_compact_source_audit")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO golden_record (id, domain, status, version, attributes, provenance, "
            "quality_status, overrides, search_name, created_at, updated_at) VALUES "
            "('g1', 'supplier', 'active', 2, '{}', '{}', 'ok', '{}', '', :t, :t)"), {"t": AT})
        for n, reason in ((1, None), (2, "same company")):
            conn.execute(text(
                "INSERT INTO golden_version (golden_id, version, status, attributes, "
                "provenance, valid_from, action, actor, reason, quality_status) VALUES "
                "('g1', :n, 'active', '{}', '{}', :t, 'x', 'alice', :r, 'ok')"),
                {"n": n, "t": AT, "r": reason})
        for version, reason in ((1, None), (2, "same company"), (None, "a task's reason")):
            conn.execute(text(
                "INSERT INTO audit_entry (at, actor, action, entity_type, entity_id, reason, "
                "after_version) VALUES (:t, 'alice', 'x', 'golden_record', 'g1', :r, :v)"),
                {"t": AT, "r": reason, "v": version})

    def reasons() -> list[Any]:
        with engine.connect() as conn:
            return list(conn.scalars(text("SELECT reason FROM audit_entry ORDER BY id")))

    migrate.upgrade(url)
    assert reasons() == [None, None, "a task's reason"]
    migrate.downgrade(url, "0013_compact_source_audit")
    assert reasons() == [None, "same company", "a task's reason"]
    engine.dispose()
