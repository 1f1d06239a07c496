"""The last active admin key cannot be revoked, by itself or by anyone: the hub would be
left with nobody able to manage keys."""
from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from mdm.auth import service
from mdm.auth.models import ApiKey
from mdm.context import cli_context
from mdm.db import db
from mdm.errors import Conflict


def _id(headers: dict[str, str]) -> str:
    return headers["Authorization"].split("_")[1]


def _active_admins(app: Any) -> int:
    with db.new_session() as s:
        return s.scalar(select(func.count()).select_from(ApiKey).where(
            ApiKey.role == "admin", ApiKey.revoked_at.is_(None))) or 0


def test_the_last_admin_key_cannot_revoke_itself(client: Any, admin: Any) -> None:
    r = client.delete(f"/api-keys/{_id(admin)}", headers=admin)
    assert r.status_code == 409 and r.json["code"] == "last_admin_key", r.json
    assert "last active admin key" in r.json["message"] and r.json["errors"]["key_id"]
    assert client.get("/api-keys", headers=admin).status_code == 200  # still works


def test_an_admin_may_go_while_another_stays(client: Any, make_key: Any) -> None:
    first, second = make_key("admin"), make_key("admin")
    assert client.delete(f"/api-keys/{_id(first)}", headers=first).status_code == 200
    assert client.get("/api-keys", headers=first).status_code == 401
    r = client.delete(f"/api-keys/{_id(second)}", headers=second)
    assert r.status_code == 409 and r.json["code"] == "last_admin_key"
    audit = client.get("/audit?action=api_key.revoke", headers=second).json
    assert [e["entity_id"] for e in audit] == [_id(first)]  # the refusal left no trace


def test_other_roles_are_revoked_whatever_the_admins(client: Any, admin: Any,
                                                     make_key: Any) -> None:
    steward = make_key("steward")
    assert client.delete(f"/api-keys/{_id(steward)}", headers=admin).status_code == 200


def test_cli_refuses_the_last_admin_key(app: Any, admin: Any) -> None:
    result = app.test_cli_runner().invoke(args=["keys", "revoke", _id(admin)])
    assert result.exit_code != 0 and "last active admin key" in result.output
    assert "Traceback" not in result.output
    assert _active_admins(app) == 1


@pytest.mark.postgres
def test_concurrent_revocations_leave_one_admin(app: Any, make_key: Any) -> None:
    keys = [_id(make_key("admin")) for _ in range(2)]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(keys))

    def revoke(key_id: str) -> None:
        with app.app_context():
            session = db.new_session()
            try:
                barrier.wait()
                service.revoke_key(session, cli_context(), key_id)
                outcomes.append("revoked")
            except Conflict:
                outcomes.append("refused")
            finally:
                session.close()

    threads = [threading.Thread(target=revoke, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused", "revoked"]
    assert _active_admins(app) == 1
