"""Breaking changes between two OpenAPI 3.0/3.1 descriptions, for clients of the old one.

Modelled on oasdiff's checks. Schemas reuse the JSON Schema comparator with the direction that
fits the traffic: a request schema is written by (old) clients and read by the new server; a
response schema is written by the new server and read by (old) clients. API descriptions are
compared with "writers send what they declare" semantics (see DiffOptions), so adding an
optional request property is not breaking while removing a required response property is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from contracts.compatibility.changes import api_change, api_schema_change
from contracts.compatibility.document import SchemaDocument
from contracts.compatibility.jsonschema_diff import DiffOptions, SchemaComparator
from contracts.compatibility.loader import HTTP_METHODS, Contract
from contracts.compatibility.pointer import escape
from contracts.compatibility.result import Change, Direction
from contracts.compatibility.rules import ApiRule as A

_TEMPLATE = re.compile(r"\{[^}/]*\}")


class OpenApiDiff:
    """One comparison of an old and a new description; memoises schema pairs across operations."""

    def __init__(self, old: Contract, new: Contract, direction: Direction) -> None:
        self.old_doc = old.schema_document()
        self.new_doc = new.schema_document()
        self.direction = direction
        self.labels = ("old", "new") if direction is Direction.BACKWARD else ("new", "old")
        lenient = {"open_writer_carries_unknown": False, "annotations": False}
        # requests: old clients write, the new server reads
        self.requests = SchemaComparator(
            self.old_doc, self.new_doc, DiffOptions(context="request", **lenient)
        )
        # responses: the new server writes, old clients read
        self.responses = SchemaComparator(
            self.new_doc, self.old_doc, DiffOptions(context="response", **lenient)
        )

    def changes(self) -> list[Change]:
        return list(self._paths())

    # -- paths and operations ----------------------------------------------------------------

    def _paths(self) -> Iterator[Change]:
        old_paths = _by_template(self.old_doc.root.get("paths") or {})
        new_paths = _by_template(self.new_doc.root.get("paths") or {})
        for template, (old_path, old_item) in old_paths.items():
            found = new_paths.get(template)
            old_item = self.old_doc.resolve(old_item)
            if found is None:
                yield self._path_removed(old_path, old_item)
                continue
            new_path, new_item = found
            new_item = self.new_doc.resolve(new_item)
            yield from self._operations(old_path, old_item, new_path, new_item)
        for template, (new_path, _item) in new_paths.items():
            if template not in old_paths:
                pointer = f"/paths/{escape(new_path)}"
                yield api_change(A.ENDPOINT_ADDED, pointer, new_path, "paths", self.direction)

    def _path_removed(self, path: str, item: dict[str, Any]) -> Change:
        operations = [item[m] for m in HTTP_METHODS if isinstance(item.get(m), dict)]
        deprecated = bool(operations) and all(op.get("deprecated") is True for op in operations)
        rule = (
            A.API_PATH_REMOVED_AFTER_DEPRECATION
            if deprecated
            else A.API_PATH_REMOVED_WITHOUT_DEPRECATION
        )
        return api_change(rule, f"/paths/{escape(path)}", path, "paths", self.direction)

    def _operations(
        self, old_path: str, old_item: dict[str, Any], new_path: str, new_item: dict[str, Any]
    ) -> Iterator[Change]:
        for method in HTTP_METHODS:
            old_op, new_op = old_item.get(method), new_item.get(method)
            pointer = f"/paths/{escape(new_path)}/{method}"
            what = f"{method.upper()} {new_path}"
            if not isinstance(old_op, dict):
                if isinstance(new_op, dict):
                    yield api_change(A.ENDPOINT_ADDED, pointer, what, "paths", self.direction)
                continue
            if not isinstance(new_op, dict):
                rule = (
                    A.API_REMOVED_AFTER_DEPRECATION
                    if old_op.get("deprecated") is True
                    else A.API_REMOVED_WITHOUT_DEPRECATION
                )
                yield api_change(rule, pointer, what, "paths", self.direction)
                continue
            if new_op.get("deprecated") is True and old_op.get("deprecated") is not True:
                yield api_change(A.ENDPOINT_DEPRECATED, pointer, what, "paths", self.direction)
            op = _Operation(self, pointer, what)
            yield from op.parameters(
                self._parameters(old_item, old_op, self.old_doc, old_path),
                self._parameters(new_item, new_op, self.new_doc, new_path),
            )
            yield from op.request_body(old_op.get("requestBody"), new_op.get("requestBody"))
            yield from op.responses(old_op.get("responses") or {}, new_op.get("responses") or {})
            yield from op.security(
                old_op.get("security", self.old_doc.root.get("security")),
                new_op.get("security", self.new_doc.root.get("security")),
            )

    @staticmethod
    def _parameters(
        item: dict[str, Any], op: dict[str, Any], doc: SchemaDocument, path: str
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Parameters by (location, key): headers case-insensitive, path ones by position."""
        slots = _path_slots(path)
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in list(item.get("parameters") or []) + list(op.get("parameters") or []):
            param = doc.resolve(raw)
            if not isinstance(param, dict) or "name" not in param:
                continue
            location = str(param.get("in", "query"))
            name = str(param["name"])
            if location == "header":
                name = name.lower()
            elif location == "path":
                name = slots.get(name, name)
            merged[(location, name)] = param
        return merged


class _Operation:
    """The checks of one operation present in both descriptions."""

    def __init__(self, diff: OpenApiDiff, pointer: str, what: str) -> None:
        self.diff = diff
        self.pointer = pointer
        self.what = what
        self.direction = diff.direction

    def _api(self, rule: A, pointer: str, area: str, what: str | None = None) -> Change:
        return api_change(rule, pointer, what or self.what, area, self.direction)

    def _schemas(
        self,
        old_schema: Any,
        new_schema: Any,
        location: str,
        pointer: str,
        area: str,
        what: str,
    ) -> Iterator[Change]:
        if old_schema is None or new_schema is None:
            return
        request = location.startswith("request")
        if request:
            findings = self.diff.requests.compare(old_schema, new_schema)
        else:
            findings = self.diff.responses.compare(new_schema, old_schema)
        for finding in findings:
            yield api_schema_change(
                finding, location, request, pointer, what, area, self.direction, self.diff.labels
            )

    def parameters(
        self,
        old: dict[tuple[str, str], dict[str, Any]],
        new: dict[tuple[str, str], dict[str, Any]],
    ) -> Iterator[Change]:
        for key, new_param in new.items():
            location, name = key[0], str(new_param["name"])
            pointer = f"{self.pointer}/parameters/{location}/{escape(name)}"
            what = f"{self.what} {location} parameter '{name}'"
            old_param = old.get(key)
            required = new_param.get("required") is True or location == "path"
            if old_param is None:
                rule = (
                    A.NEW_REQUIRED_REQUEST_PARAMETER
                    if required
                    else A.NEW_OPTIONAL_REQUEST_PARAMETER
                )
                yield self._api(rule, pointer, "parameters", what)
                continue
            was_required = old_param.get("required") is True or location == "path"
            if required and not was_required:
                yield self._api(A.REQUEST_PARAMETER_BECAME_REQUIRED, pointer, "parameters", what)
            elif was_required and not required:
                yield self._api(A.REQUEST_PARAMETER_BECAME_OPTIONAL, pointer, "parameters", what)
            yield from self._schemas(
                _parameter_schema(old_param),
                _parameter_schema(new_param),
                "request-parameter",
                pointer + "/schema",
                "parameters",
                what,
            )
        for key in old.keys() - new.keys():
            location, name = key[0], str(old[key]["name"])
            pointer = f"{self.pointer}/parameters/{location}/{escape(name)}"
            what = f"{self.what} {location} parameter '{name}'"
            yield self._api(A.REQUEST_PARAMETER_REMOVED, pointer, "parameters", what)

    def request_body(self, old_raw: Any, new_raw: Any) -> Iterator[Change]:
        old_body = self.diff.old_doc.resolve(old_raw)
        new_body = self.diff.new_doc.resolve(new_raw)
        pointer = f"{self.pointer}/requestBody"
        what = f"{self.what} request body"
        if not isinstance(new_body, dict):
            if isinstance(old_body, dict):
                yield self._api(A.REQUEST_BODY_REMOVED, pointer, "request body", what)
            return
        required = new_body.get("required") is True
        if not isinstance(old_body, dict):
            rule = A.NEW_REQUIRED_REQUEST_BODY if required else A.NEW_OPTIONAL_REQUEST_BODY
            yield self._api(rule, pointer, "request body", what)
            return
        was_required = old_body.get("required") is True
        if required and not was_required:
            yield self._api(A.REQUEST_BODY_BECAME_REQUIRED, pointer, "request body", what)
        elif was_required and not required:
            yield self._api(A.REQUEST_BODY_BECAME_OPTIONAL, pointer, "request body", what)
        yield from self._content(
            old_body.get("content") or {},
            new_body.get("content") or {},
            pointer,
            what,
            request=True,
        )

    def _content(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        pointer: str,
        what: str,
        request: bool,
    ) -> Iterator[Change]:
        area = "request body" if request else "responses"
        matched: set[str] = set()
        for media_type, old_media in old.items():
            media_pointer = f"{pointer}/content/{escape(media_type)}"
            # requests: the new server must accept what old clients send (a range covering
            # it); responses: old clients accept what the new server sends (either side's
            # range covering the other: */* narrowed to application/json is still readable)
            new_type = _media_match(media_type, new, both_ways=not request)
            new_media = new.get(new_type) if new_type is not None else None
            if new_type is not None:
                matched.add(new_type)
            if new_media is None:
                rule = (
                    A.REQUEST_BODY_MEDIA_TYPE_REMOVED if request else A.RESPONSE_MEDIA_TYPE_REMOVED
                )
                yield self._api(rule, media_pointer, area, f"{what} {media_type}")
                continue
            if not isinstance(old_media, dict) or not isinstance(new_media, dict):
                continue
            yield from self._schemas(
                old_media.get("schema"),
                new_media.get("schema"),
                "request-body" if request else "response-body",
                media_pointer + "/schema",
                area,
                f"{what} {media_type}",
            )
        for media_type in new.keys() - old.keys() - matched:
            if _media_match(media_type, old, both_ways=True) is not None:
                continue  # covered by a range the old description already had
            rule = A.REQUEST_BODY_MEDIA_TYPE_ADDED if request else A.RESPONSE_MEDIA_TYPE_ADDED
            media_pointer = f"{pointer}/content/{escape(media_type)}"
            yield self._api(rule, media_pointer, area, f"{what} {media_type}")

    def responses(self, old: dict[Any, Any], new: dict[Any, Any]) -> Iterator[Change]:
        for status, old_raw in old.items():
            status = str(status)
            pointer = f"{self.pointer}/responses/{escape(status)}"
            what = f"{self.what} response {status}"
            new_raw = new.get(status, new.get(int(status)) if status.isdigit() else None)
            if new_raw is None:
                success = status.startswith("2")
                rule = (
                    A.RESPONSE_SUCCESS_STATUS_REMOVED
                    if success
                    else A.RESPONSE_NON_SUCCESS_STATUS_REMOVED
                )
                yield self._api(rule, pointer, "responses", what)
                continue
            old_response = self.diff.old_doc.resolve(old_raw)
            new_response = self.diff.new_doc.resolve(new_raw)
            if not isinstance(old_response, dict) or not isinstance(new_response, dict):
                continue
            yield from self._content(
                old_response.get("content") or {},
                new_response.get("content") or {},
                pointer,
                what,
                request=False,
            )
            yield from self._headers(
                old_response.get("headers") or {}, new_response.get("headers") or {}, pointer, what
            )
        old_statuses = {str(s) for s in old}
        for status in new:
            if str(status) not in old_statuses:
                pointer = f"{self.pointer}/responses/{escape(str(status))}"
                yield self._api(
                    A.RESPONSE_STATUS_ADDED, pointer, "responses", f"{self.what} response {status}"
                )

    def _headers(
        self, old: dict[str, Any], new: dict[str, Any], pointer: str, what: str
    ) -> Iterator[Change]:
        new_by_name = {name.lower(): value for name, value in new.items()}
        for name, old_raw in old.items():
            header_pointer = f"{pointer}/headers/{escape(name)}"
            header_what = f"{what} header '{name}'"
            old_header = self.diff.old_doc.resolve(old_raw)
            new_raw = new_by_name.get(name.lower())
            if new_raw is None:
                required = isinstance(old_header, dict) and old_header.get("required") is True
                rule = (
                    A.RESPONSE_REQUIRED_HEADER_REMOVED
                    if required
                    else A.RESPONSE_OPTIONAL_HEADER_REMOVED
                )
                yield self._api(rule, header_pointer, "responses", header_what)
                continue
            new_header = self.diff.new_doc.resolve(new_raw)
            if isinstance(old_header, dict) and isinstance(new_header, dict):
                yield from self._schemas(
                    _parameter_schema(old_header),
                    _parameter_schema(new_header),
                    "response-header",
                    header_pointer + "/schema",
                    "responses",
                    header_what,
                )

    def security(self, old: Any, new: Any) -> Iterator[Change]:
        old_options = _security_options(old)
        new_options = _security_options(new)
        pointer = f"{self.pointer}/security"
        if not new_options or any(not option for option in new_options):
            if old_options and all(old_options):
                yield self._api(A.API_SECURITY_REMOVED, pointer, "security")
            return
        for option in old_options or [{}]:
            if any(_satisfies(option, candidate) for candidate in new_options):
                continue
            same_schemes = any(candidate.keys() <= option.keys() for candidate in new_options)
            rule = A.API_SECURITY_SCOPE_ADDED if same_schemes else A.API_SECURITY_ADDED
            yield self._api(rule, pointer, "security")
            return


def _by_template(paths: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """Paths keyed by their template shape: /users/{id} and /users/{user_id} are one path.

    `x-` keys are specification extensions, not paths.
    """
    return {
        _TEMPLATE.sub("{}", path): (path, item)
        for path, item in paths.items()
        if isinstance(path, str) and path.startswith("/")
    }


def _path_slots(path: str) -> dict[str, str]:
    """Each template variable's position: renaming {id} to {userId} keeps the parameter."""
    return {match[1:-1]: f"{{{index}}}" for index, match in enumerate(_TEMPLATE.findall(path))}


def _media_range(media_type: str) -> tuple[str, str]:
    """ "Application/JSON; charset=utf-8" -> ("application", "json"); parameters ignored."""
    essence = media_type.split(";", 1)[0].strip().lower()
    main, _, sub = essence.partition("/")
    return main or "*", sub or "*"


def _covers(media_range: tuple[str, str], media_type: tuple[str, str]) -> bool:
    main, sub = media_range
    return main == "*" or (main == media_type[0] and sub in ("*", media_type[1]))


def _media_match(media_type: str, candidates: dict[str, Any], both_ways: bool) -> str | None:
    """The candidate key standing for `media_type`: the same type first, then a range
    covering it (and with `both_ways`, a type it covers as a range)."""
    if media_type in candidates:
        return media_type
    wanted = _media_range(media_type)
    parsed = {key: _media_range(key) for key in candidates if isinstance(key, str)}
    for key, value in parsed.items():
        if value == wanted:
            return key
    covering = [k for k, v in parsed.items() if _covers(v, wanted)]
    if covering:  # the narrowest range first: text/* before */*
        return min(covering, key=lambda k: parsed[k].count("*"))
    if both_ways:
        for key, value in parsed.items():
            if _covers(wanted, value):
                return key
    return None


def _parameter_schema(param: dict[str, Any]) -> Any:
    if "schema" in param:
        return param["schema"]
    content = param.get("content")
    if isinstance(content, dict):
        for media in content.values():
            if isinstance(media, dict) and "schema" in media:
                return media["schema"]
    return None


def _security_options(requirements: Any) -> list[dict[str, frozenset[str]]]:
    if not isinstance(requirements, list):
        return []
    options = []
    for requirement in requirements:
        if isinstance(requirement, dict):
            options.append(
                {
                    name: frozenset(scopes if isinstance(scopes, list) else [])
                    for name, scopes in requirement.items()
                }
            )
    return options


def _satisfies(held: dict[str, frozenset[str]], needed: dict[str, frozenset[str]]) -> bool:
    """Does a client holding `held` credentials meet the `needed` requirement?"""
    return all(name in held and scopes <= held[name] for name, scopes in needed.items())


def openapi_changes(old: Contract, new: Contract, direction: Direction) -> list[Change]:
    """Changes that affect clients written against `old` when the service moves to `new`."""
    return OpenApiDiff(old, new, direction).changes()
