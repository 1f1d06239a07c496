"""`$ref` handling: local pointers, anchors, recursion, cycles and unresolvable references."""

from __future__ import annotations

import pytest
from compat_helpers import STRING, assert_backward, assert_full, assert_not_backward, obj

from contracts.errors import ContractError, UnresolvableReference

DRAFT7 = "http://json-schema.org/draft-07/schema#"
DRAFT2020 = "https://json-schema.org/draft/2020-12/schema"


def tree(node_schema: dict) -> dict:
    """A recursive tree: each node has a name and children of the same shape."""
    return {
        "$schema": DRAFT7,
        "$ref": "#/definitions/node",
        "definitions": {
            "node": obj(
                {
                    "name": node_schema,
                    "children": {"type": "array", "items": {"$ref": "#/definitions/node"}},
                }
            )
        },
    }


def test_recursive_schema_compared_with_itself_terminates():
    assert_full(tree(STRING), tree(STRING))


def test_change_inside_a_recursive_definition_is_found():
    result = assert_not_backward(tree(STRING), tree({"type": "string", "maxLength": 3}))
    assert result.breaking[0].path == "/properties/name/maxLength"


def test_mutually_recursive_definitions():
    schema = {
        "$defs": {
            "a": obj({"b": {"$ref": "#/$defs/b"}}),
            "b": obj({"a": {"$ref": "#/$defs/a"}, "v": STRING}),
        },
        "$ref": "#/$defs/a",
    }
    assert_full(schema, schema)


def test_inlined_reference_equals_the_reference():
    address = obj({"street": STRING}, required=["street"])
    with_ref = obj({"home": {"$ref": "#/$defs/address"}}, **{"$defs": {"address": address}})
    inlined = obj({"home": address})
    assert_full(with_ref, inlined)


def test_anchor_references_resolve():
    address = {"$anchor": "addr", **obj({"street": {"type": "string", "minLength": 5}})}
    old = obj({"home": {"$ref": "#addr"}}, **{"$defs": {"address": address}})
    old["$schema"] = DRAFT2020  # $anchor is 2019-09+; a schema without $schema is draft-07
    new = obj({"home": obj({"street": STRING})})
    assert_backward(old, new)


def test_draft7_plain_name_id_references_resolve():
    old = {
        "$schema": DRAFT7,
        **obj({"home": {"$ref": "#Address"}}),
        "definitions": {"Address": {"$id": "#Address", **obj({"street": STRING})}},
    }
    assert_full(old, old)


def test_unresolvable_reference_is_an_input_error():
    broken = obj({"a": {"$ref": "#/$defs/missing"}})
    with pytest.raises(UnresolvableReference) as caught:
        assert_backward(obj(), broken)
    assert isinstance(caught.value, ContractError)
    assert caught.value.code == "unresolvable-reference"


def test_ref_loop_without_schema_is_an_input_error():
    looping = {
        "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
        "$ref": "#/$defs/a",
    }
    with pytest.raises(UnresolvableReference):
        assert_backward(STRING, looping)
