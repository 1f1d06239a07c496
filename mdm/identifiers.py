"""The identifier rules, once: tax ids, IBAN, BIC, LEI, D-U-N-S, e-mail and phone numbers.

Validation (``mdm.domains.validators``) reports findings from these results and
matching (``mdm.matching.features``) compares their canonical values, so the two can
never disagree about whether an identifier is valid or which spellings are the same
identifier. Every function is pure, total (bad input gives an invalid result, never an
exception) and cached on the compacted value, because a batch checks a million of them.
The checks themselves are python-stdnum's and phonenumbers'.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers
import pycountry
from anyascii import anyascii
from stdnum import bic as std_bic
from stdnum import get_cc_module
from stdnum import iban as std_iban
from stdnum import lei as std_lei
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

__all__ = [
    "FREE_MAIL_DOMAINS",
    "Checked",
    "Phone",
    "TaxId",
    "compact",
    "email_domain",
    "is_country",
    "parse_bic",
    "parse_duns",
    "parse_email",
    "parse_iban",
    "parse_lei",
    "parse_phone",
    "parse_tax_id",
    "phone_e164",
]

_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


def compact(value: object) -> str:
    """Upper-case ASCII letters and digits only: every separator and space removed."""
    return _NOT_ALNUM.sub("", anyascii(str(value)).upper())


@lru_cache(maxsize=512)
def is_country(code: str) -> bool:
    """Whether ``code`` is an ISO 3166-1 alpha-2 country code (any case)."""
    return len(code) == 2 and pycountry.countries.get(alpha_2=code.upper()) is not None


@dataclass(frozen=True, slots=True)
class Checked:
    """An identifier in canonical form and whether its format and check digits hold."""

    value: str | None
    valid: bool
    reason: str = ""


# --- tax ids -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaxId:
    """A VAT number or national tax id: canonical ``<prefix><number>`` and its check.

    ``valid`` is None when no rules are known for the country (or there is no country
    to check against): unchecked is not invalid for validation, and not "valid" for
    matching either.
    """

    value: str | None
    country: str | None  # ISO 3166 alpha-2 the number belongs to
    valid: bool | None
    reason: str = ""


# EU VAT prefixes that are not the ISO code: Greece writes EL; Northern Ireland's
# traders write XI before the same UK VAT registration number their GB number has.
_VAT_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}
# The prefix a canonical value carries: EL for Greece (as VIES writes it) and GB for a
# UK registration whether it was written XI or GB, so both spellings meet.
_CANONICAL_PREFIX = {"GR": "EL"}
_EU_PREFIXES = frozenset(
    {cc.upper() for cc in eu_vat.MEMBER_STATES} | set(_VAT_PREFIX_COUNTRY)
)
# Swiss numbers end in the language of the register (MWST/TVA/IVA); the number is one.
_SWISS_SUFFIX = re.compile(r"(MWST|TVA|IVA)$")


@lru_cache(maxsize=256)
def _tax_modules(country: str) -> tuple[Any, ...]:  # stdnum modules
    mods: list[Any] = []
    for name in ("vat", "tin", "ein"):
        mod = get_cc_module(country.lower(), name)
        if mod is not None:
            mods.append(mod)
    return tuple(mods)


def parse_tax_id(value: object, country: str | None = None) -> TaxId:
    """Check a VAT number or national tax id and return its canonical form.

    A number that starts with an EU VAT prefix (including EL and XI) or with the ISO
    code of a country whose rules are known is checked as that country's; anything else
    with the record's ``country``. "DE 136 695 976", "de136695976" and "136695976"
    (country DE) all become "DE136695976".
    """
    if value is None:
        return TaxId(None, None, None, "empty")
    number = compact(value)
    if not number:
        return TaxId(None, None, None, "empty")
    cc = (country or "").strip().upper() or None
    return _checked_tax_id(number, cc if cc and is_country(cc) else None)


@lru_cache(maxsize=262144)
def _checked_tax_id(number: str, country: str | None) -> TaxId:
    prefix = number[:2]
    if prefix.isalpha():
        named = None
        if prefix in _EU_PREFIXES:
            named = _checked_eu_vat(number, _VAT_PREFIX_COUNTRY.get(prefix, prefix))
        elif is_country(prefix) and _tax_modules(prefix) and (
                country is None or prefix == country or prefix == "CH"):
            # "CHE-..." names its own country; so does "GB..." on a record without one.
            named = _checked_national(number, prefix)
        if named is not None:
            if named.valid or country is None or country == named.country:
                return named
            # A national number of the record's country may begin with letters that
            # look like another country's prefix (an Italian codice fiscale "DE...").
            national = _checked_national(number, country)
            return national if national.valid else named
    if country is None:
        return TaxId(number, None, None, "no country to check the tax id against")
    return _checked_national(number, country)


def _checked_eu_vat(number: str, country: str) -> TaxId:
    """An EU VAT number with its prefix (EL/XI included): stdnum's per-country rules."""
    canonical = _CANONICAL_PREFIX.get(country, country)
    try:
        module = _tax_modules(country)[0]
        body = module.compact(number)  # strips the prefix, keeps the country's letters
        eu_vat.validate(number)
    except (StdnumError, IndexError) as exc:
        body = number[2:]
        return TaxId(canonical + body, country, False, str(exc) or "invalid VAT number")
    return TaxId(canonical + body, country, True)


def _checked_national(number: str, country: str) -> TaxId:
    """A national number (or a non-EU VAT number) checked with ``country``'s modules."""
    modules = _tax_modules(country)
    if not modules:
        return TaxId(country + number, country, None, f"no tax id rules known for {country}")
    prefix = _CANONICAL_PREFIX.get(country, country)
    reason = ""
    for module in modules:
        try:
            checked = compact(module.validate(number))
        except StdnumError as exc:
            reason = reason or str(exc) or "invalid tax id"
            continue
        if country == "CH":
            checked = _SWISS_SUFFIX.sub("", checked)
        if not checked.startswith(prefix):
            checked = prefix + checked
        return TaxId(checked, country, True)
    body = number if number.startswith(prefix) else prefix + number
    return TaxId(body, country, False, reason or "invalid tax id")


# --- bank and entity identifiers -------------------------------------------------------


def _compacted(value: object, check: Callable[[str], Checked]) -> Checked:
    """``check`` on the compacted value; nothing (or only separators) is "empty"."""
    code = compact(value) if value is not None else ""
    return check(code) if code else Checked(None, False, "empty")


def parse_iban(value: object) -> Checked:
    """IBAN compacted; valid when the country's length and BBAN format and ISO 13616
    check digits hold (a right mod-97 with a wrong length for the country is invalid)."""
    return _compacted(value, _checked_iban)


@lru_cache(maxsize=262144)
def _checked_iban(number: str) -> Checked:
    try:
        std_iban.validate(number)
    except StdnumError as exc:
        return Checked(number, False, str(exc) or "invalid IBAN")
    return Checked(number, True)


def parse_bic(value: object) -> Checked:
    """BIC (ISO 9362) compacted to 11 characters: "XXX" is the head office branch."""
    return _compacted(value, _checked_bic)


@lru_cache(maxsize=65536)
def _checked_bic(code: str) -> Checked:
    try:
        std_bic.validate(code)
    except StdnumError as exc:
        return Checked(code, False, str(exc) or "invalid BIC")
    return Checked(code + "XXX" if len(code) == 8 else code, True)


def parse_lei(value: object) -> Checked:
    """LEI (ISO 17442): 20 characters with ISO 7064 mod 97-10 check digits."""
    return _compacted(value, _checked_lei)


@lru_cache(maxsize=65536)
def _checked_lei(code: str) -> Checked:
    try:
        std_lei.validate(code)
    except StdnumError as exc:
        return Checked(code, False, str(exc) or "invalid LEI")
    return Checked(code, True)


def parse_duns(value: object) -> Checked:
    """D-U-N-S number: nine digits (it has no check digit, so the format is all there is)."""
    return _compacted(value, _checked_duns)


def _checked_duns(code: str) -> Checked:
    if len(code) == 9 and code.isdigit():
        return Checked(code, True)
    return Checked(code, False, "a D-U-N-S number has nine digits")


# --- contact identifiers ---------------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s]+@([^@\s]+\.[A-Za-z]{2,})$")

# Addresses at these providers say nothing about which company a contact works for.
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com",
    "icloud.com", "aol.com", "gmx.de", "gmx.net", "web.de", "mail.ru", "yandex.ru",
    "qq.com", "163.com", "orange.fr", "free.fr", "libero.it", "t-online.de",
})


def parse_email(value: object) -> Checked:
    """E-mail address, trimmed, domain lower-cased; valid when it is local@domain.tld."""
    if value is None:
        return Checked(None, False, "empty")
    text = str(value).strip()
    if not text:
        return Checked(None, False, "empty")
    match = _EMAIL.match(text)
    if match is None:
        return Checked(text, False, "not an e-mail address")
    local = text[: match.start(1) - 1]
    return Checked(f"{local}@{match.group(1).lower().rstrip('.')}", True)


def email_domain(value: object) -> str | None:
    """The organisation's domain of a valid e-mail address; None for free-mail providers
    and for anything ``parse_email`` does not accept (no evidence from a malformed one)."""
    parsed = parse_email(value)
    if not parsed.valid or parsed.value is None:
        return None
    domain = parsed.value.rsplit("@", 1)[1].removeprefix("www.")
    return None if domain in FREE_MAIL_DOMAINS else domain


@dataclass(frozen=True, slots=True)
class Phone:
    """E.164 form of a phone number ("+4930123456"), or its digits when unparsable."""

    value: str | None
    valid: bool
    reason: str = ""


_PHONE_SEPARATORS = re.compile(r"[\s\-./]+")


def parse_phone(value: object, country: str | None = None) -> Phone:
    """Phone number in E.164, the record's country as the default region.

    ``valid`` means the number fits its region's numbering plan (libphonenumber's
    metadata); a number that cannot be parsed keeps its digits as the value so it can
    still be compared (a record without a country sends national numbers).
    """
    key, region = _phone_key(value, country)
    if not key:
        return Phone(None, False, "empty")
    number, canonical, reason = _parsed_phone(key, region)
    if number is None:
        return Phone(canonical, False, reason)
    if not _valid_phone(key, region):
        return Phone(canonical, False, "not a number of its region's numbering plan")
    return Phone(canonical, True)


def phone_e164(value: object, country: str | None = None) -> str | None:
    """``parse_phone(...).value`` without the numbering-plan check matching does not need."""
    key, region = _phone_key(value, country)
    return _parsed_phone(key, region)[1] if key else None


def _phone_key(value: object, country: str | None) -> tuple[str, str | None]:
    if value is None:
        return "", None
    key = _PHONE_SEPARATORS.sub("", str(value))
    # An international number means the same whatever the record's country.
    region = None if key.startswith("+") else (country or "").upper() or None
    return key, region


# Keyed by the number without separators: "+49 30 1234", "+49-30-1234" parse once.
@lru_cache(maxsize=262144)
def _parsed_phone(key: str, region: str | None) -> tuple[Any, str | None, str]:
    try:
        number = phonenumbers.parse(key, region)
    except phonenumbers.NumberParseException as exc:
        digits = re.sub(r"\D", "", key)
        return None, digits or None, str(exc)
    return number, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), ""


@lru_cache(maxsize=65536)
def _valid_phone(key: str, region: str | None) -> bool:
    number = _parsed_phone(key, region)[0]
    return number is not None and phonenumbers.is_valid_number(number)
