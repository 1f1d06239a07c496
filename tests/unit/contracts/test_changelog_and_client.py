"""Changelog rendering and the registry client's request shapes (no network)."""

from __future__ import annotations

import json

import pytest

from contracts.compatibility import Format, changelog_json, changelog_markdown, diff_contracts
from contracts.errors import RegistryError
from contracts.registry_client import RegistryClient

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

    def request(self, method, url, json=None, timeout=None, headers=None):
        self.calls.append((method, url, json))
        return self.response


def test_register_posts_confluent_shaped_body():
    session = FakeSession(FakeResponse(200, {"id": 7}))
    client = RegistryClient("http://registry:8081/", session=session)
    assert client.register("ledger-value", {"type": "string"}, Format.JSONSCHEMA) == 7
    method, url, body = session.calls[0]
    assert (method, url) == ("POST", "http://registry:8081/subjects/ledger-value/versions")
    assert body == {"schema": '{"type": "string"}', "schemaType": "JSON"}


def test_check_reads_is_compatible():
    session = FakeSession(FakeResponse(200, {"is_compatible": False, "messages": ["x"]}))
    verdict = RegistryClient("http://r", session=session).check("s", {}, Format.JSONSCHEMA)
    assert verdict.compatible is False and verdict.messages == ("x",)
    assert session.calls[0][1].startswith("http://r/compatibility/subjects/s/versions/latest")


def test_http_error_becomes_registry_error():
    session = FakeSession(FakeResponse(409, {"message": "incompatible"}))
    with pytest.raises(RegistryError, match="409"):
        RegistryClient("http://r", session=session).register("s", {}, Format.JSONSCHEMA)
