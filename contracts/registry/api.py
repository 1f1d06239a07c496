"""The registry's native HTTP API under /contracts: subjects, versions, checks, consumers."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from contracts.compatibility.result import Mode
from contracts.registry import service, web
from contracts.registry.models import Consumer, ContractVersion, Subject
from contracts.registry.schemas import (
    ContractCandidateSchema,
    ContractChangelogQuerySchema,
    ContractChangelogSchema,
    ContractChangeSchema,
    ContractCheckReportSchema,
    ContractConsumerSchema,
    ContractConsumerUpdateSchema,
    ContractRegisteredVersionSchema,
    ContractSubjectQuerySchema,
    ContractSubjectSchema,
    ContractSubjectUpdateSchema,
    ContractVersionSchema,
    ContractVersionSummarySchema,
    ContractVersionUpdateSchema,
    RegistryConfigSchema,
)
from contracts.registry.web import guarded

blp = Blueprint(
    "contracts",
    __name__,
    url_prefix="/contracts",
    description="Contract registry: API and event contracts, versions, consumers, compatibility",
)


class ContractIncompatibleSchema(ma.Schema):
    """The 409 body when a version is refused (the hub's error body plus the changes)."""

    status = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    errors = ma.fields.Dict()
    request_id = ma.fields.String(allow_none=True)
    changes = ma.fields.List(ma.fields.Nested(ContractChangeSchema))
    affected_consumers = ma.fields.List(ma.fields.Nested(ContractConsumerSchema))


# --- presenters -----------------------------------------------------------------------------


def _subject(subject: Subject, latest: str | None, default: Mode) -> dict[str, Any]:
    return {
        "name": subject.name,
        "format": subject.format,
        "owner_team": subject.owner_team,
        "lifecycle": subject.lifecycle,
        "sunset_date": subject.sunset_date,
        "domain": subject.domain,
        "compatibility": subject.compatibility,
        "effective_compatibility": subject.compatibility or default.value,
        "description": subject.description,
        "latest_version": latest,
        "created_at": subject.created_at,
        "updated_at": subject.updated_at,
    }


def _consumer(consumer: Consumer, subject: str) -> dict[str, Any]:
    return {
        "subject": subject,
        "system": consumer.system,
        "version_range": consumer.version_range,
        "contact": consumer.contact,
        "created_at": consumer.created_at,
        "updated_at": consumer.updated_at,
    }


def _summary(version: ContractVersion) -> dict[str, Any]:
    return {
        "subject": version.subject.name,
        "version": version.version,
        "number": version.number,
        "schema_id": version.schema_id,
        "fingerprint": version.fingerprint,
        "state": version.state,
        "sunset_date": version.sunset_date,
        "created_by": version.created_by,
        "created_at": version.created_at,
    }


def _detail(version: ContractVersion) -> dict[str, Any]:
    used_by = service.consumers_of_version(web.session(), version)
    return {
        **_summary(version),
        "content": version.document,
        "used_by": [_consumer(c, version.subject.name) for c in used_by],
    }


def _subject_by_name(name: str) -> dict[str, Any]:
    session = web.session()
    subject = service.get_subject(session, name)
    latest = service.latest_versions(session).get(subject.id)
    return _subject(subject, latest, service.default_mode(session))


# --- subjects -------------------------------------------------------------------------------


@blp.route("/subjects")
class Subjects(MethodView):
    @guarded(write=False)
    @blp.arguments(ContractSubjectQuerySchema, location="query")
    @blp.response(200, ContractSubjectSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """List subjects"""
        session = web.session()
        latest = service.latest_versions(session)
        default = service.default_mode(session)
        return [
            _subject(s, latest.get(s.id), default) for s in service.list_subjects(session, **query)
        ]

    @guarded(write=True)
    @blp.arguments(ContractSubjectSchema)
    @blp.response(201, ContractSubjectSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a subject"""
        subject = service.create_subject(web.session(), web.context(), **body)
        return _subject_by_name(subject.name)


@blp.route("/subjects/<string:subject>")
class SubjectByName(MethodView):
    @guarded(write=False)
    @blp.response(200, ContractSubjectSchema)
    def get(self, subject: str) -> Any:
        """Show a subject"""
        return _subject_by_name(subject)

    @guarded(write=True)
    @blp.arguments(ContractSubjectUpdateSchema)
    @blp.response(200, ContractSubjectSchema)
    def patch(self, body: dict[str, Any], subject: str) -> Any:
        """Change a subject's owner, lifecycle, domain or compatibility mode"""
        service.update_subject(web.session(), web.context(), subject, **body)
        return _subject_by_name(subject)


# --- versions -------------------------------------------------------------------------------


@blp.route("/subjects/<string:subject>/versions")
class Versions(MethodView):
    @guarded(write=False)
    @blp.response(200, ContractVersionSummarySchema(many=True))
    def get(self, subject: str) -> Any:
        """List a subject's versions, oldest first"""
        return [_summary(v) for v in service.list_versions(web.session(), subject)]

    @guarded(write=True)
    @blp.arguments(ContractCandidateSchema)
    @blp.response(201, ContractRegisteredVersionSchema)
    @blp.alt_response(
        200,
        schema=ContractRegisteredVersionSchema,
        description="Identical content was already registered: that version",
    )
    @blp.alt_response(
        409,
        schema=ContractIncompatibleSchema,
        description="Refused: breaking changes without a new major version",
    )
    def post(self, body: dict[str, Any], subject: str) -> Any:
        """Register a new version

        Identical content returns the existing version (200). A candidate that breaks the
        subject's compatibility mode is refused with 409 and its breaking changes unless it is
        registered explicitly as a new major version (`version` or `bump: major`).
        """
        done = service.register_version(
            web.session(),
            web.context(),
            subject,
            body["content"],
            version=body.get("version"),
            bump=body.get("bump"),
        )
        data = {
            **_detail(done.version),
            "created": done.created,
            "changes": [c.to_dict() for c in done.evaluation.changes],
        }
        return data, (201 if done.created else 200)


@blp.route("/subjects/<string:subject>/versions/<string:version>")
class VersionByRef(MethodView):
    @guarded(write=False)
    @blp.response(200, ContractVersionSchema)
    def get(self, subject: str, version: str) -> Any:
        """Show a version (a semantic version or 'latest') with the consumers still using it"""
        return _detail(service.get_version(web.session(), subject, version))

    @guarded(write=True)
    @blp.arguments(ContractVersionUpdateSchema)
    @blp.response(200, ContractVersionSchema)
    def patch(self, body: dict[str, Any], subject: str, version: str) -> Any:
        """Deprecate a version (or take the deprecation back)"""
        row = service.update_version(web.session(), web.context(), subject, version, **body)
        return _detail(row)


@blp.route("/subjects/<string:subject>/check")
class Check(MethodView):
    @guarded(write=False)
    @blp.arguments(ContractCandidateSchema)
    @blp.response(200, ContractCheckReportSchema)
    def post(self, body: dict[str, Any], subject: str) -> Any:
        """Check a candidate version without registering it

        Reports the changes against the versions the subject's mode compares with, the
        consumers a breaking change would affect, and the version it would get.
        """
        ev = service.check_candidate(
            web.session(),
            subject,
            body["content"],
            version=body.get("version"),
            bump=body.get("bump"),
        )
        return {
            "subject": subject,
            "mode": ev.mode.value,
            "compatible": ev.compatible,
            "registrable": ev.registrable,
            "reason": ev.refusal,
            "proposed_version": str(ev.proposed) if ev.proposed else None,
            "identical_to": ev.identical_to.version if ev.identical_to else None,
            "compared_with": list(ev.compared_with),
            "changes": [c.to_dict() for c in ev.changes],
            "affected_consumers": [_consumer(c, subject) for c in ev.affected],
        }


@blp.route("/subjects/<string:subject>/changelog")
class Changelog(MethodView):
    @guarded(write=False)
    @blp.arguments(ContractChangelogQuerySchema, location="query")
    @blp.response(200, ContractChangelogSchema)
    def get(self, query: dict[str, Any], subject: str) -> Any:
        """What changed between two versions, version by version"""
        entries = service.changelog(
            web.session(), subject, since=query.get("since"), until=query.get("until")
        )
        return {
            "subject": subject,
            "entries": [
                {
                    "version": e.version.version,
                    "previous": e.previous.version,
                    "created_at": e.version.created_at,
                    "breaking": e.breaking,
                    "changes": [c.to_dict() for c in e.result.changes],
                }
                for e in entries
            ],
        }


# --- consumers ------------------------------------------------------------------------------


@blp.route("/subjects/<string:subject>/consumers")
class Consumers(MethodView):
    @guarded(write=False)
    @blp.response(200, ContractConsumerSchema(many=True))
    def get(self, subject: str) -> Any:
        """List the systems consuming a subject"""
        return [_consumer(c, subject) for c in service.list_consumers(web.session(), subject)]

    @guarded(write=True)
    @blp.arguments(ContractConsumerSchema)
    @blp.response(201, ContractConsumerSchema)
    def post(self, body: dict[str, Any], subject: str) -> Any:
        """Declare that a system consumes this subject within a version range"""
        consumer = service.declare_consumer(web.session(), web.context(), subject, **body)
        return _consumer(consumer, subject)


@blp.route("/subjects/<string:subject>/consumers/<string:system>")
class ConsumerBySystem(MethodView):
    @guarded(write=False)
    @blp.response(200, ContractConsumerSchema)
    def get(self, subject: str, system: str) -> Any:
        """Show a consumer declaration"""
        return _consumer(service.get_consumer(web.session(), subject, system), subject)

    @guarded(write=True)
    @blp.arguments(ContractConsumerUpdateSchema)
    @blp.response(200, ContractConsumerSchema)
    def patch(self, body: dict[str, Any], subject: str, system: str) -> Any:
        """Change a consumer's version range or contact"""
        consumer = service.update_consumer(web.session(), web.context(), subject, system, **body)
        return _consumer(consumer, subject)

    @guarded(write=True)
    @blp.response(204)
    def delete(self, subject: str, system: str) -> None:
        """Remove a consumer declaration"""
        service.remove_consumer(web.session(), web.context(), subject, system)


# --- registry configuration -----------------------------------------------------------------


@blp.route("/config")
class Config(MethodView):
    @guarded(write=False)
    @blp.response(200, RegistryConfigSchema)
    def get(self) -> Any:
        """Show the default compatibility mode"""
        return {"compatibility": service.default_mode(web.session()).value}

    @guarded(write=True)
    @blp.arguments(RegistryConfigSchema)
    @blp.response(200, RegistryConfigSchema)
    def put(self, body: dict[str, Any]) -> Any:
        """Set the default compatibility mode (subjects without their own mode use it)"""
        mode = service.set_default_mode(web.session(), web.context(), body["compatibility"])
        return {"compatibility": mode.value}
