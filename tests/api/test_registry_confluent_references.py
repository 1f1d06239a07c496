"""Confluent schema references through the Confluent-compatible API: registered with
`references: [{name, subject, version}]`, resolved when comparing, looking up and validating,
listed by `referencedby`, and protecting the versions they point at from deletion. Once with
confluent-kafka's SchemaRegistryClient against a live server, once in Confluent's HTTP dialect.

The schemas are the team's own, written after Confluent's documentation of JSON Schema
references (a top-level schema `$ref`s another subject's schema by the reference name)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from werkzeug.serving import make_server

from contracts.registry import service, web

sr = pytest.importorskip("confluent_kafka.schema_registry")

CT = "application/vnd.schemaregistry.v1+json"
ADDRESS = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {"city": {"type": "string"}, "zip": {"$ref": "#/definitions/zip"}},
    "required": ["city"],
    "definitions": {"zip": {"type": "string", "maxLength": 10}},
}
# Accepts integers where the first version took strings: breaks a reader of the old city.
ADDRESS_BROKEN = {**ADDRESS, "properties": {**ADDRESS["properties"], "city": {"type": "integer"}}}
CUSTOMER = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "address": {"$ref": "address.json"}},
    "required": ["name", "address"],
}
ORDER = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "customer": {"$ref": "customer.json"},
        "ship_to": {"$ref": "address.json#/definitions/zip"},
    },
    "required": ["id", "customer"],
}
GOOD_ORDER = {"id": "o-1", "customer": {"name": "ACME", "address": {"city": "Lyon"}}}
BAD_ORDER = {"id": "o-2", "customer": {"name": "ACME", "address": {"city": 69}}}


def ref(name: str, subject: str, version: int) -> Any:
    return sr.SchemaReference(name, subject, version)


def schema(document: Any, refs: list[Any] | None = None) -> Any:
    return sr.Schema(json.dumps(document), "JSON", refs or [])


@pytest.fixture
def registry_url(app: Any, clean_db: None) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def registry(registry_url: str, steward: dict[str, str]) -> Any:
    key = steward["Authorization"].split(" ", 1)[1]
    return sr.SchemaRegistryClient({"url": registry_url, "basic.auth.user.info": f"ci:{key}"})


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[int, int]:
    with pytest.raises(sr.error.SchemaRegistryError) as caught:
        call(*args, **kwargs)
    return caught.value.http_status_code, caught.value.error_code


def register_chain(registry: Any) -> tuple[int, int, int]:
    """address <- customer <- order (order also points into address directly)."""
    address = registry.register_schema("address", schema(ADDRESS))
    customer = registry.register_schema(
        "customer", schema(CUSTOMER, [ref("address.json", "address", 1)])
    )
    order = registry.register_schema(
        "orders-value",
        schema(ORDER, [ref("customer.json", "customer", 1), ref("address.json", "address", 1)]),
    )
    return address, customer, order


def test_client_registers_reads_and_looks_up_references(registry: Any) -> None:
    address, customer, order = register_chain(registry)
    assert len({address, customer, order}) == 3
    got = registry.get_version("orders-value", 1)
    assert [(r.name, r.subject, r.version) for r in got.schema.references] == [
        ("customer.json", "customer", 1),
        ("address.json", "address", 1),
    ]
    by_id = registry.get_schema(customer)
    assert [(r.name, r.subject, r.version) for r in by_id.references] == [
        ("address.json", "address", 1)
    ]
    found = registry.lookup_schema(
        "customer", schema(CUSTOMER, [ref("address.json", "address", 1)])
    )
    assert (found.schema_id, found.version) == (customer, 1)
    # Without its references the text does not resolve: an invalid schema, as in Confluent.
    assert error_of(registry.lookup_schema, "customer", schema(CUSTOMER)) == (422, 42201)
    assert registry.get_referenced_by("address", 1) == sorted([customer, order])
    assert registry.get_referenced_by("customer", 1) == [order]
    assert registry.get_referenced_by("orders-value", 1) == []


def test_the_same_text_with_other_references_is_another_schema(registry: Any) -> None:
    registry.register_schema("address", schema(ADDRESS))
    registry.register_schema("address", schema({**ADDRESS, "description": "v2"}))
    first = registry.register_schema(
        "customer", schema(CUSTOMER, [ref("address.json", "address", 1)])
    )
    again = registry.register_schema(
        "customer", schema(CUSTOMER, [ref("address.json", "address", 1)])
    )
    second = registry.register_schema(
        "customer", schema(CUSTOMER, [ref("address.json", "address", 2)])
    )
    assert again == first and second != first
    assert registry.get_versions("customer") == [1, 2]


def test_a_reference_that_does_not_resolve_is_an_invalid_schema(registry: Any) -> None:
    registry.register_schema("address", schema(ADDRESS))
    missing = schema(CUSTOMER, [ref("address.json", "address", 7)])
    assert error_of(registry.register_schema, "customer", missing) == (422, 42201)
    nowhere = schema(CUSTOMER, [ref("address.json", "no-such-subject", 1)])
    assert error_of(registry.register_schema, "customer", nowhere) == (422, 42201)
    # `$ref` to a name no reference declares stays unresolvable
    assert error_of(registry.register_schema, "customer", schema(CUSTOMER)) == (422, 42201)
    assert registry.get_subjects() == ["address"]


def test_a_referenced_subject_keeps_its_own_compatibility(registry: Any) -> None:
    register_chain(registry)
    assert error_of(registry.register_schema, "address", schema(ADDRESS_BROKEN)) == (409, 409)
    assert registry.get_versions("address") == [1]


def test_compatibility_compares_what_references_resolve_to(registry: Any) -> None:
    register_chain(registry)
    registry.set_compatibility("address", "NONE")
    registry.register_schema("address", schema(ADDRESS_BROKEN))
    moved = schema(CUSTOMER, [ref("address.json", "address", 2)])
    # Same text, but the referenced address now takes integer cities: not BACKWARD.
    assert registry.test_compatibility("customer", moved) is False
    assert error_of(registry.register_schema, "customer", moved) == (409, 409)
    same = schema({**CUSTOMER, "description": "customers"}, [ref("address.json", "address", 1)])
    assert registry.test_compatibility("customer", same) is True


def test_a_referenced_version_cannot_be_deleted(registry: Any) -> None:
    register_chain(registry)
    assert error_of(registry.delete_version, "address", 1) == (422, 42206)
    assert error_of(registry.delete_subject, "customer") == (422, 42206)
    assert registry.get_versions("address") == [1]
    # Once its referrer is soft-deleted the version may be soft-deleted, but a permanent
    # delete would leave the soft-deleted referrer dangling.
    assert registry.delete_subject("orders-value") == [1]
    assert registry.delete_subject("customer") == [1]
    assert registry.get_referenced_by("address", 1) == []
    assert registry.delete_version("address", 1) == 1
    assert error_of(registry.delete_version, "address", 1, permanent=True) == (422, 42206)
    assert registry.delete_subject("orders-value", permanent=True) == [1]
    assert registry.delete_subject("customer", permanent=True) == [1]
    assert registry.delete_version("address", 1, permanent=True) == 1


def test_serializer_round_trip_with_references(registry: Any) -> None:
    from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    register_chain(registry)
    latest = registry.get_latest_version("orders-value")
    ctx = SerializationContext("orders", MessageField.VALUE)
    serializer = JSONSerializer(
        latest.schema, registry, conf={"auto.register.schemas": False, "use.latest.version": True}
    )
    payload = serializer(GOOD_ORDER, ctx)
    assert payload is not None and int.from_bytes(payload[1:5], "big") == latest.schema_id
    deserializer = JSONDeserializer(None, schema_registry_client=registry)
    assert deserializer(payload, ctx) == GOOD_ORDER


def test_validation_in_the_hub_resolves_references(app: Any, registry: Any) -> None:
    register_chain(registry)
    with app.app_context():
        document = service.resolve_schema(web.session(), "orders-value")
    validator = jsonschema.Draft7Validator(document)
    assert list(validator.iter_errors(GOOD_ORDER)) == []
    assert [e.message for e in validator.iter_errors(BAD_ORDER)] == ["69 is not of type 'string'"]


# --- the same in Confluent's HTTP dialect ---------------------------------------------------


def basic(headers: dict[str, str]) -> dict[str, str]:
    key = headers["Authorization"].split(" ", 1)[1]
    return {"Authorization": "Basic " + base64.b64encode(f"ci:{key}".encode()).decode()}


def body(document: Any, refs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"schema": json.dumps(document), "schemaType": "JSON"}
    if refs is not None:
        data["references"] = refs
    return data


def test_references_over_http(client: Any, steward: dict[str, str]) -> None:
    auth = basic(steward)
    post = client.post
    address = post("/subjects/address/versions", headers=auth, json=body(ADDRESS)).json["id"]
    refs = [{"name": "address.json", "subject": "address", "version": 1}]
    r = post("/subjects/customer/versions", headers=auth, json=body(CUSTOMER, refs))
    assert (r.status_code, r.content_type) == (200, CT)
    customer = r.json["id"]
    r = client.get("/subjects/customer/versions/latest", headers=auth)
    assert r.json["references"] == refs and r.json["id"] == customer
    assert "references" not in client.get(f"/schemas/ids/{address}", headers=auth).json
    assert client.get(f"/schemas/ids/{customer}", headers=auth).json["references"] == refs
    r = client.get("/subjects/address/versions/1/referencedby", headers=auth)
    assert (r.status_code, r.json) == (200, [customer])
    r = post(
        "/compatibility/subjects/customer/versions/latest?verbose=true",
        headers=auth,
        json=body({**CUSTOMER, "required": ["name"]}, refs),
    )
    assert r.json["is_compatible"] is True
    r = client.delete("/subjects/address/versions/1", headers=auth)
    assert (r.status_code, r.json["error_code"]) == (422, 42206)
    assert "customer version 1" in r.json["message"]

    for bad, why in [
        ({"name": "address.json"}, "no subject"),
        ({"name": "address.json", "subject": "address", "version": "1"}, "version as text"),
        ({"name": "", "subject": "address", "version": 1}, "empty name"),
    ]:
        r = post("/subjects/customer/versions", headers=auth, json=body(CUSTOMER, [bad]))
        assert (r.status_code, r.json["error_code"]) == (422, 42201), why
    twice = refs + refs
    r = post("/subjects/customer/versions", headers=auth, json=body(CUSTOMER, twice))
    assert (r.status_code, r.json["error_code"]) == (422, 42201)
    latest = [{"name": "address.json", "subject": "address", "version": -1}]
    r = post("/subjects/customer", headers=auth, json=body(CUSTOMER, latest))
    assert (r.status_code, r.json["id"], r.json["version"]) == (200, customer, 1)
