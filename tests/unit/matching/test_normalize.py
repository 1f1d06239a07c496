from __future__ import annotations

import pytest

from mdm.matching.normalize import (
    normalize_company_name,
    normalize_country,
    normalize_email_domain,
    normalize_iban,
    normalize_phone,
    normalize_postcode,
    normalize_street,
    normalize_tax_id,
    normalize_website_domain,
)


@pytest.mark.parametrize(
    ("raw", "core", "form"),
    [
        ("Müller GmbH", "muller", "gmbh"),
        ("Mueller Gesellschaft mit beschränkter Haftung", "muller", "gmbh"),
        ("MULLER G.m.b.H.", "muller", "gmbh"),
        ("Foo & Bar Ltd", "foo and bar", "ltd"),
        ("Foo and Bar Limited", "foo and bar", "ltd"),
        ("Acme International Inc.", "acme international", "inc"),
        ("ACME Intl Incorporated", "acme international", "inc"),
        ("Société Générale S.A.", "societe generale", "sa"),
        ("Philips N.V.", "philips", "nv"),
        ("Orlen Sp. z o.o.", "orlen", "sp z oo"),
        ("Bosch GmbH & Co. KG", "bosch", "gmbh & co kg"),
        ("Fiat S.p.A.", "fiat", "spa"),
        ("Novo Nordisk A/S", "novo nordisk", "as"),
        ("Nokia Oyj", "nokia", "oyj"),
        ("Volvo AB", "volvo", "ab"),
        ("OOO Gazprom", "gazprom", "ooo"),
        ("Acme Co., Ltd.", "acme", "ltd"),
        ("The Coca-Cola Company", "coca cola", None),
    ],
)
def test_company_names_split_core_and_canonical_legal_form(raw, core, form):
    name = normalize_company_name(raw)
    assert (name.core, name.legal_form) == (core, form)


def test_transliteration_makes_umlaut_digraph_and_bare_vowel_meet():
    spellings = ["Bäckerei Müller", "Baeckerei Mueller", "Backerei Muller", "BÄCKEREI MÜLLER"]
    assert {normalize_company_name(s).core for s in spellings} == {"backerei muller"}


def test_a_legal_form_alone_is_a_name_not_a_form():
    assert normalize_company_name("AG").core == "ag"


@pytest.mark.parametrize(
    ("raw", "country", "expected", "valid"),
    [
        ("DE 136 695 976", None, "DE136695976", True),
        ("136695976", "DE", "DE136695976", True),
        ("de136695976", "FR", "DE136695976", True),   # explicit prefix wins
        ("136695975", "DE", "DE136695975", False),    # wrong check digit
        ("094259216", "GR", "EL094259216", True),     # Greece uses EL
        ("GB 980 7806 84", None, "GB980780684", True),
    ],
)
def test_tax_ids_are_compacted_with_country_prefix_and_validated(raw, country, expected, valid):
    tax = normalize_tax_id(raw, country)
    assert (tax.value, tax.valid) == (expected, valid)


def test_tax_id_without_country_context_is_kept_but_not_valid():
    tax = normalize_tax_id("136695976")
    assert (tax.value, tax.valid) == ("136695976", None)


@pytest.mark.parametrize(
    ("raw", "country"),
    [("030 1234567", "DE"), ("+49 (30) 1234-567", None), ("0049 30 1234567", "FR")],
)
def test_phone_numbers_become_e164(raw, country):
    assert normalize_phone(raw, country) == "+49301234567"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Hauptstraße 5", "Hauptstr. 5"),
        ("Hauptstrasse 5", "HAUPTSTR 5"),
        ("12 Main Street", "12 main st."),
        ("5 Park Avenue", "5 Park Ave"),
        ("1 Mill Road", "1 Mill Rd"),
    ],
)
def test_street_type_abbreviations_are_canonical(a, b):
    assert normalize_street(a) == normalize_street(b)


def test_postcodes_lose_country_tags_and_spaces():
    assert normalize_postcode("D-10115") == "10115"
    assert normalize_postcode("sw1a 1aa") == "SW1A1AA"


def test_countries_resolve_to_alpha2():
    assert normalize_country("Germany") == normalize_country("DEU") == "DE"
    assert normalize_country("Atlantis") is None


def test_email_and_website_reduce_to_domain_and_free_mail_is_ignored():
    assert normalize_email_domain("AP@Acme.COM") == "acme.com"
    assert normalize_email_domain("someone@gmail.com") is None
    assert normalize_website_domain("https://www.acme.com/de/") == "acme.com"


def test_iban_is_compacted_and_checked():
    iban = normalize_iban("DE89 3704 0044 0532 0130 00")
    assert (iban.value, iban.valid) == ("DE89370400440532013000", True)
    assert normalize_iban("DE88 3704 0044 0532 0130 00").valid is False
