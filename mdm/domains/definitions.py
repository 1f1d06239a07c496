"""Declarative domain definitions: attributes, types, quality rules, match and survivorship.

The five finance domains ship as YAML files in this folder; a deployment adds its own by
pointing ``MDM_DOMAINS_PATH`` at more YAML files, with no code change.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from mdm.domains import validators

TYPES = ("string", "integer", "decimal", "boolean", "date")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


class DefinitionError(ValueError):
    """A domain definition (YAML) is not valid."""


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str = "string"
    required: bool = False
    validators: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    description: str = ""

    def coerce(self, value: Any, *, from_text: bool = False) -> Any:
        """Return the canonical JSON value or raise ValueError with a reason.

        JSON input must already have the right type; text input (CSV cells) is parsed.
        """
        return _COERCE[self.type](self, value, from_text)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "required": self.required}
        if self.validators:
            out["validators"] = list(self.validators)
        if self.choices:
            out["choices"] = list(self.choices)
        if self.max_length:
            out["max_length"] = self.max_length
        if self.description:
            out["description"] = self.description
        return out


# --- coercion to each type's canonical JSON value (Attribute.coerce dispatches here) -------

def _string(attr: Attribute, value: Any, from_text: bool) -> str:
    if not isinstance(value, str):
        raise ValueError("Not a valid string.")
    value = value.strip()
    if attr.max_length and len(value) > attr.max_length:
        raise ValueError(f"Longer than {attr.max_length} characters.")
    if ("country" in attr.validators or "currency" in attr.validators) and (
        len(value) <= 3 and value.isalpha()
    ):
        value = value.upper()  # ISO codes are upper case: "de" is DE
    return value


def _integer(attr: Attribute, value: Any, from_text: bool) -> int:
    if isinstance(value, bool):
        raise ValueError("Not a valid integer.")
    if isinstance(value, int):
        return value
    if from_text and isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise ValueError("Not a valid integer.")


def _decimal(attr: Attribute, value: Any, from_text: bool) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("Not a valid decimal.")
    try:
        dec = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("Not a valid decimal.") from None
    if not dec.is_finite():
        raise ValueError("Not a valid decimal.")
    # Decimals travel as strings so that no backend rounds money amounts.
    return format(dec.normalize(), "f") if dec == dec.to_integral() else str(dec)


def _boolean(attr: Attribute, value: Any, from_text: bool) -> bool:
    if isinstance(value, bool):
        return value
    if from_text and isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    raise ValueError("Not a valid boolean.")


def _date(attr: Attribute, value: Any, from_text: bool) -> str:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise ValueError("Not a valid ISO 8601 date (YYYY-MM-DD).")


_COERCE: dict[str, Callable[[Attribute, Any, bool], Any]] = {
    "string": _string, "integer": _integer, "decimal": _decimal, "boolean": _boolean,
    "date": _date,
}


@dataclass(frozen=True)
class DomainDefinition:
    name: str
    label: str
    attributes: tuple[Attribute, ...]
    description: str = ""
    # Attributes whose change on a golden record needs a second steward's approval.
    approval: tuple[str, ...] = ()
    match: dict[str, Any] = field(default_factory=dict)
    survivorship: dict[str, Any] = field(default_factory=dict)
    # The attribute that names the record for people (lists, review queue, search).
    display: str = "name"
    builtin: bool = False

    _by_name: dict[str, Attribute] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {a.name: a for a in self.attributes})

    @property
    def by_name(self) -> dict[str, Attribute]:
        return self._by_name

    def attribute(self, name: str) -> Attribute | None:
        return self.by_name.get(name)

    def parse_attributes(
        self, raw: Any, *, from_text: bool = False, partial: bool = False
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """Coerce a payload's attributes. Returns (values, field errors).

        Missing, null and empty values are dropped (absent = unknown); unknown attribute
        names and wrong types are errors, as is a missing required attribute.
        """
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        if not isinstance(raw, dict):
            return {}, {"_schema": ["Attributes must be an object."]}
        for key, value in raw.items():
            attr = self.by_name.get(key)
            if attr is None:
                errors[str(key)] = ["Unknown attribute."]
                continue
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            try:
                values[key] = attr.coerce(value, from_text=from_text)
            except ValueError as exc:
                errors[key] = [str(exc)]
        if not partial:
            for attr in self.attributes:
                if attr.required and attr.name not in values and attr.name not in errors:
                    errors[attr.name] = ["Missing data for required attribute."]
        return values, errors

    def quality_findings(self, values: dict[str, Any]) -> list[validators.Finding]:
        findings: list[validators.Finding] = []
        for name, value in values.items():
            attr = self.by_name[name]
            if attr.choices:
                findings.extend(validators.check_choice(name, value, attr.choices))
            for rule in attr.validators:
                findings.extend(validators.CHECKS[rule](name, value, values))
        return findings

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "display": self.display,
            "builtin": self.builtin,
            "attributes": [a.to_dict() for a in self.attributes],
            "approval": list(self.approval),
            "match": self.match,
            "survivorship": self.survivorship,
        }


def _parse_attribute(raw: Any, where: str) -> Attribute:
    if not isinstance(raw, dict) or "name" not in raw:
        raise DefinitionError(f"{where}: an attribute needs a name")
    name = raw["name"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise DefinitionError(f"{where}: attribute name {name!r} must be snake_case")
    typ = raw.get("type", "string")
    if typ not in TYPES:
        raise DefinitionError(f"{where}.{name}: type {typ!r} is not one of {', '.join(TYPES)}")
    checks = tuple(raw.get("validators") or ())
    unknown = [c for c in checks if c not in validators.CHECKS]
    if unknown:
        raise DefinitionError(f"{where}.{name}: unknown validators {unknown}")
    return Attribute(
        name=name,
        type=typ,
        required=bool(raw.get("required", False)),
        validators=checks,
        choices=tuple(str(c) for c in raw.get("choices") or ()),
        max_length=raw.get("max_length"),
        description=str(raw.get("description", "")),
    )


def parse_definition(raw: Any, *, builtin: bool = False) -> DomainDefinition:
    if not isinstance(raw, dict):
        raise DefinitionError("a domain definition must be a mapping")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise DefinitionError(f"domain name {name!r} must be snake_case")
    attrs_raw = raw.get("attributes")
    if not isinstance(attrs_raw, list) or not attrs_raw:
        raise DefinitionError(f"{name}: attributes must be a non-empty list")
    attributes = tuple(_parse_attribute(a, name) for a in attrs_raw)
    names = [a.name for a in attributes]
    if len(set(names)) != len(names):
        raise DefinitionError(f"{name}: attribute names must be unique")
    approval = tuple(raw.get("approval") or ())
    for a in approval:
        if a not in names:
            raise DefinitionError(f"{name}: approval names unknown attribute {a!r}")
    display = raw.get("display", "name" if "name" in names else names[0])
    if display not in names:
        raise DefinitionError(f"{name}: display attribute {display!r} is not defined")
    return DomainDefinition(
        name=name,
        label=str(raw.get("label", name.replace("_", " ").title())),
        description=str(raw.get("description", "")),
        attributes=attributes,
        approval=approval,
        match=dict(raw.get("match") or {}),
        survivorship=dict(raw.get("survivorship") or {}),
        display=display,
        builtin=builtin,
    )
