"""Change events are stored once: a golden record's event refers to the golden version it
names instead of holding a copy of the record, and every reader (the change feed, the
router's filters, delivery, replay) gets the record as it was written, redacted."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mdm import migrate
from mdm.context import cli_context
from mdm.db import db, make_engine
from mdm.events import service as events
from mdm.events.models import ChangeEvent
from mdm.publication import service as publication
from mdm.publication.dispatcher import Dispatcher
from mdm.publication.receiver import Receiver
from mdm.records import golden as gold
from mdm.records.ingest import IngestItem, ingest
from mdm.records.models import GoldenRecord
from mdm.redaction import redact
from mdm.stewardship import service as stewardship

ACME = {"name": "Acme Tools GmbH", "country": "DE", "city": "Berlin", "postal_code": "10115",
        # a password in a URL: never leaves the hub, in events or deliveries
        "website": "https://ap:hunter2@acme.example"}
ZEN = {"name": "Zenith Shipping Oy", "country": "FI", "city": "Turku", "postal_code": "20100"}


def load(app: Any, system: str, source_id: str, attrs: dict[str, Any]) -> str:
    [result] = ingest(db.session, app.extensions["mdm_domains"], "supplier", system,
                      [IngestItem(source_id, attrs)], cli_context(f"load-{system}"))
    assert result.golden_id is not None, result.errors
    return result.golden_id


def written(session: Any, seen: dict[tuple[str, int], dict[str, Any]], *ids: str) -> None:
    """What an event of each golden record's current version holds: its snapshot, redacted."""
    session.expire_all()
    for gid in ids:
        g = session.get(GoldenRecord, gid)
        seen[(g.id, g.version)] = redact(gold.snapshot(g))


def history(app: Any, session: Any) -> tuple[str, str, dict[tuple[str, int], Any]]:
    """Create, update and merge two suppliers; the snapshot of every version written."""
    seen: dict[tuple[str, int], dict[str, Any]] = {}
    acme = load(app, "SAP", "1", ACME)
    written(session, seen, acme)
    load(app, "SAP", "1", {**ACME, "city": "Potsdam"})
    written(session, seen, acme)
    zen = load(app, "COUPA", "9", ZEN)
    written(session, seen, zen)
    stewardship.merge(session, app.extensions["mdm_domains"], cli_context("steward"),
                      [acme, zen], reason="same company")
    written(session, seen, zen, acme)  # the merged-away record's event first
    return acme, zen, seen


def test_events_refer_to_their_version_and_read_back_as_written(
        app: Any, sources: Any, session: Any) -> None:
    acme, zen, seen = history(app, session)
    stored = session.execute(select(ChangeEvent.golden_id, ChangeEvent.golden_version,
                                    ChangeEvent.type, ChangeEvent.payload)
                             .order_by(ChangeEvent.id)).all()
    assert [(e.golden_id, e.golden_version, e.type) for e in stored] == [
        (acme, 1, "created"), (acme, 2, "updated"), (zen, 1, "created"),
        (zen, 2, "merged"), (acme, 3, "merged")]
    # no copy of any record is stored; what the merge says beside it is
    assert all("record" not in e.payload for e in stored)
    assert "hunter2" not in json.dumps([e.payload for e in stored])
    merged = stored[3].payload
    assert merged["survivor"] == acme and merged["victims"] == [zen]

    feed = events.list_events(session, limit=100)
    assert [(e.golden_id, e.golden_version) for e in feed] == list(seen)
    for e in feed:
        assert e.payload["record"] == seen[(e.golden_id, e.golden_version)]
        assert list(e.payload)[0] == "record"  # the record first, as written
    assert feed[0].payload["record"]["attributes"]["website"] == "https://ap:***@acme.example"
    assert {k: v for k, v in feed[3].payload.items() if k != "record"} == merged
    # reading changed nothing
    session.rollback()
    assert session.scalars(select(ChangeEvent.payload).order_by(ChangeEvent.id)).all() == [
        e.payload for e in stored]


def test_an_event_whose_record_is_not_its_versions_snapshot_keeps_its_copy() -> None:
    at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    version = {"golden_id": "g1", "version": 2, "status": "active", "merged_into": None,
               "attributes": {"name": "Acme"}, "overrides": None, "quality_status": "ok",
               "valid_from": at}
    snap = {"id": "g1", "domain": "supplier", "status": "active", "version": 2,
            "merged_into": None, "attributes": {"name": "Acme"}, "overrides": [],
            "quality_status": "ok", "updated_at": at.isoformat()}
    ctx = cli_context("r")

    def payload(snapshot: dict[str, Any], **kw: Any) -> Any:
        return events.event_row(ctx, domain="supplier", golden_id="g1", golden_version=2,
                                type="updated", snapshot=snapshot, **kw)["payload"]

    assert payload(snap, version=version, extra={"why": 1}) == {"why": 1}
    later = {**snap, "updated_at": (at + timedelta(seconds=1)).isoformat()}
    assert payload(later, version=version) == {"record": later}
    assert payload(snap, version={**version, "quality_status": None}) == {"record": snap}
    assert payload(snap) == {"record": snap}  # no version: a hierarchy's event


def test_router_filters_delivery_and_replay_read_the_record(
        app: Any, sources: Any, session: Any) -> None:
    receiver = Receiver().start()
    dispatcher = Dispatcher(db.new_session, app.extensions["mdm_domains"], batch_size=50,
                            poll_interval=0.01)
    try:
        ctx = cli_context("test")
        # the filter reads the record: only records in Germany are sent
        sub, _ = publication.create(session, ctx, app.extensions["mdm_domains"], {
            "name": "de", "domains": ["supplier"], "channel": "webhook",
            "filter": {"attributes": {"country": ["DE"]}},
            "channel_config": {"url": receiver.url}})
        acme, zen, seen = history(app, session)
        for _ in range(20):
            dispatcher.route_once()
            if not dispatcher.deliver_batch(sub.id):
                break
        sent = [(e["subject"], e["data"]["version"], e["data"]["record"])
                for e in receiver.events()]
        german = [(g, v, r) for (g, v), r in seen.items() if r["attributes"]["country"] == "DE"]
        assert sent == german and 0 < len(german) < len(seen)
        assert sent[0][2]["attributes"]["website"] == "https://ap:***@acme.example"

        queued = publication.replay(session, ctx, sub.id, from_position=0)
        assert queued == len(german)
    finally:
        dispatcher.close()
        receiver.stop()


def test_migration_compacts_events_and_downgrade_restores_their_copies(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    migrate.upgrade(url, "0010_compact_blocking_keys")
    at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    attrs = {"name": "Acme", "website": "https://ap:hunter2@acme.example"}
    record = {"id": "g1", "domain": "supplier", "status": "active", "version": 1,
              "merged_into": None, "attributes": redact(attrs), "overrides": [],
              "quality_status": "ok", "updated_at": at.isoformat()}
    payloads = [
        {"record": record},
        {"record": {**record, "attributes": {"name": "Other"}}},  # not its version's: kept
        {"record": {"node_count": 3}, "hierarchy": {"id": "h1"}},  # no golden version
    ]
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO golden_record (id, domain, status, version, attributes, provenance, "
            "quality_status, overrides, search_name, created_at, updated_at) VALUES "
            "('g1', 'supplier', 'active', 1, :a, '{}', 'ok', '{}', 'acme', :t, :t)"),
            {"a": json.dumps(attrs), "t": at})
        conn.execute(text(
            "INSERT INTO golden_version (golden_id, version, status, attributes, provenance, "
            "valid_from, action, actor, quality_status, overrides) VALUES "
            "('g1', 1, 'active', :a, '{}', :t, 'golden.create', 'alice', 'ok', NULL)"),
            {"a": json.dumps(attrs), "t": at})
        for n, (gid, payload) in enumerate(zip(["g1", "g1", "h1"], payloads, strict=True)):
            conn.execute(text(
                "INSERT INTO change_event (event_id, domain, golden_id, golden_version, type, "
                "occurred_at, payload, position) VALUES (:e, 'supplier', :g, 1, 'created', "
                ":t, :p, :n)"), {"e": f"e{n}", "g": gid, "t": at, "p": json.dumps(payload),
                                 "n": n + 1})
        conn.execute(text(
            "INSERT INTO audit_entry (at, actor, action, entity_type, entity_id, before, after) "
            "VALUES (:t, 'alice', 'x.created', 'x', 'x1', 'null', '{\"a\": 1}')"), {"t": at})

    def stored() -> list[Any]:
        with engine.connect() as conn:
            return [json.loads(p) for p in conn.scalars(
                text("SELECT payload FROM change_event ORDER BY id"))]

    migrate.upgrade(url)
    assert stored() == [{}, payloads[1], payloads[2]]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT before, after FROM audit_entry")).one() == (
            None, '{"a": 1}')
        rows = conn.execute(select(ChangeEvent).order_by(ChangeEvent.id)).all()
        with Session(bind=conn) as s:
            assert events.payloads(s, rows) == payloads
    migrate.downgrade(url, "0010_compact_blocking_keys")
    assert stored() == payloads
    engine.dispose()


@pytest.mark.parametrize("limit", [1, 2])
def test_feed_pages_read_whole_payloads(app: Any, sources: Any, session: Any,
                                        limit: int) -> None:
    _, _, seen = history(app, session)
    after, records = 0, []
    while page := events.list_events(session, after=after, limit=limit):
        records += [e.payload["record"] for e in page]
        after = page[-1].position
    assert records == list(seen.values())
