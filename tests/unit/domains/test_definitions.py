"""Domain definitions: parsing YAML, coercing values, refusing malformed payloads."""

from __future__ import annotations

import pytest

from mdm.domains import DefinitionError, load_registry
from mdm.domains.definitions import parse_definition


def test_five_builtin_domains() -> None:
    assert load_registry().names() == [
        "supplier",
        "customer",
        "gl_account",
        "cost_center",
        "legal_entity",
    ]


def test_text_values_are_coerced_for_file_loads() -> None:
    d = load_registry().get("gl_account")
    values, errors = d.parse_attributes(
        {
            "chart": "IFRS",
            "code": "1000",
            "name": "Cash",
            "posting_allowed": "yes",
            "valid_from": "2026-01-01",
            "currency": "",
        },
        from_text=True,
    )
    assert errors == {}
    assert values["posting_allowed"] is True and "currency" not in values


def test_json_values_must_have_the_right_type() -> None:
    d = load_registry().get("customer")
    _, errors = d.parse_attributes({"name": "X", "credit_limit": True})
    assert "credit_limit" in errors
    values, errors = d.parse_attributes({"name": "X", "credit_limit": 1500.5})
    assert errors == {} and values["credit_limit"] == "1500.5"
    _, errors = d.parse_attributes({"name": "X", "credit_limit": "NaN"})
    assert "credit_limit" in errors


def test_extra_domain_from_a_yaml_file(tmp_path) -> None:
    path = tmp_path / "asset.yaml"
    path.write_text(
        "name: fixed_asset\nattributes:\n  - {name: tag, type: string, required: true}\n"
    )
    registry = load_registry(str(path))
    assert "fixed_asset" in registry
    assert registry.get("fixed_asset").display == "tag"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"name": "Bad Name", "attributes": [{"name": "a"}]}, "snake_case"),
        ({"name": "x", "attributes": []}, "non-empty"),
        ({"name": "x", "attributes": [{"name": "a", "type": "blob"}]}, "type"),
        (
            {"name": "x", "attributes": [{"name": "a", "validators": ["magic"]}]},
            "unknown validators",
        ),
        ({"name": "x", "attributes": [{"name": "a"}], "approval": ["b"]}, "approval"),
        ({"name": "x", "attributes": [{"name": "a"}, {"name": "a"}]}, "unique"),
    ],
)
def test_bad_definitions_are_refused(doc, message) -> None:
    with pytest.raises(DefinitionError, match=message):
        parse_definition(doc)


def test_builtin_name_cannot_be_redefined(tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: supplier\nattributes:\n  - {name: a}\n")
    with pytest.raises(DefinitionError, match="built in"):
        load_registry(str(path))
