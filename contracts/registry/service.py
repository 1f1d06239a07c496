"""Registry use cases: subjects, immutable versions, consumers, compatibility checks.

Every function takes the SQLAlchemy session; writes also take a `RegistryContext` (who acts,
and the host's audit hook) and commit once. The compatibility verdicts come from the pure
engine in `contracts.compatibility`.

The registry's use cases, one module per area (documents, settings, subjects, consumers,
lookup of versions, evaluation of candidates, changes to versions);
this module is the one callers import."""

from __future__ import annotations

from contracts.registry.consumers import (
    consumer_state,
    declare_consumer,
    get_consumer,
    list_consumers,
    list_consumers_of,
    remove_consumer,
    update_consumer,
)
from contracts.registry.context import (
    SYSTEM,
    AuditHook,
    RegistryContext,
)
from contracts.registry.documents import (
    Candidate,
    contract_of,
    load_candidate,
    normalize_document,
)
from contracts.registry.evaluation import (
    Evaluation,
    check_candidate,
    confluent_compatibility,
    evaluate,
)
from contracts.registry.lookup import (
    LATEST,
    find_by_content,
    get_by_schema_id,
    get_version,
    get_version_by_number,
    latest_versions,
    list_versions,
    versions_of_schema,
    versions_of_subject,
)
from contracts.registry.settings import (
    DEFAULT_MODE,
    MODE_SETTING,
    READONLY,
    READWRITE,
    REGISTRY_MODES,
    default_mode,
    effective_mode,
    get_mode,
    parse_mode,
    require_writable,
    set_default_mode,
    set_mode,
)
from contracts.registry.subjects import (
    NAME_RULE,
    SUBJECT_NAME,
    TRANSITIONS,
    create_subject,
    get_subject,
    list_subjects,
    update_subject,
)
from contracts.registry.versions import (
    ChangelogEntry,
    Registration,
    changelog,
    consumers_of_version,
    delete_subject,
    delete_version,
    register_version,
    resolve_schema,
    subject_is_soft_deleted,
    update_version,
)

__all__ = [
    "AuditHook",
    "Candidate",
    "ChangelogEntry",
    "DEFAULT_MODE",
    "Evaluation",
    "LATEST",
    "MODE_SETTING",
    "NAME_RULE",
    "READONLY",
    "READWRITE",
    "REGISTRY_MODES",
    "Registration",
    "RegistryContext",
    "SUBJECT_NAME",
    "SYSTEM",
    "TRANSITIONS",
    "contract_of",
    "changelog",
    "check_candidate",
    "confluent_compatibility",
    "consumer_state",
    "consumers_of_version",
    "create_subject",
    "declare_consumer",
    "default_mode",
    "delete_subject",
    "delete_version",
    "effective_mode",
    "evaluate",
    "find_by_content",
    "get_by_schema_id",
    "get_consumer",
    "get_mode",
    "get_subject",
    "get_version",
    "get_version_by_number",
    "latest_versions",
    "list_consumers",
    "list_consumers_of",
    "list_subjects",
    "list_versions",
    "load_candidate",
    "normalize_document",
    "parse_mode",
    "register_version",
    "remove_consumer",
    "require_writable",
    "resolve_schema",
    "set_default_mode",
    "set_mode",
    "subject_is_soft_deleted",
    "update_consumer",
    "update_subject",
    "update_version",
    "versions_of_schema",
    "versions_of_subject",
]
