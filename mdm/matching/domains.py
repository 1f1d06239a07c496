"""Which match settings a domain uses: its YAML ``match:`` block, or the built-in default.

A built-in domain whose YAML gives no ``match:`` block uses ``DEFAULT_SETTINGS``; a
deployment-defined domain is matched only when its YAML carries its own block. Either
may switch matching off with ``match: {enabled: false}`` (ingestion then links nothing).
"""
from __future__ import annotations

from typing import Any

from mdm.domains.definitions import DefinitionError, DomainDefinition
from mdm.matching.defaults import DEFAULT_SETTINGS
from mdm.matching.settings import MatchSettings

DEFAULTS, DOMAIN = "defaults", "domain"

# One compiled settings object per definition: the engine cache is keyed by identity.
_CACHE: dict[tuple[str, int], tuple[MatchSettings | None, str]] = {}


def settings_block(definition: DomainDefinition) -> tuple[dict[str, Any] | None, str]:
    """The settings dict a domain is matched with (None = not matched) and its origin."""
    block = dict(definition.match or {})
    enabled = block.pop("enabled", True)
    if enabled is False:
        return None, DOMAIN
    if enabled is not True:
        raise DefinitionError(f"{definition.name}: match.enabled must be true or false")
    if block:
        return block, DOMAIN
    if definition.builtin and definition.name in DEFAULT_SETTINGS:
        return DEFAULT_SETTINGS[definition.name], DEFAULTS
    return None, DOMAIN


def settings_for(definition: DomainDefinition) -> MatchSettings | None:
    """Compiled settings of a domain, or None when the domain is not matched."""
    return _compiled(definition)[0]


def settings_origin(definition: DomainDefinition) -> str:
    return _compiled(definition)[1]


def _compiled(definition: DomainDefinition) -> tuple[MatchSettings | None, str]:
    key = (definition.name, id(definition))
    hit = _CACHE.get(key)
    if hit is None:
        block, origin = settings_block(definition)
        settings = None
        if block is not None:
            try:
                settings = MatchSettings.from_dict(block)
            except (KeyError, TypeError, ValueError) as exc:
                raise DefinitionError(f"{definition.name}: invalid match settings: {exc!r}") \
                    from exc
        hit = _CACHE[key] = (settings, origin)
    return hit


def validate_all(definitions: Any) -> None:
    """Compile every domain's settings once at start-up so a bad YAML fails early."""
    for definition in definitions:
        _compiled(definition)
