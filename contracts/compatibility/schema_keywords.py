"""Scalar keyword checks (strings, numbers, bounds, formats, annotations) as pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

from contracts.compatibility import schema_facts as sf
from contracts.compatibility.findings import Finding, differs
from contracts.compatibility.rules import SchemaRule
from contracts.compatibility.schema_facts import MISSING, Facts

R = SchemaRule


def _rule(name: str) -> SchemaRule:
    """Rules derived from keyword stems, e.g. MAX_LENGTH + _ADDED."""
    return SchemaRule[name]


# A reader's format that accepts every value of the writer's format.
FORMAT_WIDENINGS = frozenset({("int32", "int64"), ("float", "double")})

ANNOTATION_RULES = {
    "title": R.TITLE_CHANGED,
    "description": R.DESCRIPTION_CHANGED,
    "$id": R.ID_CHANGED,
}


def annotation_changes(w: Facts, r: Facts) -> Iterator[Finding]:
    for key, rule in ANNOTATION_RULES.items():
        w_value = w.annotations.get(key, MISSING)
        r_value = r.annotations.get(key, MISSING)
        if w_value != r_value:
            yield Finding(rule, (key,), w_value, r_value)
    if differs(w.default, r.default):
        yield Finding(R.DEFAULT_CHANGED, ("default",), w.default, r.default)
    if r.annotations.get("deprecated") is True and w.annotations.get("deprecated") is not True:
        yield Finding(R.DEPRECATED_ADDED, ("deprecated",))


def family(json_type: str) -> str:
    return "number" if json_type == "integer" else json_type


def covers(types: frozenset[str] | set[str], json_type: str) -> bool:
    return json_type in types or (json_type == "integer" and "number" in types)


def overlaps(json_type: str, types: frozenset[str]) -> bool:
    return json_type == "number" and "integer" in types


def types_out(f: Facts) -> Any:
    return sorted(f.types) if f.types is not None else MISSING


def finite_domain(f: Facts) -> tuple[Any, ...] | None:
    """The writer's values when its type alone makes them finite (booleans, null)."""
    if f.types is None or not f.types <= {"boolean", "null"}:
        return None
    domain: list[Any] = []
    if "boolean" in f.types:
        domain += [True, False]
    if "null" in f.types:
        domain.append(None)
    return tuple(domain)


def admits(r: Facts, value: Any) -> bool:
    """Does the reader's own keywords accept `value`? (enum checks; combinators not evaluated)"""
    if r.kind == "any":
        return True
    if r.kind == "none":
        return False
    if r.values is not None and sf.value_key(value) not in {sf.value_key(v) for v in r.values}:
        return False
    json_type = sf.json_type(value)
    if r.types is not None and not covers(r.types, json_type):
        return False
    if isinstance(value, str):
        if len(value) < r.bounds.get("minLength", 0):
            return False
        if "maxLength" in r.bounds and len(value) > r.bounds["maxLength"]:
            return False
        pattern = r.equals.get("pattern")
        if isinstance(pattern, str) and not search(pattern, value, default=True):
            return False
    if family(json_type) == "number" and not isinstance(value, bool):
        if r.lower is not None and not within(value, r.lower, lower=True):
            return False
        if r.upper is not None and not within(value, r.upper, lower=False):
            return False
        if r.multiple_of is not None and fraction(value) % fraction(r.multiple_of) != 0:
            return False
    return True


def within(value: Any, bound: sf.Bound, lower: bool) -> bool:
    if lower:
        return value > bound.value if bound.exclusive else value >= bound.value
    return value < bound.value if bound.exclusive else value <= bound.value


_PATTERNS: dict[str, re.Pattern[str] | None] = {}


def search(pattern: str, text: str, default: bool = False) -> bool:
    """ECMA regexes mostly work in Python; an unparsable one gives `default`."""
    compiled = _PATTERNS.get(pattern, MISSING)
    if compiled is MISSING:
        try:
            compiled = re.compile(pattern)
        except re.error:
            compiled = None
        _PATTERNS[pattern] = compiled
    if compiled is None:
        return default
    return compiled.search(text) is not None


def fraction(value: Any) -> Fraction:
    return Fraction(str(value))


_WIDE_NUMBER_FORMATS = frozenset({"int64", "double", "float"})


def format_change(w: Facts, r: Facts) -> Iterator[Finding]:
    """`format` applies to numbers too (OpenAPI int32/int64), so it is checked for any type."""
    w_value = w.equals.get("format", MISSING)
    r_value = r.equals.get("format", MISSING)
    if not differs(w_value, r_value):
        return
    if r_value is MISSING:
        yield Finding(R.FORMAT_REMOVED, ("format",), w_value, r_value)
    elif w_value is MISSING:
        # int64/double/float on a number only name the width JSON numbers already have in
        # practice (an integer beyond 64 bits is no real client's value): a warning, not a
        # break. int32 does narrow the range and stays breaking.
        numeric = r.types is not None and r.types <= {"integer", "number"}
        wide = numeric and r_value in _WIDE_NUMBER_FORMATS
        rule = R.FORMAT_WIDTH_ADDED if wide else R.FORMAT_ADDED
        yield Finding(rule, ("format",), w_value, r_value)
    elif (w_value, r_value) in FORMAT_WIDENINGS:
        yield Finding(R.FORMAT_EXTENDED, ("format",), w_value, r_value)
    else:
        yield Finding(R.FORMAT_CHANGED, ("format",), w_value, r_value)


def string_keywords(w: Facts, r: Facts) -> Iterator[Finding]:
    for keyword in sf.EQUALITY_KEYWORDS:
        if keyword == "format":
            continue
        w_value = w.equals.get(keyword, MISSING)
        r_value = r.equals.get(keyword, MISSING)
        if not differs(w_value, r_value):
            continue
        stem = STEMS[keyword]
        if r_value is MISSING:
            yield Finding(_rule(f"{stem}_REMOVED"), (keyword,), w_value, r_value)
        elif w_value is MISSING:
            yield Finding(_rule(f"{stem}_ADDED"), (keyword,), w_value, r_value)
        else:
            yield Finding(_rule(f"{stem}_CHANGED"), (keyword,), w_value, r_value)


STEMS = {
    "pattern": "PATTERN",
    "format": "FORMAT",
    "contentEncoding": "CONTENT_ENCODING",
    "contentMediaType": "CONTENT_MEDIA_TYPE",
    "minLength": "MIN_LENGTH",
    "maxLength": "MAX_LENGTH",
    "minItems": "MIN_ITEMS",
    "maxItems": "MAX_ITEMS",
    "minContains": "MIN_CONTAINS",
    "maxContains": "MAX_CONTAINS",
    "minProperties": "MIN_PROPERTIES",
    "maxProperties": "MAX_PROPERTIES",
    "minimum": "MINIMUM",
    "maximum": "MAXIMUM",
    "exclusiveMinimum": "EXCLUSIVE_MINIMUM",
    "exclusiveMaximum": "EXCLUSIVE_MAXIMUM",
}


def length_bounds(w: Facts, r: Facts, shared: set[str]) -> Iterator[Finding]:
    for keyword, (family, lower) in sf.LENGTH_BOUNDS.items():
        if family not in shared:
            continue
        yield from bound_change(
            STEMS[keyword], keyword, w.bounds.get(keyword), r.bounds.get(keyword), lower
        )


def bound_change(
    stem: str, keyword: str, w_value: Any, r_value: Any, lower: bool
) -> Iterator[Finding]:
    if w_value == r_value:
        return
    path = (keyword,)
    if r_value is None:
        yield Finding(_rule(f"{stem}_REMOVED"), path, w_value, MISSING)
    elif w_value is None:
        yield Finding(_rule(f"{stem}_ADDED"), path, MISSING, r_value)
    elif r_value > w_value:
        yield Finding(_rule(f"{stem}_INCREASED"), path, w_value, r_value)
    else:
        yield Finding(_rule(f"{stem}_DECREASED"), path, w_value, r_value)


def number_keywords(w: Facts, r: Facts) -> Iterator[Finding]:
    yield from numeric_bound(w.lower, r.lower, lower=True)
    yield from numeric_bound(w.upper, r.upper, lower=False)
    w_multiple = w.multiple_of
    if w_multiple is None and w.types is not None and w.types <= {"integer"}:
        w_multiple = 1
    r_multiple = r.multiple_of
    if r_multiple is None or r_multiple == w_multiple:
        if r_multiple is None and w.multiple_of is not None:
            yield Finding(R.MULTIPLE_OF_REMOVED, ("multipleOf",), w.multiple_of, MISSING)
        return
    if w_multiple is None:
        yield Finding(R.MULTIPLE_OF_ADDED, ("multipleOf",), MISSING, r_multiple)
    elif fraction(w_multiple) % fraction(r_multiple) == 0:
        if w.multiple_of is not None:
            yield Finding(R.MULTIPLE_OF_REDUCED, ("multipleOf",), w_multiple, r_multiple)
    elif fraction(r_multiple) % fraction(w_multiple) == 0:
        yield Finding(R.MULTIPLE_OF_EXPANDED, ("multipleOf",), w_multiple, r_multiple)
    else:
        yield Finding(R.MULTIPLE_OF_CHANGED, ("multipleOf",), w_multiple, r_multiple)


def numeric_bound(w: sf.Bound | None, r: sf.Bound | None, lower: bool) -> Iterator[Finding]:
    if r is None:
        if w is not None:
            yield Finding(_rule(f"{STEMS[w.keyword]}_REMOVED"), (w.keyword,), w.value, MISSING)
        return
    stem = STEMS[r.keyword]
    if w is None:
        yield Finding(_rule(f"{stem}_ADDED"), (r.keyword,), MISSING, r.value)
        return
    if (w.value, w.exclusive) == (r.value, r.exclusive):
        return
    # Is the reader's bound at least as loose as the writer's?
    if lower:
        loose = r.value < w.value or (r.value == w.value and (w.exclusive or not r.exclusive))
    else:
        loose = r.value > w.value or (r.value == w.value and (w.exclusive or not r.exclusive))
    tighter_word = "INCREASED" if lower else "DECREASED"
    looser_word = "DECREASED" if lower else "INCREASED"
    rule = _rule(f"{stem}_{looser_word if loose else tighter_word}")
    yield Finding(rule, (r.keyword,), w.value, r.value)
