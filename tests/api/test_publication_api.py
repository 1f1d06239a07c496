"""The subscriptions API: managing subscriptions and reading their delivery logs."""
from __future__ import annotations

from typing import Any

WEBHOOK = {"name": "sap-vendors", "domains": ["supplier"], "channel": "webhook",
           "target_system": "SAP", "filter": {"statuses": ["active"]},
           "channel_config": {"url": "http://127.0.0.1:9/hook"}}


def test_subscription_lifecycle(client: Any, admin: Any, steward: Any, sources: Any) -> None:
    r = client.post("/subscriptions", json=WEBHOOK, headers=admin)
    assert r.status_code == 201, r.json
    sub = r.json
    assert sub["secret"].startswith("whsec_") and sub["signing_secrets"] == 1
    assert client.get("/subscriptions", headers=steward).json[0]["name"] == "sap-vendors"
    assert "secret" not in client.get(f"/subscriptions/{sub['id']}", headers=steward).json
    r = client.patch(f"/subscriptions/{sub['id']}", json={"active": False}, headers=admin)
    assert r.status_code == 200 and r.json["active"] is False
    r = client.post(f"/subscriptions/{sub['id']}/rotate-secret", json={"grace_seconds": 60},
                    headers=admin)
    assert r.json["secret"] != sub["secret"] and r.json["signing_secrets"] == 2
    assert client.get(f"/subscriptions/{sub['id']}/stats", headers=steward).json["pending"] == 0
    assert client.get(f"/subscriptions/{sub['id']}/deliveries?status=dead",
                      headers=steward).json == {"items": [], "next_after": 0}
    r = client.post(f"/subscriptions/{sub['id']}/replay", json={"from_position": 0},
                    headers=admin)
    assert r.status_code == 200 and r.json == {"count": 0}
    r = client.post(f"/subscriptions/{sub['id']}/backfill", json={}, headers=admin)
    assert r.status_code == 202 and r.json["status"] == "pending"
    assert len(client.get(f"/subscriptions/{sub['id']}/runs", headers=steward).json) == 1
    assert client.post(f"/subscriptions/{sub['id']}/dead-letters/requeue", json={},
                       headers=admin).json == {"count": 0}
    assert client.delete(f"/subscriptions/{sub['id']}", headers=admin).status_code == 204
    assert client.get(f"/subscriptions/{sub['id']}", headers=steward).status_code == 404


def test_invalid_subscriptions_are_422_with_field_errors(client: Any, admin: Any,
                                                          sources: Any) -> None:
    cases = [
        ({"domains": ["nope"]}, "domains"),
        ({"channel_config": {"url": "ftp://x"}}, "channel_config.url"),
        ({"filter": {"attributes": {"colour": "red"}}}, "filter.attributes"),
        ({"target_system": "NOPE"}, "target_system"),
        ({"trigger": "schedule", "schedule": "every day"}, "schedule"),
        ({"channel": "file", "channel_config": {"directory": "/tmp/x"}}, "trigger"),
        ({"channel": "amqp", "channel_config": {"routing_key": "{tenant}"}},
         "channel_config.routing_key"),
    ]
    for change, field in cases:
        r = client.post("/subscriptions", json={**WEBHOOK, **change}, headers=admin)
        assert r.status_code == 422, (change, r.json)
        assert field in r.json["errors"], (change, r.json)
    client.post("/subscriptions", json=WEBHOOK, headers=admin)
    assert client.post("/subscriptions", json=WEBHOOK, headers=admin).status_code == 409


def test_only_admins_manage_subscriptions(client: Any, steward: Any, reader: Any,
                                          sources: Any) -> None:
    assert client.post("/subscriptions", json=WEBHOOK, headers=steward).status_code == 403
    assert client.get("/subscriptions", headers=reader).status_code == 403


def test_metrics_report_deliveries_per_subscription(client: Any, admin: Any,
                                                    sources: Any) -> None:
    client.post("/subscriptions", json=WEBHOOK, headers=admin)
    client.post("/domains/supplier/records", headers=admin, json={
        "source_system": "SAP", "source_id": "1", "attributes": {"name": "Acme GmbH"}})
    from mdm.db import db
    from mdm.publication import router

    with client.application.app_context():
        router.route(db.session)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'mdm_publication_delivery_state{state="pending",subscription="sap-vendors"} 1.0' in text
