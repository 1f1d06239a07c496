"""Data-quality rules: tax ids, IBAN, BIC, LEI, countries, currencies."""

from __future__ import annotations

import pytest

from mdm.domains import load_registry
from mdm.domains.validators import parse_tax_id


@pytest.mark.parametrize(
    ("raw", "country", "expected", "valid"),
    [
        ("DE 136 695 976", None, "DE136695976", True),
        ("136695976", "DE", "DE136695976", True),
        ("DE136695977", None, "DE136695977", False),
        ("GB980780684", None, "GB980780684", True),
        ("CHE-116.281.710 MWST", "CH", "CHE116281710", True),  # MWST/TVA/IVA: one number
        ("12-3456789", "US", "US123456789", True),
        ("ATU13585627", "AT", "ATU13585627", True),
    ],
)
def test_tax_ids_are_compacted_prefixed_and_checked(raw, country, expected, valid) -> None:
    parsed = parse_tax_id(raw, country)
    assert (parsed.value, parsed.valid) == (expected, valid)


def test_unknown_country_is_unchecked_not_invalid() -> None:
    assert parse_tax_id("12345", "ZZ").valid is None
    assert parse_tax_id("12345").valid is None


def rules(domain: str, attrs: dict) -> set[str]:
    d = load_registry().get(domain)
    values, errors = d.parse_attributes(attrs)
    assert errors == {}
    return {f.rule for f in d.quality_findings(values)}


def test_supplier_rules_flag_without_rejecting() -> None:
    assert (
        rules(
            "supplier",
            {
                "name": "A",
                "country": "DE",
                "tax_id": "DE136695976",
                "iban": "DE89370400440532013000",
                "bic": "DEUTDEFF",
                "currency": "EUR",
                "email": "ap@acme.de",
                "duns": "150483782",
            },
        )
        == set()
    )
    assert rules(
        "supplier",
        {
            "name": "A",
            "country": "XX",
            "iban": "DE89370400440532013001",
            "bic": "DEUT",
            "currency": "EURO",
            "email": "nope",
            "duns": "12",
        },
    ) == {
        "country.iso3166",
        "iban.invalid",
        "bic.invalid",
        "currency.iso4217",
        "email.format",
        "duns.format",
    }
    assert rules("supplier", {"name": "A", "country": "FR", "tax_id": "DE136695976"}) == {
        "tax_id.country_mismatch"
    }


def test_legal_entity_lei_and_ownership() -> None:
    assert (
        rules(
            "legal_entity",
            {"code": "LE1", "name": "X", "lei": "529900T8BM49AURSDO55", "ownership_pct": "51.5"},
        )
        == set()
    )
    assert rules(
        "legal_entity",
        {"code": "LE1", "name": "X", "lei": "529900T8BM49AURSDO56", "ownership_pct": "120"},
    ) == {"lei.invalid", "percentage.range"}


def test_gl_account_choices() -> None:
    assert (
        rules(
            "gl_account",
            {
                "chart": "IFRS",
                "code": "1000",
                "name": "Cash",
                "account_type": "asset",
                "normal_balance": "debit",
            },
        )
        == set()
    )
    assert rules(
        "gl_account", {"chart": "IFRS", "code": "1000", "name": "Cash", "account_type": "cash"}
    ) == {"value.choice"}
