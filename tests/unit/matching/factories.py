"""Small, hand-written supplier data for the matching tests."""

from __future__ import annotations

from typing import Any

from mdm.matching import MatchSettings, ModelParams, Record, default_settings

# Valid check digits (python-stdnum): two German and one French VAT number.
DE_VAT_A = "DE136695976"
DE_VAT_B = "DE129273398"
FR_VAT = "FR40303265045"


def supplier(rid: str, source: str = "SAP", **attrs: Any) -> Record:
    base = {"name": None, "street": None, "postal_code": None, "city": None,
            "country": "DE", "tax_id": None, "phone": None, "email": None,
            "website": None, "iban": None, "duns": None}
    base.update(attrs)
    return Record(rid, source, base)


def supplier_settings(**overrides: Any) -> MatchSettings:
    data = default_settings("supplier")
    data.update(overrides)
    return MatchSettings.from_dict(data)


def supplier_params(settings: MatchSettings) -> ModelParams:
    """Hand-set parameters so tests do not depend on EM converging on tiny data."""
    params = ModelParams.defaults(settings, prior=1e-3)
    return params


def acme_family() -> list[Record]:
    """Three copies of Acme Germany, plus Acme France (same brand, other entity)."""
    return [
        supplier("s1", "SAP", name="Acme Logistik GmbH", street="Hauptstraße 5",
                 postal_code="10115", city="Berlin", tax_id="DE 136 695 976",
                 phone="030 1234567", website="www.acme.com"),
        supplier("s2", "ORACLE", name="ACME Logistik Gesellschaft mit beschränkter Haftung",
                 street="Hauptstr. 5", postal_code="D-10115", city="Berlin",
                 tax_id="136695976", phone="+49 30 1234567"),
        supplier("s3", "COUPA", name="Acme Logistik", street="Hauptstrasse 5",
                 postal_code="10115", city="BERLIN", phone="+49301234567",
                 email="ap@acme.com"),
        supplier("f1", "SAP", name="Acme Logistique SAS", street="12 Rue de la Paix",
                 postal_code="75002", city="Paris", country="FR", tax_id=FR_VAT,
                 phone="01 42 00 00 00", website="https://acme.com/fr"),
    ]


def strangers() -> list[Record]:
    return [
        supplier("x1", "SAP", name="Müller Maschinenbau AG", street="Industriestr. 9",
                 postal_code="80331", city="München", tax_id=DE_VAT_B),
        supplier("x2", "COUPA", name="Mueller Maschinenbau Aktiengesellschaft",
                 street="Industriestraße 9", postal_code="80331", city="Muenchen"),
        supplier("x3", "SAP", name="Schmidt Elektro GmbH", street="Lindenweg 3",
                 postal_code="50667", city="Köln"),
    ]
