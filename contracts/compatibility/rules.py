"""The rule tables: every change the engines can report, with its default level and meaning.

JSON Schema rules keep Confluent Schema Registry's names (people who know `Difference.Type`
recognise them) and are phrased from the writer to the reader: "MAX_LENGTH_DECREASED" means the
reader's maxLength is lower than the writer's. API rules (OpenAPI, AsyncAPI) follow oasdiff's
kebab-case ids and are phrased from the old document to the new one.
"""

from __future__ import annotations

from enum import StrEnum

from contracts.compatibility.result import Level

B, W, I = Level.BREAKING, Level.WARNING, Level.INFO  # noqa: E741 - short aliases keep tables aligned


class _Rule(StrEnum):
    """A rule declared once, as `NAME = id, default level, meaning`."""

    level: Level
    summary: str

    def __new__(cls, value: str, level: Level, summary: str) -> _Rule:
        member = str.__new__(cls, value)
        member._value_ = value
        member.level = level
        member.summary = summary
        return member


class SchemaRule(_Rule):
    # generic
    TYPE_CHANGED = "TYPE_CHANGED", B, "the reader accepts none of the writer's types"
    TYPE_NARROWED = "TYPE_NARROWED", B, "the reader accepts fewer types than the writer"
    TYPE_EXTENDED = "TYPE_EXTENDED", I, "the reader accepts more types than the writer"
    SCHEMA_REJECTS_ALL = "SCHEMA_REJECTS_ALL", B, "the reader rejects every value (false schema)"
    ID_CHANGED = "ID_CHANGED", I, "$id changed"
    TITLE_CHANGED = "TITLE_CHANGED", I, "title changed"
    DESCRIPTION_CHANGED = "DESCRIPTION_CHANGED", I, "description changed"
    DEFAULT_CHANGED = "DEFAULT_CHANGED", W, "default value changed"
    DEPRECATED_ADDED = "DEPRECATED_ADDED", I, "the reader marks the value deprecated"
    # strings
    MAX_LENGTH_ADDED = "MAX_LENGTH_ADDED", B, "the reader limits string length"
    MAX_LENGTH_REMOVED = "MAX_LENGTH_REMOVED", I, "the reader no longer limits string length"
    MAX_LENGTH_INCREASED = "MAX_LENGTH_INCREASED", I, "the reader allows longer strings"
    MAX_LENGTH_DECREASED = "MAX_LENGTH_DECREASED", B, "the reader allows shorter strings only"
    MIN_LENGTH_ADDED = "MIN_LENGTH_ADDED", B, "the reader requires a minimum string length"
    MIN_LENGTH_REMOVED = (
        "MIN_LENGTH_REMOVED",
        I,
        "the reader no longer requires a minimum string length",
    )
    MIN_LENGTH_INCREASED = "MIN_LENGTH_INCREASED", B, "the reader requires longer strings"
    MIN_LENGTH_DECREASED = "MIN_LENGTH_DECREASED", I, "the reader accepts shorter strings"
    PATTERN_ADDED = "PATTERN_ADDED", B, "the reader requires a pattern"
    PATTERN_REMOVED = "PATTERN_REMOVED", I, "the reader no longer requires a pattern"
    PATTERN_CHANGED = "PATTERN_CHANGED", B, "the reader requires a different pattern"
    FORMAT_ADDED = "FORMAT_ADDED", B, "the reader requires a format"
    FORMAT_WIDTH_ADDED = (
        "FORMAT_WIDTH_ADDED",
        W,
        "the reader declares a 64-bit number width (int64/double)",
    )
    FORMAT_REMOVED = "FORMAT_REMOVED", I, "the reader no longer requires a format"
    FORMAT_CHANGED = "FORMAT_CHANGED", B, "the reader requires a different format"
    FORMAT_EXTENDED = "FORMAT_EXTENDED", I, "the reader's format is a superset of the writer's"
    CONTENT_ENCODING_ADDED = "CONTENT_ENCODING_ADDED", B, "the reader requires a content encoding"
    CONTENT_ENCODING_REMOVED = (
        "CONTENT_ENCODING_REMOVED",
        I,
        "the reader no longer requires a content encoding",
    )
    CONTENT_ENCODING_CHANGED = (
        "CONTENT_ENCODING_CHANGED",
        B,
        "the reader requires a different content encoding",
    )
    CONTENT_MEDIA_TYPE_ADDED = (
        "CONTENT_MEDIA_TYPE_ADDED",
        B,
        "the reader requires a content media type",
    )
    CONTENT_MEDIA_TYPE_REMOVED = (
        "CONTENT_MEDIA_TYPE_REMOVED",
        I,
        "the reader no longer requires a content media type",
    )
    CONTENT_MEDIA_TYPE_CHANGED = (
        "CONTENT_MEDIA_TYPE_CHANGED",
        B,
        "the reader requires a different content media type",
    )
    # numbers
    MAXIMUM_ADDED = "MAXIMUM_ADDED", B, "the reader adds an upper bound"
    MAXIMUM_REMOVED = "MAXIMUM_REMOVED", I, "the reader drops the upper bound"
    MAXIMUM_INCREASED = "MAXIMUM_INCREASED", I, "the reader's upper bound is higher"
    MAXIMUM_DECREASED = "MAXIMUM_DECREASED", B, "the reader's upper bound is lower"
    MINIMUM_ADDED = "MINIMUM_ADDED", B, "the reader adds a lower bound"
    MINIMUM_REMOVED = "MINIMUM_REMOVED", I, "the reader drops the lower bound"
    MINIMUM_INCREASED = "MINIMUM_INCREASED", B, "the reader's lower bound is higher"
    MINIMUM_DECREASED = "MINIMUM_DECREASED", I, "the reader's lower bound is lower"
    EXCLUSIVE_MAXIMUM_ADDED = (
        "EXCLUSIVE_MAXIMUM_ADDED",
        B,
        "the reader adds an exclusive upper bound",
    )
    EXCLUSIVE_MAXIMUM_REMOVED = (
        "EXCLUSIVE_MAXIMUM_REMOVED",
        I,
        "the reader drops the exclusive upper bound",
    )
    EXCLUSIVE_MAXIMUM_INCREASED = (
        "EXCLUSIVE_MAXIMUM_INCREASED",
        I,
        "the reader's exclusive upper bound is higher",
    )
    EXCLUSIVE_MAXIMUM_DECREASED = (
        "EXCLUSIVE_MAXIMUM_DECREASED",
        B,
        "the reader's exclusive upper bound is lower",
    )
    EXCLUSIVE_MINIMUM_ADDED = (
        "EXCLUSIVE_MINIMUM_ADDED",
        B,
        "the reader adds an exclusive lower bound",
    )
    EXCLUSIVE_MINIMUM_REMOVED = (
        "EXCLUSIVE_MINIMUM_REMOVED",
        I,
        "the reader drops the exclusive lower bound",
    )
    EXCLUSIVE_MINIMUM_INCREASED = (
        "EXCLUSIVE_MINIMUM_INCREASED",
        B,
        "the reader's exclusive lower bound is higher",
    )
    EXCLUSIVE_MINIMUM_DECREASED = (
        "EXCLUSIVE_MINIMUM_DECREASED",
        I,
        "the reader's exclusive lower bound is lower",
    )
    MULTIPLE_OF_ADDED = "MULTIPLE_OF_ADDED", B, "the reader requires a multiple"
    MULTIPLE_OF_REMOVED = "MULTIPLE_OF_REMOVED", I, "the reader no longer requires a multiple"
    MULTIPLE_OF_EXPANDED = "MULTIPLE_OF_EXPANDED", B, "the reader requires a coarser multiple"
    MULTIPLE_OF_REDUCED = "MULTIPLE_OF_REDUCED", I, "the reader accepts a finer multiple"
    MULTIPLE_OF_CHANGED = "MULTIPLE_OF_CHANGED", B, "the reader requires an unrelated multiple"
    # objects
    REQUIRED_ATTRIBUTE_ADDED = (
        "REQUIRED_ATTRIBUTE_ADDED",
        B,
        "the reader requires a property the writer may omit",
    )
    REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED = (
        "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
        I,
        "the reader requires a property the writer may omit, but gives it a default",
    )
    REQUIRED_ATTRIBUTE_REMOVED = (
        "REQUIRED_ATTRIBUTE_REMOVED",
        I,
        "the reader no longer requires a property",
    )
    MAX_PROPERTIES_ADDED = "MAX_PROPERTIES_ADDED", B, "the reader limits the number of properties"
    MAX_PROPERTIES_REMOVED = (
        "MAX_PROPERTIES_REMOVED",
        I,
        "the reader no longer limits the number of properties",
    )
    MAX_PROPERTIES_INCREASED = "MAX_PROPERTIES_INCREASED", I, "the reader allows more properties"
    MAX_PROPERTIES_DECREASED = "MAX_PROPERTIES_DECREASED", B, "the reader allows fewer properties"
    MIN_PROPERTIES_ADDED = (
        "MIN_PROPERTIES_ADDED",
        B,
        "the reader requires a minimum number of properties",
    )
    MIN_PROPERTIES_REMOVED = (
        "MIN_PROPERTIES_REMOVED",
        I,
        "the reader no longer requires a minimum of properties",
    )
    MIN_PROPERTIES_INCREASED = "MIN_PROPERTIES_INCREASED", B, "the reader requires more properties"
    MIN_PROPERTIES_DECREASED = "MIN_PROPERTIES_DECREASED", I, "the reader requires fewer properties"
    ADDITIONAL_PROPERTIES_ADDED = (
        "ADDITIONAL_PROPERTIES_ADDED",
        I,
        "the reader accepts additional properties",
    )
    ADDITIONAL_PROPERTIES_REMOVED = (
        "ADDITIONAL_PROPERTIES_REMOVED",
        B,
        "the reader rejects additional properties",
    )
    ADDITIONAL_PROPERTIES_EXTENDED = (
        "ADDITIONAL_PROPERTIES_EXTENDED",
        I,
        "the reader accepts any additional property",
    )
    ADDITIONAL_PROPERTIES_NARROWED = (
        "ADDITIONAL_PROPERTIES_NARROWED",
        B,
        "the reader constrains additional properties",
    )
    UNEVALUATED_PROPERTIES_ADDED = (
        "UNEVALUATED_PROPERTIES_ADDED",
        I,
        "the reader accepts unevaluated properties",
    )
    UNEVALUATED_PROPERTIES_REMOVED = (
        "UNEVALUATED_PROPERTIES_REMOVED",
        B,
        "the reader rejects unevaluated properties",
    )
    UNEVALUATED_PROPERTIES_EXTENDED = (
        "UNEVALUATED_PROPERTIES_EXTENDED",
        I,
        "the reader accepts any unevaluated property",
    )
    UNEVALUATED_PROPERTIES_NARROWED = (
        "UNEVALUATED_PROPERTIES_NARROWED",
        B,
        "the reader constrains unevaluated properties",
    )
    DEPENDENCY_ARRAY_ADDED = "DEPENDENCY_ARRAY_ADDED", B, "the reader adds a property dependency"
    DEPENDENCY_ARRAY_REMOVED = (
        "DEPENDENCY_ARRAY_REMOVED",
        I,
        "the reader drops a property dependency",
    )
    DEPENDENCY_ARRAY_EXTENDED = (
        "DEPENDENCY_ARRAY_EXTENDED",
        B,
        "the reader's property dependency requires more",
    )
    DEPENDENCY_ARRAY_NARROWED = (
        "DEPENDENCY_ARRAY_NARROWED",
        I,
        "the reader's property dependency requires less",
    )
    DEPENDENCY_SCHEMA_ADDED = "DEPENDENCY_SCHEMA_ADDED", B, "the reader adds a schema dependency"
    DEPENDENCY_SCHEMA_REMOVED = (
        "DEPENDENCY_SCHEMA_REMOVED",
        I,
        "the reader drops a schema dependency",
    )
    PROPERTY_NAMES_ADDED = "PROPERTY_NAMES_ADDED", B, "the reader constrains property names"
    PROPERTY_NAMES_REMOVED = (
        "PROPERTY_NAMES_REMOVED",
        I,
        "the reader no longer constrains property names",
    )
    PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL = (
        "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
        B,
        "the reader constrains a property the writer's open model allows with any value",
    )
    PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL = (
        "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
        I,
        "the reader declares an unconstrained property",
    )
    REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL = (
        "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        B,
        "the reader requires a property the writer never produces",
    )
    REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL = (
        "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
        I,
        "the reader requires a new property but gives it a default",
    )
    OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL = (
        "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        I,
        "the reader declares an optional property the writer does not produce",
    )
    PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL = (
        "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
        I,
        "the reader no longer declares a property; its open model still accepts it",
    )
    PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL = (
        "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        I,
        "the reader drops a property the writer forbade",
    )
    PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL = (
        "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        B,
        "the reader's closed model rejects a property the writer produces",
    )
    PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = (
        "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        I,
        "the reader no longer declares a property; its additional/pattern schema accepts it",
    )
    PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = (
        "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        B,
        "the reader no longer declares a property and its additional/pattern schema rejects it",
    )
    PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = (
        "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        I,
        "the reader declares a property the writer's additional/pattern schema already covered",
    )
    PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = (
        "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        B,
        "the reader declares a property narrower than the writer's additional/pattern schema",
    )
    # arrays
    MAX_ITEMS_ADDED = "MAX_ITEMS_ADDED", B, "the reader limits the number of items"
    MAX_ITEMS_REMOVED = "MAX_ITEMS_REMOVED", I, "the reader no longer limits the number of items"
    MAX_ITEMS_INCREASED = "MAX_ITEMS_INCREASED", I, "the reader allows more items"
    MAX_ITEMS_DECREASED = "MAX_ITEMS_DECREASED", B, "the reader allows fewer items"
    MIN_ITEMS_ADDED = "MIN_ITEMS_ADDED", B, "the reader requires a minimum number of items"
    MIN_ITEMS_REMOVED = "MIN_ITEMS_REMOVED", I, "the reader no longer requires a minimum of items"
    MIN_ITEMS_INCREASED = "MIN_ITEMS_INCREASED", B, "the reader requires more items"
    MIN_ITEMS_DECREASED = "MIN_ITEMS_DECREASED", I, "the reader requires fewer items"
    MAX_CONTAINS_ADDED = "MAX_CONTAINS_ADDED", B, "the reader limits matching items"
    MAX_CONTAINS_REMOVED = "MAX_CONTAINS_REMOVED", I, "the reader no longer limits matching items"
    MAX_CONTAINS_INCREASED = "MAX_CONTAINS_INCREASED", I, "the reader allows more matching items"
    MAX_CONTAINS_DECREASED = "MAX_CONTAINS_DECREASED", B, "the reader allows fewer matching items"
    MIN_CONTAINS_ADDED = "MIN_CONTAINS_ADDED", B, "the reader requires a minimum of matching items"
    MIN_CONTAINS_REMOVED = (
        "MIN_CONTAINS_REMOVED",
        I,
        "the reader no longer requires a minimum of matching items",
    )
    MIN_CONTAINS_INCREASED = "MIN_CONTAINS_INCREASED", B, "the reader requires more matching items"
    MIN_CONTAINS_DECREASED = "MIN_CONTAINS_DECREASED", I, "the reader requires fewer matching items"
    CONTAINS_ADDED = "CONTAINS_ADDED", B, "the reader requires an item matching `contains`"
    CONTAINS_REMOVED = "CONTAINS_REMOVED", I, "the reader no longer requires a matching item"
    UNIQUE_ITEMS_ADDED = "UNIQUE_ITEMS_ADDED", B, "the reader requires unique items"
    UNIQUE_ITEMS_REMOVED = "UNIQUE_ITEMS_REMOVED", I, "the reader no longer requires unique items"
    ADDITIONAL_ITEMS_ADDED = "ADDITIONAL_ITEMS_ADDED", I, "the reader accepts additional items"
    ADDITIONAL_ITEMS_REMOVED = "ADDITIONAL_ITEMS_REMOVED", B, "the reader rejects additional items"
    ADDITIONAL_ITEMS_EXTENDED = (
        "ADDITIONAL_ITEMS_EXTENDED",
        I,
        "the reader accepts any additional item",
    )
    ADDITIONAL_ITEMS_NARROWED = (
        "ADDITIONAL_ITEMS_NARROWED",
        B,
        "the reader constrains additional items",
    )
    ITEM_ADDED_TO_OPEN_CONTENT_MODEL = (
        "ITEM_ADDED_TO_OPEN_CONTENT_MODEL",
        B,
        "the reader constrains a tuple position the writer leaves open",
    )
    ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL = (
        "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
        I,
        "the reader declares an unconstrained tuple position",
    )
    ITEM_ADDED_TO_CLOSED_CONTENT_MODEL = (
        "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
        I,
        "the reader declares a tuple position the writer never produces",
    )
    ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL = (
        "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
        I,
        "the reader no longer declares a tuple position; its open model accepts it",
    )
    ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL = (
        "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        I,
        "the reader drops a tuple position the writer forbade",
    )
    ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL = (
        "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        B,
        "the reader's closed tuple rejects a position the writer produces",
    )
    ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = (
        "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        I,
        "the reader no longer declares a tuple position; its additional items schema accepts it",
    )
    ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = (
        "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        B,
        "the reader no longer declares a tuple position and its additional items schema rejects it",
    )
    ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = (
        "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        I,
        "the reader declares a tuple position the writer's additional items already covered",
    )
    ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = (
        "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        B,
        "the reader declares a tuple position narrower than the writer's additional items",
    )
    # enums and const
    ENUM_ARRAY_EXTENDED = "ENUM_ARRAY_EXTENDED", I, "the reader accepts more enum values"
    ENUM_ARRAY_NARROWED = (
        "ENUM_ARRAY_NARROWED",
        B,
        "the reader rejects enum values the writer produces",
    )
    ENUM_ARRAY_CHANGED = "ENUM_ARRAY_CHANGED", B, "the reader's enum differs from the writer's"
    ENUM_ADDED = "ENUM_ADDED", B, "the reader restricts values to an enum"
    ENUM_REMOVED = "ENUM_REMOVED", I, "the reader no longer restricts values to an enum"
    # combinators
    COMBINED_TYPE_EXTENDED = (
        "COMBINED_TYPE_EXTENDED",
        I,
        "the reader's combinator is more permissive",
    )
    COMBINED_TYPE_CHANGED = "COMBINED_TYPE_CHANGED", B, "the reader uses an incompatible combinator"
    PRODUCT_TYPE_EXTENDED = (
        "PRODUCT_TYPE_EXTENDED",
        B,
        "the reader's allOf has a constraint the writer lacks",
    )
    PRODUCT_TYPE_NARROWED = "PRODUCT_TYPE_NARROWED", I, "the reader's allOf has fewer constraints"
    SUM_TYPE_EXTENDED = "SUM_TYPE_EXTENDED", I, "the reader accepts more alternatives"
    SUM_TYPE_NARROWED = (
        "SUM_TYPE_NARROWED",
        B,
        "the reader has no alternative for one of the writer's",
    )
    NOT_TYPE_EXTENDED = "NOT_TYPE_EXTENDED", B, "the reader excludes more values"
    NOT_TYPE_NARROWED = "NOT_TYPE_NARROWED", I, "the reader excludes fewer values"
    NOT_ADDED = "NOT_ADDED", B, "the reader excludes values with `not`"
    NOT_REMOVED = "NOT_REMOVED", I, "the reader no longer excludes values with `not`"
    # conditionals
    CONDITIONAL_ADDED = "CONDITIONAL_ADDED", B, "the reader adds an if/then/else constraint"
    CONDITIONAL_REMOVED = "CONDITIONAL_REMOVED", I, "the reader drops an if/then/else constraint"
    CONDITION_CHANGED = (
        "CONDITION_CHANGED",
        B,
        "the reader's `if` condition differs from the writer's",
    )


# rule -> (default level, meaning from the writer to the reader)
SCHEMA_RULES: dict[SchemaRule, tuple[Level, str]] = {r: (r.level, r.summary) for r in SchemaRule}


class ApiRule(_Rule):
    """Document-level rules of API descriptions (OpenAPI, AsyncAPI), old -> new."""

    API_PATH_REMOVED_WITHOUT_DEPRECATION = (
        "api-path-removed-without-deprecation",
        B,
        "path removed without being deprecated first",
    )
    API_PATH_REMOVED_AFTER_DEPRECATION = (
        "api-path-removed-after-deprecation",
        W,
        "deprecated path removed",
    )
    API_REMOVED_WITHOUT_DEPRECATION = (
        "api-removed-without-deprecation",
        B,
        "operation removed without being deprecated first",
    )
    API_REMOVED_AFTER_DEPRECATION = (
        "api-removed-after-deprecation",
        W,
        "deprecated operation removed",
    )
    ENDPOINT_ADDED = "endpoint-added", I, "operation added"
    ENDPOINT_DEPRECATED = "endpoint-deprecated", I, "operation deprecated"
    NEW_REQUIRED_REQUEST_PARAMETER = (
        "new-required-request-parameter",
        B,
        "new required request parameter",
    )
    NEW_OPTIONAL_REQUEST_PARAMETER = (
        "new-optional-request-parameter",
        I,
        "new optional request parameter",
    )
    REQUEST_PARAMETER_REMOVED = "request-parameter-removed", W, "request parameter removed"
    REQUEST_PARAMETER_BECAME_REQUIRED = (
        "request-parameter-became-required",
        B,
        "request parameter became required",
    )
    REQUEST_PARAMETER_BECAME_OPTIONAL = (
        "request-parameter-became-optional",
        I,
        "request parameter became optional",
    )
    NEW_REQUIRED_REQUEST_BODY = "new-required-request-body", B, "new required request body"
    NEW_OPTIONAL_REQUEST_BODY = "new-optional-request-body", I, "new optional request body"
    REQUEST_BODY_BECAME_REQUIRED = "request-body-became-required", B, "request body became required"
    REQUEST_BODY_BECAME_OPTIONAL = "request-body-became-optional", I, "request body became optional"
    REQUEST_BODY_REMOVED = "request-body-removed", W, "request body removed"
    REQUEST_BODY_MEDIA_TYPE_REMOVED = (
        "request-body-media-type-removed",
        B,
        "request media type no longer accepted",
    )
    REQUEST_BODY_MEDIA_TYPE_ADDED = "request-body-media-type-added", I, "request media type added"
    RESPONSE_SUCCESS_STATUS_REMOVED = (
        "response-success-status-removed",
        B,
        "success response status removed",
    )
    RESPONSE_NON_SUCCESS_STATUS_REMOVED = (
        "response-non-success-status-removed",
        W,
        "non-success response status removed",
    )
    RESPONSE_STATUS_ADDED = "response-status-added", I, "response status added"
    RESPONSE_MEDIA_TYPE_REMOVED = "response-media-type-removed", B, "response media type removed"
    RESPONSE_MEDIA_TYPE_ADDED = "response-media-type-added", I, "response media type added"
    RESPONSE_REQUIRED_HEADER_REMOVED = (
        "response-required-header-removed",
        B,
        "required response header removed",
    )
    RESPONSE_OPTIONAL_HEADER_REMOVED = (
        "response-optional-header-removed",
        W,
        "optional response header removed",
    )
    API_SECURITY_ADDED = "api-security-added", B, "security requirement added"
    API_SECURITY_SCOPE_ADDED = "api-security-scope-added", B, "security scope added"
    API_SECURITY_REMOVED = "api-security-removed", I, "security requirement removed"
    # AsyncAPI
    CHANNEL_REMOVED = "channel-removed", B, "channel removed"
    CHANNEL_ADDED = "channel-added", I, "channel added"
    CHANNEL_ADDRESS_CHANGED = "channel-address-changed", B, "channel address changed"
    OPERATION_REMOVED = "operation-removed", B, "operation removed"
    OPERATION_ADDED = "operation-added", I, "operation added"
    OPERATION_ACTION_CHANGED = (
        "operation-action-changed",
        B,
        "operation switched between send and receive",
    )
    RECEIVED_MESSAGE_REMOVED = (
        "received-message-removed",
        B,
        "the application no longer accepts a message",
    )
    RECEIVED_MESSAGE_ADDED = "received-message-added", I, "the application accepts a new message"
    SENT_MESSAGE_REMOVED = "sent-message-removed", I, "the application no longer sends a message"
    SENT_MESSAGE_ADDED = (
        "sent-message-added",
        W,
        "the application sends a message existing consumers may not know",
    )
    MESSAGE_CONTENT_TYPE_CHANGED = "message-content-type-changed", B, "message content type changed"
    PAYLOAD_FORMAT_UNSUPPORTED = (
        "payload-format-unsupported",
        W,
        "payload schema format not judged (not JSON Schema)",
    )
    PAYLOAD_NOT_COMPARABLE = (
        "payload-not-comparable",
        W,
        "message not judged (a reference outside the document)",
    )


API_RULES: dict[ApiRule, tuple[Level, str]] = {r: (r.level, r.summary) for r in ApiRule}

# Words swapped to rename a writer->reader schema rule as an old->new change when the writer is
# the new document (responses, sent messages): "the reader (old) requires a property the writer
# (new) may omit" reads, old -> new, as "required attribute removed".
_FLIPS = {
    "ADDED": "REMOVED",
    "REMOVED": "ADDED",
    "INCREASED": "DECREASED",
    "DECREASED": "INCREASED",
    "EXTENDED": "NARROWED",
    "NARROWED": "EXTENDED",
    "EXPANDED": "REDUCED",
    "REDUCED": "EXPANDED",
    "TO": "FROM",
    "FROM": "TO",
}

# API context overrides of schema-rule levels, keyed by the derived id. Dropping an optional
# response property is a warning in oasdiff too: clients must tolerate absent optional fields.
API_SCHEMA_LEVEL_OVERRIDES: dict[str, Level] = {
    "response-property-optional-property-removed-from-unopen-content-model": W,
}


def schema_rule_as_change(rule: SchemaRule, writer_is_old: bool) -> str:
    """The rule's name phrased old -> new, as kebab-case."""
    words = rule.value.split("_")
    if not writer_is_old:
        words = [_FLIPS.get(word, word) for word in words]
    return "-".join(words).lower()


# Where API descriptions embed schemas, and whether the old document writes there (requests,
# received messages) or the new one does (responses, sent messages). Rule ids of findings
# inside them are "<location>-<schema rule phrased old -> new>"; `-body` becomes `-property`
# when the finding is about a property.
API_SCHEMA_LOCATIONS: dict[str, bool] = {
    "request-parameter": True,
    "request-body": True,
    "request-property": True,
    "response-body": False,
    "response-property": False,
    "response-header": False,
    "received-message-payload": True,
    "received-message-headers": True,
    "sent-message-payload": False,
    "sent-message-headers": False,
}


def rule_catalogue() -> list[dict[str, str]]:
    """Every rule id a change can carry, with its default level: what waivers and level
    overrides in a `--config` file may name."""
    rows = [
        {"id": rule.value, "level": level.value, "applies_to": "jsonschema", "summary": text}
        for rule, (level, text) in SCHEMA_RULES.items()
    ]
    rows += [
        {"id": rule.value, "level": level.value, "applies_to": "openapi/asyncapi", "summary": text}
        for rule, (level, text) in API_RULES.items()
    ]
    for location, writer_is_old in API_SCHEMA_LOCATIONS.items():
        for rule, (level, text) in SCHEMA_RULES.items():
            rule_id = f"{location}-{schema_rule_as_change(rule, writer_is_old)}"
            rows.append(
                {
                    "id": rule_id,
                    "level": API_SCHEMA_LEVEL_OVERRIDES.get(rule_id, level).value,
                    "applies_to": "asyncapi" if "message" in location else "openapi",
                    "summary": f"{location.replace('-', ' ')}: {text}",
                }
            )
    return rows
