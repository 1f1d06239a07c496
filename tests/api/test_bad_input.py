"""The bad-input catalogue: every operation in the OpenAPI document gets every class of bad
input it can take, and must answer a 4xx in the hub's JSON error format with nothing stored.

Classes: JSON nested 1,000 and 10,000 deep; a 5,001-digit number and integers beyond 64 bits;
NUL characters in application/json, merge-patch+json and +json bodies and in chunked bodies;
bodies over the size limit; a body that is not JSON, or of the wrong JSON type, or whose
fields have the wrong types; malformed cursors and wrong query types; '/', '%2F', '..' in
string path segments; integer path segments beyond 32 and 64 bits.

The Confluent-compatible endpoints (not in the document) answer in Confluent's error body;
they get the body classes too.
"""
from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from mdm.web.guard import MAX_JSON_DEPTH

Request = tuple[str, str, dict[str, Any]]  # what, url, test-client keyword arguments
DEEP_1K = "[" * 1000 + "]" * 1000
DEEP_10K = "[" * 10_000
HUGE_NUMBER = '{"value": ' + "9" * 5001 + "}"
INT64_OVERFLOW = str(2**63)
INT32_OVERFLOW = str(2**31)
SMALL_LIMIT = 64 * 1024
CONFLUENT = [("POST", "/subjects/s1/versions"), ("POST", "/subjects/s1"),
             ("PUT", "/config"), ("PUT", "/config/s1"),
             ("POST", "/compatibility/subjects/s1/versions/latest")]


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


MALFORMED_CURSORS = ["!!!", "%%%", "a", _cursor("not-a-position"), _cursor("9" * 5001),
                     _cursor("-1"), _cursor("\x00"), _cursor('{"a": 1}'), "\u00e9t\u00e9",
                     _cursor(INT64_OVERFLOW)]


@pytest.fixture
def world(app: Any, client: Any, admin: dict[str, str], sources: list[str]) -> dict[str, str]:
    """Real values for path parameters, so bad input reaches handlers that could write."""
    r = client.post("/domains/supplier/records", headers=admin, json={
        "source_system": "SAP", "source_id": "1", "attributes": {"name": "Acme GmbH"}})
    assert r.status_code in (200, 201), r.json
    golden_id = r.json["golden_id"]
    r = client.post("/hierarchies", headers=admin, json={"name": "chart", "domain": "cost_center"})
    assert r.status_code == 201, r.json
    return {"domain": "supplier", "source_system": "SAP", "code": "SAP", "source_id": "1",
            "golden_id": golden_id, "name": "chart", "number": "1"}


def _operations(client: Any) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    document = client.get("/openapi.json").json
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method == "parameters":
                continue
            yield method.upper(), path, {"parameters": shared + op.get("parameters", []),
                                         **op}, document


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _url(path: str, op: dict[str, Any], world: dict[str, str],
         override: dict[str, str] | None = None) -> str:
    override = override or {}
    url = path
    for param in op["parameters"]:
        if param["in"] != "path":
            continue
        name = param["name"]
        default = "1" if param["schema"].get("type") == "integer" else "X1"
        url = url.replace("{" + name + "}", override.get(name, world.get(name, default)))
    return url


def _with_if_match(op: dict[str, Any]) -> dict[str, str]:
    needs = any(p["in"] == "header" and p["name"] == "If-Match" for p in op["parameters"])
    return {"If-Match": '"1"'} if needs else {}


def _wrong_value(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    return {"string": 12345, "integer": "twelve", "number": "twelve", "boolean": "maybe",
            "array": {"not": "a list"}, "object": ["not", "an", "object"]}.get(kind, ...)


def body_requests(op: dict[str, Any], document: dict[str, Any]) -> Iterator[Request]:
    if "requestBody" not in op:
        return
    json_type = {"content_type": "application/json"}
    yield "nested 1,000 deep", "", {"data": DEEP_1K, **json_type}
    yield "nested 10,000 deep", "", {"data": DEEP_10K, **json_type}
    yield f"nested {MAX_JSON_DEPTH + 1} deep in an object", "", {
        "data": '{"a": ' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}", **json_type}
    yield "5,001-digit number", "", {"data": HUGE_NUMBER, **json_type}
    yield "integer beyond 64 bits", "", {"data": '{"value": ' + INT64_OVERFLOW + "}",
                                         **json_type}
    yield "number beyond a double", "", {"data": '{"value": 1e400}', **json_type}
    yield "NaN", "", {"data": '{"value": NaN}', **json_type}
    for content_type in ("application/json", "application/merge-patch+json",
                         "application/vnd.schemaregistry.v1+json"):
        yield f"NUL in {content_type}", "", {"data": '{"name": "a\\u0000b"}',
                                             "content_type": content_type}
    yield "NUL in a key", "", {"data": '{"a\\u0000": 1}', **json_type}
    yield "NUL in a chunked body", "", {
        "input_stream": io.BytesIO(b'{"name": "a\\u0000b", "code": "X\\u0000"}'),
        "headers": {"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        "environ_overrides": {"wsgi.input_terminated": True}}
    yield "raw NUL byte", "", {"data": b'{"name": "a\x00b"}', **json_type}
    yield "not UTF-8", "", {"data": b'{"name": "\xff\xfe"}', **json_type}
    yield "not JSON", "", {"data": "{name: 'x'", **json_type}
    yield "form instead of JSON", "", {"data": "name=x&code=y",
                                       "content_type": "application/x-www-form-urlencoded"}
    yield "text instead of JSON", "", {"data": '{"name": "x"}', "content_type": "text/plain"}
    yield "over the size limit", "", {"data": '{"name": "' + "x" * (SMALL_LIMIT * 2) + '"}',
                                      **json_type}
    schema = _resolve(op["requestBody"]["content"]["application/json"]["schema"], document)
    if schema.get("type") == "object":
        for wrong in ("[]", '"text"', "12", "true", "null"):
            yield f"body {wrong} instead of an object", "", {"data": wrong, **json_type}
        props = {name: _wrong_value(_resolve(prop, document))
                 for name, prop in schema.get("properties", {}).items()
                 if not _resolve(prop, document).get("readOnly")}
        props = {name: value for name, value in props.items() if value is not ...}
        if props:
            yield f"wrong types for {sorted(props)}", "", {"json": props}
    if op["requestBody"].get("required"):
        yield "no body", "", {}


def query_requests(op: dict[str, Any]) -> Iterator[Request]:
    for param in op["parameters"]:
        if param["in"] != "query":
            continue
        name, schema = param["name"], param["schema"]
        kind = schema.get("type")
        bad: list[str] = []
        if name == "cursor":
            bad = MALFORMED_CURSORS
        elif kind == "integer":
            bad = ["twelve", "1.5", "-1", INT64_OVERFLOW, "9" * 5001]
            bad = [b for b in bad if not (b == "-1" and schema.get("minimum", 0) < 0)]
        elif kind == "number":
            bad = ["twelve", "nan", "inf", "1e400"]
            bad = [b for b in bad if b in ("twelve",) or "maximum" in schema or b == "nan"]
        elif kind == "boolean":
            bad = ["maybe"]
        elif "enum" in schema:
            bad = ["no-such-choice"]
        elif schema.get("format") in ("date", "date-time"):
            bad = ["yesterday", "2024-13-45"]
        elif "pattern" in schema:
            bad = ["x.y.z"]
        elif kind == "string":
            bad = ["a\x00b"]
        for value in bad:
            yield f"query {name}={value[:20]!r}", "", {"query_string": {name: value}}


def path_requests(path: str, op: dict[str, Any], world: dict[str, str]) -> Iterator[Request]:
    for param in op["parameters"]:
        if param["in"] != "path":
            continue
        name = param["name"]
        if param["schema"].get("type") == "integer":
            values = [INT64_OVERFLOW, INT32_OVERFLOW, "9" * 5001, "-1", "abc", "1.5"]
        else:
            values = ["a/b", "a%2Fb", "..", "%2E%2E", "a%00b", "x" * 3000]
        for value in values:
            yield f"path {name}={value[:20]!r}", _url(path, op, world, {name: value}), {}


def _row_counts(app: Any) -> dict[str, int]:
    from mdm.db import db
    from mdm.schema import all_metadata

    with app.app_context():
        counts = {table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
                  for metadata in all_metadata for table in metadata.sorted_tables}
        db.remove_session()
    return counts


def _is_hub_error(body: Any, status: int) -> bool:
    return (isinstance(body, dict) and body.get("status") == status
            and isinstance(body.get("code"), str) and isinstance(body.get("message"), str))


def _is_confluent_error(body: Any, status: int) -> bool:
    return (isinstance(body, dict) and isinstance(body.get("error_code"), int)
            # Confluent's codes: the status (generic HTTP errors) or status * 100 + n
            and status in (body["error_code"], body["error_code"] // 100)
            and isinstance(body.get("message"), str))


def _check(client: Any, method: str, url: str, kwargs: dict[str, Any], headers: dict[str, str],
           what: str, *, confluent: bool = False) -> str | None:
    kwargs = dict(kwargs)
    kwargs["headers"] = {**headers, **kwargs.get("headers", {})}
    r = client.open(url, method=method, **kwargs)
    label = f"{method} {url[:80]} [{what}]"
    if not 400 <= r.status_code < 500:
        return f"{label}: {r.status_code} {r.get_data(as_text=True)[:200]}"
    if not r.is_json:
        return f"{label}: {r.status_code} not JSON ({r.content_type})"
    body = r.get_json()
    ok = _is_hub_error(body, r.status_code) or (confluent and
                                                _is_confluent_error(body, r.status_code))
    if not ok:
        return f"{label}: {r.status_code} not the error format: {body}"
    if r.status_code == 422 and not confluent and not body.get("errors"):
        return f"{label}: 422 without field errors: {body}"
    return None


@pytest.fixture
def small_body_limit(app: Any) -> Iterator[None]:
    # Oversize bodies are tested against a small limit rather than 32 MiB per operation.
    saved = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = SMALL_LIMIT
    yield
    app.config["MAX_CONTENT_LENGTH"] = saved


def test_every_operation_refuses_every_bad_input_with_4xx_json_and_stores_nothing(
        app: Any, client: Any, admin: dict[str, str], world: dict[str, str],
        small_body_limit: None) -> None:
    failures: list[str] = []
    operations = 0
    requests = 0
    for method, path, op, document in _operations(client):
        operations += 1
        headers = {**admin, **_with_if_match(op)}
        before = _row_counts(app)
        for what, url, kwargs in [*body_requests(op, document), *query_requests(op),
                                  *path_requests(path, op, world)]:
            requests += 1
            failure = _check(client, method, url or _url(path, op, world), kwargs, headers, what)
            if failure:
                failures.append(failure)
        after = _row_counts(app)
        changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
        if changed:
            failures.append(f"{method} {path}: rows changed {changed}")
    assert operations > 90 and requests > 1000
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:80])


def test_confluent_endpoints_refuse_bad_bodies_in_their_error_format(
        app: Any, client: Any, admin: dict[str, str], world: dict[str, str],
        small_body_limit: None) -> None:
    op = {"parameters": [], "requestBody": {"content": {"application/json": {
        "schema": {"type": "object", "properties": {"schema": {"type": "string"}}}}}}}
    failures = []
    before = _row_counts(app)
    for method, url in CONFLUENT:
        for what, _, kwargs in body_requests(op, {}):
            failure = _check(client, method, url, kwargs, admin, what, confluent=True)
            if failure:
                failures.append(failure)
        for schema_text in (DEEP_10K, HUGE_NUMBER, '{"type": "string", "title": "a\\u0000"}'):
            failure = _check(client, method, url, {"json": {"schema": schema_text,
                                                            "schemaType": "JSON"}},
                             admin, f"schema text {schema_text[:12]}", confluent=True)
            if failure and not re.search(r": (200|201|409) ", failure):
                failures.append(failure)
    for path in ("/schemas/ids/" + INT64_OVERFLOW, "/schemas/ids/" + "9" * 5001,
                 "/subjects/a%00b/versions", "/subjects/s1/versions/" + INT64_OVERFLOW):
        failure = _check(client, "GET", path, {}, admin, "path", confluent=True)
        if failure:
            failures.append(failure)
    assert _row_counts(app) == before
    assert not failures, "\n".join(failures)


def test_the_classes_fail_on_a_server_without_the_guard() -> None:
    """The catalogue is not vacuous: each body class is refused by the guard's parser itself."""
    from mdm.errors import MdmError
    from mdm.web.guard import parse_json

    refused: Callable[[bytes], bool]

    def refused(raw: bytes) -> bool:
        try:
            parse_json(raw)
        except MdmError as exc:
            return 400 <= exc.status < 500
        return False

    for raw in (DEEP_1K, DEEP_10K, HUGE_NUMBER, '{"value": 1e400}', '{"name": "a\\u0000b"}',
                '{"a\\u0000": 1}', "{name: 'x'", '{"value": NaN}', f'[{INT64_OVERFLOW}]'):
        assert refused(raw.encode()), raw[:30]
    assert not refused(b'{"name": "a\\\\u0000b", "n": 9223372036854775807, "f": 1.5e300}')


def test_every_path_answers_a_wrong_method_with_405_json_and_allow(
        client: Any, admin: dict[str, str], world: dict[str, str]) -> None:
    methods = {"GET", "POST", "PUT", "PATCH", "DELETE"}
    failures = []
    paths = 0
    for path, item in client.get("/openapi.json").json["paths"].items():
        documented = {m.upper() for m in item if m != "parameters"}
        op = {"parameters": [p for o in item.values() if isinstance(o, dict)
                             for p in o.get("parameters", [])] + item.get("parameters", [])}
        url = _url(path, op, world)
        for method in sorted(methods - documented):
            paths += 1
            r = client.open(url, method=method, headers=admin, json={})
            allow = {m.strip() for m in r.headers.get("Allow", "").split(",") if m.strip()}
            if (r.status_code != 405 or not _is_hub_error(r.get_json(silent=True), 405)
                    or not documented <= allow or allow & (methods - documented)):
                failures.append(f"{method} {url}: {r.status_code} Allow={sorted(allow)} "
                                f"documented={sorted(documented)}")
    assert paths > 100
    assert not failures, "\n".join(failures)


def test_patching_a_consumer_without_a_body_is_422_and_changes_nothing(
        client: Any, steward: dict[str, str]) -> None:
    subjects = "/contracts/subjects"
    assert client.post(subjects, headers=steward, json={
        "name": "supplier-changed", "format": "jsonschema", "owner_team": "mdm"}).status_code == 201
    consumer = f"{subjects}/supplier-changed/consumers/SAP"
    assert client.post(f"{subjects}/supplier-changed/consumers", headers=steward, json={
        "system": "SAP", "version_range": "^1.0.0"}).status_code == 201
    before = client.get(consumer, headers=steward).json
    for kwargs in ({}, {"data": "", "content_type": "application/json"},
                   {"data": "   ", "content_type": "application/merge-patch+json"}):
        r = client.patch(consumer, headers=steward, **kwargs)
        assert r.status_code == 422, (kwargs, r.json)
        assert r.json["errors"] == {"body": ["Missing: this operation takes a JSON body."]}
    assert client.get(consumer, headers=steward).json == before
