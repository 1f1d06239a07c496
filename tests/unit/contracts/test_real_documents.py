"""Defects found on real documents (Confluent's examples, APIs.guru, AsyncAPI examples): each
test failed before its fix."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from compat_helpers import STRING, assert_backward, breaking_rules, check, obj

from contracts.compatibility import check_compatibility, diff_contracts, load_contract
from contracts.compatibility.document import Dialect
from contracts.compatibility.loader import MAX_EXPANDED_NODES, parse_text
from contracts.errors import UnreadableDocument, UnsupportedFormat

DRAFT7 = "http://json-schema.org/draft-07/schema#"
DRAFT2020 = "https://json-schema.org/draft/2020-12/schema"

# -- 1. draft-07 by default ---------------------------------------------------------------------

TUPLE = {"type": "array", "items": [STRING, {"type": "integer"}]}
CODE = {"type": "string"}


def with_ref_sibling(extra: dict[str, Any]) -> dict[str, Any]:
    return {"definitions": {"code": CODE}, **obj({"code": {"$ref": "#/definitions/code", **extra}})}


def test_schema_without_dollar_schema_is_draft_07():
    assert load_contract(TUPLE).dialect is Dialect.DRAFT7
    assert_backward(TUPLE, TUPLE)  # tuple `items` is valid draft-07 (2020-12 refuses it)


def test_ref_siblings_ignored_without_dollar_schema():
    assert_backward(with_ref_sibling({}), with_ref_sibling({"maxLength": 5}))


def test_declared_dollar_schema_wins_over_the_default_and_over_draft():
    old = {"$schema": DRAFT2020, **with_ref_sibling({})}
    new = {"$schema": DRAFT2020, **with_ref_sibling({"maxLength": 5})}
    assert "MAX_LENGTH_ADDED" in breaking_rules(check(old, new))
    as_draft7 = [load_contract(d, draft="2020-12") for d in (
        {"$schema": DRAFT7, **with_ref_sibling({})},
        {"$schema": DRAFT7, **with_ref_sibling({"maxLength": 5})},
    )]
    assert check_compatibility(as_draft7[1], [as_draft7[0]]).compatible


def test_draft_option_reads_plain_schemas_as_2020_12():
    old = load_contract(with_ref_sibling({}), draft="2020-12")
    new = load_contract(with_ref_sibling({"maxLength": 5}), draft="2020-12")
    assert "MAX_LENGTH_ADDED" in breaking_rules(check_compatibility(new, [old]))
    with pytest.raises(UnsupportedFormat):
        load_contract(TUPLE, draft="draft-99")


ITEMS_ONLY = {"type": "array", "items": STRING}
ITEMS_CLOSED = {"type": "array", "items": STRING, "additionalItems": False}
LOOSE_REQUIRED = obj({"a": STRING}, required=["b"])  # "b" is required but not declared


@pytest.mark.parametrize(
    ("old", "new"),
    [(ITEMS_ONLY, ITEMS_CLOSED), (obj({"a": STRING}), LOOSE_REQUIRED)],
    ids=["additionalItems-without-tuple", "required-undeclared-property"],
)
def test_confluent_readings_apply_only_when_asked(old, new):
    strict = check_compatibility(new, [old], "FULL")
    confluent = check_compatibility(new, [old], "FULL", confluent=True)
    if new is ITEMS_CLOSED:  # draft-07 ignores additionalItems here; Confluent compares it
        assert strict.compatible and not confluent.compatible
    else:  # `required: [b]` does reject objects without b; Confluent ignores undeclared names
        assert not strict.compatible and confluent.compatible


# -- 2. a property named "$ref" -----------------------------------------------------------------


def test_property_named_ref_is_a_property_not_a_reference():
    old = obj({"$ref": STRING, "a": STRING})
    new = obj({"$ref": STRING, "a": {"type": "integer"}})
    assert "TYPE_CHANGED" in breaking_rules(check(old, new))
    assert diff_contracts(old, old).changes == ()
    api = {
        "openapi": "3.0.3",
        "info": {"title": "k8s", "version": "1"},
        "paths": {},
        "components": {"schemas": {"Props": obj({"$ref": STRING})}},
    }
    assert diff_contracts(api, copy.deepcopy(api)).changes == ()


# -- 3. deep nesting ----------------------------------------------------------------------------


def nested(levels: int, leaf: dict[str, Any]) -> dict[str, Any]:
    schema = leaf
    for _ in range(levels):
        schema = obj({"p": schema})
    return schema


def test_registry_reading_refuses_deep_documents_with_a_reason():
    text = __import__("json").dumps(nested(98, STRING))
    with pytest.raises(UnreadableDocument, match="nested deeper"):
        load_contract(text)


# -- 4, 5. OpenAPI paths ------------------------------------------------------------------------


def api_doc(paths: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths}


def backend(param: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "get": {
            "parameters": [{"name": param, "in": "path", "required": True, "schema": schema}],
            "responses": {"200": {"description": "ok"}},
        }
    }


def test_extension_keys_in_paths_are_allowed_and_not_paths():
    old = api_doc({"x-codegen-contextRoot": "/apis", "/a": backend("id", STRING)})
    new = api_doc({"/a": backend("id", STRING)})
    assert diff_contracts(old, new).changes == ()
    assert diff_contracts(old, old).changes == ()


def test_renamed_path_parameter_is_matched_by_position():
    old = api_doc({"/backends/{backendid}": backend("backendid", STRING)})
    new = api_doc({"/backends/{backendId}": backend("backendId", STRING)})
    assert check_compatibility(new, [old], "FULL").changes == ()
    narrowed = api_doc({"/backends/{backendId}": backend("backendId", {"type": "integer"})})
    rules = {c.rule for c in check_compatibility(narrowed, [old]).breaking}
    assert rules and not rules & {"new-required-request-parameter", "request-parameter-removed"}


# -- 8. YAML alias bombs ------------------------------------------------------------------------


def alias_yaml(levels: int, fan_out: int, leaf: str = "{type: string}") -> str:
    lines = ["definitions:", f"  a0: &a0 {leaf}"]
    for level in range(1, levels + 1):
        props = ", ".join(f"p{i}: *a{level - 1}" for i in range(fan_out))
        lines.append(f"  a{level}: &a{level} {{type: object, properties: {{{props}}}}}")
    lines += ["type: object", f"properties: {{x: *a{levels}}}"]
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused():
    bomb = alias_yaml(12, 10)
    assert len(bomb) < 2000
    with pytest.raises(UnreadableDocument, match="alias bomb"):
        parse_text(bomb)
    assert MAX_EXPANDED_NODES < 10**12


def test_shared_aliases_within_bounds_are_compared():
    old = load_contract(alias_yaml(4, 4))
    new = load_contract(alias_yaml(4, 4, "{type: string, maxLength: 3}"))
    result = check_compatibility(new, [old])
    assert "MAX_LENGTH_ADDED" in {c.rule for c in result.breaking}
