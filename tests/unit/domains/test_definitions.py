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


@pytest.mark.parametrize("typ, value, from_text, expected", [
    ("string", "  Acme  ", False, "Acme"),
    ("string", 12, False, ValueError),
    ("integer", 7, False, 7),
    ("integer", True, False, ValueError),
    ("integer", " -12 ", True, -12),
    ("integer", "12", False, ValueError),  # JSON must carry a number
    ("decimal", 1500.50, False, "1500.5"),
    ("decimal", "2E+3", True, "2000"),
    ("decimal", "Infinity", True, ValueError),
    ("decimal", False, False, ValueError),
    ("boolean", "Yes", True, True),
    ("boolean", "f", True, False),
    ("boolean", "yes", False, ValueError),
    ("date", " 2026-02-28 ", True, "2026-02-28"),
    ("date", "2026-02-30", True, ValueError),
])
def test_every_type_coerces_to_its_canonical_value(typ, value, from_text, expected) -> None:
    from mdm.domains.definitions import TYPES, Attribute
    assert typ in TYPES
    attr = Attribute("x", type=typ)
    if expected is ValueError:
        with pytest.raises(ValueError):
            attr.coerce(value, from_text=from_text)
    else:
        assert attr.coerce(value, from_text=from_text) == expected


def test_every_declared_type_has_a_coercion() -> None:
    from mdm.domains.definitions import TYPES, Attribute
    for typ in TYPES:
        with pytest.raises(ValueError):
            Attribute("x", type=typ).coerce(object())


def test_iso_codes_are_upper_cased_and_long_strings_refused() -> None:
    from mdm.domains.definitions import Attribute
    assert Attribute("c", validators=("country",)).coerce(" de ") == "DE"
    assert Attribute("n").coerce("de") == "de"
    with pytest.raises(ValueError, match="Longer than 3"):
        Attribute("n", max_length=3).coerce("abcd")
