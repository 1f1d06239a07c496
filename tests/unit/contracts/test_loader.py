"""Parsing, format detection and validation: bad input raises a ContractError with a code."""

from __future__ import annotations

import pytest

from contracts.compatibility import Format, check_compatibility, detect_format, load_contract
from contracts.errors import InvalidDocument, UnreadableDocument, UnsupportedFormat


def test_json_and_yaml_text_are_both_accepted():
    assert load_contract('{"type": "string"}').document == {"type": "string"}
    assert load_contract("type: string\nmaxLength: 3\n").document == {
        "type": "string",
        "maxLength": 3,
    }


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"openapi": "3.1.0"}, Format.OPENAPI),
        ({"asyncapi": "3.0.0"}, Format.ASYNCAPI),
        ({"type": "object"}, Format.JSONSCHEMA),
        (True, Format.JSONSCHEMA),
    ],
)
def test_format_detection(document, expected):
    assert detect_format(document) is expected


@pytest.mark.parametrize("text", ["{not json: [", "just a sentence", ""])
def test_unreadable_text(text):
    with pytest.raises(UnreadableDocument) as caught:
        load_contract(text)
    assert caught.value.code == "unreadable-document"


def test_schema_invalid_under_its_metaschema():
    with pytest.raises(InvalidDocument, match="minLength"):
        load_contract({"type": "string", "minLength": -1})


def test_draft4_boolean_exclusive_minimum_is_invalid_in_draft7():
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "minimum": 1,
        "exclusiveMinimum": True,
    }
    with pytest.raises(InvalidDocument):
        load_contract(schema)


def test_unknown_metaschema_is_unsupported():
    with pytest.raises(UnsupportedFormat):
        load_contract({"$schema": "https://example.com/my-meta", "type": "string"})


@pytest.mark.parametrize(
    "document",
    [
        {"openapi": "3.0.3", "paths": {}},
        {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}},
        {"openapi": "3.0.3", "info": {}, "paths": {"users": {}}},
        {"openapi": "3.0.3", "info": {}, "paths": {"/users": {"get": "nope"}}},
        {"asyncapi": "2.6.0", "info": {}},
    ],
)
def test_structurally_invalid_api_descriptions(document):
    with pytest.raises(InvalidDocument):
        load_contract(document)


@pytest.mark.parametrize(
    "document", [{"openapi": "2.0"}, {"swagger": "2.0"}, {"asyncapi": "1.2.0"}]
)
def test_unsupported_versions(document):
    with pytest.raises(UnsupportedFormat):
        load_contract(document)


def test_comparing_different_formats_is_an_input_error():
    api = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}
    with pytest.raises(InvalidDocument):
        check_compatibility(api, [{"type": "string"}], fmt="auto")
