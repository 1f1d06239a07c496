"""The comparator's shortcut for unchanged parts: two nodes with the same serialised text are
identical when every `$ref` in them reaches identical targets. The text is exact (key order,
true is not 1, 1.0 is not 1) and strings that only look like references never break it."""

from __future__ import annotations

import copy
import datetime
from typing import Any

from compat_helpers import STRING, breaking_rules, check, obj

from contracts.compatibility import diff_contracts, load_contract
from contracts.compatibility.document import SchemaDocument

DEFS_A = {"a": STRING}


def with_defs(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "definitions": defs}


def test_same_text_with_changed_reference_target_is_compared() -> None:
    node = obj({"x": {"$ref": "#/definitions/a"}})
    old = with_defs(node, DEFS_A)
    new = with_defs(copy.deepcopy(node), {"a": {"type": "integer"}})
    assert "TYPE_CHANGED" in breaking_rules(check(old, new))


def test_types_are_kept_apart() -> None:
    assert breaking_rules(check(obj({"x": {"const": True}}), obj({"x": {"const": 1}})))
    assert breaking_rules(check(obj({"x": {"enum": [1.5]}}), obj({"x": {"enum": [2.5]}})))
    assert diff_contracts(obj({"x": {"const": 1.0}}), obj({"x": {"const": 1.0}})).changes == ()


def test_a_list_holding_the_string_ref_is_not_a_reference() -> None:
    # marshal text of ["$ref", "#/nowhere"] looks like a "$ref" key with a value
    schema = obj({"$ref": STRING, "x": {"enum": ["$ref", "#/nowhere"]}}) | {
        "required": ["$ref", "#/definitions/a"]
    }
    old = with_defs(schema, DEFS_A)
    assert diff_contracts(old, copy.deepcopy(old)).changes == ()
    new = with_defs(copy.deepcopy(schema), {"a": {"type": "integer"}})
    assert diff_contracts(old, new).changes == ()  # "#/definitions/a" was no reference


def test_refs_in_reads_keys_only_and_non_json_data_falls_back() -> None:
    doc = SchemaDocument(
        {"$ref": "#/a", "p": {"$ref": {"type": "string"}}},
        load_contract({"type": "object"}).dialect,
    )
    assert doc.refs_in(doc.root) == {"#/a"}
    dated = {"$ref": "#/b", "default": datetime.date(2024, 1, 2)}
    assert isinstance(doc.text(dated), str) and doc.refs_in(dated) == {"#/b"}
