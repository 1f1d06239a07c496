"""Changelog rendering and the registry client's request shapes (no network)."""

from __future__ import annotations

import json

import pytest

from contracts.compatibility import changelog_json, changelog_markdown, diff_contracts
from contracts.errors import RegistryError
from contracts.registry.client import RegistryApiClient

OLD = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 5}}}
NEW = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}}}


def test_diff_lists_backward_and_forward_findings():
    result = diff_contracts(OLD, NEW)
    assert {c.direction.value for c in result.changes} == {"backward"}
    assert "MAX_LENGTH_DECREASED" in {c.rule for c in result.changes}


def test_markdown_changelog_groups_by_level():
    text = changelog_markdown(diff_contracts(OLD, NEW), "v1", "v2")
    assert "## Breaking changes" in text and "MAX_LENGTH_DECREASED" in text
    assert "Backward compatible: no" in text


def test_json_changelog_has_summary_counts():
    data = json.loads(changelog_json(diff_contracts(OLD, NEW), "v1", "v2"))
    assert data["summary"]["breaking"] == 1
    assert data["backward_compatible"] is False and data["forward_compatible"] is True


class FakeResponse:
    def __init__(self, status: int, body: dict) -> None:
        self.status_code = status
        self._body = body
        self.reason = "reason"

    def json(self) -> dict:
        return self._body


class FakeSession:
    def __init__(self, response: FakeResponse) -> None:
        self.response = response
        self.calls: list[tuple] = []
        self.headers: list[dict] = []

    def request(self, method, url, json=None, timeout=None, headers=None):
        self.calls.append((method, url, json))
        self.headers.append(headers or {})
        return self.response


def test_register_posts_to_the_native_api_with_the_key():
    session = FakeSession(FakeResponse(201, {"version": "1.1.0", "created": True}))
    client = RegistryApiClient("http://registry:8000/", "mdm_k_s", session=session)
    assert client.register("ledger-value", {"type": "string"}, bump="minor")["version"] == "1.1.0"
    method, url, body = session.calls[0]
    assert (method, url) == ("POST", "http://registry:8000/contracts/subjects/ledger-value/versions")
    assert body == {"content": {"type": "string"}, "bump": "minor"}
    assert session.headers[0]["Authorization"] == "Bearer mdm_k_s"


def test_check_asks_without_registering():
    session = FakeSession(FakeResponse(200, {"registrable": False, "changes": []}))
    answer = RegistryApiClient("http://r", session=session).check("s", {})
    assert answer["registrable"] is False
    assert session.calls[0][1] == "http://r/contracts/subjects/s/check"


def test_http_error_becomes_registry_error_naming_the_changes():
    body = {"message": "incompatible", "changes": [
        {"path": "/properties/a", "message": "type narrowed", "rule": "TYPE_NARROWED"}]}
    session = FakeSession(FakeResponse(409, body))
    with pytest.raises(RegistryError, match="409(.|\n)*TYPE_NARROWED"):
        RegistryApiClient("http://r", session=session).register("s", {})
