"""Subscriptions cannot be aimed at internal targets or outside the file-drop root, and
their secrets never come back out (responses, audit trail)."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

WEBHOOK = {"name": "hook", "domains": ["supplier"], "channel": "webhook",
           "channel_config": {"url": "http://127.0.0.1:9/hook"}}
FILE_DROP = {"name": "drop", "domains": ["supplier"], "channel": "file", "trigger": "schedule",
             "schedule": "0 2 * * *"}

INTERNAL_URLS = ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/",
                 "http://[::ffff:169.254.169.254]/", "http://[fd00:ec2::254]/",
                 "http://0.0.0.0:8000/", "http://user:pw@127.0.0.1:9/hook"]


def _stored(client: Any, admin: Any) -> list[Any]:
    return client.get("/subscriptions", headers=admin).json


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_webhook_urls_are_422(client: Any, admin: Any, url: str) -> None:
    r = client.post("/subscriptions", json={**WEBHOOK, "channel_config": {"url": url}},
                    headers=admin)
    assert r.status_code == 422, r.json
    assert r.json["errors"]["channel_config.url"][0]
    assert _stored(client, admin) == []


def test_internal_broker_urls_are_422(client: Any, admin: Any) -> None:
    for url in ("amqp://guest:guest@10.1.1.1:5672/%2F", "amqp://u:p@169.254.1.1/"):
        r = client.post("/subscriptions", json={
            "name": "bus", "domains": ["supplier"], "channel": "amqp",
            "channel_config": {"url": url}}, headers=admin)
        assert r.status_code == 422 and "channel_config.url" in r.json["errors"], r.json


def test_patch_cannot_retarget_internally(client: Any, admin: Any) -> None:
    sub = client.post("/subscriptions", json=WEBHOOK, headers=admin).json
    r = client.patch(f"/subscriptions/{sub['id']}", headers=admin, json={
        "channel_config": {"url": "http://169.254.169.254/latest/meta-data/"}})
    assert r.status_code == 422 and "metadata" in r.json["errors"]["channel_config.url"][0]
    assert _stored(client, admin)[0]["channel_config"]["url"] == "http://127.0.0.1:9/hook"


def test_loopback_needs_the_operators_allowance(app: Any, client: Any, admin: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    strict = dataclasses.replace(app.config["MDM"], allowed_targets=())
    monkeypatch.setitem(app.config, "MDM", strict)
    for url in ("http://127.0.0.1:9/hook", "http://localhost:22/", "http://[::1]/"):
        r = client.post("/subscriptions", json={**WEBHOOK, "channel_config": {"url": url}},
                        headers=admin)
        assert r.status_code == 422, (url, r.json)
        assert "MDM_ALLOWED_TARGETS" in r.json["errors"]["channel_config.url"][0]


@pytest.mark.parametrize("directory", ["/tmp/../etc/mdm", "/etc", "/proc/self", "/dev/null",
                                       "/srv/drops\nx", "../outside"])
def test_file_drops_outside_the_root_are_422(client: Any, admin: Any, directory: str) -> None:
    r = client.post("/subscriptions", headers=admin, json={
        **FILE_DROP, "channel_config": {"directory": directory}})
    assert r.status_code == 422, r.json
    assert r.json["errors"]["channel_config.directory"][0]
    assert _stored(client, admin) == []


def test_file_drop_symlink_escape_is_422(client: Any, admin: Any, file_drop_root: Path,
                                         tmp_path: Path) -> None:
    link = tmp_path / "to-etc"
    link.symlink_to("/etc")
    r = client.post("/subscriptions", headers=admin, json={
        **FILE_DROP, "channel_config": {"directory": str(link)}})
    assert r.status_code == 422 and "resolves to /etc" in \
        r.json["errors"]["channel_config.directory"][0]
    r = client.post("/subscriptions", headers=admin, json={
        **FILE_DROP, "channel_config": {"directory": str(tmp_path / "erp")}})
    assert r.status_code == 201, r.json


def test_broker_passwords_never_come_back(client: Any, admin: Any, steward: Any) -> None:
    r = client.post("/subscriptions", headers=admin, json={
        "name": "bus", "domains": ["supplier"], "channel": "amqp",
        "channel_config": {"url": "amqp://mdm:s3cret-pw@127.0.0.1:5672/%2F"}})
    assert r.status_code == 201, r.json
    sub_id = r.json["id"]
    client.patch(f"/subscriptions/{sub_id}", json={"description": "ERP bus"}, headers=admin)
    seen = [r.json, client.get("/subscriptions", headers=steward).json,
            client.get(f"/subscriptions/{sub_id}", headers=steward).json,
            client.get("/audit?entity_type=publication_subscription", headers=admin).json]
    text = json.dumps(seen)
    assert "s3cret-pw" not in text
    assert "amqp://mdm:***@127.0.0.1:5672/%2F" in text  # still says where it goes


def test_signing_secret_is_shown_once_and_never_audited(client: Any, admin: Any) -> None:
    r = client.post("/subscriptions", json=WEBHOOK, headers=admin)
    secret = r.json["secret"]
    assert secret.startswith("whsec_")
    rotated = client.post(f"/subscriptions/{r.json['id']}/rotate-secret", json={},
                          headers=admin).json["secret"]
    text = json.dumps([client.get("/subscriptions", headers=admin).json,
                       client.get("/audit", headers=admin).json])
    assert secret not in text and rotated not in text


def test_settings_sent_back_as_read_keep_the_stored_password(app: Any, client: Any,
                                                             admin: Any) -> None:
    from mdm.db import db
    from mdm.publication.models import Subscription

    sub = client.post("/subscriptions", headers=admin, json={
        "name": "bus", "domains": ["supplier"], "channel": "amqp",
        "channel_config": {"url": "amqp://mdm:s3cret-pw@127.0.0.1:5672/%2F"}}).json
    read = client.get(f"/subscriptions/{sub['id']}", headers=admin).json["channel_config"]
    r = client.patch(f"/subscriptions/{sub['id']}", headers=admin,
                     json={"channel_config": {**read, "exchange": "erp.{domain}"}})
    assert r.status_code == 200, r.json
    with app.app_context():
        stored = db.session.get(Subscription, sub["id"]).channel_config
        db.remove_session()
    assert stored == {"url": "amqp://mdm:s3cret-pw@127.0.0.1:5672/%2F",
                      "exchange": "erp.{domain}"}
