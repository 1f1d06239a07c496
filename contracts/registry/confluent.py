"""A Confluent Schema Registry compatible subset of the REST API, for JSON Schema subjects, so
existing Schema Registry clients work unchanged. It speaks Confluent's dialect (content type,
`{"error_code", "message"}` bodies) and is therefore not part of the hub's OpenAPI document.

Versions are Confluent's per-subject sequence numbers; ids are registry-wide schema ids, one
per distinct (canonical) document, shared by every subject holding it. Registering through
this API derives the semantic version: a minor bump for a change, a patch bump for an
annotation-only change; under mode NONE a breaking change takes a new major version.

Where Confluent reads JSON Schema more loosely than the specification (see
`DiffOptions.confluent`), this API follows Confluent. Documents are always stored and compared
in canonical form (key order, whitespace), so `normalize=true` changes nothing. Schema
references (`[{name, subject, version}]`) are resolved when a schema is registered, looked up,
checked for compatibility or validated (see `references`); a referenced version cannot be
deleted (42206) and `referencedby` lists the ids of the schemas referencing it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException

from contracts.errors import ContractError
from contracts.registry import references, service, web
from contracts.registry.errors import (
    InvalidRequest,
    InvalidSchema,
    InvalidVersionId,
    SchemaNotFound,
    SubjectConfigNotFound,
    SubjectNotFound,
    confluent_code,
    http_status,
)
from contracts.registry.models import ContractVersion, RegistrySchema, Subject
from contracts.registry.web import guarded

log = logging.getLogger("contracts.registry.confluent")

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
JSON_FORMAT = "jsonschema"
SCHEMA_TYPE = "JSON"
AUTO_OWNER = "unassigned"

bp = Blueprint("confluent_registry", __name__)


def _reply(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type=CONTENT_TYPE)


def _error(status: int, error_code: int, message: str) -> Response:
    return _reply({"error_code": error_code, "message": message}, status)


@bp.errorhandler(Exception)
def _confluent_error(exc: Exception) -> Response:
    if isinstance(exc, ContractError):
        message = exc.message
        changes = getattr(exc, "details", {}).get("changes")
        if changes:
            message += " " + "; ".join(f"{c['path'] or '/'}: {c['message']}" for c in changes)
        return _error(http_status(exc), confluent_code(exc), message)
    if isinstance(exc, HTTPException):
        code = exc.code or 500
        return _error(code, code, exc.description or exc.name)
    status = getattr(exc, "status", None)
    if isinstance(status, int) and 400 <= status < 500:  # the host's auth errors
        return _error(status, status * 100 + 1, str(getattr(exc, "message", exc)))
    log.exception("unhandled error in the Confluent-compatible API")
    return _error(500, 50001, "An unexpected error occurred.")


# --- request helpers ------------------------------------------------------------------------


def _body() -> dict[str, Any]:
    try:
        data = json.loads(request.get_data(as_text=True) or "null")
    except ValueError as exc:
        raise InvalidRequest(f"The request body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return data


def _schema_text(data: dict[str, Any]) -> str:
    schema_type = data.get("schemaType", "AVRO")
    if schema_type != SCHEMA_TYPE:
        raise InvalidSchema(
            f"Only JSON Schema is served here (schemaType JSON), not {schema_type}."
        )
    schema = data.get("schema")
    if not isinstance(schema, str) or not schema.strip():
        raise InvalidSchema("'schema' must be the JSON Schema as a string.")
    return schema


def _references(data: dict[str, Any]) -> tuple[references.Reference, ...]:
    return references.parse(web.session(), data.get("references"), JSON_FORMAT)


def _flag(name: str) -> bool:
    return request.args.get(name, "false").strip().lower() == "true"


def _page(items: list[Any]) -> list[Any]:
    """Confluent's `offset` and `limit` (-1: everything) on list answers."""
    offset, limit = _int_arg("offset", 0), _int_arg("limit", -1)
    items = items[max(offset, 0) :]
    return items if limit < 0 else items[:limit]


def _int_arg(name: str, default: int) -> int:
    text = request.args.get(name, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError as exc:
        raise InvalidRequest(f"'{name}' must be an integer, not {text!r}.") from exc


def _deleted_filter(rows: list[ContractVersion]) -> list[ContractVersion]:
    """deleted=true: soft-deleted versions too; deletedOnly=true: only those."""
    if _flag("deletedOnly") or _flag("deleted_only"):
        return [v for v in rows if v.deleted_at is not None]
    if _flag("deleted"):
        return rows
    return [v for v in rows if v.deleted_at is None]


def _json_subject(name: str) -> Subject:
    subject = service.get_subject(web.session(), name)
    if subject.format != JSON_FORMAT:
        raise SubjectNotFound(f"Subject '{name}' is not a JSON Schema subject.")
    return subject


def _version_ref(text: str) -> int | str:
    if text == service.LATEST or text == "-1":
        return service.LATEST
    if not text.isdigit() or not 1 <= int(text) <= 2**31 - 1:
        raise InvalidVersionId(
            f"The specified version '{text}' is not a valid version id. Allowed values are "
            'between [1, 2^31-1] and the string "latest"'
        )
    return int(text)


def _registered(version: ContractVersion) -> dict[str, Any]:
    data = {
        "subject": version.subject.name,
        "id": version.schema_id,
        "version": version.number,
        "schemaType": SCHEMA_TYPE,
        "schema": json.dumps(version.document),
    }
    return _with_references(data, version)


def _with_references(data: dict[str, Any], version: ContractVersion) -> dict[str, Any]:
    found = references.of_version(version)
    if found:
        data["references"] = [r.to_dict() for r in found]
    return data


def _writable(subject: str | None = None) -> None:
    service.require_writable(web.session(), subject)


# --- subjects and versions ------------------------------------------------------------------


@bp.get("/subjects")
@guarded(write=False)
def subjects() -> Response:
    prefix = request.args.get("subjectPrefix", "")
    session = web.session()
    deleted, only = _flag("deleted"), _flag("deletedOnly") or _flag("deleted_only")
    names = []
    for found in service.list_subjects(session, format=JSON_FORMAT):
        if not found.name.startswith(prefix):
            continue
        gone = service.subject_is_soft_deleted(session, found)
        if (only and gone) or (not only and (deleted or not gone)):
            names.append(found.name)
    return _reply(_page(names))


@bp.get("/subjects/<string:subject>/versions")
@guarded(write=False)
def versions(subject: str) -> Response:
    found = _json_subject(subject)
    rows = _deleted_filter(service.versions_of_subject(web.session(), found))
    return _reply(_page(sorted(v.number for v in rows)))


@bp.get("/subjects/<string:subject>/versions/<string:version>")
@guarded(write=False)
def version(subject: str, version: str) -> Response:
    _json_subject(subject)
    found = service.get_version_by_number(
        web.session(), subject, _version_ref(version), include_deleted=_flag("deleted")
    )
    return _reply(_registered(found))


@bp.get("/subjects/<string:subject>/versions/<string:version>/referencedby")
@guarded(write=False)
def referenced_by(subject: str, version: str) -> Response:
    _json_subject(subject)
    session = web.session()
    found = service.get_version_by_number(session, subject, _version_ref(version))
    ids = sorted({v.schema_id for v in references.referrers(session, found)})
    return _reply(_page(ids))


@bp.delete("/subjects/<string:subject>/versions/<string:version>")
@guarded(write=True)
def delete_version(subject: str, version: str) -> Response:
    _json_subject(subject)
    _writable(subject)
    number = service.delete_version(
        web.session(), web.context(), subject, _version_ref(version), permanent=_flag("permanent")
    )
    return _reply(number)


@bp.delete("/subjects/<string:subject>")
@guarded(write=True)
def delete_subject(subject: str) -> Response:
    _json_subject(subject)
    _writable(subject)
    numbers = service.delete_subject(
        web.session(), web.context(), subject, permanent=_flag("permanent")
    )
    return _reply(numbers)


@bp.get("/subjects/<string:subject>/versions/<string:version>/schema")
@guarded(write=False)
def version_schema(subject: str, version: str) -> Response:
    _json_subject(subject)
    found = service.get_version_by_number(web.session(), subject, _version_ref(version))
    return _reply(found.document)


@bp.post("/subjects/<string:subject>/versions")
@guarded(write=True)
def register(subject: str) -> Response:
    session, ctx = web.session(), web.context()
    data = _body()
    schema, refs = _schema_text(data), _references(data)
    _writable(subject)
    # Judge the schema before a subject is created for it: a refused schema leaves nothing.
    service.load_candidate(schema, JSON_FORMAT, refs)
    try:
        _json_subject(subject)
    except SubjectNotFound:
        if _exists(subject):
            raise
        service.create_subject(
            session,
            ctx,
            name=subject,
            format=JSON_FORMAT,
            owner_team=AUTO_OWNER,
            lifecycle="active",
        )
    done = service.register_version(
        session, ctx, subject, schema, allow_major_under_none=True, confluent=True, refs=refs
    )
    return _reply({"id": done.version.schema_id})


def _exists(name: str) -> bool:
    try:
        service.get_subject(web.session(), name)
    except SubjectNotFound:
        return False
    return True


@bp.post("/subjects/<string:subject>")
@guarded(write=False)
def lookup(subject: str) -> Response:
    data = _body()
    schema, refs = _schema_text(data), _references(data)
    _json_subject(subject)
    return _reply(_registered(service.find_by_content(web.session(), subject, schema, refs)))


# --- compatibility --------------------------------------------------------------------------


@bp.post("/compatibility/subjects/<string:subject>/versions/<string:version>")
@guarded(write=False)
def compatibility(subject: str, version: str) -> Response:
    return _compatibility(subject, _version_ref(version))


@bp.post("/compatibility/subjects/<string:subject>/versions")
@guarded(write=False)
def compatibility_all(subject: str) -> Response:
    return _compatibility(subject, None)


def _compatibility(name: str, ref: int | str | None) -> Response:
    data = _body()
    schema, refs = _schema_text(data), _references(data)
    _json_subject(name)
    session = web.session()
    against = service.get_version_by_number(session, name, ref) if ref is not None else None
    result = service.confluent_compatibility(session, name, schema, against, refs)
    answer: dict[str, Any] = {"is_compatible": result.compatible}
    if _flag("verbose"):
        answer["messages"] = [f"{c.path or '/'}: {c.message} [{c.rule}]" for c in result.breaking]
    return _reply(answer)


# --- configuration --------------------------------------------------------------------------


def _level(data: dict[str, Any]) -> str:
    level = data.get("compatibility", data.get("compatibilityLevel"))
    return service.parse_mode(level if level is not None else "").value


@bp.get("/config")
@guarded(write=False)
def config() -> Response:
    return _reply({"compatibilityLevel": service.default_mode(web.session()).value})


@bp.put("/config")
@guarded(write=True)
def set_config() -> Response:
    level = _level(_body())
    return _reply(
        {"compatibility": service.set_default_mode(web.session(), web.context(), level).value}
    )


@bp.get("/config/<string:subject>")
@guarded(write=False)
def subject_config(subject: str) -> Response:
    found = _json_subject(subject)
    if found.compatibility is None:
        if not _flag("defaultToGlobal"):
            raise SubjectConfigNotFound(
                f"Subject '{subject}' does not have subject-level compatibility configured"
            )
        return _reply({"compatibilityLevel": service.default_mode(web.session()).value})
    return _reply({"compatibilityLevel": found.compatibility})


@bp.put("/config/<string:subject>")
@guarded(write=True)
def set_subject_config(subject: str) -> Response:
    level = _level(_body())
    _json_subject(subject)
    service.update_subject(web.session(), web.context(), subject, compatibility=level)
    return _reply({"compatibility": level})


@bp.delete("/config/<string:subject>")
@guarded(write=True)
def delete_subject_config(subject: str) -> Response:
    found = _json_subject(subject)
    previous = found.compatibility or service.default_mode(web.session()).value
    service.update_subject(web.session(), web.context(), subject, compatibility=None)
    return _reply({"compatibilityLevel": previous})


# --- schemas by id --------------------------------------------------------------------------


@bp.get("/schemas/ids/<int:schema_id>")
@guarded(write=False)
def schema_by_id(schema_id: int) -> Response:
    found = _json_schema(schema_id)
    data = {"schema": json.dumps(found.document), "schemaType": SCHEMA_TYPE}
    holders = service.versions_of_schema(web.session(), schema_id, include_deleted=True)
    return _reply(_with_references(data, holders[0]) if holders else data)


@bp.get("/schemas/ids/<int:schema_id>/versions")
@guarded(write=False)
def schema_versions(schema_id: int) -> Response:
    rows = _schema_holders(schema_id)
    return _reply(_page([{"subject": v.subject.name, "version": v.number} for v in rows]))


@bp.get("/schemas/ids/<int:schema_id>/subjects")
@guarded(write=False)
def schema_subjects(schema_id: int) -> Response:
    rows = _schema_holders(schema_id)
    return _reply(_page(sorted({v.subject.name for v in rows})))


def _schema_holders(schema_id: int) -> list[ContractVersion]:
    _json_schema(schema_id)
    rows = service.versions_of_schema(web.session(), schema_id, include_deleted=_flag("deleted"))
    subject = request.args.get("subject")
    return [v for v in rows if subject is None or v.subject.name == subject]


@bp.get("/schemas/types")
@guarded(write=False)
def schema_types() -> Response:
    return _reply([SCHEMA_TYPE])


def _json_schema(schema_id: int) -> RegistrySchema:
    found = service.get_by_schema_id(web.session(), schema_id)
    if found.format != JSON_FORMAT:
        raise SchemaNotFound(f"Schema {schema_id} not found.")
    return found


# --- mode -----------------------------------------------------------------------------------


def _mode_value() -> Any:
    return _body().get("mode")


@bp.get("/mode")
@guarded(write=False)
def mode() -> Response:
    return _reply({"mode": service.get_mode(web.session())})


@bp.put("/mode")
@guarded(write=True)
def set_mode() -> Response:
    value = _mode_value()
    service.set_mode(web.session(), web.context(), value)
    return _reply({"mode": str(value).strip().upper()})


@bp.get("/mode/<string:subject>")
@guarded(write=False)
def subject_mode(subject: str) -> Response:
    found = _json_subject(subject)
    return _reply(
        {"mode": service.get_mode(web.session(), found, fallback=_flag("defaultToGlobal"))}
    )


@bp.put("/mode/<string:subject>")
@guarded(write=True)
def set_subject_mode(subject: str) -> Response:
    found = _json_subject(subject)
    value = _mode_value()
    service.set_mode(web.session(), web.context(), value, found)
    return _reply({"mode": str(value).strip().upper()})


@bp.delete("/mode/<string:subject>")
@guarded(write=True)
def delete_subject_mode(subject: str) -> Response:
    found = _json_subject(subject)
    previous = service.get_mode(web.session(), found)
    service.set_mode(web.session(), web.context(), None, found)
    return _reply({"mode": previous})


# --- everything else under Confluent's paths answers in Confluent's body --------------------

CONFLUENT_ROOTS = ("subjects", "schemas", "config", "compatibility", "mode")
_ALL_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


@bp.route("/<any(subjects, schemas, config, compatibility, mode):root>", methods=_ALL_METHODS)
@bp.route(
    "/<any(subjects, schemas, config, compatibility, mode):root>/<path:rest>",
    methods=_ALL_METHODS,
)
def unmatched(root: str, rest: str = "") -> Response:
    """A Confluent path no view serves: 405 when another method would, else 404."""
    adapter = current_app.url_map.bind("localhost")
    for method in _ALL_METHODS:
        if method == request.method:
            continue
        try:
            endpoint, _ = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint != f"{bp.name}.unmatched":
            return _error(405, 405, f"HTTP method {request.method} not allowed here.")
    return _error(404, 404, "HTTP 404 Not Found")
