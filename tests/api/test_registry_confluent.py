"""The Confluent-compatible subset of the registry API: its dialect directly, then the
`confluent-kafka` SchemaRegistryClient against a real server on a free port."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

CT = "application/vnd.schemaregistry.v1+json"
V1 = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id"],
    "properties": {"id": {"type": "string"}},
}
V2 = {**V1, "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}
BROKEN = {**V1, "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}


def schema_body(schema: Any, schema_type: str = "JSON") -> dict[str, Any]:
    return {"schema": json.dumps(schema), "schemaType": schema_type}


def basic(headers: dict[str, str]) -> dict[str, str]:
    """The same key sent as Confluent clients send basic.auth.user.info ("user:key")."""
    key = headers["Authorization"].split(" ", 1)[1]
    return {"Authorization": "Basic " + base64.b64encode(f"ci:{key}".encode()).decode()}


def test_confluent_dialect(client: Any, steward: dict[str, str]) -> None:
    auth = basic(steward)
    r = client.post("/subjects/orders-value/versions", headers=auth, json=schema_body(V1))
    assert (r.status_code, r.content_type, r.json) == (200, CT, {"id": r.json["id"]})
    first_id = r.json["id"]
    assert client.post(
        "/subjects/orders-value/versions", headers=auth, json=schema_body(V1)
    ).json == {"id": first_id}
    assert client.get("/subjects", headers=auth).json == ["orders-value"]

    r = client.post(
        "/compatibility/subjects/orders-value/versions/latest?verbose=true",
        headers=auth,
        json=schema_body(BROKEN),
    )
    assert r.json["is_compatible"] is False and r.json["messages"]
    r = client.post("/subjects/orders-value/versions", headers=auth, json=schema_body(BROKEN))
    assert (r.status_code, r.json["error_code"]) == (409, 409)

    r = client.get(f"/schemas/ids/{first_id}", headers=auth)
    assert r.json["schemaType"] == "JSON" and json.loads(r.json["schema"]) == V1
    r = client.get("/subjects/orders-value/versions/1", headers=auth)
    assert (r.json["subject"], r.json["version"], r.json["id"]) == ("orders-value", 1, first_id)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("get", "/subjects/nope/versions", None, 404, 40401),
        ("get", "/subjects/orders-value/versions/7", None, 404, 40402),
        ("get", "/subjects/orders-value/versions/abc", None, 422, 42202),
        ("get", "/schemas/ids/999999", None, 404, 40403),
        ("post", "/subjects/orders-value", schema_body(V2), 404, 40403),
        ("post", "/subjects/orders-value/versions", {"schema": "{not json"}, 422, 42201),
        ("post", "/subjects/orders-value/versions", schema_body(V1, "AVRO"), 422, 42201),
        ("post", "/subjects/orders-value/versions", schema_body({"type": 5}), 422, 42201),
        ("put", "/config", {"compatibility": "SIDEWAYS"}, 422, 42203),
        ("get", "/config/orders-value", None, 404, 40408),
    ],
)
def test_confluent_errors(
    client: Any, steward: dict[str, str], method: str, path: str, body: Any, status: int, code: int
) -> None:
    client.post("/subjects/orders-value/versions", headers=steward, json=schema_body(V1))
    r = getattr(client, method)(path, headers=steward, json=body)
    assert (r.status_code, r.content_type) == (status, CT)
    assert r.json["error_code"] == code and r.json["message"]


def test_confluent_auth(client: Any, reader: dict[str, str]) -> None:
    assert client.get("/subjects").json["error_code"] == 40101
    r = client.post("/subjects/x/versions", headers=basic(reader), json=schema_body(V1))
    assert (r.status_code, r.json["error_code"]) == (403, 40301)


@pytest.fixture
def registry_url(app: Any, clean_db: None) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def test_confluent_kafka_client_works_unchanged(registry_url: str, steward: dict[str, str]) -> None:
    sr = pytest.importorskip(
        "confluent_kafka.schema_registry",
        reason="confluent-kafka[schemaregistry] is not installed (pip install -e '.[test]')",
    )
    key = steward["Authorization"].split(" ", 1)[1]
    client = sr.SchemaRegistryClient({"url": registry_url, "basic.auth.user.info": f"ci:{key}"})
    subject = "supplier-value"

    schema_id = client.register_schema(subject, sr.Schema(json.dumps(V1), "JSON"))
    assert client.get_schema(schema_id).schema_str is not None
    client.set_compatibility(subject, "FULL")
    assert client.get_compatibility(subject) == "FULL"
    assert client.get_compatibility() == "BACKWARD"
    assert client.test_compatibility(subject, sr.Schema(json.dumps(BROKEN), "JSON")) is False
    client.set_compatibility(subject, "BACKWARD")
    second = client.register_schema(subject, sr.Schema(json.dumps(V2), "JSON"))

    latest = client.get_latest_version(subject)
    assert (latest.schema_id, latest.version) == (second, 2)
    assert client.get_versions(subject) == [1, 2]
    found = client.lookup_schema(subject, sr.Schema(json.dumps(V1), "JSON"))
    assert (found.schema_id, found.version) == (schema_id, 1)
    assert subject in client.get_subjects()
    with pytest.raises(sr.error.SchemaRegistryError) as refused:
        client.register_schema(subject, sr.Schema(json.dumps(BROKEN), "JSON"))
    assert (refused.value.http_status_code, refused.value.error_code) == (409, 409)
    with pytest.raises(sr.error.SchemaRegistryError) as missing:
        client.get_version("no-such-subject", 1)
    assert missing.value.error_code == 40401


def test_native_client_checks_and_registers_any_format(
    registry_url: str, steward: dict[str, str]
) -> None:
    from contracts.errors import RegistryError
    from contracts.registry.client import RegistryApiClient

    client = RegistryApiClient(registry_url, steward["Authorization"].split(" ", 1)[1])
    client.create_subject("billing-api", "openapi", "finance")
    api = {
        "openapi": "3.0.3",
        "info": {"title": "Billing", "version": "1"},
        "paths": {"/invoices": {"get": {"responses": {"200": {"description": "ok"}}}}},
    }
    assert client.register("billing-api", api)["version"] == "1.0.0"
    shrunk = {**api, "paths": {}}
    assert client.check("billing-api", shrunk)["registrable"] is False
    with pytest.raises(RegistryError, match="409"):
        client.register("billing-api", shrunk)
    assert client.register("billing-api", shrunk, bump="major")["version"] == "2.0.0"
    with pytest.raises(RegistryError, match="401"):
        RegistryApiClient(registry_url, "mdm_bad_key").subject("billing-api")


def test_contracts_cli_checks_and_registers_against_a_running_registry(
    registry_url: str, steward: dict[str, str], tmp_path: Any, capsys: Any
) -> None:
    from contracts.cli import main

    key = steward["Authorization"].split(" ", 1)[1]
    v1, v2, broken = (tmp_path / n for n in ("v1.json", "v2.json", "broken.json"))
    v1.write_text(json.dumps(V1))
    v2.write_text(json.dumps(V2))
    broken.write_text(json.dumps(BROKEN))
    common = ["--registry", registry_url, "--subject", "orders-event", "--key", key]
    requests.post(f"{registry_url}/contracts/subjects", headers=steward, timeout=10,
                  json={"name": "orders-event", "format": "jsonschema", "owner_team": "o2c"})
    assert main(["register", str(v1), *common]) == 0
    assert main(["check", str(v2), *common]) == 0
    assert main(["check", str(broken), *common, "--output", "json"]) == 1
    out = capsys.readouterr().out
    assert '"compatible": false' in out
    assert main(["register", str(broken), *common]) == 1  # breaking without a major bump
    assert main(["register", str(broken), *common, "--bump", "major"]) == 0
    assert main(["check", str(v2), "--registry", registry_url, "--subject", "nope",
                 "--key", key]) == 2
