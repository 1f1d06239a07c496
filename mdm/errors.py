"""The hub's error family: one base, stable machine-readable codes, mapped to HTTP once.

The classes named by HTTP status are the families; a refusal that a client may want to
tell apart from others of its family is raised as a class named by its condition, with
its own stable ``code`` (``AlreadyExists`` -> ``already_exists``), and keeps its family's
status (a caller catching ``Conflict`` still catches it).
"""
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


class ChangedMeanwhile(Conflict):
    """Another writer changed the record between this request's read and its write."""

    code = "changed_meanwhile"


class AlreadyExists(Conflict):
    """Something with this name or key is already registered."""

    code = "already_exists"


class WrongState(Conflict):
    """The thing is not in a state that allows the action (decided, revoked, published...)."""

    code = "wrong_state"


class MergedAway(WrongState):
    """The golden record was merged into another; act on the survivor."""

    code = "merged_away"


class AlreadyOneRecord(Conflict):
    """The records asked to be merged (or held apart) are one golden record already."""

    code = "already_one_record"


class NotAMember(Conflict):
    """The source records named are not (or no longer) part of that golden record."""

    code = "not_a_member"


class NotAMatchHeld(Conflict):
    """A steward marked these records not-a-match; revoke that decision first."""

    code = "not_a_match"


class ClaimedByAnother(Conflict):
    """Another steward holds the task."""

    code = "claimed_by_another"


class DomainMismatch(Conflict):
    """The thing belongs to another domain than the request names."""

    code = "domain_mismatch"


class NothingToChange(Conflict):
    """The requested change is already in place."""

    code = "nothing_to_change"


class NotInHierarchy(Conflict):
    """A planned hierarchy move names a node the hierarchy does not hold on that date."""

    code = "not_in_hierarchy"


class WouldCreateCycle(Conflict):
    """A hierarchy move that would put a node under itself."""

    code = "would_create_cycle"


class LastAdminKey(Conflict):
    """Revoking the last active admin key would lock everyone out."""

    code = "last_admin_key"


class OutOfDate(Conflict):
    """The request was made against data that has changed since (not a version check)."""

    code = "out_of_date"


class MatchingOff(Conflict):
    """The domain does not match (match.enabled: false or no match settings)."""

    code = "matching_off"


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
