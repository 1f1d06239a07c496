"""What the hub refuses before any view runs, each with a 4xx in the hub's error format:
oversize URLs, headers and bodies, bodies that are not JSON, JSON nested too deep, numbers
out of range, NUL characters, and integer path segments the database cannot hold.

The JSON body is parsed here, once, with those limits, whatever JSON-ish content type it came
with (``application/json``, ``application/merge-patch+json``, ``application/*+json``) and
however it was framed (Content-Length or chunked); the views' argument parser reads the
parsed value instead of parsing again.
"""
from __future__ import annotations

import json
import math
from typing import Any

from flask import Flask, current_app, g, request
from marshmallow.utils import missing
from webargs.core import is_json
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter, ValidationError

from mdm.errors import (
    HeaderFieldsTooLarge,
    MdmError,
    UnsupportedMediaType,
    UriTooLong,
    ValidationFailed,
)

# The limits, chosen on purpose (README, "Configuration"):
# a 10,000-record bulk request is a few MB; 32 MiB leaves room for wide records.
MAX_BODY_BYTES = 32 * 1024 * 1024
# Request line (path and query). gunicorn's own limit is set higher (gunicorn_conf), so the
# hub answers first, in JSON.
MAX_URL_BYTES = 4096
MAX_HEADER_BYTES = 8192  # one header, name and value
MAX_HEADERS = 100
# No request the API documents nests deeper than a contract's JSON Schema; 64 levels leave room
# for those and stay far below the recursion limits of the parsers and encoders downstream.
MAX_JSON_DEPTH = 64
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Integer path segments are the ids and version numbers of rows; the smallest column among them
# is a 32-bit integer, so a larger number cannot name anything: it does not match the route (404).
PATH_INT_MAX = 2**31 - 1

_BODY = "_mdm_json_body"


class BodyRefused(ValidationFailed):
    """A JSON body within the syntax but beyond a limit (depth, number range, NUL)."""


class MalformedBody(MdmError):
    status = 400
    code = "bad_request"


class PathInt(IntegerConverter):
    """``<int:...>`` limited to what the database holds; longer digit strings are not even
    converted (Python refuses int() of more than 4,300 digits)."""

    def __init__(self, url_map: Any, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = PATH_INT_MAX, signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> Any:
        if len(value) > len(str(self.max if self.max is not None else INT64_MAX)) or \
                not value.isascii():
            raise ValidationError()
        return super().to_python(value)


class HubParser(FlaskParser):
    """webargs parser that takes the body this module parsed (once, with limits)."""

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json(req.mimetype):
            return missing
        return json_body()


def _refuse(message: str) -> BodyRefused:
    return BodyRefused(message, errors={"body": [message]})


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > 19:
        raise _refuse(f"The number {text[:30]}... has more digits than a 64-bit integer holds.")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise _refuse(f"The number {text} is outside the 64-bit integer range.")
    return value


def _parse_float(text: str) -> float:
    if len(text) > 400:
        raise _refuse(f"The number {text[:30]}... is longer than 400 characters.")
    value = float(text)
    if not math.isfinite(value):
        raise _refuse(f"The number {text[:30]} is too large for a double.")
    return value


def _parse_constant(name: str) -> Any:
    raise MalformedBody("The request body is not valid JSON.",
                        errors={"body": [f"{name} is not a JSON value."]})


def parse_json(raw: bytes) -> Any:
    """JSON from bytes with the hub's limits: depth, 64-bit integers, finite numbers, no NUL."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBody("The request body is not UTF-8.",
                            errors={"body": [f"Not UTF-8 at byte {exc.start}."]}) from exc
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float,
                           parse_constant=_parse_constant)
    except RecursionError as exc:
        raise _refuse(f"Nested deeper than {MAX_JSON_DEPTH} levels.") from exc
    except json.JSONDecodeError as exc:
        raise MalformedBody("The request body is not valid JSON.",
                            errors={"body": [f"{exc.msg} at line {exc.lineno} column {exc.colno}."]}
                            ) from exc
    _check_tree(value, nul="\\u0000" in text)
    return value


def _check_tree(value: Any, *, nul: bool) -> None:
    """Depth and NUL check without recursion; strings are only looked at when the text holds a
    ``\\u0000`` escape (a raw NUL byte is already invalid JSON)."""
    if not isinstance(value, (dict, list)):
        if nul and isinstance(value, str) and "\x00" in value:
            raise _nul()
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _refuse(f"Nested deeper than {MAX_JSON_DEPTH} levels.")
        if isinstance(node, dict):
            if nul and any("\x00" in key for key in node):
                raise _nul()
            children = node.values()
        else:
            children = node
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
            elif nul and isinstance(child, str) and "\x00" in child:
                raise _nul()


def _nul() -> ValidationFailed:
    return ValidationFailed("NUL characters are not allowed.",
                            errors={"body": ["Contains a NUL (U+0000) character."]})


def json_body() -> Any:
    """The request's parsed JSON body (``missing`` when there is none)."""
    if _BODY not in g:
        raw = request.get_data(cache=True)
        setattr(g, _BODY, parse_json(raw) if raw.strip() else missing)
    return g.get(_BODY)


def _has_body() -> bool:
    if request.content_length:
        return True
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _body_required() -> bool:
    """Whether the operation documents a required JSON body (flask-smorest's ``arguments``)."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    func = getattr(view_class, request.method.lower(), None) if view_class else view
    params = getattr(func, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(p.get("in") == "json" and p.get("required", True) for p in params)


def check_request() -> None:
    """Run before every view: refuses what no view should see."""
    raw_uri = request.environ.get("RAW_URI") or request.full_path
    if len(raw_uri.encode("latin-1", "replace")) > MAX_URL_BYTES:
        raise UriTooLong(f"The URL is longer than {MAX_URL_BYTES} bytes.",
                         errors={"url": [f"Longer than {MAX_URL_BYTES} bytes."]})
    headers = list(request.headers.items())
    if len(headers) > MAX_HEADERS:
        raise HeaderFieldsTooLarge(f"More than {MAX_HEADERS} request headers.",
                                   errors={"headers": [f"More than {MAX_HEADERS}."]})
    for name, value in headers:
        if len(name) + len(value) > MAX_HEADER_BYTES:
            raise HeaderFieldsTooLarge(f"The header {name[:100]} is longer than "
                                       f"{MAX_HEADER_BYTES} bytes.",
                                       errors={name[:100]: [f"Longer than {MAX_HEADER_BYTES}."]})
    where = None
    if "\x00" in request.path:
        where = "path"
    elif b"%00" in request.query_string or b"\x00" in request.query_string:
        where = "query"
    elif any("\x00" in value for _, value in headers):
        where = "headers"
    if where:
        raise ValidationFailed("NUL characters are not allowed.",
                               errors={where: ["Contains a NUL (U+0000) character."]})
    if _has_body():
        if not is_json(request.mimetype):
            raw = request.get_data(cache=True)
            if raw:
                raise UnsupportedMediaType(
                    "Send the request body as JSON (Content-Type: application/json).",
                    errors={"Content-Type": [f"Not JSON: '{request.mimetype or 'none'}'."]})
        json_body()
    if request.url_rule is not None and _body_required():
        if json_body() is missing or not is_json(request.mimetype):
            raise ValidationFailed("A JSON body is required.",
                                   errors={"body": ["Missing: this operation takes a JSON body."]})


def init_app(app: Flask) -> None:
    """Bind the limits; call before any blueprint is registered (the int converter)."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.url_map.converters["int"] = PathInt
