"""Data-quality rules for attribute values; identifiers are checked by ``mdm.identifiers``.

A rule never rejects a record: it returns findings that are stored and flagged with the
record. Each rule has a stable id (``<rule>``) that stewards can filter on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pycountry

from mdm import identifiers
from mdm.identifiers import Checked, TaxId, is_country, parse_tax_id

__all__ = ["CHECKS", "Finding", "TaxId", "check_choice", "is_country", "is_currency",
           "parse_tax_id"]

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    attribute: str
    rule: str
    severity: str
    message: str


@lru_cache(maxsize=512)
def is_currency(code: str) -> bool:
    return len(code) == 3 and pycountry.currencies.get(alpha_3=code.upper()) is not None


def _check_tax_id(attr: str, value: Any, attrs: dict[str, Any]) -> list[Finding]:
    parsed = parse_tax_id(value, attrs.get("country"))
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


def _identifier(rule: str, parse: Callable[[Any], Checked], label: str,
                severity: str = ERROR) -> Callable[..., list[Finding]]:
    """A finding when ``mdm.identifiers`` finds the value invalid (matching reads the same)."""

    def check(attr: str, value: Any, _attrs: dict[str, Any]) -> list[Finding]:
        parsed = parse(value)
        if parsed.valid:
            return []
        return [Finding(attr, rule, severity, f"Invalid {label}: {parsed.reason}")]

    return check


def _check_phone(attr: str, value: Any, attrs: dict[str, Any]) -> list[Finding]:
    parsed = identifiers.parse_phone(value, attrs.get("country"))
    if parsed.valid:
        return []
    return [Finding(attr, "phone.invalid", WARNING, f"'{value}' is not a phone number: "
                    f"{parsed.reason}")]


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
    "iban": _identifier("iban.invalid", identifiers.parse_iban, "IBAN"),
    "bic": _identifier("bic.invalid", identifiers.parse_bic, "BIC"),
    "lei": _identifier("lei.invalid", identifiers.parse_lei, "LEI (ISO 17442)"),
    "email": _identifier("email.format", identifiers.parse_email, "e-mail address", WARNING),
    "duns": _identifier("duns.format", identifiers.parse_duns, "D-U-N-S number", WARNING),
    "phone": _check_phone,
    "percentage": _check_percentage,
}


def check_choice(attr: str, value: Any, choices: tuple[str, ...]) -> list[Finding]:
    if value not in choices:
        return [
            Finding(attr, "value.choice", ERROR, f"'{value}' is not one of {', '.join(choices)}")
        ]
    return []
