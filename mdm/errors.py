"""The hub's error family: one base, stable machine-readable codes, mapped to HTTP once."""
from __future__ import annotations

from typing import Any


class MdmError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, errors: dict[str, Any] | None = None, **details: Any):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        body.update(self.details)
        return body


class ValidationFailed(MdmError):
    status = 422
    code = "validation_failed"


class NotFound(MdmError):
    status = 404
    code = "not_found"


class Unauthorized(MdmError):
    status = 401
    code = "unauthorized"


class Forbidden(MdmError):
    status = 403
    code = "forbidden"


class Conflict(MdmError):
    status = 409
    code = "conflict"


class PreconditionFailed(MdmError):
    status = 412
    code = "precondition_failed"


class PreconditionRequired(MdmError):
    status = 428
    code = "precondition_required"


class PayloadTooLarge(MdmError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(MdmError):
    status = 415
    code = "unsupported_media_type"


class UriTooLong(MdmError):
    status = 414
    code = "uri_too_long"


class HeaderFieldsTooLarge(MdmError):
    status = 431
    code = "header_fields_too_large"
