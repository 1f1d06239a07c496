"""One failing and one passing case per JSON Schema rule, read as old -> new under BACKWARD."""

from __future__ import annotations

import pytest
from compat_helpers import (
    BOOLEAN,
    INTEGER,
    NUMBER,
    STRING,
    all_rules,
    assert_backward,
    assert_forward,
    assert_full,
    assert_not_backward,
    assert_not_forward,
    obj,
)

# (rule, old, new): the rule must fire as breaking and the change be backward-incompatible.
BREAKING_CASES = [
    ("TYPE_CHANGED", STRING, NUMBER),
    ("TYPE_NARROWED", NUMBER, INTEGER),
    ("TYPE_NARROWED", {"type": ["string", "null"]}, STRING),
    ("SCHEMA_REJECTS_ALL", STRING, False),
    ("MAX_LENGTH_ADDED", STRING, {"type": "string", "maxLength": 3}),
    (
        "MAX_LENGTH_DECREASED",
        {"type": "string", "maxLength": 9},
        {"type": "string", "maxLength": 3},
    ),
    (
        "MIN_LENGTH_INCREASED",
        {"type": "string", "minLength": 1},
        {"type": "string", "minLength": 2},
    ),
    ("PATTERN_ADDED", STRING, {"type": "string", "pattern": "^[A-Z]{3}$"}),
    ("PATTERN_CHANGED", {"type": "string", "pattern": "^a"}, {"type": "string", "pattern": "^b"}),
    (
        "FORMAT_CHANGED",
        {"type": "string", "format": "date-time"},
        {"type": "string", "format": "date"},
    ),
    ("MAXIMUM_DECREASED", {"type": "number", "maximum": 10}, {"type": "number", "maximum": 5}),
    ("MINIMUM_ADDED", NUMBER, {"type": "number", "minimum": 0}),
    (
        "EXCLUSIVE_MINIMUM_INCREASED",
        {"type": "number", "minimum": 0},
        {"type": "number", "exclusiveMinimum": 0},
    ),
    (
        "MULTIPLE_OF_EXPANDED",
        {"type": "number", "multipleOf": 5},
        {"type": "number", "multipleOf": 10},
    ),
    (
        "MULTIPLE_OF_CHANGED",
        {"type": "number", "multipleOf": 7},
        {"type": "number", "multipleOf": 13},
    ),
    ("REQUIRED_ATTRIBUTE_ADDED", obj({"iban": STRING}), obj({"iban": STRING}, required=["iban"])),
    (
        "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        obj({"a": STRING}, additionalProperties=False),
        obj({"a": STRING, "b": STRING}, required=["b"], additionalProperties=False),
    ),
    ("PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", obj({"a": STRING}), obj({"a": STRING, "b": STRING})),
    (
        "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        obj({"a": STRING, "b": STRING}, additionalProperties=False),
        obj({"a": STRING}, additionalProperties=False),
    ),
    (
        "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        obj({"a": STRING, "b": NUMBER}, additionalProperties=False),
        obj({"a": STRING}, additionalProperties=STRING),
    ),
    (
        "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        obj({"a": STRING}, additionalProperties=NUMBER),
        obj({"a": STRING, "b": INTEGER}, additionalProperties=NUMBER),
    ),
    (
        "ADDITIONAL_PROPERTIES_REMOVED",
        obj({"a": STRING}),
        obj({"a": STRING}, additionalProperties=False),
    ),
    (
        "ADDITIONAL_PROPERTIES_NARROWED",
        obj({"a": STRING}),
        obj({"a": STRING}, additionalProperties=STRING),
    ),
    (
        "UNEVALUATED_PROPERTIES_REMOVED",
        obj({"a": STRING}),
        obj({"a": STRING}, unevaluatedProperties=False),
    ),
    (
        "DEPENDENCY_ARRAY_EXTENDED",
        obj(dependentRequired={"a": ["b"]}),
        obj(dependentRequired={"a": ["b", "c"]}),
    ),
    (
        "DEPENDENCY_SCHEMA_ADDED",
        obj({"a": STRING}),
        obj({"a": STRING}, dependentSchemas={"a": obj(required=["b"])}),
    ),
    ("PROPERTY_NAMES_ADDED", obj(), obj(propertyNames={"maxLength": 3})),
    ("MAX_PROPERTIES_DECREASED", obj(maxProperties=5), obj(maxProperties=2)),
    ("MIN_ITEMS_INCREASED", {"type": "array", "minItems": 1}, {"type": "array", "minItems": 2}),
    ("MAX_ITEMS_ADDED", {"type": "array"}, {"type": "array", "maxItems": 2}),
    ("UNIQUE_ITEMS_ADDED", {"type": "array"}, {"type": "array", "uniqueItems": True}),
    ("CONTAINS_ADDED", {"type": "array"}, {"type": "array", "contains": STRING}),
    (
        "ITEM_ADDED_TO_OPEN_CONTENT_MODEL",
        {"type": "array", "prefixItems": [STRING]},
        {"type": "array", "prefixItems": [STRING, NUMBER]},
    ),
    (
        "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        {"type": "array", "prefixItems": [STRING, NUMBER], "items": False},
        {"type": "array", "prefixItems": [STRING], "items": False},
    ),
    (
        "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        {"type": "array", "prefixItems": [STRING, BOOLEAN], "items": False},
        {"type": "array", "prefixItems": [STRING], "items": NUMBER},
    ),
    (
        "ADDITIONAL_ITEMS_REMOVED",
        {"$schema": "http://json-schema.org/draft-07/schema#", "type": "array", "items": [STRING]},
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "array",
            "items": [STRING],
            "additionalItems": False,
        },
    ),
    ("ENUM_ARRAY_NARROWED", {"enum": ["EUR", "USD", "GBP"]}, {"enum": ["EUR", "USD"]}),
    ("ENUM_ARRAY_CHANGED", {"enum": ["EUR", "USD"]}, {"enum": ["EUR", "CHF"]}),
    ("ENUM_ADDED", STRING, {"type": "string", "enum": ["EUR"]}),
    ("ENUM_ARRAY_CHANGED", {"const": "EUR"}, {"const": "USD"}),
    ("ENUM_ARRAY_NARROWED", BOOLEAN, {"enum": [True]}),
    (
        "PRODUCT_TYPE_EXTENDED",
        {"allOf": [STRING, {"minLength": 1}]},
        {"allOf": [STRING, {"minLength": 1}, {"pattern": "^[A-Z]"}]},
    ),
    ("SUM_TYPE_NARROWED", {"anyOf": [STRING, NUMBER]}, {"anyOf": [STRING]}),
    ("COMBINED_TYPE_CHANGED", {"anyOf": [STRING, NUMBER]}, {"oneOf": [STRING, NUMBER]}),
    ("NOT_ADDED", STRING, {"type": "string", "not": {"const": ""}}),
    (
        "NOT_TYPE_EXTENDED",
        {"not": {"type": "string", "maxLength": 1}},
        {"not": {"type": "string", "maxLength": 5}},
    ),
    (
        "CONDITION_CHANGED",
        obj({"k": STRING}, **{"if": obj({"k": {"const": "a"}}), "then": obj(required=["x"])}),
        obj({"k": STRING}, **{"if": obj({"k": {"const": "b"}}), "then": obj(required=["x"])}),
    ),
    ("CONDITIONAL_ADDED", obj(), obj(**{"if": obj(required=["a"]), "then": obj(required=["b"])})),
]


@pytest.mark.parametrize(("rule", "old", "new"), BREAKING_CASES, ids=[c[0] for c in BREAKING_CASES])
def test_breaking_rule_fires(rule, old, new):
    assert_not_backward(old, new, rule)


# (rule or None, old, new): backward-compatible; the rule (if given) is reported as non-breaking.
COMPATIBLE_CASES = [
    ("TYPE_EXTENDED", INTEGER, NUMBER),
    ("TYPE_EXTENDED", STRING, {"type": ["string", "null"]}),
    (None, STRING, True),
    (None, STRING, {}),
    (None, False, STRING),
    (
        "MAX_LENGTH_INCREASED",
        {"type": "string", "maxLength": 3},
        {"type": "string", "maxLength": 9},
    ),
    ("MAX_LENGTH_REMOVED", {"type": "string", "maxLength": 3}, STRING),
    (
        "MIN_LENGTH_DECREASED",
        {"type": "string", "minLength": 3},
        {"type": "string", "minLength": 1},
    ),
    ("PATTERN_REMOVED", {"type": "string", "pattern": "^a"}, STRING),
    (
        "FORMAT_EXTENDED",
        {"type": "integer", "format": "int32"},
        {"type": "integer", "format": "int64"},
    ),
    ("MINIMUM_DECREASED", {"type": "number", "minimum": 5}, {"type": "number", "minimum": 0}),
    (
        "MINIMUM_DECREASED",
        {"type": "number", "exclusiveMinimum": 10},
        {"type": "number", "minimum": 10},
    ),
    (
        None,
        {
            "$schema": "http://json-schema.org/draft-04/schema#",
            "type": "number",
            "minimum": 10,
            "exclusiveMinimum": True,
        },
        {"type": "number", "exclusiveMinimum": 10},
    ),
    (
        "MULTIPLE_OF_REDUCED",
        {"type": "number", "multipleOf": 10},
        {"type": "number", "multipleOf": 5},
    ),
    (None, INTEGER, {"type": "number", "multipleOf": 1}),
    ("REQUIRED_ATTRIBUTE_REMOVED", obj({"a": STRING}, required=["a"]), obj({"a": STRING})),
    (
        "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
        obj({"a": STRING}),
        obj({"a": {"type": "string", "default": "x"}}, required=["a"]),
    ),
    (
        "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        obj({"a": STRING}, additionalProperties=False),
        obj({"a": STRING, "b": STRING}, additionalProperties=False),
    ),
    (
        "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
        obj({"a": STRING}, additionalProperties=False),
        obj(
            {"a": STRING, "b": {"type": "string", "default": ""}},
            required=["b"],
            additionalProperties=False,
        ),
    ),
    (
        "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
        obj({"a": STRING}),
        obj({"a": STRING, "b": {}}),
    ),
    (
        "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
        obj({"a": STRING, "b": NUMBER}),
        obj({"a": STRING}),
    ),
    (
        "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        obj({"a": STRING, "b": False}, additionalProperties=False),
        obj({"a": STRING}, additionalProperties=False),
    ),
    (
        "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        obj({"a": STRING, "b": INTEGER}, additionalProperties=False),
        obj({"a": STRING}, additionalProperties=NUMBER),
    ),
    (
        "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        obj({"a": STRING, "x_1": INTEGER}, additionalProperties=False),
        obj({"a": STRING}, patternProperties={"^x_": NUMBER}, additionalProperties=False),
    ),
    (
        "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        obj({"a": STRING}, additionalProperties=NUMBER),
        obj({"a": STRING, "b": NUMBER}, additionalProperties=NUMBER),
    ),
    (
        "ADDITIONAL_PROPERTIES_ADDED",
        obj({"a": STRING}, additionalProperties=False),
        obj({"a": STRING}),
    ),
    (
        "ADDITIONAL_PROPERTIES_EXTENDED",
        obj({"a": STRING}, additionalProperties=STRING),
        obj({"a": STRING}),
    ),
    (
        "DEPENDENCY_ARRAY_NARROWED",
        obj(dependentRequired={"a": ["b", "c"]}),
        obj(dependentRequired={"a": ["b"]}),
    ),
    ("DEPENDENCY_SCHEMA_REMOVED", obj(dependentSchemas={"a": obj(required=["b"])}), obj()),
    ("UNIQUE_ITEMS_REMOVED", {"type": "array", "uniqueItems": True}, {"type": "array"}),
    (
        "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
        {"type": "array", "prefixItems": [STRING], "items": False},
        {"type": "array", "prefixItems": [STRING, NUMBER], "items": False},
    ),
    (
        "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
        {"type": "array", "prefixItems": [STRING, NUMBER]},
        {"type": "array", "prefixItems": [STRING]},
    ),
    (
        "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        {"type": "array", "prefixItems": [STRING], "items": INTEGER},
        {"type": "array", "prefixItems": [STRING, NUMBER], "items": True},
    ),
    ("ENUM_ARRAY_EXTENDED", {"enum": ["EUR", "USD"]}, {"enum": ["EUR", "USD", "GBP"]}),
    ("ENUM_REMOVED", {"type": "string", "enum": ["EUR"]}, STRING),
    (None, {"const": "EUR"}, {"enum": ["EUR"]}),
    (None, {"enum": [1, 2]}, {"type": "integer", "maximum": 2}),
    ("SUM_TYPE_EXTENDED", STRING, {"anyOf": [STRING, NUMBER]}),
    ("SUM_TYPE_EXTENDED", {"anyOf": [STRING]}, {"anyOf": [NUMBER, STRING]}),
    (
        "PRODUCT_TYPE_NARROWED",
        {"allOf": [STRING, {"maxLength": 3}, {"minLength": 1}]},
        {"allOf": [STRING, {"maxLength": 3}]},
    ),
    ("COMBINED_TYPE_EXTENDED", {"oneOf": [STRING, NUMBER]}, {"anyOf": [STRING, NUMBER]}),
    (None, {"anyOf": [STRING, NUMBER]}, {"type": ["string", "number"]}),
    (
        "NOT_TYPE_NARROWED",
        {"not": {"type": "string", "maxLength": 5}},
        {"not": {"type": "string", "maxLength": 1}},
    ),
    ("NOT_REMOVED", {"type": "string", "not": {"const": ""}}, STRING),
    ("CONDITIONAL_REMOVED", obj(**{"if": obj(required=["a"]), "then": obj(required=["b"])}), obj()),
    (
        "DESCRIPTION_CHANGED",
        {"type": "string", "description": "old"},
        {"type": "string", "description": "new"},
    ),
    ("DEFAULT_CHANGED", {"type": "string", "default": "a"}, {"type": "string", "default": "b"}),
]


@pytest.mark.parametrize(
    ("rule", "old", "new"), COMPATIBLE_CASES, ids=[str(c[0]) for c in COMPATIBLE_CASES]
)
def test_compatible_change_is_reported_without_breaking(rule, old, new):
    result = assert_backward(old, new)
    if rule is not None:
        assert rule in all_rules(result)


def test_identical_schemas_are_fully_compatible_and_silent():
    schema = obj({"a": STRING, "b": {"type": "array", "items": NUMBER}}, required=["a"])
    assert_full(schema, schema)


def test_widening_is_backward_but_not_forward():
    assert_backward(INTEGER, NUMBER)
    assert_not_forward(INTEGER, NUMBER, "TYPE_NARROWED")


def test_narrowing_is_forward_but_not_backward():
    old = {"type": "string", "maxLength": 10}
    new = {"type": "string", "maxLength": 5}
    assert_forward(old, new)
    assert_not_backward(old, new, "MAX_LENGTH_DECREASED")


def test_subschemas_match_regardless_of_order():
    assert_full({"anyOf": [STRING, NUMBER, BOOLEAN]}, {"anyOf": [BOOLEAN, STRING, NUMBER]})
    assert_full(
        {"allOf": [obj(required=["a"]), obj(required=["b"])]},
        {"allOf": [obj(required=["b"]), obj(required=["a"])]},
    )


def test_change_inside_a_property_has_a_json_pointer_location():
    old = obj({"amount": {"type": "object", "properties": {"value": NUMBER}}})
    new = obj({"amount": {"type": "object", "properties": {"value": INTEGER}}})
    result = assert_not_backward(old, new, "TYPE_NARROWED")
    assert result.breaking[0].path == "/properties/amount/properties/value/type"


def test_pointer_escapes_slashes_in_property_names():
    result = assert_not_backward(obj({"a/b": STRING}), obj({"a/b": NUMBER}))
    assert result.breaking[0].path == "/properties/a~1b/type"


def test_then_branch_is_read_with_the_parent_property_schema():
    parent = {"kind": {"enum": ["x", "y"]}, "code": STRING}
    old = obj(
        parent,
        **{"if": obj({"kind": {"const": "x"}}), "then": obj({"code": {"pattern": "^[a-z]+$"}})},
    )
    new = obj(parent, **{"if": obj({"kind": {"const": "x"}}), "then": obj({"code": STRING})})
    assert_backward(old, new)
    assert_not_forward(old, new, "PATTERN_ADDED")
