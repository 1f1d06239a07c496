"""Publication end to end inside one process: outbox routing, webhook delivery, ordering,
retries and dead letters, contract validation, replay, backfill, file drops, scheduling."""
from __future__ import annotations

import csv
import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mdm.db import db, utcnow
from mdm.errors import NotFound, ValidationFailed
from mdm.events import service as events
from mdm.events.models import ChangeEvent
from mdm.publication import contract_check, scheduler, service, signing
from mdm.publication.dispatcher import Dispatcher
from mdm.publication.models import Delivery, Run
from mdm.publication.receiver import Receiver
from mdm.records.ingest import IngestItem, ingest

SCHEMAS = Path(__file__).resolve().parents[2] / "mdm" / "publication" / "event_schemas"


def _registry(app: Any) -> Any:
    return app.extensions["mdm_domains"]


def add_suppliers(app: Any, ctx: Any, rows: list[tuple[str, str]], system: str = "SAP",
                  **attrs: Any) -> list[str]:
    """Ingest (source_id, name) suppliers; returns their golden ids."""
    items = [IngestItem(sid, {"name": name, "country": "DE", **attrs}) for sid, name in rows]
    results = ingest(db.session, _registry(app), "supplier", system, items, ctx)
    assert all(r.golden_id for r in results), [r.errors for r in results]
    return [r.golden_id for r in results]  # type: ignore[misc]


def subscribe(app: Any, ctx: Any, name: str = "erp", **overrides: Any) -> Any:
    data = {"name": name, "domains": ["supplier"], "channel": "webhook",
            "channel_config": {"url": "http://127.0.0.1:9/hook", "timeout_seconds": 2},
            "retry_initial_seconds": 0.05, "retry_max_seconds": 0.2, **overrides}
    sub, _secret = service.create(db.session, ctx, _registry(app), data)
    return sub


def drain(dispatcher: Dispatcher, sub_id: str, rounds: int = 20) -> None:
    for _ in range(rounds):
        dispatcher.route_once()
        if not dispatcher.deliver_batch(sub_id):
            return


@pytest.fixture
def receiver() -> Any:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def dispatcher(app: Any) -> Any:
    d = Dispatcher(db.new_session, _registry(app), batch_size=50, poll_interval=0.01)
    yield d
    d.close()


def test_change_is_delivered_signed_with_target_ids_and_valid_schema(
        app: Any, session: Any, ctx: Any, sources: Any, receiver: Receiver,
        dispatcher: Dispatcher) -> None:
    import jsonschema

    sub, secret = service.create(session, ctx, _registry(app), {
        "name": "sap", "domains": ["supplier"], "channel": "webhook", "target_system": "SAP",
        "channel_config": {"url": receiver.url}})
    assert secret and secret.startswith("whsec_")
    receiver.secret = secret  # a bad signature would be answered 401
    [gid] = add_suppliers(app, ctx, [("4711", "Acme GmbH")])
    drain(dispatcher, sub.id)
    [got] = receiver.received
    event = got.event
    assert got.headers["webhook-id"] == event["id"] == got.headers["idempotency-key"]
    assert event["type"] == "org.mdmhub.golden-record.created"
    assert event["subject"] == gid and event["data"]["record"]["attributes"]["name"] == "Acme GmbH"
    assert event["data"]["target"] == {"system": "SAP", "id": "4711", "ids": ["4711"]}
    schema = json.loads((SCHEMAS / "golden-record-event.schema.json").read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()
                                    ).validate(event)
    [d] = service.list_deliveries(session, sub.id)
    assert (d.status, d.attempts, d.event_id) == ("delivered", 1, event["id"])


def test_filter_and_domain_select_what_is_routed(app: Any, session: Any, ctx: Any,
                                                 sources: Any, dispatcher: Dispatcher) -> None:
    sub = subscribe(app, ctx, filter={"attributes": {"country": "AT"}})
    add_suppliers(app, ctx, [("1", "Alpha Handels GmbH")])
    add_suppliers(app, ctx, [("2", "Beta Bau AG")], country="AT")
    dispatcher.route_once()
    rows = service.list_deliveries(session, sub.id)
    assert [d.golden_id for d in rows] == [
        session.scalar(select(ChangeEvent.golden_id).where(ChangeEvent.position == 2))]


def test_failed_change_writes_no_event(app: Any, session: Any, ctx: Any, sources: Any) -> None:
    before = session.scalar(select(func.count()).select_from(ChangeEvent))
    with pytest.raises(NotFound):
        ingest(session, _registry(app), "supplier", "NOPE",
               [IngestItem("1", {"name": "Ghost Ltd"})], ctx)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ChangeEvent)) == before


def test_receiver_errors_are_retried_then_dead_lettered_and_requeued(
        app: Any, session: Any, ctx: Any, sources: Any, receiver: Receiver,
        dispatcher: Dispatcher) -> None:
    receiver.status = 500
    sub = subscribe(app, ctx, channel_config={"url": receiver.url}, max_attempts=3)
    add_suppliers(app, ctx, [("1", "Gamma Logistik GmbH")])
    dispatcher.route_once()
    for _ in range(3):
        session.execute(Delivery.__table__.update().values(next_attempt_at=utcnow()))
        session.commit()
        dispatcher.deliver_batch(sub.id)
    [d] = service.list_deliveries(session, sub.id)
    session.refresh(d)
    assert (d.status, d.attempts) == ("dead", 3)
    assert d.last_error.startswith("HTTP 500")
    receiver.status = 200
    assert service.requeue_dead(session, ctx, sub.id) == 1
    drain(dispatcher, sub.id)
    assert len(receiver.received) == 1
    assert service.stats(session, sub.id)["delivered"] == 1


def test_a_record_never_overtakes_its_earlier_undelivered_change(
        app: Any, session: Any, ctx: Any, sources: Any, receiver: Receiver,
        dispatcher: Dispatcher) -> None:
    sub = subscribe(app, ctx, channel_config={"url": receiver.url})
    add_suppliers(app, ctx, [("1", "Delta Metall GmbH"), ("2", "Epsilon Chemie AG")])
    add_suppliers(app, ctx, [("1", "Delta Metall GmbH & Co")])
    dispatcher.route_once()
    first = service.list_deliveries(session, sub.id)
    # the first change of record 1 is in backoff: its later change must wait, record 2 not
    session.execute(Delivery.__table__.update().where(Delivery.id == first[0].id)
                    .values(next_attempt_at=utcnow() + timedelta(hours=1)))
    session.commit()
    dispatcher.deliver_batch(sub.id)
    assert [e["subject"] for e in receiver.events()] == [first[1].golden_id]
    session.execute(Delivery.__table__.update().values(next_attempt_at=utcnow()))
    session.commit()
    drain(dispatcher, sub.id)
    versions = [e["data"]["version"] for e in receiver.events()
                if e["subject"] == first[0].golden_id]
    assert versions == [1, 2]


def test_contract_violation_goes_to_dead_letters(app: Any, session: Any, ctx: Any,
                                                 sources: Any, receiver: Receiver,
                                                 dispatcher: Dispatcher,
                                                 monkeypatch: Any) -> None:
    strict = {"type": "object", "required": ["data"], "properties": {"data": {
        "type": "object", "required": ["record"], "properties": {"record": {
            "type": "object", "properties": {"attributes": {
                "type": "object", "required": ["tax_id"]}}}}}}}
    monkeypatch.setattr(contract_check, "_resolve", lambda s, subj, ver: strict)
    contract_check.clear_cache()
    sub = subscribe(app, ctx, channel_config={"url": receiver.url},
                    contract_subject="mdm.supplier", contract_version="1.0.0")
    add_suppliers(app, ctx, [("1", "Zeta Papier GmbH")])
    add_suppliers(app, ctx, [("2", "Eta Glas GmbH")], tax_id="DE136695976")
    drain(dispatcher, sub.id)
    contract_check.clear_cache()
    dead = service.list_deliveries(session, sub.id, status="dead")
    assert len(dead) == 1 and "tax_id" in (dead[0].last_error or "")
    assert [e["data"]["record"]["attributes"]["name"] for e in receiver.events()] == [
        "Eta Glas GmbH"]


def test_replay_from_a_cursor_resends_with_the_same_idempotency_keys(
        app: Any, session: Any, ctx: Any, sources: Any, receiver: Receiver,
        dispatcher: Dispatcher) -> None:
    sub = subscribe(app, ctx, channel_config={"url": receiver.url})
    add_suppliers(app, ctx, [("1", "Theta Holz GmbH"), ("2", "Iota Textil AG")])
    drain(dispatcher, sub.id)
    first_ids = [e["id"] for e in receiver.events()]
    assert service.replay(session, ctx, sub.id, from_position=1) == 1
    assert service.replay(session, ctx, sub.id, since=utcnow() - timedelta(minutes=5)) == 2
    drain(dispatcher, sub.id)
    ids = [e["id"] for e in receiver.events()]
    assert ids == first_ids + first_ids[1:] + first_ids


def test_backfill_sends_a_snapshot_of_every_matching_record(
        app: Any, session: Any, ctx: Any, sources: Any, receiver: Receiver,
        dispatcher: Dispatcher) -> None:
    add_suppliers(app, ctx, [("1", "Kappa Druck GmbH"), ("2", "Lambda Optik AG")])
    dispatcher.route_once()  # routed before the subscription existed
    sub = subscribe(app, ctx, channel_config={"url": receiver.url}, target_system="SAP")
    dispatcher.route_once()
    assert service.list_deliveries(session, sub.id) == []
    service.backfill(session, ctx, sub.id)
    dispatcher.work(sub.id)
    drain(dispatcher, sub.id)
    events_ = receiver.events()
    assert {e["type"] for e in events_} == {"org.mdmhub.golden-record.snapshot"}
    assert sorted(e["data"]["target"]["id"] for e in events_) == ["1", "2"]


def test_file_drop_snapshot_then_delta_with_manifest(app: Any, session: Any, ctx: Any,
                                                      sources: Any, tmp_path: Path) -> None:
    add_suppliers(app, ctx, [("1", "Mu Mobel GmbH"), ("2", "Nu Nahrung AG")])
    sub = subscribe(app, ctx, name="files", channel="file", trigger="schedule",
                    schedule="0 2 * * *", schedule_mode="delta", target_system="SAP",
                    channel_config={"directory": str(tmp_path), "format": "csv"})
    run = service.run_now(db.new_session, ctx, _registry(app), sub.id)
    assert (run.status, run.kind, run.record_count) == ("succeeded", "snapshot", 2)
    data_file, manifest_file = (tmp_path / f for f in run.files)
    manifest = json.loads(manifest_file.read_text())
    assert manifest["record_count"] == 2 and manifest["file"] == data_file.name
    assert manifest["sha256"] == hashlib.sha256(data_file.read_bytes()).hexdigest()
    with data_file.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["target_id"] for r in rows) == ["1", "2"] and rows[0]["name"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

    add_suppliers(app, ctx, [("2", "Nu Nahrung AG & Co")])
    delta = service.run_now(db.new_session, ctx, _registry(app), sub.id)
    assert (delta.kind, delta.record_count, delta.from_position) == ("delta", 1,
                                                                     manifest["cursor"][
                                                                         "to_position"])
    manifest_schema = json.loads((SCHEMAS / "snapshot-manifest.schema.json").read_text())
    import jsonschema

    jsonschema.validate(json.loads((tmp_path / delta.files[1]).read_text()), manifest_schema)


def test_two_schedulers_trigger_a_tick_once(app: Any, session: Any, ctx: Any, sources: Any,
                                            tmp_path: Path) -> None:
    sub = subscribe(app, ctx, name="nightly", channel="file", trigger="schedule",
                    schedule="*/5 * * * *", channel_config={"directory": str(tmp_path)})
    later = sub.created_at + timedelta(minutes=11)
    with db.new_session() as a, db.new_session() as b:
        first, second = scheduler.tick(a, later), scheduler.tick(b, later)
    assert len(first) == 1 and second == []
    runs = list(session.scalars(select(Run)))
    assert len(runs) == 1 and runs[0].scheduled_for.minute % 5 == 0


def test_change_feed_positions_are_a_stable_cursor(app: Any, client: Any, admin: Any,
                                                   ctx: Any, sources: Any) -> None:
    with app.app_context():
        add_suppliers(app, ctx, [("1", "Xi Werkzeug GmbH"), ("2", "Omikron Sport AG")])
        db.remove_session()
    page = client.get("/changes?domain=supplier&after=0&limit=1", headers=admin).json
    assert [i["position"] for i in page["items"]] == [1]
    page = client.get(f"/changes?after={page['next_after']}", headers=admin).json
    assert [i["position"] for i in page["items"]] == [2] and page["next_after"] == 2
    assert client.get("/changes?after=2", headers=admin).json["items"] == []


def test_sequencer_orders_by_visibility(app: Any, session: Any, ctx: Any, sources: Any) -> None:
    add_suppliers(app, ctx, [("1", "Pi Pumpen GmbH")])
    assert events.sequence(session) == 1
    assert events.sequence(session) == 0
    add_suppliers(app, ctx, [("2", "Rho Reifen AG")])
    assert [e.position for e in events.list_events(session)] == [1, 2]


def test_signatures_cover_every_live_secret_while_rotating() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    headers = signing.headers([new, old], "msg_1", b"{}")
    assert len(headers["webhook-signature"].split()) == 2
    assert signing.verify(old, headers, b"{}") and signing.verify(new, headers, b"{}")
    assert not signing.verify(new, headers, b"{ }")


def test_pinned_registered_contract_dead_letters_an_invalid_payload(
        app: Any, session: Any, ctx: Any, sources: Any, receiver: Receiver,
        dispatcher: Dispatcher) -> None:
    registry_service = pytest.importorskip("contracts.registry.service")
    # the hub's own event schema, tightened: this target needs a tax id on every supplier
    schema = json.loads((SCHEMAS / "golden-record-event.schema.json").read_text())
    schema["$defs"]["record"]["properties"]["attributes"] = {
        "type": "object", "required": ["tax_id"]}
    actor = registry_service.RegistryContext(actor="test")
    registry_service.create_subject(session, actor, name="erp.supplier-event",
                                    format="jsonschema", owner_team="erp", lifecycle="active")
    registry_service.register_version(session, actor, "erp.supplier-event", schema,
                                      version="1.0.0")
    session.commit()
    contract_check.clear_cache()
    sub = subscribe(app, ctx, channel_config={"url": receiver.url},
                    contract_subject="erp.supplier-event", contract_version="1.0.0")
    add_suppliers(app, ctx, [("1", "Sigma Stahl GmbH")])
    add_suppliers(app, ctx, [("2", "Tau Textil GmbH")], tax_id="DE136695976")
    drain(dispatcher, sub.id)
    [dead] = service.list_deliveries(session, sub.id, status="dead")
    assert "/data/record/attributes" in (dead.last_error or "")
    assert "tax_id" in (dead.last_error or "")
    assert [e["data"]["record"]["attributes"]["name"] for e in receiver.events()] == [
        "Tau Textil GmbH"]
    with pytest.raises(ValidationFailed):  # an unknown pin is refused up front
        service.create(session, ctx, _registry(app), {
            "name": "bad-pin", "domains": ["supplier"], "channel": "webhook",
            "channel_config": {"url": receiver.url}, "contract_subject": "no.such.subject"})
