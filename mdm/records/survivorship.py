"""Survivorship: which source value becomes the golden value, and why (provenance).

Pure functions over plain data. Rules are declared per domain and per attribute:

    survivorship:
      default: most_recent            # rule for attributes without their own
      valid_only: true                # a value failing its quality rule loses to a valid one
      source_priority: [SAP, COUPA]   # default trust order (first = most trusted)
      attributes:
        name: {rule: source_priority, priority: [SAP, ORACLE]}
        street: {rule: longest}

A steward override always wins until it is removed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

RULES = ("most_recent", "source_priority", "most_frequent", "longest", "oldest")


@dataclass(frozen=True)
class SourceView:
    """What survivorship needs to know of a source record."""

    source_record_id: int | None
    source_system: str
    source_id: str
    attributes: dict[str, Any]
    updated_at: datetime
    invalid: frozenset[str] = field(default_factory=frozenset)  # attributes failing a rule


@dataclass(frozen=True)
class Override:
    value: Any
    actor: str
    reason: str


@dataclass(frozen=True)
class Candidate:
    value: Any
    source: SourceView


def _most_recent(cands: Sequence[Candidate], _cfg: dict[str, Any]) -> Candidate:
    return max(
        cands, key=lambda c: (c.source.updated_at, c.source.source_system, c.source.source_id)
    )


def _oldest(cands: Sequence[Candidate], _cfg: dict[str, Any]) -> Candidate:
    return min(
        cands, key=lambda c: (c.source.updated_at, c.source.source_system, c.source.source_id)
    )


def _source_priority(cands: Sequence[Candidate], cfg: dict[str, Any]) -> Candidate:
    order = [str(s) for s in cfg.get("priority") or []]
    rank = {code: i for i, code in enumerate(order)}
    # Untrusted systems rank after every listed one; ties go to the most recent value.
    best_rank = min(rank.get(c.source.source_system, len(order)) for c in cands)
    tied = [c for c in cands if rank.get(c.source.source_system, len(order)) == best_rank]
    return _most_recent(tied, cfg)


def _most_frequent(cands: Sequence[Candidate], cfg: dict[str, Any]) -> Candidate:
    counts = Counter(_key(c.value) for c in cands)
    top = max(counts.values())
    tied = [c for c in cands if counts[_key(c.value)] == top]
    return _most_recent(tied, cfg)


def _longest(cands: Sequence[Candidate], cfg: dict[str, Any]) -> Candidate:
    longest = max(len(str(c.value)) for c in cands)
    return _most_recent([c for c in cands if len(str(c.value)) == longest], cfg)


def _key(value: Any) -> Any:
    return value.casefold().strip() if isinstance(value, str) else value


PICKERS: dict[str, Callable[[Sequence[Candidate], dict[str, Any]], Candidate]] = {
    "most_recent": _most_recent,
    "oldest": _oldest,
    "source_priority": _source_priority,
    "most_frequent": _most_frequent,
    "longest": _longest,
}


def rule_name(config: dict[str, Any], attribute: str) -> str:
    per_attr = (config.get("attributes") or {}).get(attribute) or {}
    return str(per_attr.get("rule") or config.get("default") or "most_recent")


def rule_for(config: dict[str, Any], attribute: str) -> tuple[str, dict[str, Any]]:
    per_attr = (config.get("attributes") or {}).get(attribute) or {}
    rule = rule_name(config, attribute)
    cfg = dict(per_attr)
    if rule == "source_priority" and not cfg.get("priority"):
        cfg["priority"] = config.get("source_priority") or []
    return rule, cfg


def validate_config(config: dict[str, Any], attributes: Sequence[str]) -> list[str]:
    """Problems in a survivorship configuration (empty when it is usable)."""
    problems = []
    default = config.get("default", "most_recent")
    if default not in PICKERS:
        problems.append(f"default rule {default!r} is not one of {', '.join(RULES)}")
    for name, cfg in (config.get("attributes") or {}).items():
        if name not in attributes:
            problems.append(f"unknown attribute {name!r}")
        elif (cfg or {}).get("rule", default) not in PICKERS:
            problems.append(f"{name}: rule {cfg.get('rule')!r} is not one of {', '.join(RULES)}")
    return problems


def survive(
    attributes: Sequence[str],
    sources: Sequence[SourceView],
    config: dict[str, Any],
    overrides: dict[str, Override] | None = None,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Compute golden values and their provenance from the active source records."""
    overrides = overrides or {}
    if len(sources) == 1 and not overrides:
        return _single_source(attributes, sources[0], config)
    valid_only = config.get("valid_only", True)
    values: dict[str, Any] = {}
    provenance: dict[str, dict[str, Any]] = {}
    for attr in attributes:
        if attr in overrides:
            ov = overrides[attr]
            values[attr] = ov.value
            provenance[attr] = {"rule": "steward_override", "actor": ov.actor, "reason": ov.reason}
            continue
        cands = [
            Candidate(s.attributes[attr], s) for s in sources if s.attributes.get(attr) is not None
        ]
        if not cands:
            continue
        rule, cfg = rule_for(config, attr)
        if valid_only:
            valid = [c for c in cands if attr not in c.source.invalid]
            if valid:
                cands = valid
        chosen = PICKERS[rule](cands, cfg)
        values[attr] = chosen.value
        provenance[attr] = {
            "rule": rule,
            "source_system": chosen.source.source_system,
            "source_id": chosen.source.source_id,
        }
    return values, provenance


# id(config) -> (config, attribute -> rule name); the entry holds the config, so its id
# cannot be reused by another dict while it is cached.
_RULE_NAMES: dict[int, tuple[dict[str, Any], dict[str, str]]] = {}


def _rule_names(config: dict[str, Any]) -> dict[str, str]:
    hit = _RULE_NAMES.get(id(config))
    if hit is None or hit[0] is not config:
        if len(_RULE_NAMES) > 1000:
            _RULE_NAMES.clear()
        hit = _RULE_NAMES[id(config)] = (config, {})
    return hit[1]


def _single_source(
    attributes: Sequence[str], source: SourceView, config: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """One source record: every rule picks its values, so skip the candidate machinery.

    This is the common case on ingestion (a new record starts its own golden record).
    """
    values: dict[str, Any] = {}
    provenance: dict[str, dict[str, Any]] = {}
    rules = _rule_names(config)
    for attr in attributes:
        value = source.attributes.get(attr)
        if value is None:
            continue
        values[attr] = value
        rule = rules.get(attr)
        if rule is None:
            rule = rules[attr] = rule_name(config, attr)
        provenance[attr] = {
            "rule": rule,
            "source_system": source.source_system,
            "source_id": source.source_id,
        }
    return values, provenance
