"""Ingestion, golden records, history and search through the HTTP API."""

from __future__ import annotations

import time
from datetime import UTC, datetime

VALID_VAT = "DE136695976"
BAD_VAT = "DE136695977"


def post(client, headers, source_id, attrs, system="SAP", domain="supplier", **extra):
    body = {"source_system": system, "source_id": source_id, "attributes": attrs, **extra}
    return client.post(f"/domains/{domain}/records", headers=headers, json=body)


def test_create_update_unchanged_is_idempotent(client, admin, sources) -> None:
    r1 = post(client, admin, "4711", {"name": "Acme GmbH", "country": "DE"})
    assert r1.status_code == 200 and r1.json["status"] == "created"
    gid = r1.json["golden_id"]
    r2 = post(client, admin, "4711", {"name": "Acme GmbH", "country": "DE"})
    assert r2.json == {"source_id": "4711", "status": "unchanged", "golden_id": gid}
    r3 = post(client, admin, "4711", {"name": "Acme GmbH", "country": "DE", "city": "Berlin"})
    assert r3.json["status"] == "updated"
    golden = client.get(f"/golden/{gid}", headers=admin)
    assert golden.json["version"] == 2
    assert golden.json["attributes"]["city"] == "Berlin"
    assert golden.headers["ETag"] == '"2"'
    history = client.get(f"/golden/{gid}/history", headers=admin).json
    assert [v["version"] for v in history] == [1, 2]
    assert "city" not in history[0]["attributes"]


def test_invalid_vat_is_stored_and_flagged_not_dropped(client, admin, sources) -> None:
    r = post(client, admin, "1", {"name": "Bad VAT AG", "country": "DE", "tax_id": BAD_VAT})
    assert r.status_code == 200
    assert r.json["quality"][0]["rule"] == "tax_id.invalid"
    src = client.get("/domains/supplier/records/SAP/1", headers=admin).json
    assert src["attributes"]["tax_id"] == BAD_VAT
    assert src["quality_status"] == "error"
    issues = client.get("/domains/supplier/quality-issues?rule=tax_id.invalid", headers=admin).json
    assert [i["source_id"] for i in issues["items"]] == ["1"]
    flagged = client.get("/domains/supplier/golden?quality_status=error", headers=admin).json
    assert len(flagged["items"]) == 1


def test_malformed_records_get_422_with_field_errors(client, admin, sources) -> None:
    cases = [
        ({"source_system": "SAP", "attributes": {"name": "x"}}, "source_id"),
        (
            {
                "source_system": "SAP",
                "source_id": "1",
                "attributes": {"name": "x", "colour": "red"},
            },
            "colour",
        ),
        ({"source_system": "SAP", "source_id": "1", "attributes": {"country": "DE"}}, "name"),
        ({"source_system": "SAP", "source_id": "1", "attributes": {"name": 42}}, "name"),
        ({"source_system": "SAP", "source_id": "", "attributes": {"name": "x"}}, "source_id"),
    ]
    for body, field in cases:
        r = client.post("/domains/supplier/records", headers=admin, json=body)
        assert r.status_code == 422, (body, r.json)
        assert r.json["code"] == "validation_failed"
        assert field in r.json["errors"], (body, r.json)
    r = client.post(
        "/domains/customer/records",
        headers=admin,
        json={
            "source_system": "SAP",
            "source_id": "1",
            "attributes": {"name": "x", "credit_limit": "lots"},
        },
    )
    assert r.status_code == 422 and "credit_limit" in r.json["errors"]
    r = client.post(
        "/domains/unicorn/records",
        headers=admin,
        json={"source_system": "SAP", "source_id": "1", "attributes": {"name": "x"}},
    )
    assert r.status_code == 404 and r.json["code"] == "not_found"
    r = client.post(
        "/domains/supplier/records",
        headers=admin,
        json={"source_system": "NOPE", "source_id": "1", "attributes": {"name": "x"}},
    )
    assert r.status_code == 404
    # nothing was written by any of these
    assert client.get("/domains/supplier/golden", headers=admin).json["items"] == []
    r = client.post(
        "/domains/supplier/records",
        headers=admin,
        data="{not json",
        content_type="application/json",
    )
    assert r.status_code in (400, 422) and r.json["code"] in ("bad_request", "validation_failed")


def test_bulk_reports_per_record_and_keeps_the_good_ones(client, admin, sources) -> None:
    records = [
        {"source_id": f"S{i}", "attributes": {"name": f"Supplier {i}", "country": "FR"}}
        for i in range(50)
    ]
    records.insert(10, {"source_id": "bad", "attributes": {"name": "x", "nope": 1}})
    records.insert(20, {"source_id": "S3", "attributes": {"name": "dupe"}})
    records.insert(30, "not an object")
    r = client.post(
        "/domains/supplier/records/bulk",
        headers=admin,
        json={"source_system": "COUPA", "records": records},
    )
    assert r.status_code == 200
    assert r.json["summary"] == {"created": 50, "rejected": 3}
    results = r.json["results"]
    assert results[10]["status"] == "rejected" and "nope" in results[10]["errors"]
    assert results[20]["errors"]["source_id"] == ["Sent twice in the same request."]
    assert results[30]["status"] == "rejected"
    again = client.post(
        "/domains/supplier/records/bulk",
        headers=admin,
        json={"source_system": "COUPA", "records": records},
    )
    assert again.json["summary"] == {"unchanged": 50, "rejected": 3}


def test_bulk_limit_is_enforced(client, admin, sources) -> None:
    records = [{"source_id": str(i), "attributes": {"name": "x"}} for i in range(10_001)]
    r = client.post(
        "/domains/supplier/records/bulk",
        headers=admin,
        json={"source_system": "SAP", "records": records},
    )
    assert r.status_code == 422 and "records" in r.json["errors"]


def test_deactivation_retires_and_reactivation_restores(client, admin, sources) -> None:
    gid = post(client, admin, "7", {"name": "Gone Ltd", "country": "GB"}).json["golden_id"]
    r = client.delete("/domains/supplier/records/SAP/7", headers=admin)
    assert r.status_code == 200 and r.json["status"] == "deactivated"
    g = client.get(f"/golden/{gid}", headers=admin).json
    assert g["status"] == "retired"
    src = client.get("/domains/supplier/records/SAP/7", headers=admin).json
    assert src["active"] is False and src["attributes"]["name"] == "Gone Ltd"  # kept
    r = post(client, admin, "7", {"name": "Gone Ltd", "country": "GB"})
    assert r.json["status"] == "reactivated"
    assert client.get(f"/golden/{gid}", headers=admin).json["status"] == "active"
    types = [e["type"] for e in client.get("/changes", headers=admin).json["items"]]
    assert types == ["created", "retired", "reactivated"]
    assert client.delete("/domains/supplier/records/SAP/missing", headers=admin).status_code == 404


def test_as_of_reads_a_past_version(client, admin, sources) -> None:
    gid = post(client, admin, "9", {"name": "Old Name SA", "country": "FR"}).json["golden_id"]
    time.sleep(0.01)
    between = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    post(client, admin, "9", {"name": "New Name SA", "country": "FR"})
    past = client.get(f"/golden/{gid}", headers=admin, query_string={"as_of": between}).json
    assert past["attributes"]["name"] == "Old Name SA" and past["version"] == 1
    now = client.get(f"/golden/{gid}", headers=admin).json
    assert now["attributes"]["name"] == "New Name SA"
    r = client.get(f"/golden/{gid}", headers=admin, query_string={"as_of": "2001-01-01T00:00:00Z"})
    assert r.status_code == 404


def test_search_filters_and_cursor_pagination(client, admin, sources) -> None:
    records = [
        {
            "source_id": str(i),
            "attributes": {
                "name": f"Müller Bau {i:02d}" if i % 2 else f"Schmidt {i:02d}",
                "country": "DE" if i < 10 else "AT",
            },
        }
        for i in range(25)
    ]
    client.post(
        "/domains/supplier/records/bulk",
        headers=admin,
        json={"source_system": "SAP", "records": records},
    )
    seen, cursor = [], None
    while True:
        params = {"limit": 5, "q": "muller"}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/domains/supplier/golden", headers=admin, query_string=params).json
        seen += [g["attributes"]["name"] for g in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 12 and len(set(seen)) == 12
    at = client.get(
        "/domains/supplier/golden",
        headers=admin,
        query_string={"attr": ["country:AT"], "q": "schmidt"},
    ).json
    assert len(at["items"]) == 8  # even numbers 10..24
    bad = client.get("/domains/supplier/golden", headers=admin, query_string={"attr": "colour:red"})
    assert bad.status_code == 422
    assert (
        client.get(
            "/domains/supplier/golden", headers=admin, query_string={"cursor": "%%%"}
        ).status_code
        == 422
    )


def test_request_id_is_echoed_and_audited(client, admin, sources) -> None:
    r = post(client, admin, "42", {"name": "Traced Inc"}, **{})
    rid = r.headers["X-Request-ID"]
    assert rid
    r = client.post(
        "/domains/supplier/records",
        headers={**admin, "X-Request-ID": "trace-123"},
        json={"source_system": "SAP", "source_id": "43", "attributes": {"name": "T2"}},
    )
    assert r.headers["X-Request-ID"] == "trace-123"
    entries = client.get("/audit", headers=admin, query_string={"request_id": "trace-123"}).json
    assert {e["action"] for e in entries} == {"source_record.created", "golden.create"}
    assert all(e["actor"].startswith("key:") for e in entries)


def test_custom_domain_from_configuration(client, admin, sources) -> None:
    domains = [d["name"] for d in client.get("/domains", headers=admin).json]
    assert "person" in domains and "supplier" in domains
    r = client.post(
        "/domains/person/records",
        headers=admin,
        json={
            "source_system": "SFDC",
            "source_id": "p1",
            "attributes": {
                "given_name": "Ada",
                "surname": "Lovelace",
                "date_of_birth": "1815-12-10",
            },
        },
    )
    assert r.status_code == 200 and r.json["status"] == "created"
    r = client.post(
        "/domains/person/records",
        headers=admin,
        json={
            "source_system": "SFDC",
            "source_id": "p2",
            "attributes": {"surname": "X", "date_of_birth": "10/12/1815"},
        },
    )
    assert r.status_code == 422 and "date_of_birth" in r.json["errors"]


def test_health_ready_metrics_docs(client, admin, sources) -> None:
    assert client.get("/health").json == {"status": "ok"}
    assert client.get("/ready").json["database"] == "ok"
    post(client, admin, "m1", {"name": "Metered"})
    metrics = client.get("/metrics").data.decode()
    assert "mdm_http_requests_total" in metrics
    assert 'mdm_records_ingested_total{domain="supplier",result="created"}' in metrics
    page = client.get("/docs").data.decode()
    assert "/docs/assets/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    asset = client.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    asset.close()  # a streamed file response
    spec = client.get("/openapi.json").json
    assert "/domains/{domain}/records/bulk" in spec["paths"]
