"""The contract registry's use cases against the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from contracts.errors import ContractError, UnresolvableReference
from contracts.registry import service
from contracts.registry.errors import (
    AlreadyExists,
    IncompatibleVersion,
    InvalidRequest,
    LifecycleConflict,
    SubjectNotFound,
    VersionNotFound,
)
from contracts.registry.service import RegistryContext

CTX = RegistryContext(actor="test")
SUBJECT = "supplier-changed"


def closed(**properties: Any) -> dict[str, Any]:
    """A closed JSON Schema object with a required string id plus `properties`."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["id"],
        "properties": {"id": {"type": "string"}, **properties},
    }


V1 = closed()
V2 = closed(name={"type": "string"})  # adds an optional property: compatible under BACKWARD
BROKEN = closed(name={"type": "integer"})  # changes its type: breaking


@pytest.fixture
def subject(session: Any) -> str:
    service.create_subject(
        session,
        CTX,
        name=SUBJECT,
        format="jsonschema",
        owner_team="mdm",
        lifecycle="active",
        domain="person",
    )
    return SUBJECT


def register(session: Any, content: Any, **kwargs: Any) -> service.Registration:
    return service.register_version(session, CTX, SUBJECT, content, **kwargs)


def test_versions_are_numbered_semantically_and_identical_content_is_not_duplicated(
    session: Any, subject: str
) -> None:
    first = register(session, V1)
    second = register(session, V2)
    again = register(session, {**V2})  # same content, other dict: same fingerprint

    assert (first.version.version, first.version.number) == ("1.0.0", 1)
    assert (second.version.version, second.version.number) == ("1.1.0", 2)
    assert (again.created, again.version.id) == (False, second.version.id)
    doc_only = register(session, {**V2, "description": "A supplier"})
    assert doc_only.version.version == "1.1.1"


def test_breaking_change_is_refused_unless_registered_as_a_new_major(
    session: Any, subject: str
) -> None:
    register(session, V1)
    register(session, V2)

    with pytest.raises(IncompatibleVersion) as refused:
        register(session, BROKEN)
    assert refused.value.status == 409
    assert [c["rule"] for c in refused.value.details["changes"]] == ["TYPE_CHANGED"]
    with pytest.raises(IncompatibleVersion, match="does not bump the major"):
        register(session, BROKEN, version="1.2.0")

    assert register(session, BROKEN, bump="major").version.version == "2.0.0"


def test_mode_none_still_needs_a_major_bump_for_a_breaking_change(
    session: Any, subject: str
) -> None:
    service.update_subject(session, CTX, SUBJECT, compatibility="NONE")
    register(session, V2)
    with pytest.raises(IncompatibleVersion):
        register(session, BROKEN)
    assert register(session, BROKEN, allow_major_under_none=True).version.version == "2.0.0"


def test_check_names_the_consumers_a_breaking_change_affects(session: Any, subject: str) -> None:
    register(session, V2)
    service.declare_consumer(session, CTX, SUBJECT, system="SAP", version_range="^1.0.0")
    service.declare_consumer(session, CTX, SUBJECT, system="DWH", version_range=">=2.0.0")

    report = service.check_candidate(session, SUBJECT, BROKEN)

    assert not report.compatible and not report.registrable
    assert report.compared_with == ("1.0.0",)
    assert [c.system for c in report.affected] == ["SAP"]


def test_deprecated_version_reports_the_consumers_still_using_it(
    session: Any, subject: str
) -> None:
    register(session, V1)
    service.declare_consumer(session, CTX, SUBJECT, system="SAP", version_range="1.0.0")
    service.declare_consumer(session, CTX, SUBJECT, system="CRM", version_range="~1.1")
    register(session, V2)

    old = service.update_version(
        session, CTX, SUBJECT, "1.0.0", state="deprecated", sunset_date=date(2030, 1, 1)
    )

    assert old.state == "deprecated"
    assert [c.system for c in service.consumers_of_version(session, old)] == ["SAP"]


def test_transitive_mode_compares_with_every_version_of_the_current_major(
    session: Any, subject: str
) -> None:
    service.update_subject(session, CTX, SUBJECT, compatibility="FORWARD_TRANSITIVE")
    register(session, V2)
    register(session, closed(name={"type": "string", "maxLength": 10}), bump="minor")
    report = service.check_candidate(
        session, SUBJECT, closed(name={"type": "string", "maxLength": 20})
    )
    assert report.compared_with == ("1.0.0", "1.1.0")
    assert {c.against for c in report.breaking} == {"1.1.0"}


def test_resolve_schema_returns_the_latest_active_or_the_named_version(
    session: Any, subject: str
) -> None:
    register(session, V1)
    register(session, V2)
    assert service.resolve_schema(session, SUBJECT) == V2
    assert service.resolve_schema(session, SUBJECT, "1.0.0") == V1

    service.update_version(session, CTX, SUBJECT, "1.1.0", state="deprecated")
    assert service.resolve_schema(session, SUBJECT) == V1
    for subject_name, version in ((SUBJECT, "9.9.9"), ("nope", None)):
        with pytest.raises(ContractError) as missing:
            service.resolve_schema(session, subject_name, version)
        assert isinstance(missing.value, VersionNotFound | SubjectNotFound)


def test_changelog_lists_each_versions_changes(session: Any, subject: str) -> None:
    register(session, V1)
    register(session, V2)
    register(session, BROKEN, version="2.0.0")

    entries = service.changelog(session, SUBJECT, since="1.0.0")

    assert [(e.previous.version, e.version.version) for e in entries] == [
        ("1.0.0", "1.1.0"),
        ("1.1.0", "2.0.0"),
    ]
    assert [e.breaking for e in entries] == [False, True]
    assert {c.direction for c in entries[0].result.changes} == {"backward", "forward"}


def test_lifecycle_moves_along_its_transitions(session: Any, subject: str) -> None:
    register(session, V1)
    with pytest.raises(InvalidRequest):  # deprecation needs a sunset date
        service.update_subject(session, CTX, SUBJECT, lifecycle="deprecated")
    session.rollback()
    service.update_subject(
        session, CTX, SUBJECT, lifecycle="deprecated", sunset_date=date(2031, 6, 30)
    )
    service.update_subject(session, CTX, SUBJECT, lifecycle="retired")
    with pytest.raises(LifecycleConflict):
        service.update_subject(session, CTX, SUBJECT, lifecycle="active")
    with pytest.raises(LifecycleConflict):
        register(session, V2)


@pytest.mark.parametrize(
    "content",
    [
        "{not json: [",  # neither JSON nor YAML
        '{"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}',
        {"type": 12},  # not a valid JSON Schema
        [1, 2],
    ],
)
def test_documents_that_cannot_be_judged_are_refused(
    session: Any, subject: str, content: Any
) -> None:
    with pytest.raises(ContractError) as refused:
        register(session, content)
    assert not isinstance(refused.value, IncompatibleVersion)
    if isinstance(content, str) and "$ref" in content:
        assert isinstance(refused.value, UnresolvableReference)


def test_versions_are_immutable_and_explicit_versions_must_grow(session: Any, subject: str) -> None:
    register(session, V1, version="1.0.0")
    with pytest.raises(AlreadyExists):
        register(session, V2, version="1.0.0")
    register(session, V2, version="1.5.0")
    with pytest.raises(InvalidRequest):
        register(session, closed(a={"type": "string"}, b={"type": "string"}), version="1.2.0")
