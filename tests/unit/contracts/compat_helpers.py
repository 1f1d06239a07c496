"""Intention-revealing helpers for compatibility tests (imported by the test modules here)."""

from __future__ import annotations

from typing import Any

from contracts.compatibility import CompatibilityResult, Level, Mode, check_compatibility


def check(old: Any, new: Any, mode: str = "BACKWARD") -> CompatibilityResult:
    return check_compatibility(new, [old], mode)


def breaking_rules(result: CompatibilityResult) -> set[str]:
    return {c.rule for c in result.changes if c.level is Level.BREAKING}


def all_rules(result: CompatibilityResult) -> set[str]:
    return {c.rule for c in result.changes}


def assert_backward(old: Any, new: Any) -> CompatibilityResult:
    """The new schema reads everything the old one accepted."""
    result = check(old, new, Mode.BACKWARD)
    assert result.compatible, [c.to_dict() for c in result.breaking]
    return result


def assert_not_backward(old: Any, new: Any, rule: str | None = None) -> CompatibilityResult:
    result = check(old, new, Mode.BACKWARD)
    assert not result.compatible, "expected a backward-incompatible change"
    if rule is not None:
        assert rule in breaking_rules(result), breaking_rules(result)
    return result


def assert_forward(old: Any, new: Any) -> CompatibilityResult:
    """The old schema reads everything the new one accepts."""
    result = check(old, new, Mode.FORWARD)
    assert result.compatible, [c.to_dict() for c in result.breaking]
    return result


def assert_not_forward(old: Any, new: Any, rule: str | None = None) -> CompatibilityResult:
    result = check(old, new, Mode.FORWARD)
    assert not result.compatible, "expected a forward-incompatible change"
    if rule is not None:
        assert rule in breaking_rules(result), breaking_rules(result)
    return result


def assert_full(old: Any, new: Any) -> None:
    assert_backward(old, new)
    assert_forward(old, new)


def obj(properties: dict[str, Any] | None = None, **keywords: Any) -> dict[str, Any]:
    """An object schema: obj({"a": STRING}, required=["a"], additionalProperties=False)."""
    schema: dict[str, Any] = {"type": "object"}
    if properties is not None:
        schema["properties"] = properties
    schema.update(keywords)
    return schema


STRING = {"type": "string"}
NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
