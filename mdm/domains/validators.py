"""Data-quality rules for attribute values, built on python-stdnum and pycountry.

A rule never rejects a record: it returns findings that are stored and flagged with the
record. Each rule has a stable id (``<rule>``) that stewards can filter on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Any

import pycountry
from stdnum import bic as std_bic
from stdnum import get_cc_module
from stdnum import iban as std_iban
from stdnum import lei as std_lei
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

ERROR = "error"
WARNING = "warning"

# Greece uses EL in VAT numbers; Northern Ireland XI. Both are EU VAT prefixes, not ISO codes.
_VAT_PREFIX_TO_COUNTRY = {"EL": "GR", "XI": "GB"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


@dataclass(frozen=True)
class Finding:
    attribute: str
    rule: str
    severity: str
    message: str


@dataclass(frozen=True)
class TaxId:
    """A tax identifier after validation: compact form with its country prefix when known."""

    value: str
    country: str | None
    valid: bool | None  # None: no validator exists for that country
    reason: str = ""


@lru_cache(maxsize=512)
def is_country(code: str) -> bool:
    return len(code) == 2 and pycountry.countries.get(alpha_2=code.upper()) is not None


@lru_cache(maxsize=512)
def is_currency(code: str) -> bool:
    return len(code) == 3 and pycountry.currencies.get(alpha_3=code.upper()) is not None


def _compact(value: str) -> str:
    return re.sub(r"[\s.\-/_,:]", "", value).upper()


@lru_cache(maxsize=256)
def _tax_modules(country: str) -> tuple[ModuleType, ...]:
    mods = []
    for name in ("vat", "tin", "ein"):
        mod = get_cc_module(country.lower(), name)
        if mod is not None:
            mods.append(mod)
    return tuple(mods)


@lru_cache(maxsize=65536)
def parse_tax_id(value: str, country: str | None = None) -> TaxId:
    """Validate a VAT number or national tax id and return its canonical form.

    An EU VAT number carries its own country prefix; anything else is checked with the
    record's country. The canonical value is ``CC`` + compact number, so "DE 136 695 976"
    and "136695976" (country DE) meet.
    """
    compact = _compact(value)
    country = (country or "").upper() or None
    prefix = compact[:2]
    if prefix.isalpha() and (prefix.lower() in eu_vat.MEMBER_STATES or prefix in ("EL", "XI")):
        iso = _VAT_PREFIX_TO_COUNTRY.get(prefix, prefix)
        try:
            eu_vat.validate(compact)
            return TaxId(compact, iso, True)
        except StdnumError as exc:
            return TaxId(compact, iso, False, str(exc))
    if prefix.isalpha() and not country and is_country(prefix) and _tax_modules(prefix):
        country = prefix  # e.g. a GB or CH VAT number that names its own country
    if prefix.isalpha() and country and prefix == country:
        compact = compact[2:]
    if not country:
        return TaxId(compact, None, None, "no country to validate against")
    mods = _tax_modules(country)
    if not mods:
        return TaxId(country + compact, country, None, f"no tax id rules known for {country}")
    reasons = []
    for mod in mods:
        try:
            # stdnum knows each country's own formatting (CHE-...MWST), so try the raw value first
            try:
                number = mod.validate(value)
            except StdnumError:
                number = mod.validate(compact)
            number = _compact(str(number))
            if not number.startswith(country):
                number = country + number
            return TaxId(number, country, True)
        except StdnumError as exc:
            reasons.append(str(exc))
    return TaxId(country + compact, country, False, reasons[0])


def _check_tax_id(attr: str, value: Any, attrs: dict[str, Any]) -> list[Finding]:
    parsed = parse_tax_id(str(value), attrs.get("country"))
    if parsed.valid is False:
        return [Finding(attr, "tax_id.invalid", ERROR, f"Invalid tax id: {parsed.reason}")]
    if (
        parsed.valid
        and attrs.get("country")
        and parsed.country
        and parsed.country != str(attrs["country"]).upper()
    ):
        return [
            Finding(
                attr,
                "tax_id.country_mismatch",
                WARNING,
                f"Tax id is from {parsed.country} but the record's country is {attrs['country']}",
            )
        ]
    return []


def _std(rule: str, module: ModuleType, label: str) -> Callable[..., list[Finding]]:
    def check(attr: str, value: Any, _attrs: dict[str, Any]) -> list[Finding]:
        try:
            module.validate(str(value))
        except StdnumError as exc:
            return [Finding(attr, rule, ERROR, f"Invalid {label}: {exc}")]
        return []

    return check


def _check_country(attr: str, value: Any, _attrs: dict[str, Any]) -> list[Finding]:
    if not is_country(str(value)):
        return [
            Finding(attr, "country.iso3166", ERROR, f"'{value}' is not an ISO 3166-1 alpha-2 code")
        ]
    return []


def _check_currency(attr: str, value: Any, _attrs: dict[str, Any]) -> list[Finding]:
    if not is_currency(str(value)):
        return [Finding(attr, "currency.iso4217", ERROR, f"'{value}' is not an ISO 4217 code")]
    return []


def _check_email(attr: str, value: Any, _attrs: dict[str, Any]) -> list[Finding]:
    if not _EMAIL.match(str(value)):
        return [Finding(attr, "email.format", WARNING, f"'{value}' is not an e-mail address")]
    return []


def _check_duns(attr: str, value: Any, _attrs: dict[str, Any]) -> list[Finding]:
    if not re.fullmatch(r"\d{9}", _compact(str(value))):
        return [Finding(attr, "duns.format", WARNING, "A D-U-N-S number has nine digits")]
    return []


def _check_percentage(attr: str, value: Any, _attrs: dict[str, Any]) -> list[Finding]:
    try:
        pct = float(value)
    except (TypeError, ValueError):
        return [Finding(attr, "percentage.range", ERROR, "Not a number")]
    if not 0 <= pct <= 100:
        return [Finding(attr, "percentage.range", ERROR, f"{value} is outside 0..100")]
    return []


CHECKS: dict[str, Callable[[str, Any, dict[str, Any]], list[Finding]]] = {
    "country": _check_country,
    "currency": _check_currency,
    "tax_id": _check_tax_id,
    "iban": _std("iban.invalid", std_iban, "IBAN"),
    "bic": _std("bic.invalid", std_bic, "BIC"),
    "lei": _std("lei.invalid", std_lei, "LEI (ISO 17442)"),
    "email": _check_email,
    "duns": _check_duns,
    "percentage": _check_percentage,
}


def check_choice(attr: str, value: Any, choices: tuple[str, ...]) -> list[Finding]:
    if value not in choices:
        return [
            Finding(attr, "value.choice", ERROR, f"'{value}' is not one of {', '.join(choices)}")
        ]
    return []
