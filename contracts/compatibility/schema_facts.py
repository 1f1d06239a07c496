"""A dialect-neutral view of one schema node, so the comparator never branches on drafts.

Draft-4 boolean `exclusiveMinimum`, draft-7 `dependencies`, tuple `items` arrays versus 2020-12
`prefixItems`, `const` versus one-value `enum`, OpenAPI 3.0 `nullable`: all are folded here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.compatibility.document import ANNOTATION_KEYS, Dialect

ALL_TYPES = frozenset({"null", "boolean", "object", "array", "number", "integer", "string"})
COMBINATORS = ("allOf", "anyOf", "oneOf")
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "absent"})()

# Simple bounds: keyword -> (family, is_lower_bound). Rule names derive from the keyword.
LENGTH_BOUNDS: dict[str, tuple[str, bool]] = {
    "minLength": ("string", True),
    "maxLength": ("string", False),
    "minItems": ("array", True),
    "maxItems": ("array", False),
    "minContains": ("array", True),
    "maxContains": ("array", False),
    "minProperties": ("object", True),
    "maxProperties": ("object", False),
}
# Keywords whose value must stay equal: keyword -> family.
EQUALITY_KEYWORDS: dict[str, str] = {
    "pattern": "string",
    "format": "string",
    "contentEncoding": "string",
    "contentMediaType": "string",
}


@dataclass(slots=True)
class Bound:
    value: Any
    exclusive: bool
    keyword: str


@dataclass(slots=True)
class Facts:
    kind: str  # "any" (accepts everything), "none" (false schema) or "schema"
    types: frozenset[str] | None = None  # None: unconstrained
    values: tuple[Any, ...] | None = None  # finite domain from enum/const
    bounds: dict[str, Any] = field(default_factory=dict)
    lower: Bound | None = None
    upper: Bound | None = None
    multiple_of: Any = None
    equals: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    extra: tuple[str, Any] | None = None  # ("additionalProperties"|"unevaluatedProperties", s)
    pattern_properties: dict[str, Any] = field(default_factory=dict)
    property_names: Any = None
    dependent_required: dict[str, frozenset[str]] = field(default_factory=dict)
    dependent_schemas: dict[str, Any] = field(default_factory=dict)
    tuple_form: bool = False
    prefix: tuple[Any, ...] = ()
    prefix_keyword: str = "items"
    rest: tuple[str, Any] | None = None  # ("items"|"additionalItems"|"unevaluatedItems", s)
    additional_items: Any = MISSING  # as written, even where the dialect ignores it
    contains: Any = None
    unique: bool = False
    all_of: tuple[Any, ...] = ()
    any_of: tuple[Any, ...] = ()
    one_of: tuple[Any, ...] = ()
    not_: Any = None
    if_: Any = MISSING
    then_: Any = MISSING
    else_: Any = MISSING
    has_base: bool = False  # constraints other than allOf/anyOf/oneOf
    default: Any = MISSING
    annotations: dict[str, Any] = field(default_factory=dict)

    def combinators(self) -> dict[str, tuple[Any, ...]]:
        found = {"allOf": self.all_of, "anyOf": self.any_of, "oneOf": self.one_of}
        return {k: v for k, v in found.items() if v}


ANY = Facts(kind="any")
NONE = Facts(kind="none")


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def value_key(value: Any) -> Any:
    """A hashable key with JSON equality: true != 1, 1 == 1.0."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, int | float):
        return ("number", value)
    if isinstance(value, list):
        return ("array", tuple(value_key(v) for v in value))
    if isinstance(value, dict):
        return ("object", tuple(sorted((k, value_key(v)) for k, v in value.items())))
    return ("string", value)


def is_constraint_key(key: str) -> bool:
    return key not in ANNOTATION_KEYS and not key.startswith("x-") and key != "nullable"


def extract(node: Any, dialect: Dialect) -> Facts:
    if node is True or node == {}:
        return ANY
    if node is False:
        return NONE
    if not isinstance(node, dict):
        return ANY
    f = Facts(kind="schema")
    f.has_base = any(is_constraint_key(k) and k not in COMBINATORS for k in node)
    if not any(is_constraint_key(k) for k in node):
        f.kind = "any"
    _types(node, dialect, f)
    _values(node, dialect, f)
    _scalars(node, f)
    _objects(node, f)
    _arrays(node, dialect, f)
    _logic(node, f)
    for key in ("title", "description", "deprecated", "readOnly", "writeOnly", "$id"):
        if key in node:
            f.annotations[key] = node[key]
    if "default" in node:
        f.default = node["default"]
    return f


def _types(node: dict[str, Any], dialect: Dialect, f: Facts) -> None:
    declared = node.get("type")
    if isinstance(declared, str):
        f.types = frozenset({declared})
    elif isinstance(declared, list) and declared:
        f.types = frozenset(t for t in declared if isinstance(t, str))
    if f.types is not None and node.get("nullable") is True and dialect is Dialect.OAS30:
        f.types = f.types | {"null"}


def _values(node: dict[str, Any], dialect: Dialect, f: Facts) -> None:
    domain: list[Any] | None = None
    if isinstance(node.get("enum"), list):
        domain = list(node["enum"])
        if node.get("nullable") is True and dialect is Dialect.OAS30:
            domain.append(None)
    if "const" in node:
        const = node["const"]
        if domain is None:
            domain = [const]
        else:
            domain = [v for v in domain if value_key(v) == value_key(const)]
    if domain is not None:
        f.values = tuple(domain)


def _scalars(node: dict[str, Any], f: Facts) -> None:
    for keyword in LENGTH_BOUNDS:
        value = node.get(keyword)
        if isinstance(value, int | float) and not isinstance(value, bool):
            f.bounds[keyword] = value
    for keyword in EQUALITY_KEYWORDS:
        if keyword in node:
            f.equals[keyword] = node[keyword]
    f.lower = _bound(node, "minimum", "exclusiveMinimum")
    f.upper = _bound(node, "maximum", "exclusiveMaximum")
    multiple = node.get("multipleOf")
    if isinstance(multiple, int | float) and not isinstance(multiple, bool) and multiple > 0:
        f.multiple_of = multiple


def _bound(node: dict[str, Any], inclusive_kw: str, exclusive_kw: str) -> Bound | None:
    inclusive = node.get(inclusive_kw)
    exclusive = node.get(exclusive_kw)
    if isinstance(exclusive, bool):  # draft-4 / OpenAPI 3.0: a flag on the inclusive keyword
        if _is_number(inclusive):
            return Bound(inclusive, exclusive, exclusive_kw if exclusive else inclusive_kw)
        return None
    candidates = []
    if _is_number(inclusive):
        candidates.append(Bound(inclusive, False, inclusive_kw))
    if _is_number(exclusive):
        candidates.append(Bound(exclusive, True, exclusive_kw))
    if not candidates:
        return None
    lower = inclusive_kw == "minimum"
    # the tighter of the two applies
    if lower:
        return max(candidates, key=lambda b: (b.value, b.exclusive))
    return max(candidates, key=lambda b: (-b.value, b.exclusive))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _objects(node: dict[str, Any], f: Facts) -> None:
    if isinstance(node.get("properties"), dict):
        f.properties = node["properties"]
    if isinstance(node.get("required"), list):
        f.required = frozenset(r for r in node["required"] if isinstance(r, str))
    if isinstance(node.get("patternProperties"), dict):
        f.pattern_properties = node["patternProperties"]
    if "additionalProperties" in node:
        f.extra = ("additionalProperties", node["additionalProperties"])
    elif "unevaluatedProperties" in node:
        f.extra = ("unevaluatedProperties", node["unevaluatedProperties"])
    if "propertyNames" in node:
        f.property_names = node["propertyNames"]
    dependencies: dict[str, Any] = {}
    for keyword in ("dependencies", "dependentRequired", "dependentSchemas"):
        if isinstance(node.get(keyword), dict):
            dependencies.update(node[keyword])
    for name, dependency in dependencies.items():
        if isinstance(dependency, list):
            f.dependent_required[name] = frozenset(dependency)
        else:
            f.dependent_schemas[name] = dependency


def _arrays(node: dict[str, Any], dialect: Dialect, f: Facts) -> None:
    items = node.get("items", MISSING)
    if isinstance(node.get("prefixItems"), list):
        f.tuple_form, f.prefix, f.prefix_keyword = True, tuple(node["prefixItems"]), "prefixItems"
        if items is not MISSING:
            f.rest = ("items", items)
    elif isinstance(items, list):
        f.tuple_form, f.prefix, f.prefix_keyword = True, tuple(items), "items"
        if "additionalItems" in node:
            f.rest = ("additionalItems", node["additionalItems"])
    elif items is not MISSING:
        f.rest = ("items", items)
    if f.rest is None and "unevaluatedItems" in node:
        f.rest = ("unevaluatedItems", node["unevaluatedItems"])
    if "additionalItems" in node:
        f.additional_items = node["additionalItems"]
    if "contains" in node:
        f.contains = node["contains"]
    f.unique = node.get("uniqueItems") is True


def _logic(node: dict[str, Any], f: Facts) -> None:
    for keyword, attr in (("allOf", "all_of"), ("anyOf", "any_of"), ("oneOf", "one_of")):
        if isinstance(node.get(keyword), list) and node[keyword]:
            setattr(f, attr, tuple(node[keyword]))
    if "not" in node:
        f.not_ = node["not"]
    for keyword, attr in (("if", "if_"), ("then", "then_"), ("else", "else_")):
        if keyword in node:
            setattr(f, attr, node[keyword])
