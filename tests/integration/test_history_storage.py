"""History is stored once: audit entries of golden records refer to the golden version they
describe, provenance names each source once, and every API answers as with full copies.

The audit trail's before/after of a golden record are the change feed's snapshots (the
events carry full copies): each test compares the two through the HTTP API, and looks at
the stored rows to see that the copies are gone.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from mdm.audit.models import AuditEntry
from mdm.db import db
from mdm.records.models import GoldenVersion, Provenance
from mdm.redaction import redact, redact_each

ACME = {"name": "Acme Tools GmbH", "country": "DE", "city": "Berlin", "postal_code": "10115",
        "website": "https://acme.example", "email": "ap@acme.example"}
ZEN = {"name": "Zenith Shipping Oy", "country": "FI", "city": "Turku", "postal_code": "20100"}


def post(client: Any, headers: dict[str, str], system: str, source_id: str,
         attrs: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/domains/supplier/records", headers=headers,
                    json={"source_system": system, "source_id": source_id, "attributes": attrs})
    assert r.status_code == 200, r.json
    return r.json  # type: ignore[no-any-return]


def if_match(client: Any, headers: dict[str, str], golden_id: str) -> dict[str, str]:
    return {**headers, "If-Match": client.get(f"/golden/{golden_id}", headers=headers)
            .headers["ETag"]}


def golden_audit(client: Any, headers: dict[str, str], golden_id: str) -> list[dict[str, Any]]:
    r = client.get("/audit", headers=headers,
                   query_string={"entity_type": "golden_record", "entity_id": golden_id})
    assert r.status_code == 200
    return r.json  # type: ignore[no-any-return]


def event_snapshots(client: Any, headers: dict[str, str]) -> dict[tuple[str, int], Any]:
    items = client.get("/changes", headers=headers, query_string={"limit": 1000}).json["items"]
    return {(e["golden_id"], e["golden_version"]): e["payload"]["record"] for e in items}


def test_golden_audit_answers_the_snapshots_it_refers_to(app, client, admin, sources) -> None:
    acme = post(client, admin, "SAP", "1", ACME)["golden_id"]
    post(client, admin, "SAP", "1", {**ACME, "city": "Potsdam"})  # recompute: version 2
    pinned = client.put(f"/golden/{acme}/overrides/postal_code",
                        headers=if_match(client, admin, acme),
                        json={"value": "14467", "reason": "registered office"})
    assert pinned.status_code == 200, pinned.json
    zen = post(client, admin, "COUPA", "9", ZEN)["golden_id"]
    merged = client.post(f"/golden/{acme}/merge", headers=if_match(client, admin, acme),
                         json={"golden_ids": [zen], "reason": "same company"})
    assert merged.status_code == 200, merged.json

    snapshots = event_snapshots(client, admin)
    acme_audit = golden_audit(client, admin, acme)
    assert [e["action"] for e in acme_audit] == [
        "golden.create", "golden.recompute", "golden.override", "golden.merge"]
    for number, entry in enumerate(acme_audit, start=1):
        assert entry["after"] == redact(snapshots[(acme, number)])
        assert entry["before"] == (None if number == 1 else
                                   _before(acme_audit, number, snapshots, acme))
    # the pin changed the overrides before the recompute: its before is not version 2
    assert acme_audit[2]["before"]["overrides"] == ["postal_code"]
    assert acme_audit[2]["before"]["attributes"] == snapshots[(acme, 2)]["attributes"]
    zen_audit = golden_audit(client, admin, zen)
    assert [e["action"] for e in zen_audit] == ["golden.create", "golden.merge"]
    assert zen_audit[1]["before"] == redact(snapshots[(zen, 1)])
    assert zen_audit[1]["after"] == redact(snapshots[(zen, 2)])
    assert zen_audit[1]["after"]["status"] == "merged"

    with app.app_context():
        rows = db.session.execute(
            select(AuditEntry.entity_id, AuditEntry.action, AuditEntry.before,
                   AuditEntry.after, AuditEntry.before_version, AuditEntry.after_version)
            .where(AuditEntry.entity_type == "golden_record").order_by(AuditEntry.id)).all()
        db.remove_session()
    stored = {(r.entity_id, r.action): r for r in rows}
    # every after refers to its version; a before is a reference unless it differs from it
    assert all(r.after is None and r.after_version is not None for r in rows)
    assert stored[(acme, "golden.recompute")].before_version == 1
    assert stored[(acme, "golden.recompute")].before is None
    assert stored[(acme, "golden.override")].before_version is None
    assert stored[(acme, "golden.override")].before["overrides"] == ["postal_code"]
    assert stored[(zen, "golden.merge")].before_version == 1


def _before(audit: list[dict[str, Any]], number: int, snapshots: dict[tuple[str, int], Any],
            golden_id: str) -> Any:
    if audit[number - 1]["action"] == "golden.override":
        return audit[number - 1]["before"]  # checked on its own below
    return redact(snapshots[(golden_id, number - 1)])


def test_history_and_provenance_read_as_written(app, client, admin, sources) -> None:
    gid = post(client, admin, "SAP", "1", ACME)["golden_id"]
    post(client, admin, "COUPA", "1", {**ACME, "city": "Potsdam", "phone": "+49 30 123456"})
    other = post(client, admin, "SFDC", "1", {"name": "Acme Tools", "country": "DE"})
    if other["golden_id"] != gid:
        r = client.post(f"/golden/{gid}/merge", headers=if_match(client, admin, gid),
                        json={"golden_ids": [other["golden_id"]], "reason": "same company"})
        assert r.status_code == 200, r.json
    golden = client.get(f"/golden/{gid}", headers=admin).json
    prov = golden["provenance"]
    assert set(prov) == set(golden["attributes"])
    assert all(set(p) == {"rule", "source_system", "source_id"} for p in prov.values())
    assert {p["source_system"] for p in prov.values()} <= {"SAP", "COUPA", "SFDC"}
    history = client.get(f"/golden/{gid}/history", headers=admin).json
    assert history[-1]["provenance"] == prov
    assert history[-1]["attributes"] == golden["attributes"]

    with app.app_context():
        raw = db.session.execute(text(
            "SELECT provenance FROM golden_record WHERE id = :g"), {"g": gid}).scalar_one()
        versions = db.session.scalars(select(GoldenVersion)
                                      .where(GoldenVersion.golden_id == gid)).all()
        db.remove_session()
    raw = raw if isinstance(raw, list) else __import__("json").loads(raw)
    assert raw[0] == "p1"  # compact: each source once
    assert len(raw[1]) == len({(p["source_system"], p["source_id"]) for p in prov.values()})
    assert [v.quality_status for v in versions] == ["ok"] * len(versions)


def test_provenance_type_round_trips_every_shape() -> None:
    kind = Provenance()
    value = {
        "name": {"rule": "most_frequent", "source_system": "SAP", "source_id": "1"},
        "city": {"rule": "steward_override", "actor": "alice", "reason": "office"},
        "iban": {"rule": "held", "change_request_id": "cr-1"},
        "street": {"rule": "longest", "source_system": "COUPA", "source_id": "7"},
        "phone": {"source_id": "1", "rule": "most_recent", "source_system": "SAP"},  # order
        "email": {"rule": "most_recent", "source_system": "SAP", "source_id": "1"},
    }
    stored = kind.process_bind_param(value, None)
    assert stored[1] == [["SAP", "1"], ["COUPA", "7"]]
    back = kind.process_result_value(stored, None)
    assert back == value
    assert [list(v) for v in back.values()] == [list(v) for v in value.values()]
    assert list(back) == list(value)
    old = {"name": {"rule": "most_frequent", "source_system": "SAP", "source_id": "1"}}
    assert kind.process_result_value(old, None) == old  # rows written before the form
    assert kind.process_bind_param(None, None) is None


def test_redacting_a_batch_equals_redacting_each_value() -> None:
    values: list[Any] = [
        {"website": "https://acme.example", "email": "ap@acme.example"},
        {"url": "amqp://user:pa55@broker/vhost"},
        {"url": 'amqp://user:pa"55@broker/'},
        {"note": "ſecret stuff"},
        {"API_KEY": "abc"},
        {"note": "key mdm_0123456789ab_SECRETSECRET"},
        {"hook": "whsec_abcdef"},
        {"Kelvin": "\u212aey", "ok": "Capital Partners"},
        ["a", {"nested": {"passwd": 1, "x": "y"}}],
        None,
    ]
    expected = [redact(v) for v in values]
    for i in range(len(values)):
        for j in range(i, len(values) + 1):
            assert redact_each(values[i:j]) == expected[i:j]
    clean = [{"website": "http://a.example/x", "email": "a@b.example"}] * 3
    assert redact_each(clean) is clean
