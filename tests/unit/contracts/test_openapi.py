"""OpenAPI rules: what breaks clients of the old description when the service moves on."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from contracts.compatibility import Level, check_compatibility


def api(paths: dict[str, Any], components: dict[str, Any] | None = None, **extra: Any) -> dict:
    doc = {"openapi": "3.0.3", "info": {"title": "Ledger", "version": "1"}, "paths": paths}
    if components:
        doc["components"] = components
    doc.update(extra)
    return doc


def json_body(schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def ok(schema: dict[str, Any]) -> dict[str, Any]:
    return {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}


ACCOUNT = {
    "type": "object",
    "required": ["id", "currency"],
    "properties": {
        "id": {"type": "string"},
        "currency": {"type": "string", "enum": ["EUR", "USD"]},
        "label": {"type": "string"},
    },
}
BASE = api(
    {
        "/accounts/{accountId}": {
            "parameters": [
                {"name": "accountId", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "get": {
                "parameters": [{"name": "expand", "in": "query", "schema": {"type": "string"}}],
                "responses": ok({"$ref": "#/components/schemas/Account"}),
            },
            "put": {
                "requestBody": json_body({"$ref": "#/components/schemas/Account"}),
                "responses": ok({"$ref": "#/components/schemas/Account"}),
            },
        },
        "/legacy": {"get": {"deprecated": True, "responses": {"200": {"description": "ok"}}}},
    },
    {"schemas": {"Account": ACCOUNT}},
)


def changed(edit) -> dict:
    doc = copy.deepcopy(BASE)
    edit(doc)
    return doc


def breaking(new: dict) -> set[str]:
    result = check_compatibility(new, [BASE])
    return {c.rule for c in result.changes if c.level is Level.BREAKING}


def rules(new: dict) -> set[str]:
    return {c.rule for c in check_compatibility(new, [BASE]).changes}


ACC = "/accounts/{accountId}"


def schema(doc):
    return doc["components"]["schemas"]["Account"]


CASES = [
    ("api-path-removed-without-deprecation", lambda d: d["paths"].pop(ACC)),
    ("api-removed-without-deprecation", lambda d: d["paths"][ACC].pop("put")),
    (
        "new-required-request-parameter",
        lambda d: d["paths"][ACC]["get"]["parameters"].append(
            {"name": "tenant", "in": "header", "required": True, "schema": {"type": "string"}}
        ),
    ),
    (
        "request-parameter-became-required",
        lambda d: d["paths"][ACC]["get"]["parameters"][0].update(required=True),
    ),
    (
        "request-parameter-max-length-added",
        lambda d: d["paths"][ACC]["get"]["parameters"][0]["schema"].update(maxLength=3),
    ),
    (
        "request-body-became-required",
        lambda d: d["paths"][ACC]["put"]["requestBody"].update(required=True),
    ),
    (
        "request-body-media-type-removed",
        lambda d: d["paths"][ACC]["put"]["requestBody"].update(
            content={"application/xml": {"schema": {"type": "string"}}}
        ),
    ),
    (
        "request-property-required-property-added-to-unopen-content-model",
        lambda d: (
            schema(d)["properties"].update(iban={"type": "string"}),
            schema(d)["required"].append("iban"),
        ),
    ),
    (
        "request-property-type-changed",
        lambda d: schema(d)["properties"].update(label={"type": "integer"}),
    ),
    (
        "request-property-enum-array-narrowed",
        lambda d: schema(d)["properties"]["currency"].update(enum=["EUR"]),
    ),
    # response names read old -> new: the new server sends a value old clients do not know
    (
        "response-property-enum-array-extended",
        lambda d: schema(d)["properties"]["currency"].update(enum=["EUR", "USD", "GBP"]),
    ),
    (
        "response-property-type-changed",
        lambda d: schema(d)["properties"].update(id={"type": "integer"}),
    ),
    ("response-property-required-attribute-removed", lambda d: schema(d).update(required=["id"])),
    (
        "response-property-required-property-removed-from-unopen-content-model",
        lambda d: (schema(d)["properties"].pop("currency"), schema(d).update(required=["id"])),
    ),
    (
        "response-success-status-removed",
        lambda d: d["paths"][ACC]["get"].update(responses={"404": {"description": "gone"}}),
    ),
    (
        "response-media-type-removed",
        lambda d: d["paths"][ACC]["get"]["responses"]["200"].update(content={}),
    ),
    ("api-security-added", lambda d: d["paths"][ACC]["get"].update(security=[{"oauth": []}])),
]


@pytest.mark.parametrize(("rule", "edit"), CASES, ids=[c[0] for c in CASES])
def test_breaking_api_change(rule, edit):
    assert rule in breaking(changed(edit))


COMPATIBLE = [
    (
        "new-optional-request-parameter",
        lambda d: d["paths"][ACC]["get"]["parameters"].append(
            {"name": "limit", "in": "query", "schema": {"type": "integer"}}
        ),
    ),
    ("endpoint-added", lambda d: d["paths"].update({"/health": {"get": {"responses": {}}}})),
    ("api-path-removed-after-deprecation", lambda d: d["paths"].pop("/legacy")),
    (
        "request-property-optional-property-added-to-unopen-content-model",
        lambda d: schema(d)["properties"].update(memo={"type": "string"}),
    ),
    (
        "response-property-optional-property-removed-from-unopen-content-model",
        lambda d: schema(d)["properties"].pop("label"),
    ),
    ("request-parameter-removed", lambda d: d["paths"][ACC]["get"].update(parameters=[])),
    (
        "response-status-added",
        lambda d: d["paths"][ACC]["get"]["responses"].update({"404": {"description": "missing"}}),
    ),
]


@pytest.mark.parametrize(("rule", "edit"), COMPATIBLE, ids=[c[0] for c in COMPATIBLE])
def test_non_breaking_api_change(rule, edit):
    new = changed(edit)
    assert rule in rules(new)
    assert check_compatibility(new, [BASE]).compatible


def test_unchanged_description_has_no_changes():
    assert check_compatibility(copy.deepcopy(BASE), [BASE]).changes == ()


def test_renamed_path_parameter_is_the_same_path():
    doc = copy.deepcopy(BASE)
    item = doc["paths"].pop(ACC)
    item["parameters"][0]["name"] = "id"
    doc["paths"]["/accounts/{id}"] = item
    assert "api-path-removed-without-deprecation" not in breaking(doc)


def test_read_only_property_required_in_response_does_not_break_requests():
    def edit(d):
        schema(d)["properties"]["createdAt"] = {"type": "string", "readOnly": True}
        schema(d)["required"].append("createdAt")

    assert not any(rule.startswith("request-") for rule in breaking(changed(edit)))


def test_changes_carry_area_and_direction():
    result = check_compatibility(changed(lambda d: d["paths"].pop(ACC)), [BASE], "FULL")
    removed = [c for c in result.breaking if c.rule == "api-path-removed-without-deprecation"]
    assert removed[0].area == "paths"
    assert removed[0].direction.value == "backward"
    assert removed[0].path == "/paths/~1accounts~1{accountId}"


def test_recursive_component_schemas_terminate():
    node = {
        "type": "object",
        "properties": {"child": {"$ref": "#/components/schemas/Node"}, "v": {"type": "string"}},
    }
    doc = api(
        {"/n": {"get": {"responses": ok({"$ref": "#/components/schemas/Node"})}}},
        {"schemas": {"Node": node}},
    )
    new = copy.deepcopy(doc)
    new["components"]["schemas"]["Node"]["properties"]["v"] = {"type": "integer"}
    result = check_compatibility(new, [doc])
    assert "response-property-type-changed" in {c.rule for c in result.breaking}


def test_openapi_31_nullable_via_type_array():
    old = api({"/x": {"get": {"responses": ok({"type": "string"})}}}, openapi="3.1.0")
    new = api({"/x": {"get": {"responses": ok({"type": ["string", "null"]})}}}, openapi="3.1.0")
    result = check_compatibility(new, [old])
    # the new server may send null, which old clients do not expect
    assert "response-body-type-extended" in {c.rule for c in result.breaking}
