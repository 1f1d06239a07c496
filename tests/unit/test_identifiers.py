"""One identifier rule, two users: validation and matching must agree on every value.

Each row is a tricky spelling (separators, lower case, spaces, wrong length, another
country's format, the EL and XI VAT prefixes). Validation's finding and matching's
feature row are both computed from the row and compared with the expectation, so the
two can never drift apart again.
"""

from __future__ import annotations

from typing import Any

import pytest

from mdm import identifiers
from mdm.domains.validators import CHECKS
from mdm.matching.features import FeatureSchema, FeatureSpec

# Rule id of the finding validation raises for an invalid value of each kind.
INVALID_RULE = {"tax_id": "tax_id.invalid", "iban": "iban.invalid", "bic": "bic.invalid",
                "lei": "lei.invalid", "duns": "duns.format", "email": "email.format",
                "phone": "phone.invalid"}
# The matching normaliser of each kind, as the shipped match settings name it.
NORMALIZER = {"tax_id": "tax_id", "iban": "iban", "bic": "bic", "lei": "lei",
              "duns": "duns", "email": "email_domain", "phone": "phone"}


def _mod97(country: str, bban: str) -> str:
    """An IBAN with correct ISO 13616 check digits for any BBAN (right or wrong length)."""
    digits = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


# (kind, raw, record country, valid, canonical value matching compares). valid None:
# no rules known, so validation raises nothing and matching does not count it as valid.
TABLE: list[tuple[str, str, str | None, bool | None, str | None]] = [
    ("tax_id", "DE136695976", None, True, "DE136695976"),
    ("tax_id", "de 136 695 976", "DE", True, "DE136695976"),
    ("tax_id", "136.695.976", "DE", True, "DE136695976"),
    ("tax_id", "DE-136/695-976", "DE", True, "DE136695976"),
    ("tax_id", "DE13669597", None, False, "DE13669597"),               # too short
    ("tax_id", "DE1366959761", "DE", False, "DE1366959761"),           # too long
    ("tax_id", "136695975", "DE", False, "DE136695975"),               # check digit
    ("tax_id", "136695976", "FR", False, "FR136695976"),               # a DE number in FR
    ("tax_id", "DE136695976", "FR", True, "DE136695976"),              # its prefix wins
    ("tax_id", "XI123456782", None, True, "GB123456782"),              # Northern Ireland
    ("tax_id", "xi 123 4567 82", "GB", True, "GB123456782"),
    ("tax_id", "GB 123 4567 82", None, True, "GB123456782"),
    ("tax_id", "123456782", "GB", True, "GB123456782"),
    ("tax_id", "XI123456783", None, False, "GB123456783"),
    ("tax_id", "EL094259216", None, True, "EL094259216"),              # Greece writes EL
    ("tax_id", "el-094 259 216", "GR", True, "EL094259216"),
    ("tax_id", "GR094259216", None, True, "EL094259216"),
    ("tax_id", "094259216", "GR", True, "EL094259216"),
    ("tax_id", "EL094259217", "GR", False, "EL094259217"),
    ("tax_id", "CHE-116.281.710 MWST", "CH", True, "CHE116281710"),
    ("tax_id", "CHE 116 281 710 TVA", None, True, "CHE116281710"),
    ("tax_id", "atu13585627", None, True, "ATU13585627"),
    ("tax_id", "12345", None, None, "12345"),                          # no country
    ("iban", "DE89 3704 0044 0532 0130 00", None, True, "DE89370400440532013000"),
    ("iban", "de89370400440532013000", None, True, "DE89370400440532013000"),
    ("iban", "DE89-3704-0044-0532-0130-00", None, True, "DE89370400440532013000"),
    ("iban", "DE88370400440532013000", None, False, "DE88370400440532013000"),
    # Right mod-97, wrong length for Germany: invalid for both.
    ("iban", "DE543704004405320130001", None, False, "DE543704004405320130001"),
    # A German BBAN under Austria's code, with correct check digits: wrong layout.
    ("iban", _mod97("AT", "370400440532013000"), None, False,
     _mod97("AT", "370400440532013000")),
    ("iban", "GB82 WEST 1234 5698 7654 32", None, True, "GB82WEST12345698765432"),
    ("iban", "NL91ABNA041716430", None, False, "NL91ABNA041716430"),
    ("bic", "deutdeff", None, True, "DEUTDEFFXXX"),
    ("bic", "DEUT DE FF 500", None, True, "DEUTDEFF500"),
    ("bic", "DEUT12FF", None, False, "DEUT12FF"),
    ("bic", "DEUT", None, False, "DEUT"),
    ("lei", "529900T8BM49AURSDO55", None, True, "529900T8BM49AURSDO55"),
    ("lei", "5299 00t8 bm49 aurs do55", None, True, "529900T8BM49AURSDO55"),
    ("lei", "529900T8BM49AURSDO56", None, False, "529900T8BM49AURSDO56"),
    ("lei", "529900T8BM49AURSDO5", None, False, "529900T8BM49AURSDO5"),
    ("duns", "150483782", None, True, "150483782"),
    ("duns", "15-048-3782", None, True, "150483782"),
    ("duns", "15048378", None, False, "15048378"),
    ("email", "AP@Acme.COM", None, True, "acme.com"),
    ("email", " ap@www.acme.com ", None, True, "acme.com"),
    ("email", "someone@gmail.com", None, True, None),                  # free mail: no evidence
    ("email", "ap@acme", None, False, None),
    ("email", "nope", None, False, None),
    ("phone", "030 1234567", "DE", True, "+49301234567"),
    ("phone", "+49 (30) 1234-567", None, True, "+49301234567"),
    ("phone", "0049 30 1234567", "FR", True, "+49301234567"),
    ("phone", "+44 20 7946 0958", "DE", True, "+442079460958"),
    ("phone", "+49 30", None, False, "+4930"),                         # too short
    ("phone", "n/a", "DE", False, None),
]


def _validation_says_invalid(kind: str, raw: str, country: str | None) -> bool:
    findings = CHECKS[kind](kind, raw, {"country": country} if country else {})
    return any(f.rule == INVALID_RULE[kind] for f in findings)


def _matching_row(kind: str, raw: str, country: str | None) -> dict[str, Any]:
    spec = FeatureSpec(kind, kind, NORMALIZER[kind],
                       country_from="country" if kind in ("tax_id", "phone") else None)
    schema = FeatureSchema([spec, FeatureSpec("country", "country", "country")])
    return dict(zip(schema.names, schema.row({kind: raw, "country": country}), strict=True))


@pytest.mark.parametrize(("kind", "raw", "country", "valid", "canonical"), TABLE,
                         ids=[f"{k}:{r}:{c}" for k, r, c, *_ in TABLE])
def test_validation_and_matching_agree(kind, raw, country, valid, canonical) -> None:
    row = _matching_row(kind, raw, country)
    assert row[kind] == canonical
    assert _validation_says_invalid(kind, raw, country) is (valid is False)
    if f"{kind}.valid" in row:  # matching reads validity for identifiers with a checksum
        assert row[f"{kind}.valid"] is (valid is True)


@pytest.mark.parametrize(
    ("kind", "spellings", "country"),
    [
        ("tax_id", ["XI123456782", "GB123456782", "gb 123 4567 82"], None),
        ("tax_id", ["EL094259216", "GR094259216", "094259216"], "GR"),
        ("tax_id", ["DE136695976", "de-136.695.976", "136695976"], "DE"),
        ("iban", ["DE89 3704 0044 0532 0130 00", "de89370400440532013000"], None),
        ("tax_id", ["CHE-116.281.710 MWST", "CHE-116.281.710 TVA", "che116281710iva"], "CH"),
    ],
)
def test_every_spelling_of_one_identifier_meets_in_matching(kind, spellings, country) -> None:
    values = {_matching_row(kind, s, country)[kind] for s in spellings}
    assert len(values) == 1


def test_checks_are_total_on_junk() -> None:
    for junk in ("", "   ", "-/.", "ÄÖÜ", "\u200b", "x" * 500):
        for parse in (identifiers.parse_iban, identifiers.parse_bic, identifiers.parse_lei,
                      identifiers.parse_duns, identifiers.parse_email):
            assert parse(junk).valid is False
        assert identifiers.parse_tax_id(junk, "DE").valid is not True
        assert identifiers.parse_phone(junk, "DE").valid is False
