"""Turn text or parsed data into a validated `Contract`: parse, detect the format, validate.

Everything that makes a document unjudgeable raises a `ContractError` here, before any engine
runs, so the engines can assume well-formed input.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import exceptions as js_exceptions
from jsonschema import validators as js_validators

from contracts.compatibility.document import (
    DEFAULT_DIALECT,
    Dialect,
    SchemaDocument,
    dialect_of,
    parse_dialect,
)
from contracts.compatibility.result import Format
from contracts.errors import (
    InvalidDocument,
    UnreadableDocument,
    UnsupportedFormat,
)

# libyaml's safe loader when PyYAML was built with it: the same documents, ~10x faster.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_VALIDATORS = {
    Dialect.DRAFT4: js_validators.Draft4Validator,
    Dialect.DRAFT6: js_validators.Draft6Validator,
    Dialect.DRAFT7: js_validators.Draft7Validator,
    Dialect.DRAFT2019: js_validators.Draft201909Validator,
    Dialect.DRAFT2020: js_validators.Draft202012Validator,
}


@dataclass(frozen=True, slots=True)
class Contract:
    """A validated contract document."""

    format: Format
    document: Any
    dialect: Dialect
    source: str | None = None
    _schema_document: SchemaDocument | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def schema_document(self) -> SchemaDocument:
        """The document with its `$ref` and text caches, one per contract: both directions of
        a comparison (and every comparison of a cached contract) share what it learnt."""
        if self._schema_document is None:
            doc = SchemaDocument(self.document, self.dialect, self.source)
            object.__setattr__(self, "_schema_document", doc)
            return doc
        return self._schema_document


def read_text(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableDocument(f"cannot read file: {exc}", source=str(path)) from exc


# No registered contract nests deeper; deeper documents are refused before any engine (or a
# database text column, which cannot hold NUL either) sees them. The CLI reads files from
# disk with a larger bound (real descriptions nest deeper) and a deeper stack.
MAX_DEPTH = 64
# YAML aliases share nodes; expanded, a few hundred bytes can stand for billions of nodes
# (an "alias bomb"). Every consumer of the parsed tree that does not memoise by identity
# would walk them all, so documents expanding beyond this many containers are refused.
MAX_EXPANDED_NODES = 2_000_000
# Depth bounds at least this large are left to the JSON decoder's recursion limit.
_DECODER_DEPTH = 1000


def parse_text(
    text: str | bytes,
    source: str | None = None,
    max_depth: int = MAX_DEPTH,
    *,
    bounded_numbers: bool = True,
) -> Any:
    """JSON first (fast, exact numbers), then YAML (a superset for our purposes).

    `bounded_numbers` refuses integers beyond 64 bits (what a stored contract may hold); files
    read by the CLI may carry them (e.g. `maximum: 18446744073709551615` for a uint64).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnreadableDocument("not UTF-8 text", source=source) from exc
    if "\x00" in text:
        raise UnreadableDocument("contains a NUL (U+0000) character", source=source)
    try:
        data = json.loads(text)
    except RecursionError as exc:
        raise UnreadableDocument(f"nested deeper than {max_depth} levels", source=source) from exc
    except ValueError:  # not JSON (or a number beyond Python's digit limit): try YAML
        data = _parse_yaml(text, source, max_depth)
    else:
        if not bounded_numbers and max_depth >= _DECODER_DEPTH and "\\u0000" not in text:
            # JSON has no aliases, a NUL can only come from a \u0000 escape, numbers may be
            # any size here and the decoder's own recursion limit bounds the depth: nothing
            # left to walk for (seconds saved on a 50 MB description).
            return data
    _check_tree(data, source, max_depth, bounded_numbers)
    return data


def _parse_yaml(text: str, source: str | None, max_depth: int) -> Any:
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "invalid syntax"
        raise UnreadableDocument(f"neither JSON nor YAML ({reason})", source=source) from exc
    except RecursionError as exc:
        raise UnreadableDocument(f"nested deeper than {max_depth} levels", source=source) from exc
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise UnreadableDocument(f"unreadable value ({exc})", source=source) from exc
    if data is None or isinstance(data, str | int | float):
        raise UnreadableDocument("neither a JSON nor a YAML document", source=source)
    return data


def _check_tree(
    data: Any, source: str | None, max_depth: int = MAX_DEPTH, bounded_numbers: bool = True
) -> None:
    """Depth, NUL characters, number sizes and alias expansion, without recursion.

    A node shared through YAML aliases is walked again only when met deeper than before, so
    the work is bounded by the distinct nodes, not by the expanded tree.
    """
    deepest: dict[int, int] = {}
    shared = False
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise UnreadableDocument(
                f"nested deeper than {max_depth} levels (or a recursive YAML alias)",
                source=source,
            )
        seen = deepest.get(id(node))
        if seen is not None:
            shared = True
            if seen >= depth:
                continue
        deepest[id(node)] = depth
        if isinstance(node, dict):
            for key in node:
                if isinstance(key, str) and "\x00" in key:
                    raise UnreadableDocument("contains a NUL (U+0000) character", source=source)
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            children = (node,)
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
            elif isinstance(child, str) and "\x00" in child:
                raise UnreadableDocument("contains a NUL (U+0000) character", source=source)
            elif bounded_numbers and isinstance(child, int) and not -(2**63) <= child < 2**63:
                raise UnreadableDocument("a number beyond 64 bits", source=source)
    if shared and _expanded_size(data) > MAX_EXPANDED_NODES:
        raise UnreadableDocument(
            f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (an alias bomb)",
            source=source,
        )


def _children(node: Any) -> list[Any]:
    values = node.values() if isinstance(node, dict) else node
    return [v for v in values if isinstance(v, dict | list)]


def _expanded_size(data: Any) -> int:
    """Containers in the tree with every alias expanded, counted once per distinct node."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if ready:
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(data)]


def detect_format(document: Any) -> Format:
    if isinstance(document, dict):
        if "openapi" in document or "swagger" in document:
            return Format.OPENAPI
        if "asyncapi" in document:
            return Format.ASYNCAPI
    return Format.JSONSCHEMA


def load_contract(
    data: Any,
    fmt: Format | str | None = "auto",
    source: str | None = None,
    *,
    draft: Dialect | str | None = None,
    max_depth: int = MAX_DEPTH,
    bounded_numbers: bool = True,
) -> Contract:
    """Parse (if text), detect the format (if "auto") and validate a contract document.

    `draft` is the JSON Schema dialect of a schema without `$schema` (default draft-07); a
    declared `$schema` always wins.
    """
    if isinstance(data, Contract):
        return data
    default = _draft(draft, source)
    document = (
        parse_text(data, source, max_depth, bounded_numbers=bounded_numbers)
        if isinstance(data, str | bytes)
        else data
    )
    chosen = detect_format(document) if fmt in (None, "auto") else Format(fmt)
    if chosen is Format.JSONSCHEMA:
        contract = _load_jsonschema(document, source, default)
    else:
        contract = _LOADERS[chosen](document, source)
    refs = _refs_in_json_text(data) if isinstance(data, str) else None
    # AsyncAPI messages often point at schemas elsewhere (an Avro file): that part is "not
    # comparable" in the diff, the rest of the document is still judged.
    local_only = chosen is Format.ASYNCAPI
    if refs is None:
        contract.schema_document().check_references(local_only=local_only)
    else:
        doc = contract.schema_document()
        for ref in refs:
            if not local_only or ref.startswith("#"):
                doc.lookup(ref)
    return contract


# `"$ref": "..."` as JSON writes it, for refs without escapes (all real ones we have seen).
_JSON_REF = re.compile(r'"\$ref"\s*:\s*"([^"\\]*)"')


def _refs_in_json_text(text: str) -> set[str] | None:
    """All `$ref` values of a JSON text without walking the parsed tree.

    None when the text is YAML or when some `$ref` did not match the simple pattern (escapes,
    a "$ref" inside a string): the caller then walks the tree. 20 ms instead of 200 ms on a
    13 MB description.
    """
    if not text.lstrip().startswith(("{", "[")):
        return None
    found = _JSON_REF.findall(text)
    if len(found) != text.count('"$ref"'):
        return None
    return set(found)
    try:
        return {json.loads(f'"{raw}"') for raw in set(_JSON_REF.findall(text))}
    except ValueError:
        return None


def _draft(draft: Dialect | str | None, source: str | None) -> Dialect:
    if draft is None:
        return DEFAULT_DIALECT
    if isinstance(draft, Dialect):
        return draft
    try:
        return parse_dialect(draft)
    except ValueError as exc:
        raise UnsupportedFormat(str(exc), source=source) from exc


def _load_jsonschema(
    document: Any, source: str | None, default: Dialect = DEFAULT_DIALECT
) -> Contract:
    if not isinstance(document, dict | bool):
        raise InvalidDocument("a JSON Schema must be an object or a boolean", source=source)
    dialect = dialect_of(document, default)
    declared = document.get("$schema") if isinstance(document, dict) else None
    # default=None asks "is $schema known?"; the stub only allows a validator class
    validator = js_validators.validator_for(document, default=None)  # type: ignore[arg-type]
    if validator is None:
        if declared is not None and not (
            isinstance(declared, str) and any(m in declared for m in _MARKERS)
        ):
            raise UnsupportedFormat(f"unknown $schema {declared!r}", source=source)
        validator = _VALIDATORS[dialect]
    try:
        validator.check_schema(document)
    except js_exceptions.SchemaError as exc:
        where = "/" + "/".join(str(p) for p in exc.absolute_path) if exc.absolute_path else "/"
        raise InvalidDocument(
            f"not a valid JSON Schema at {where}: {exc.message}", source=source
        ) from exc
    return Contract(Format.JSONSCHEMA, document, dialect, source)


_MARKERS = ("draft-04", "draft-06", "draft-07", "2019-09", "2020-12")


def _load_openapi(document: Any, source: str | None) -> Contract:
    if not isinstance(document, dict):
        raise InvalidDocument("an OpenAPI document must be an object", source=source)
    if "swagger" in document:
        raise UnsupportedFormat("Swagger 2.0 is not supported; convert to OpenAPI 3", source=source)
    version = str(document.get("openapi", ""))
    if version.startswith("3.0"):
        dialect = Dialect.OAS30
    elif version.startswith("3.1"):
        dialect = Dialect.OAS31
    else:
        raise UnsupportedFormat(f"OpenAPI version {version!r} (3.0 and 3.1 only)", source=source)
    _require_mapping(document, "info", source)
    paths = document.get("paths")
    if dialect is Dialect.OAS30 or paths is not None:
        _require_mapping(document, "paths", source)
    for path, item in (paths or {}).items():
        if isinstance(path, str) and path.startswith("x-"):
            continue  # specification extensions are allowed in the Paths object
        if not isinstance(path, str) or not path.startswith("/"):
            raise InvalidDocument(f"path {path!r} must start with '/'", source=source)
        if not isinstance(item, dict):
            raise InvalidDocument(f"path item {path!r} must be an object", source=source)
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is not None and not isinstance(operation, dict):
                raise InvalidDocument(f"{method.upper()} {path} must be an object", source=source)
    return Contract(Format.OPENAPI, document, dialect, source)


def _load_asyncapi(document: Any, source: str | None) -> Contract:
    if not isinstance(document, dict):
        raise InvalidDocument("an AsyncAPI document must be an object", source=source)
    version = str(document.get("asyncapi", ""))
    if not (version.startswith("2.") or version.startswith("3.0")):
        raise UnsupportedFormat(f"AsyncAPI version {version!r} (2.x and 3.0 only)", source=source)
    _require_mapping(document, "info", source)
    if version.startswith("2."):
        _require_mapping(document, "channels", source)
    elif "channels" in document and not isinstance(document["channels"], dict):
        raise InvalidDocument("'channels' must be an object", source=source)
    return Contract(Format.ASYNCAPI, document, Dialect.DRAFT7, source)


def _require_mapping(document: dict[str, Any], key: str, source: str | None) -> None:
    if not isinstance(document.get(key), dict):
        raise InvalidDocument(f"'{key}' is missing or not an object", source=source)


_LOADERS: dict[Format, Any] = {
    Format.JSONSCHEMA: _load_jsonschema,
    Format.OPENAPI: _load_openapi,
    Format.ASYNCAPI: _load_asyncapi,
}
