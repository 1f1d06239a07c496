"""The registry's errors: each condition with an HTTP status, a stable code and the matching
Confluent Schema Registry error code, mapped to a response body once per API dialect."""

from __future__ import annotations

from typing import Any

from contracts.errors import ContractError


class RegistryServiceError(ContractError):
    """Base of the conditions the registry service reports to its callers."""

    status = 400
    code = "registry-bad-request"
    confluent_code = 400

    def __init__(
        self, message: str, *, errors: dict[str, list[str]] | None = None, **details: Any
    ) -> None:
        super().__init__(message)
        self.errors = errors or {}
        self.details = details


class SubjectNotFound(RegistryServiceError):
    status = 404
    code = "subject-not-found"
    confluent_code = 40401


class VersionNotFound(RegistryServiceError):
    status = 404
    code = "version-not-found"
    confluent_code = 40402


class SchemaNotFound(RegistryServiceError):
    status = 404
    code = "schema-not-found"
    confluent_code = 40403


class SubjectSoftDeleted(RegistryServiceError):
    status = 404
    code = "subject-soft-deleted"
    confluent_code = 40404


class SubjectNotSoftDeleted(RegistryServiceError):
    status = 404
    code = "subject-not-soft-deleted"
    confluent_code = 40405


class VersionSoftDeleted(RegistryServiceError):
    status = 404
    code = "version-soft-deleted"
    confluent_code = 40406


class VersionNotSoftDeleted(RegistryServiceError):
    status = 404
    code = "version-not-soft-deleted"
    confluent_code = 40407


class SubjectModeNotFound(RegistryServiceError):
    """Confluent: the subject has no mode of its own."""

    status = 404
    code = "subject-mode-not-found"
    confluent_code = 40409


class InvalidMode(RegistryServiceError):
    status = 422
    code = "invalid-mode"
    confluent_code = 42204


class ReadOnlyMode(RegistryServiceError):
    """Confluent's READONLY mode: the registry (or the subject) takes no writes."""

    status = 422
    code = "read-only-mode"
    confluent_code = 42205


class ReferenceExists(RegistryServiceError):
    """Confluent: a version other schemas reference cannot be deleted."""

    status = 422
    code = "reference-exists"
    confluent_code = 42206


class ConsumerNotFound(RegistryServiceError):
    status = 404
    code = "consumer-not-found"
    confluent_code = 40400


class SubjectConfigNotFound(RegistryServiceError):
    """Confluent: the subject has no compatibility level of its own."""

    status = 404
    code = "subject-config-not-found"
    confluent_code = 40408


class AlreadyExists(RegistryServiceError):
    status = 409
    code = "already-exists"
    confluent_code = 409


class IncompatibleVersion(RegistryServiceError):
    """The candidate breaks the subject's compatibility mode or needs a new major version."""

    status = 409
    code = "incompatible-version"
    confluent_code = 409


class LifecycleConflict(RegistryServiceError):
    """The subject's lifecycle state forbids the operation (e.g. a retired subject)."""

    status = 409
    code = "lifecycle-conflict"
    confluent_code = 409


class InvalidRequest(RegistryServiceError):
    """A field of the request is not acceptable (bad version text, range, lifecycle...)."""

    status = 422
    code = "invalid-request"
    confluent_code = 42200


class InvalidSchema(RegistryServiceError):
    status = 422
    code = "invalid-schema"
    confluent_code = 42201


class InvalidVersionId(RegistryServiceError):
    status = 422
    code = "invalid-version"
    confluent_code = 42202


class InvalidCompatibilityLevel(RegistryServiceError):
    status = 422
    code = "invalid-compatibility-level"
    confluent_code = 42203


def http_status(exc: ContractError) -> int:
    """Documents that cannot be judged (unreadable, invalid, bad `$ref`) are 422."""
    return exc.status if isinstance(exc, RegistryServiceError) else 422


def confluent_code(exc: ContractError) -> int:
    return exc.confluent_code if isinstance(exc, RegistryServiceError) else 42201
