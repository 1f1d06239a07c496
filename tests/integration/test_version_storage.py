"""Golden versions store their attributes and provenance only when they differ from the
version before (NULL: as the version before), and read back as written: history, as-of
reads, the audit trail and the change feed answer the full values."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mdm import migrate
from mdm.db import db, make_engine, utcnow
from mdm.records import history
from mdm.records.models import GoldenRecord, GoldenVersion

ACME = {"name": "Acme Tools GmbH", "country": "DE", "city": "Berlin", "postal_code": "10115"}
ZEN = {"name": "Zenith Shipping Oy", "country": "FI", "city": "Turku", "postal_code": "20100"}
P1 = {"name": {"rule": "most_frequent", "source_system": "SAP", "source_id": "1"}}
P2 = {"name": {"rule": "most_recent", "source_system": "COUPA", "source_id": "9"}}
AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def post(client: Any, headers: dict[str, str], system: str, source_id: str,
         attrs: dict[str, Any]) -> str:
    r = client.post("/domains/supplier/records", headers=headers,
                    json={"source_system": system, "source_id": source_id, "attributes": attrs})
    assert r.status_code == 200, r.json
    return r.json["golden_id"]  # type: ignore[no-any-return]


def stored(app: Any, golden_id: str) -> list[tuple[Any, Any]]:
    with app.app_context():
        rows = db.session.execute(text(
            "SELECT attributes, provenance FROM golden_version WHERE golden_id = :g "
            "ORDER BY version"), {"g": golden_id}).all()
        db.remove_session()
    return [tuple(v if v is None or not isinstance(v, str) else json.loads(v) for v in r)
            for r in rows]


def test_a_merged_away_record_stores_no_copy_and_reads_back_whole(
        app: Any, client: Any, admin: dict[str, str], sources: Any) -> None:
    acme = post(client, admin, "SAP", "1", ACME)
    zen = post(client, admin, "COUPA", "9", ZEN)
    before = client.get(f"/golden/{zen}", headers=admin).json
    etag = client.get(f"/golden/{acme}", headers=admin).headers["ETag"]
    merged = client.post(f"/golden/{acme}/merge", headers={**admin, "If-Match": etag},
                         json={"golden_ids": [zen], "reason": "same company"})
    assert merged.status_code == 200, merged.json

    # stored: the merged-away version repeats nothing; the survivor's new values are kept
    assert [a is None for a, _ in stored(app, zen)] == [False, True]
    assert [p is None for _, p in stored(app, zen)] == [False, True]
    assert all(a is not None for a, _ in stored(app, acme))

    versions = client.get(f"/golden/{zen}/history", headers=admin).json
    assert [v["status"] for v in versions] == ["active", "merged"]
    assert [v["attributes"] for v in versions] == [before["attributes"]] * 2
    assert [v["provenance"] for v in versions] == [before["provenance"]] * 2
    as_of = client.get(f"/golden/{zen}", headers=admin,
                       query_string={"as_of": (utcnow() + timedelta(seconds=1)).isoformat()})
    assert as_of.status_code == 200, as_of.json
    assert (as_of.json["status"], as_of.json["attributes"], as_of.json["provenance"]) == (
        "merged", before["attributes"], before["provenance"])
    # the audit trail and the change feed, which refer to the version, show its values
    audit = client.get("/audit", headers=admin,
                       query_string={"entity_type": "golden_record", "entity_id": zen}).json
    assert [e["after"]["attributes"] for e in audit] == [before["attributes"]] * 2
    feed = client.get("/changes", headers=admin, query_string={"limit": 1000}).json["items"]
    assert [e["payload"]["record"]["attributes"] for e in feed if e["golden_id"] == zen] == [
        before["attributes"]] * 2


def test_repeats_are_dropped_on_writing_and_filled_in_on_reading(
        app: Any, session: Any) -> None:
    session.add(GoldenRecord(id="g1", domain="supplier", attributes=ACME, provenance=P1,
                             version=5))
    session.flush()
    full = [(ACME, P1), (ACME, P1), (ZEN, P1), (ZEN, P2), (ZEN, P2)]

    def row(n: int) -> dict[str, Any]:
        a, p = full[n - 1]
        return {"golden_id": "g1", "version": n, "status": "active", "merged_into": None,
                "attributes": a, "provenance": p, "valid_from": AT + timedelta(minutes=n),
                "action": "test", "actor": "alice", "reason": None, "request_id": None,
                "quality_status": "ok", "overrides": None}

    # written in two batches: the second compares its first version with a stored one
    for batch in ([row(1), row(2)], [row(3), row(4), row(5)]):
        history.repeats_dropped(session, batch)
        session.execute(GoldenVersion.__table__.insert(), batch)
    raw = session.execute(text("SELECT attributes IS NULL, provenance IS NULL "
                               "FROM golden_version ORDER BY version")).all()
    assert [tuple(bool(x) for x in r) for r in raw] == [
        (False, False), (True, True), (False, True), (True, False), (True, True)]

    assert history.values_at(session, [("g1", n) for n in range(1, 6)]) == {
        ("g1", n): full[n - 1] for n in range(1, 6)}
    session.expire_all()
    versions = history.complete(session, list(session.scalars(
        select(GoldenVersion).order_by(GoldenVersion.version))))
    assert [(v.attributes, v.provenance) for v in versions] == full
    snaps = history.versions_of(session, [("g1", 2), ("g1", 5)])
    assert [snaps[("g1", n)]["attributes"] for n in (2, 5)] == [ACME, ZEN]
    session.rollback()


def test_migration_drops_repeats_and_downgrade_writes_them_out(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    migrate.upgrade(url, "0011_compact_change_events")
    engine = make_engine(url)
    full = [(ACME, P1), (ACME, P1), (ZEN, P1), (ZEN, P1)]
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO golden_record (id, domain, status, version, attributes, provenance, "
            "quality_status, overrides, search_name, created_at, updated_at) VALUES "
            "('g1', 'supplier', 'active', 4, :a, :p, 'ok', '{}', 'acme', :t, :t)"),
            {"a": json.dumps(ZEN), "p": json.dumps(P1), "t": AT})
        for n, (a, p) in enumerate(full, start=1):
            conn.execute(text(
                "INSERT INTO golden_version (golden_id, version, status, attributes, "
                "provenance, valid_from, action, actor, quality_status) VALUES "
                "('g1', :n, 'active', :a, :p, :t, 'test', 'alice', 'ok')"),
                {"n": n, "a": json.dumps(a), "p": json.dumps(p), "t": AT})

    def raw() -> list[tuple[Any, Any]]:
        with engine.connect() as conn:
            return [(a and json.loads(a), p and json.loads(p)) for a, p in conn.execute(text(
                "SELECT attributes, provenance FROM golden_version ORDER BY version"))]

    migrate.upgrade(url)
    assert raw() == [(ACME, P1), (None, None), (ZEN, None), (None, None)]
    with engine.connect() as conn, Session(bind=conn) as s:
        assert history.values_at(s, [("g1", n) for n in (1, 2, 3, 4)]) == {
            ("g1", n): v for n, v in enumerate(full, start=1)}
    migrate.downgrade(url, "0011_compact_change_events")
    assert raw() == full
    engine.dispose()
