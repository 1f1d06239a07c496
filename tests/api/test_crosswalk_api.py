"""Crosswalk: 'what is SAP vendor 4711 in Coupa?', single and batch, across merges."""
from __future__ import annotations

from mdm.db import db
from mdm.records.models import GoldenRecord, SourceRecord


def ingest(client, headers, system, source_id, name):
    r = client.post("/domains/supplier/records", headers=headers, json={
        "source_system": system, "source_id": source_id, "attributes": {"name": name}})
    assert r.status_code == 200, r.json
    return r.json["golden_id"]


def link(app, source_golden: str, target_golden: str) -> None:
    """Stand-in for a steward merge: victim points at survivor, its records move over."""
    with app.app_context():
        victim = db.session.get(GoldenRecord, source_golden)
        victim.status, victim.merged_into = "merged", target_golden
        victim.version += 1
        db.session.query(SourceRecord).filter_by(golden_id=source_golden).update(
            {"golden_id": target_golden})
        db.session.commit()


def test_resolve_names_every_system(app, client, admin, sources) -> None:
    sap = ingest(client, admin, "SAP", "4711", "Acme GmbH")
    coupa = ingest(client, admin, "COUPA", "V-9", "ACME GmbH")
    link(app, coupa, sap)
    r = client.get("/domains/supplier/crosswalk/SAP/4711", headers=admin).json
    assert r["golden_id"] == sap
    assert {(e["source_system"], e["source_id"]) for e in r["records"]} == {
        ("SAP", "4711"), ("COUPA", "V-9")}
    # the merged golden id keeps resolving, and names its survivor
    r = client.get(f"/golden/{coupa}/source-records", headers=admin).json
    assert r["golden_id"] == sap and r["requested_golden_id"] == coupa
    assert client.get("/domains/supplier/crosswalk/SAP/none", headers=admin).status_code == 404
    assert client.get("/golden/nope/source-records", headers=admin).status_code == 404


def test_batch_resolve_keeps_order_and_reports_unknown_keys(client, admin, sources) -> None:
    records = [{"source_id": f"V{i}", "attributes": {"name": f"Vendor {i}"}} for i in range(300)]
    client.post("/domains/supplier/records/bulk", headers=admin,
                json={"source_system": "COUPA", "records": records})
    keys = [{"source_system": "COUPA", "source_id": f"V{i}"} for i in range(299, -1, -1)]
    keys.insert(5, {"source_system": "SAP", "source_id": "unknown"})
    r = client.post("/domains/supplier/crosswalk/resolve", headers=admin, json={"keys": keys})
    assert r.status_code == 200
    results = r.json["results"]
    assert len(results) == 301
    assert results[5] == {"source_system": "SAP", "source_id": "unknown", "found": False,
                          "golden_id": None}
    assert [x["source_id"] for x in results if x["found"]][:3] == ["V299", "V298", "V297"]
    too_many = [{"source_system": "SAP", "source_id": str(i)} for i in range(1001)]
    r = client.post("/domains/supplier/crosswalk/resolve", headers=admin, json={"keys": too_many})
    assert r.status_code == 422


def test_source_record_listing_follows_the_golden(client, admin, sources) -> None:
    gid = ingest(client, admin, "SFDC", "001", "Solo Corp")
    r = client.get(f"/golden/{gid}/source-records", headers=admin).json
    assert r["records"] == [{"source_system": "SFDC", "source_id": "001", "active": True}]
