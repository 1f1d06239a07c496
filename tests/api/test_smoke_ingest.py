from __future__ import annotations


def test_post_two_suppliers_and_read_crosswalk(client, admin, sources) -> None:
    r = client.post("/domains/supplier/records", headers=admin, json={
        "source_system": "SAP", "source_id": "4711",
        "attributes": {"name": "Acme GmbH", "country": "DE", "tax_id": "DE136695976"}})
    assert r.status_code == 200, r.json
    assert r.json["status"] == "created"
    r = client.get("/domains/supplier/crosswalk/SAP/4711", headers=admin)
    assert r.status_code == 200
    assert r.json["records"] == [{"source_system": "SAP", "source_id": "4711", "active": True}]
