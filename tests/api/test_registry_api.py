"""The registry's native HTTP API under /contracts, and the hub registering its own contracts."""

from __future__ import annotations

from typing import Any

import pytest

SUBJECTS = "/contracts/subjects"
V1 = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id"],
    "properties": {"id": {"type": "string"}},
}
V2 = {**V1, "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}
BROKEN = {**V1, "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}


def create_subject(
    client: Any, headers: dict[str, str], name: str = "supplier-changed", **fields: Any
) -> Any:
    body = {"name": name, "format": "jsonschema", "owner_team": "mdm", **fields}
    return client.post(SUBJECTS, headers=headers, json=body)


def test_register_check_and_read_versions(
    client: Any, steward: dict[str, str], reader: dict[str, str]
) -> None:
    r = create_subject(client, steward, domain="person", lifecycle="active")
    assert r.status_code == 201, r.json
    assert r.json["effective_compatibility"] == "BACKWARD"
    versions = f"{SUBJECTS}/supplier-changed/versions"
    assert client.post(versions, headers=steward, json={"content": V1}).status_code == 201
    r = client.post(versions, headers=steward, json={"content": V2})
    assert (r.status_code, r.json["version"], r.json["number"]) == (201, "1.1.0", 2)
    again = client.post(versions, headers=steward, json={"content": V2})
    assert (again.status_code, again.json["created"]) == (200, False)
    client.post(
        f"{SUBJECTS}/supplier-changed/consumers",
        headers=steward,
        json={"system": "SAP", "version_range": "^1.0.0"},
    )

    r = client.post(f"{SUBJECTS}/supplier-changed/check", headers=reader, json={"content": BROKEN})
    assert r.status_code == 200
    assert (r.json["compatible"], r.json["registrable"]) == (False, False)
    assert [c["system"] for c in r.json["affected_consumers"]] == ["SAP"]

    r = client.post(versions, headers=steward, json={"content": BROKEN})
    assert r.status_code == 409
    assert r.json["code"] == "incompatible_version"
    assert [c["rule"] for c in r.json["changes"]] == ["TYPE_CHANGED"]
    r = client.post(versions, headers=steward, json={"content": BROKEN, "bump": "major"})
    assert (r.status_code, r.json["version"]) == (201, "2.0.0")

    r = client.get(f"{versions}/1.1.0", headers=reader)
    assert r.json["content"] == V2 and [c["system"] for c in r.json["used_by"]] == ["SAP"]
    assert client.get(f"{versions}/latest", headers=reader).json["version"] == "2.0.0"
    r = client.get(f"{SUBJECTS}/supplier-changed/changelog?since=1.1.0", headers=reader)
    assert [(e["previous"], e["version"], e["breaking"]) for e in r.json["entries"]] == [
        ("1.1.0", "2.0.0", True)
    ]


def test_reads_need_a_key_and_writes_a_steward(
    client: Any, reader: dict[str, str], admin: dict[str, str]
) -> None:
    assert client.get(SUBJECTS).status_code == 401
    assert create_subject(client, reader).status_code == 403
    assert create_subject(client, admin).status_code == 201
    assert client.get(SUBJECTS, headers=reader).json[0]["name"] == "supplier-changed"


@pytest.mark.parametrize(
    ("fmt", "content", "code"),
    [
        ("jsonschema", "{not json: [", "unreadable_document"),
        (
            "jsonschema",
            {"type": "object", "properties": {"a": {"$ref": "#/$defs/nowhere"}}},
            "unresolvable_reference",
        ),
        (
            "openapi",
            {"openapi": "3.0.3", "info": {"title": "x", "version": "1"}},
            "invalid_document",
        ),
        ("asyncapi", "asyncapi: '9.0'\n", "unsupported_format"),
    ],
)
def test_bad_documents_get_a_clear_422(
    client: Any, steward: dict[str, str], fmt: str, content: Any, code: str
) -> None:
    create_subject(client, steward, name="doc", format=fmt)
    r = client.post(f"{SUBJECTS}/doc/versions", headers=steward, json={"content": content})
    assert r.status_code == 422, r.json
    assert r.json["code"] == code and r.json["errors"]["content"]


def test_unknown_subject_version_and_bad_fields(client: Any, steward: dict[str, str]) -> None:
    assert client.get(f"{SUBJECTS}/nope", headers=steward).json["code"] == "subject_not_found"
    create_subject(client, steward)
    r = client.get(f"{SUBJECTS}/supplier-changed/versions/3.0.0", headers=steward)
    assert (r.status_code, r.json["code"]) == (404, "version_not_found")
    r = client.post(
        f"{SUBJECTS}/supplier-changed/consumers",
        headers=steward,
        json={"system": "SAP", "version_range": "not a range"},
    )
    assert r.status_code == 422 and "version_range" in r.json["errors"]
    r = client.patch(
        f"{SUBJECTS}/supplier-changed", headers=steward, json={"compatibility": "SOME"}
    )
    assert r.status_code == 422 and "compatibility" in r.json["errors"]
    r = client.patch(
        f"{SUBJECTS}/supplier-changed",
        headers=steward,
        json={"lifecycle": "active", "compatibility": "FULL_TRANSITIVE"},
    )
    assert (r.json["lifecycle"], r.json["effective_compatibility"]) == ("active", "FULL_TRANSITIVE")


def test_the_hub_registers_its_own_contracts(app: Any, client: Any, reader: dict[str, str]) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["contracts", "bootstrap"])
    assert first.exit_code == 0, first.output
    assert "mdm-hub-api 1.0.0 registered" in first.output
    again = runner.invoke(args=["contracts", "bootstrap"])
    assert "mdm-hub-api 1.0.0 unchanged" in again.output

    r = client.get(f"{SUBJECTS}/mdm-hub-api/versions/latest", headers=reader)
    assert "/contracts/subjects" in r.json["content"]["paths"]
    spec = client.get("/openapi.json").json
    assert "/contracts/subjects/{subject}/check" in spec["paths"]
    assert not any(path.startswith(("/subjects", "/schemas", "/config")) for path in spec["paths"])
