"""The Confluent-compatible API beyond the basics, with confluent-kafka's SchemaRegistryClient
against a live server: soft and permanent deletes, one id per distinct schema across subjects,
schema id lookups, referencedby, normalize, mode, and Confluent's error body everywhere."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

sr = pytest.importorskip("confluent_kafka.schema_registry")

CT = "application/vnd.schemaregistry.v1+json"
V1 = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"id": {"type": "string"}},
    "required": ["id"],
}
V2 = {**V1, "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}
V3 = {**V1, "properties": {**V2["properties"], "email": {"type": "string"}}}


def schema(document: Any) -> Any:
    return sr.Schema(json.dumps(document), "JSON")


@pytest.fixture
def registry_url(app: Any, clean_db: None) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def client(registry_url: str, steward: dict[str, str]) -> Any:
    key = steward["Authorization"].split(" ", 1)[1]
    return sr.SchemaRegistryClient({"url": registry_url, "basic.auth.user.info": f"ci:{key}"})


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[int, int]:
    with pytest.raises(sr.error.SchemaRegistryError) as caught:
        call(*args, **kwargs)
    return caught.value.http_status_code, caught.value.error_code


def test_one_id_per_distinct_schema_across_subjects(client: Any) -> None:
    first = client.register_schema("orders-value", schema(V1))
    # the same document, written differently (key order, spacing), under another subject
    reordered = json.dumps(dict(reversed(list(V1.items()))), indent=2)
    again = client.register_schema("invoices-value", sr.Schema(reordered, "JSON"), True)
    assert again == first
    assert client.get_subjects_by_schema_id(first) == ["invoices-value", "orders-value"]
    holders = {(v.subject, v.version) for v in client.get_schema_versions(first)}
    assert holders == {("orders-value", 1), ("invoices-value", 1)}
    other = client.register_schema("orders-value", schema(V2))
    assert other != first
    assert client.get_subjects_by_schema_id(other) == ["orders-value"]
    assert client.get_referenced_by("orders-value", 1) == []
    found = client.lookup_schema("invoices-value", sr.Schema(reordered, "JSON"), True)
    assert (found.schema_id, found.version) == (first, 1)


def test_soft_then_permanent_delete_of_a_version(client: Any) -> None:
    client.register_schema("orders-value", schema(V1))
    client.register_schema("orders-value", schema(V2))
    assert error_of(client.delete_version, "orders-value", 2, permanent=True) == (404, 40407)
    assert client.delete_version("orders-value", 2) == 2
    assert client.get_versions("orders-value") == [1]
    assert client.get_versions("orders-value", deleted=True) == [1, 2]
    assert error_of(client.get_version, "orders-value", 2) == (404, 40402)
    assert client.get_version("orders-value", 2, deleted=True).version == 2
    assert client.get_latest_version("orders-value").version == 1
    assert error_of(client.delete_version, "orders-value", 2) == (404, 40406)
    assert client.delete_version("orders-value", 2, permanent=True) == 2
    assert client.get_versions("orders-value", deleted=True) == [1]
    assert error_of(client.get_version, "orders-value", 2, deleted=True) == (404, 40402)


def test_re_registering_a_soft_deleted_schema_makes_a_new_version(client: Any) -> None:
    first = client.register_schema("orders-value", schema(V1))
    client.register_schema("orders-value", schema(V2))
    client.delete_version("orders-value", 2)
    client.clear_caches()  # ask the server, not the client's schema -> id cache
    assert client.register_schema("orders-value", schema(V2)) != first
    assert client.get_versions("orders-value") == [1, 3]


def test_soft_then_permanent_delete_of_a_subject(client: Any) -> None:
    shared = client.register_schema("orders-value", schema(V1))
    client.register_schema("orders-value", schema(V2))
    client.register_schema("invoices-value", schema(V1))
    assert error_of(client.delete_subject, "orders-value", permanent=True) == (404, 40405)
    assert client.delete_subject("orders-value") == [1, 2]
    assert client.get_subjects() == ["invoices-value"]
    assert set(client.get_subjects(deleted=True)) == {"invoices-value", "orders-value"}
    assert client.get_subjects(deleted_only=True) == ["orders-value"]
    assert error_of(client.delete_subject, "orders-value") == (404, 40404)
    assert client.get_subjects_by_schema_id(shared) == ["invoices-value"]
    assert client.delete_subject("orders-value", permanent=True) == [1, 2]
    assert error_of(client.get_versions, "orders-value") == (404, 40401)
    # the schema stays reachable through the subject still holding it, with the same id
    client.clear_caches()
    assert json.loads(client.get_schema(shared).schema_str) == V1
    assert client.register_schema("orders-value", schema(V1)) == shared


def test_mode(client: Any) -> None:
    client.register_schema("orders-value", schema(V1))
    assert client.get_global_mode() == "READWRITE"
    assert error_of(client.get_mode, "orders-value") == (404, 40409)
    assert client.update_mode("orders-value", "READONLY") == "READONLY"
    assert client.get_mode("orders-value") == "READONLY"
    assert error_of(client.register_schema, "orders-value", schema(V2)) == (422, 42205)
    assert error_of(client.delete_version, "orders-value", 1) == (422, 42205)
    client.register_schema("invoices-value", schema(V2))  # other subjects stay writable
    assert client.delete_mode("orders-value") == "READONLY"
    client.register_schema("orders-value", schema(V2))
    assert client.update_global_mode("READONLY") == "READONLY"
    assert error_of(client.register_schema, "other-value", schema(V1)) == (422, 42205)
    assert error_of(client.update_global_mode, "SIDEWAYS") == (422, 42204)
    assert client.update_global_mode("READWRITE") == "READWRITE"


def test_schema_types_and_pagination(client: Any) -> None:
    for name in ("a-value", "b-value", "c-value"):
        client.register_schema(name, schema(V1))
    assert client.get_schema_types() == ["JSON"]
    assert client.get_subjects(offset=1, limit=1) == ["b-value"]


def basic(headers: dict[str, str]) -> dict[str, str]:
    key = headers["Authorization"].split(" ", 1)[1]
    return {"Authorization": "Basic " + base64.b64encode(f"ci:{key}".encode()).decode()}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("patch", "/subjects/orders-value/versions/1", 405),
        ("post", "/schemas/ids/1", 405),
        ("delete", "/config", 405),
        ("get", "/subjects/orders-value/nothing-here", 404),
        ("get", "/schemas/ids/not-a-number", 404),
        ("get", "/mode/orders-value/extra", 404),
    ],
)
def test_every_confluent_path_answers_in_confluents_body(
    app: Any, clean_db: None, steward: dict[str, str], method: str, path: str, status: int
) -> None:
    r = getattr(app.test_client(), method)(path, headers=basic(steward))
    assert (r.status_code, r.content_type) == (status, CT)
    assert r.json["error_code"] == status and r.json["message"]
