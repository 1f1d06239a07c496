"""Survivorship rules and provenance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mdm.records.survivorship import Override, SourceView, survive, validate_config

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def src(system: str, sid: str, age_days: int, invalid=(), **attrs) -> SourceView:
    return SourceView(None, system, sid, attrs, T0 - timedelta(days=age_days), frozenset(invalid))


SOURCES = [
    src("SAP", "1", 10, name="ACME GMBH", street="Hauptstr. 1", iban="DE00BAD", city="Berlin"),
    src("COUPA", "2", 1, name="Acme GmbH", street="Hauptstraße 1", iban="DE89370400440532013000"),
    src("SFDC", "3", 5, name="Acme GmbH", city="Berlin-Mitte", invalid=("city",)),
]
ATTRS = ["name", "street", "iban", "city", "phone"]


def test_default_most_recent_with_provenance() -> None:
    values, prov = survive(ATTRS, SOURCES, {"default": "most_recent", "valid_only": False})
    assert values["name"] == "Acme GmbH" and prov["name"]["source_system"] == "COUPA"
    assert values["city"] == "Berlin-Mitte"
    assert "phone" not in values and "phone" not in prov


def test_valid_only_prefers_valid_values() -> None:
    values, prov = survive(ATTRS, SOURCES, {"default": "most_recent", "valid_only": True})
    assert values["city"] == "Berlin" and prov["city"]["source_system"] == "SAP"


def test_source_priority_most_frequent_longest() -> None:
    cfg = {
        "default": "most_recent",
        "source_priority": ["SAP", "COUPA"],
        "attributes": {
            "iban": {"rule": "source_priority"},
            "name": {"rule": "most_frequent"},
            "street": {"rule": "longest"},
        },
    }
    values, prov = survive(ATTRS, SOURCES, cfg)
    assert values["iban"] == "DE00BAD" and prov["iban"]["rule"] == "source_priority"
    assert values["name"] == "Acme GmbH"  # two of three systems agree (case-folded)
    assert values["street"] == "Hauptstraße 1"


def test_override_wins_until_removed() -> None:
    values, prov = survive(
        ATTRS, SOURCES, {}, {"name": Override("ACME Group", "steward:ann", "legal")}
    )
    assert values["name"] == "ACME Group"
    assert prov["name"] == {"rule": "steward_override", "actor": "steward:ann", "reason": "legal"}


def test_config_problems_are_reported() -> None:
    assert validate_config({"default": "random"}, ATTRS) != []
    assert validate_config({"attributes": {"nope": {"rule": "longest"}}}, ATTRS) != []
    assert validate_config({"attributes": {"name": {"rule": "longest"}}}, ATTRS) == []
