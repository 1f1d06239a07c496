"""One error format for the whole API (RFC 9457 in spirit): status, code, message, errors."""
from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
from flask import Flask, g
from flask_smorest import Api
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from mdm.errors import ChangedMeanwhile, MdmError

log = logging.getLogger("mdm.errors")

# Stable codes for HTTP errors raised by Flask/werkzeug/webargs rather than by our services.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "validation_failed",
    428: "precondition_required",
    429: "too_many_requests",
    431: "header_fields_too_large",
    500: "internal_error",
    503: "service_unavailable",
}


class ErrorSchema(ma.Schema):
    status = ma.fields.Integer(required=True, metadata={"description": "HTTP status"})
    code = ma.fields.String(required=True, metadata={"description": "Stable machine-readable code"})
    message = ma.fields.String(required=True)
    errors = ma.fields.Dict(metadata={"description": "Per-field errors: field -> list of reasons"})
    request_id = ma.fields.String(allow_none=True)


def _body(status: int, code: str, message: str, errors: Any = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if errors:
        body["errors"] = errors
    body.update(extra)
    body["request_id"] = g.get("request_id")
    return body


class MdmApi(Api):
    ERROR_SCHEMA = ErrorSchema

    # flask-smorest's own signature is untyped; ours narrows it to what Flask passes
    def handle_http_exception(self, error: HTTPException) -> Any:  # type: ignore[override]
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or data.get("messages")
        if status == 422 and isinstance(errors, dict):
            # webargs nests by location ({"json": {...}}); the location adds nothing for a client
            # that sent one body, so unwrap it when there is exactly one.
            if len(errors) == 1 and next(iter(errors)) in ("json", "query", "form", "headers"):
                errors = next(iter(errors.values()))
        message = data.get("message") or error.description or error.name
        if status == 422 and "message" not in data:
            message = "The request is not valid; see errors."
        # werkzeug's own headers (Allow on a 405, WWW-Authenticate) go with the JSON body.
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        headers.update(data.get("headers") or {})
        code = HTTP_CODES.get(status, error.name.lower().replace(" ", "_"))
        return _body(status, code, message, errors), status, headers


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(MdmError)
    def _mdm_error(exc: MdmError) -> Any:
        body = _body(exc.status, exc.code, exc.message, exc.errors, **exc.details)
        return body, exc.status

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError) -> Any:
        err = ChangedMeanwhile("The record was changed by someone else; read it again and "
                               "retry.")
        return _body(err.status, err.code, err.message), err.status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            return exc
        log.exception("unhandled error")
        return _body(500, "internal_error", "An unexpected error occurred."), 500
