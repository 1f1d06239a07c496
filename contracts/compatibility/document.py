"""A parsed schema document: its root, its dialect, and cycle-safe, memoised `$ref` resolution.

Every compared node is looked up through the document it came from, so two versions of the same
`$ref` string resolve against their own roots. Resolved nodes are cached by identity because the
engines memoise comparisons by node identity (a GitHub-sized OpenAPI file reuses the same
component schema from hundreds of operations).
"""

from __future__ import annotations

import json
import marshal
import re
from enum import StrEnum
from typing import Any
from urllib.parse import unquote

from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import (
    DRAFT4,
    DRAFT6,
    DRAFT7,
    DRAFT201909,
    DRAFT202012,
    specification_with,
)

from contracts.compatibility.pointer import unescape
from contracts.errors import UnresolvableReference

_ROOT_URI = "urn:contracts:document"
_JSON_REF = re.compile(r'"\$ref": "((?:[^"\\]|\\.)*)"')
# marshal version 2 writes a str as 'u' (or 't', interned), a little-endian int32 byte length
# and its UTF-8 bytes: a "$ref" key followed by a string value.
_MARSHAL_KEY = b"\x04\x00\x00\x00$ref"
_MARSHAL_STR = frozenset(b"ut")


class Dialect(StrEnum):
    DRAFT4 = "draft-04"
    DRAFT6 = "draft-06"
    DRAFT7 = "draft-07"
    DRAFT2019 = "2019-09"
    DRAFT2020 = "2020-12"
    OAS30 = "oas-3.0"
    OAS31 = "oas-3.1"

    @property
    def ref_siblings_apply(self) -> bool:
        """Before 2019-09 (and in OpenAPI 3.0) keywords next to `$ref` are ignored."""
        return self in (Dialect.DRAFT2019, Dialect.DRAFT2020, Dialect.OAS31)


_DIALECT_MARKERS = (
    ("draft-04", Dialect.DRAFT4),
    ("draft-06", Dialect.DRAFT6),
    ("draft-07", Dialect.DRAFT7),
    ("2019-09", Dialect.DRAFT2019),
    ("2020-12", Dialect.DRAFT2020),
)

# Keys that never constrain instances; shared by ref-sibling merging and "is this trivial" checks.
ANNOTATION_KEYS = frozenset(
    {
        "$schema",
        "$id",
        "id",
        "$anchor",
        "$dynamicAnchor",
        "$comment",
        "$vocabulary",
        "$defs",
        "definitions",
        "title",
        "description",
        "default",
        "examples",
        "example",
        "deprecated",
        "readOnly",
        "writeOnly",
        "xml",
        "externalDocs",
        "discriminator",
        "contentSchema",
    }
)


# A schema without `$schema` is read as draft-07, as Confluent Schema Registry (and most event
# schemas in the wild) read it: tuple `items: [...]` is valid and siblings of `$ref` are ignored.
DEFAULT_DIALECT = Dialect.DRAFT7


def parse_dialect(text: str) -> Dialect:
    """`--draft` values: draft-04/06/07, 2019-09, 2020-12 (also 4, 6, 7, draft4, draft7...)."""
    cleaned = text.strip().lower().replace("draft", "").lstrip("-_ ")
    for marker, dialect in _DIALECT_MARKERS:
        number = marker.replace("draft-", "")
        if cleaned in (number, number.lstrip("0"), marker):
            return dialect
    known = ", ".join(marker for marker, _ in _DIALECT_MARKERS)
    raise ValueError(f"unknown JSON Schema draft {text!r} (one of {known})")


def dialect_of(schema: Any, default: Dialect = DEFAULT_DIALECT) -> Dialect:
    if isinstance(schema, dict):
        declared = schema.get("$schema")
        if isinstance(declared, str):
            for marker, dialect in _DIALECT_MARKERS:
                if marker in declared:
                    return dialect
    return default


_SPECIFICATIONS = {
    Dialect.DRAFT4: DRAFT4,
    Dialect.DRAFT6: DRAFT6,
    Dialect.DRAFT7: DRAFT7,
    Dialect.DRAFT2019: DRAFT201909,
    Dialect.DRAFT2020: DRAFT202012,
}


class SchemaDocument:
    """One document (a JSON Schema, or an API description holding schemas)."""

    def __init__(self, root: Any, dialect: Dialect, source: str | None = None) -> None:
        self.root = root
        self.dialect = dialect
        self.source = source
        # id(node) -> (node, value): holding the node keeps its id from being reused while the
        # document (shared by every comparison of its contract) lives.
        self._resolved: dict[int, tuple[Any, Any]] = {}
        self._texts: dict[int, tuple[Any, bytes | str]] = {}
        self._refs: dict[int, tuple[Any, frozenset[str]]] = {}
        self._pointers: dict[str, Any] = {}
        self._keepalive: list[Any] = []  # synthetic nodes must outlive the id()-keyed caches
        self._resolver: Any = None

    def resolve(self, node: Any) -> Any:
        """Follow `$ref` chains from `node`; nodes without `$ref` come back unchanged."""
        if not isinstance(node, dict) or "$ref" not in node:
            return node
        cached = self._resolved.get(id(node))
        if cached is not None and cached[0] is node:
            return cached[1]
        seen: set[int] = set()
        current = node
        while isinstance(current, dict) and isinstance(current.get("$ref"), str):
            if id(current) in seen:
                raise UnresolvableReference(
                    f"$ref chain loops without reaching a schema at {node['$ref']!r}",
                    source=self.source,
                )
            seen.add(id(current))
            target = self.lookup(current["$ref"])
            siblings = self._constraining_siblings(current)
            if siblings:
                # 2019-09+: siblings apply together with the target. A shallow merge is close
                # enough for contracts (siblings rarely collide with the target's keywords).
                merged = dict(target) if isinstance(target, dict) else {}
                if target is False:
                    merged = {"not": {}}
                merged.update(siblings)
                self._keepalive.append(merged)
                target = merged
            current = target
        self._resolved[id(node)] = (node, current)
        return current

    def text(self, node: Any) -> bytes | str:
        """A node's exact serialisation, cached: equal texts mean equal nodes with key order
        kept and types apart (true is not 1, 1.0 is not 1, unlike Python's ==).

        marshal (C, ~4x faster than json.dumps) for JSON data; JSON text for anything marshal
        cannot write (YAML dates).
        """
        cached = self._texts.get(id(node))
        if cached is not None and cached[0] is node:
            return cached[1]
        try:
            text: bytes | str = marshal.dumps(node, 2)  # version 2: no back-references
        except ValueError:
            text = json.dumps(node, ensure_ascii=False, default=str)
        self._texts[id(node)] = (node, text)
        return text

    def refs_in(self, node: Any) -> frozenset[str]:
        """The `$ref` strings anywhere in a node, read from its text (a property named "$ref"
        holds an object, not a string, and is not matched); cached like the text."""
        cached = self._refs.get(id(node))
        if cached is not None and cached[0] is node:
            return cached[1]
        text = self.text(node)
        if isinstance(text, str):
            found = frozenset(
                json.loads(f'"{raw}"') if "\\" in raw else raw for raw in _JSON_REF.findall(text)
            )
        else:
            refs = set()
            at = text.find(_MARSHAL_KEY)
            while at >= 0:  # bytes.find (a C scan) is far faster than a regex here
                start = at + len(_MARSHAL_KEY)
                if 0 < at and start < len(text) and {text[at - 1], text[start]} <= _MARSHAL_STR:
                    size = int.from_bytes(text[start + 1 : start + 5], "little")
                    value = text[start + 5 : start + 5 + size]
                    refs.add(value.decode("utf-8", "surrogatepass"))
                at = text.find(_MARSHAL_KEY, start)
            found = frozenset(refs)
        self._refs[id(node)] = (node, found)
        return found

    def keep(self, node: Any) -> None:
        """Keep a synthetic node alive as long as the document (caches key on its id)."""
        self._keepalive.append(node)

    def _constraining_siblings(self, node: dict[str, Any]) -> dict[str, Any]:
        if len(node) == 1 or not self.dialect.ref_siblings_apply:
            return {}
        return {
            k: v
            for k, v in node.items()
            if k != "$ref" and k not in ANNOTATION_KEYS and not k.startswith("x-")
        }

    def lookup(self, ref: str) -> Any:
        if ref == "#" or ref.startswith("#/"):
            cached = self._pointers.get(ref)
            if cached is None:
                cached = self._pointer(ref)
                self._pointers[ref] = cached
            return cached
        try:
            return self._registry_resolver().lookup(ref).contents
        except Unresolvable as exc:
            raise UnresolvableReference(
                f"$ref {ref!r} cannot be resolved inside the document", source=self.source
            ) from exc

    def _pointer(self, ref: str) -> Any:
        node = self.root
        for raw in ref[2:].split("/") if ref != "#" else ():
            part = unescape(unquote(raw))
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise UnresolvableReference(f"$ref {ref!r} points nowhere", source=self.source)
        return node

    def _registry_resolver(self) -> Any:
        if self._resolver is None:
            spec = specification_with(
                self.root.get("$schema", "") if isinstance(self.root, dict) else "",
                default=_SPECIFICATIONS.get(self.dialect, DRAFT202012),
            )
            resource = spec.create_resource(self.root)
            base = resource.id() or _ROOT_URI
            self._resolver = Registry().with_resource(base, resource).resolver(base_uri=base)
        return self._resolver

    def check_references(self, node: Any | None = None, *, local_only: bool = False) -> None:
        """Raise UnresolvableReference for the first `$ref` that points nowhere.

        `local_only`: references outside the document (not starting with '#') are skipped.
        """
        stack = [self.root if node is None else node]
        visited: set[int] = set()  # YAML aliases share nodes: walk each once
        while stack:
            current = stack.pop()
            if id(current) in visited:
                continue
            visited.add(id(current))
            if isinstance(current, dict):
                ref = current.get("$ref")
                if isinstance(ref, str) and not (local_only and not ref.startswith("#")):
                    self.lookup(ref)
                stack.extend(v for v in current.values() if isinstance(v, dict | list))
            elif isinstance(current, list):
                stack.extend(v for v in current if isinstance(v, dict | list))
