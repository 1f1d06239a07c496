"""Turns a raw ``Record`` into the normalised feature row the engine compares.

A feature spec names a normaliser from ``NORMALIZERS``; some normalisers emit
companion features (a company name yields ``<name>.legal_form``, a tax id yields
``<name>.valid``). Rows are tuples in schema order because a million of them must fit
in memory and be compared in a tight loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mdm.matching import normalize as n
from mdm.matching.records import PreparedRecord, Record

__all__ = ["NORMALIZERS", "FeatureSpec", "FeatureSchema"]

# A normaliser maps (raw value, country, params) to a tuple: the feature's value, then
# its companion features in ``_COMPANIONS`` order.
Normalizer = Callable[[Any, str | None, dict[str, Any]], tuple[Any, ...]]


def _company_name(value: Any, country: str | None, params: dict[str, Any]) -> tuple[Any, ...]:
    name = n.normalize_company_name(value)
    return name.core, name.legal_form


# Identifiers: canonical value and validity exactly as validation sees them
# (``mdm.identifiers``); "unchecked" (no rules for the country) is not valid here.
def _tax_id(value: Any, country: str | None, params: dict[str, Any]) -> tuple[Any, ...]:
    tax = n.normalize_tax_id(value, country)
    return tax.value, tax.valid is True


def _iban(value: Any, country: str | None, params: dict[str, Any]) -> tuple[Any, ...]:
    iban = n.normalize_iban(value)
    return iban.value, iban.valid


def _lei(value: Any, country: str | None, params: dict[str, Any]) -> tuple[Any, ...]:
    lei = n.normalize_lei(value)
    return lei.value, lei.valid


def _simple(fn: Callable[[Any], Any]) -> Normalizer:
    return lambda value, country, params: (fn(value),)


NORMALIZERS: dict[str, Normalizer] = {
    "text": _simple(n.normalize_text),
    "code": _simple(n.normalize_code),
    "company_name": _company_name,
    "street": _simple(n.normalize_street),
    "postcode": _simple(n.normalize_postcode),
    "country": _simple(n.normalize_country),
    "tax_id": _tax_id,
    "iban": _iban,
    "lei": _lei,
    "bic": _simple(n.normalize_bic),
    "duns": _simple(n.normalize_duns),
    "phone": lambda value, country, params: (n.normalize_phone(value, country),),
    "email_domain": _simple(n.normalize_email_domain),
    "website_domain": _simple(n.normalize_website_domain),
    "date": lambda value, country, params: (
        n.normalize_date(value, tuple(params.get("formats", ()))),
    ),
    "number": _simple(n.normalize_number),
    "raw": _simple(lambda v: None if v is None or str(v).strip() == "" else str(v).strip()),
}

# Which companion features each normaliser emits, so the schema is known up front.
_COMPANIONS: dict[str, tuple[str, ...]] = {
    "company_name": ("legal_form",),
    "tax_id": ("valid",),
    "iban": ("valid",),
    "lei": ("valid",),
}


@dataclass(frozen=True)
class FeatureSpec:
    """``name`` is derived from attribute ``source`` by ``normalizer``.

    ``country_from`` names the (raw) attribute whose country gives context to phone
    numbers and tax ids.
    """

    name: str
    source: str
    normalizer: str = "text"
    country_from: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        return cls(
            name=data["name"],
            source=data.get("from", data["name"]),
            normalizer=data.get("normalizer", "text"),
            country_from=data.get("country_from"),
            params=dict(data.get("params", {})),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "from": self.source,
                               "normalizer": self.normalizer}
        if self.country_from:
            out["country_from"] = self.country_from
        if self.params:
            out["params"] = self.params
        return out

    def output_names(self) -> list[str]:
        return [self.name, *(f"{self.name}.{s}" for s in _COMPANIONS.get(self.normalizer, ()))]


class FeatureSchema:
    """Ordered feature names and the code that fills a row for a record."""

    def __init__(self, specs: Sequence[FeatureSpec]) -> None:
        for spec in specs:
            if spec.normalizer not in NORMALIZERS:
                raise ValueError(f"unknown normalizer {spec.normalizer!r} for {spec.name!r}")
        self.specs = list(specs)
        self.names: list[str] = [name for spec in self.specs for name in spec.output_names()]
        if len(set(self.names)) != len(self.names):
            raise ValueError("feature names must be unique")
        self.positions = {name: i for i, name in enumerate(self.names)}
        # The raw attributes the features read, in a fixed order: ``inputs(attrs)``
        # picks them, so a batch ships small tuples to its workers, not whole records.
        self.input_names: list[str] = list(dict.fromkeys(
            name for s in self.specs for name in (s.source, s.country_from) if name))
        at = {name: k for k, name in enumerate(self.input_names)}
        self._plan = [
            (NORMALIZERS[s.normalizer], at[s.source],
             at[s.country_from] if s.country_from else None, s.params,
             (None,) * len(s.output_names()))
            for s in self.specs
        ]

    def inputs(self, attrs: Mapping[str, Any]) -> tuple[Any, ...]:
        get = attrs.get
        return tuple(get(name) for name in self.input_names)

    def row(self, attrs: Mapping[str, Any]) -> tuple[Any, ...]:
        return self.row_from_inputs(self.inputs(attrs))

    def row_from_inputs(self, values: Sequence[Any]) -> tuple[Any, ...]:
        out: list[Any] = []
        country_of = n.normalize_country
        for fn, source, country_from, params, missing in self._plan:
            raw = values[source]
            if isinstance(raw, str):
                raw = raw.strip() or None
            if raw is None:
                out.extend(missing)
                continue
            out.extend(fn(raw, None if country_from is None else country_of(values[country_from]),
                          params))
        return tuple(out)

    def prepare(self, record: Record) -> PreparedRecord:
        return PreparedRecord(record.id, record.source_system, self.row(record.attrs))
