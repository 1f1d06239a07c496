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


class SchemaRule(StrEnum):
    # generic
    TYPE_CHANGED = "TYPE_CHANGED"
    TYPE_NARROWED = "TYPE_NARROWED"
    TYPE_EXTENDED = "TYPE_EXTENDED"
    SCHEMA_REJECTS_ALL = "SCHEMA_REJECTS_ALL"
    ID_CHANGED = "ID_CHANGED"
    TITLE_CHANGED = "TITLE_CHANGED"
    DESCRIPTION_CHANGED = "DESCRIPTION_CHANGED"
    DEFAULT_CHANGED = "DEFAULT_CHANGED"
    DEPRECATED_ADDED = "DEPRECATED_ADDED"
    # strings
    MAX_LENGTH_ADDED = "MAX_LENGTH_ADDED"
    MAX_LENGTH_REMOVED = "MAX_LENGTH_REMOVED"
    MAX_LENGTH_INCREASED = "MAX_LENGTH_INCREASED"
    MAX_LENGTH_DECREASED = "MAX_LENGTH_DECREASED"
    MIN_LENGTH_ADDED = "MIN_LENGTH_ADDED"
    MIN_LENGTH_REMOVED = "MIN_LENGTH_REMOVED"
    MIN_LENGTH_INCREASED = "MIN_LENGTH_INCREASED"
    MIN_LENGTH_DECREASED = "MIN_LENGTH_DECREASED"
    PATTERN_ADDED = "PATTERN_ADDED"
    PATTERN_REMOVED = "PATTERN_REMOVED"
    PATTERN_CHANGED = "PATTERN_CHANGED"
    FORMAT_ADDED = "FORMAT_ADDED"
    FORMAT_WIDTH_ADDED = "FORMAT_WIDTH_ADDED"
    FORMAT_REMOVED = "FORMAT_REMOVED"
    FORMAT_CHANGED = "FORMAT_CHANGED"
    FORMAT_EXTENDED = "FORMAT_EXTENDED"
    CONTENT_ENCODING_ADDED = "CONTENT_ENCODING_ADDED"
    CONTENT_ENCODING_REMOVED = "CONTENT_ENCODING_REMOVED"
    CONTENT_ENCODING_CHANGED = "CONTENT_ENCODING_CHANGED"
    CONTENT_MEDIA_TYPE_ADDED = "CONTENT_MEDIA_TYPE_ADDED"
    CONTENT_MEDIA_TYPE_REMOVED = "CONTENT_MEDIA_TYPE_REMOVED"
    CONTENT_MEDIA_TYPE_CHANGED = "CONTENT_MEDIA_TYPE_CHANGED"
    # numbers
    MAXIMUM_ADDED = "MAXIMUM_ADDED"
    MAXIMUM_REMOVED = "MAXIMUM_REMOVED"
    MAXIMUM_INCREASED = "MAXIMUM_INCREASED"
    MAXIMUM_DECREASED = "MAXIMUM_DECREASED"
    MINIMUM_ADDED = "MINIMUM_ADDED"
    MINIMUM_REMOVED = "MINIMUM_REMOVED"
    MINIMUM_INCREASED = "MINIMUM_INCREASED"
    MINIMUM_DECREASED = "MINIMUM_DECREASED"
    EXCLUSIVE_MAXIMUM_ADDED = "EXCLUSIVE_MAXIMUM_ADDED"
    EXCLUSIVE_MAXIMUM_REMOVED = "EXCLUSIVE_MAXIMUM_REMOVED"
    EXCLUSIVE_MAXIMUM_INCREASED = "EXCLUSIVE_MAXIMUM_INCREASED"
    EXCLUSIVE_MAXIMUM_DECREASED = "EXCLUSIVE_MAXIMUM_DECREASED"
    EXCLUSIVE_MINIMUM_ADDED = "EXCLUSIVE_MINIMUM_ADDED"
    EXCLUSIVE_MINIMUM_REMOVED = "EXCLUSIVE_MINIMUM_REMOVED"
    EXCLUSIVE_MINIMUM_INCREASED = "EXCLUSIVE_MINIMUM_INCREASED"
    EXCLUSIVE_MINIMUM_DECREASED = "EXCLUSIVE_MINIMUM_DECREASED"
    MULTIPLE_OF_ADDED = "MULTIPLE_OF_ADDED"
    MULTIPLE_OF_REMOVED = "MULTIPLE_OF_REMOVED"
    MULTIPLE_OF_EXPANDED = "MULTIPLE_OF_EXPANDED"
    MULTIPLE_OF_REDUCED = "MULTIPLE_OF_REDUCED"
    MULTIPLE_OF_CHANGED = "MULTIPLE_OF_CHANGED"
    # objects
    REQUIRED_ATTRIBUTE_ADDED = "REQUIRED_ATTRIBUTE_ADDED"
    REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED = "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED"
    REQUIRED_ATTRIBUTE_REMOVED = "REQUIRED_ATTRIBUTE_REMOVED"
    MAX_PROPERTIES_ADDED = "MAX_PROPERTIES_ADDED"
    MAX_PROPERTIES_REMOVED = "MAX_PROPERTIES_REMOVED"
    MAX_PROPERTIES_INCREASED = "MAX_PROPERTIES_INCREASED"
    MAX_PROPERTIES_DECREASED = "MAX_PROPERTIES_DECREASED"
    MIN_PROPERTIES_ADDED = "MIN_PROPERTIES_ADDED"
    MIN_PROPERTIES_REMOVED = "MIN_PROPERTIES_REMOVED"
    MIN_PROPERTIES_INCREASED = "MIN_PROPERTIES_INCREASED"
    MIN_PROPERTIES_DECREASED = "MIN_PROPERTIES_DECREASED"
    ADDITIONAL_PROPERTIES_ADDED = "ADDITIONAL_PROPERTIES_ADDED"
    ADDITIONAL_PROPERTIES_REMOVED = "ADDITIONAL_PROPERTIES_REMOVED"
    ADDITIONAL_PROPERTIES_EXTENDED = "ADDITIONAL_PROPERTIES_EXTENDED"
    ADDITIONAL_PROPERTIES_NARROWED = "ADDITIONAL_PROPERTIES_NARROWED"
    UNEVALUATED_PROPERTIES_ADDED = "UNEVALUATED_PROPERTIES_ADDED"
    UNEVALUATED_PROPERTIES_REMOVED = "UNEVALUATED_PROPERTIES_REMOVED"
    UNEVALUATED_PROPERTIES_EXTENDED = "UNEVALUATED_PROPERTIES_EXTENDED"
    UNEVALUATED_PROPERTIES_NARROWED = "UNEVALUATED_PROPERTIES_NARROWED"
    DEPENDENCY_ARRAY_ADDED = "DEPENDENCY_ARRAY_ADDED"
    DEPENDENCY_ARRAY_REMOVED = "DEPENDENCY_ARRAY_REMOVED"
    DEPENDENCY_ARRAY_EXTENDED = "DEPENDENCY_ARRAY_EXTENDED"
    DEPENDENCY_ARRAY_NARROWED = "DEPENDENCY_ARRAY_NARROWED"
    DEPENDENCY_SCHEMA_ADDED = "DEPENDENCY_SCHEMA_ADDED"
    DEPENDENCY_SCHEMA_REMOVED = "DEPENDENCY_SCHEMA_REMOVED"
    PROPERTY_NAMES_ADDED = "PROPERTY_NAMES_ADDED"
    PROPERTY_NAMES_REMOVED = "PROPERTY_NAMES_REMOVED"
    PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL = "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
    PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL = (
        "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
    )
    REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL = (
        "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
    )
    REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL = (
        "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL"
    )
    OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL = (
        "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
    )
    PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL = "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL"
    PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL = (
        "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL"
    )
    PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL = "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"
    PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = (
        "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
    )
    PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = (
        "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
    )
    PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = (
        "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
    )
    PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = (
        "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
    )
    # arrays
    MAX_ITEMS_ADDED = "MAX_ITEMS_ADDED"
    MAX_ITEMS_REMOVED = "MAX_ITEMS_REMOVED"
    MAX_ITEMS_INCREASED = "MAX_ITEMS_INCREASED"
    MAX_ITEMS_DECREASED = "MAX_ITEMS_DECREASED"
    MIN_ITEMS_ADDED = "MIN_ITEMS_ADDED"
    MIN_ITEMS_REMOVED = "MIN_ITEMS_REMOVED"
    MIN_ITEMS_INCREASED = "MIN_ITEMS_INCREASED"
    MIN_ITEMS_DECREASED = "MIN_ITEMS_DECREASED"
    MAX_CONTAINS_ADDED = "MAX_CONTAINS_ADDED"
    MAX_CONTAINS_REMOVED = "MAX_CONTAINS_REMOVED"
    MAX_CONTAINS_INCREASED = "MAX_CONTAINS_INCREASED"
    MAX_CONTAINS_DECREASED = "MAX_CONTAINS_DECREASED"
    MIN_CONTAINS_ADDED = "MIN_CONTAINS_ADDED"
    MIN_CONTAINS_REMOVED = "MIN_CONTAINS_REMOVED"
    MIN_CONTAINS_INCREASED = "MIN_CONTAINS_INCREASED"
    MIN_CONTAINS_DECREASED = "MIN_CONTAINS_DECREASED"
    CONTAINS_ADDED = "CONTAINS_ADDED"
    CONTAINS_REMOVED = "CONTAINS_REMOVED"
    UNIQUE_ITEMS_ADDED = "UNIQUE_ITEMS_ADDED"
    UNIQUE_ITEMS_REMOVED = "UNIQUE_ITEMS_REMOVED"
    ADDITIONAL_ITEMS_ADDED = "ADDITIONAL_ITEMS_ADDED"
    ADDITIONAL_ITEMS_REMOVED = "ADDITIONAL_ITEMS_REMOVED"
    ADDITIONAL_ITEMS_EXTENDED = "ADDITIONAL_ITEMS_EXTENDED"
    ADDITIONAL_ITEMS_NARROWED = "ADDITIONAL_ITEMS_NARROWED"
    ITEM_ADDED_TO_OPEN_CONTENT_MODEL = "ITEM_ADDED_TO_OPEN_CONTENT_MODEL"
    ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL = (
        "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
    )
    ITEM_ADDED_TO_CLOSED_CONTENT_MODEL = "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL"
    ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL = "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL"
    ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL = (
        "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL"
    )
    ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL = "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL"
    ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = (
        "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
    )
    ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = (
        "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
    )
    ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = (
        "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
    )
    ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL = (
        "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
    )
    # enums and const
    ENUM_ARRAY_EXTENDED = "ENUM_ARRAY_EXTENDED"
    ENUM_ARRAY_NARROWED = "ENUM_ARRAY_NARROWED"
    ENUM_ARRAY_CHANGED = "ENUM_ARRAY_CHANGED"
    ENUM_ADDED = "ENUM_ADDED"
    ENUM_REMOVED = "ENUM_REMOVED"
    # combinators
    COMBINED_TYPE_EXTENDED = "COMBINED_TYPE_EXTENDED"
    COMBINED_TYPE_CHANGED = "COMBINED_TYPE_CHANGED"
    PRODUCT_TYPE_EXTENDED = "PRODUCT_TYPE_EXTENDED"
    PRODUCT_TYPE_NARROWED = "PRODUCT_TYPE_NARROWED"
    SUM_TYPE_EXTENDED = "SUM_TYPE_EXTENDED"
    SUM_TYPE_NARROWED = "SUM_TYPE_NARROWED"
    NOT_TYPE_EXTENDED = "NOT_TYPE_EXTENDED"
    NOT_TYPE_NARROWED = "NOT_TYPE_NARROWED"
    NOT_ADDED = "NOT_ADDED"
    NOT_REMOVED = "NOT_REMOVED"
    # conditionals
    CONDITIONAL_ADDED = "CONDITIONAL_ADDED"
    CONDITIONAL_REMOVED = "CONDITIONAL_REMOVED"
    CONDITION_CHANGED = "CONDITION_CHANGED"


_R = SchemaRule

# rule -> (default level, meaning from the writer to the reader)
SCHEMA_RULES: dict[SchemaRule, tuple[Level, str]] = {
    _R.TYPE_CHANGED: (B, "the reader accepts none of the writer's types"),
    _R.TYPE_NARROWED: (B, "the reader accepts fewer types than the writer"),
    _R.TYPE_EXTENDED: (I, "the reader accepts more types than the writer"),
    _R.SCHEMA_REJECTS_ALL: (B, "the reader rejects every value (false schema)"),
    _R.ID_CHANGED: (I, "$id changed"),
    _R.TITLE_CHANGED: (I, "title changed"),
    _R.DESCRIPTION_CHANGED: (I, "description changed"),
    _R.DEFAULT_CHANGED: (W, "default value changed"),
    _R.DEPRECATED_ADDED: (I, "the reader marks the value deprecated"),
    _R.MAX_LENGTH_ADDED: (B, "the reader limits string length"),
    _R.MAX_LENGTH_REMOVED: (I, "the reader no longer limits string length"),
    _R.MAX_LENGTH_INCREASED: (I, "the reader allows longer strings"),
    _R.MAX_LENGTH_DECREASED: (B, "the reader allows shorter strings only"),
    _R.MIN_LENGTH_ADDED: (B, "the reader requires a minimum string length"),
    _R.MIN_LENGTH_REMOVED: (I, "the reader no longer requires a minimum string length"),
    _R.MIN_LENGTH_INCREASED: (B, "the reader requires longer strings"),
    _R.MIN_LENGTH_DECREASED: (I, "the reader accepts shorter strings"),
    _R.PATTERN_ADDED: (B, "the reader requires a pattern"),
    _R.PATTERN_REMOVED: (I, "the reader no longer requires a pattern"),
    _R.PATTERN_CHANGED: (B, "the reader requires a different pattern"),
    _R.FORMAT_ADDED: (B, "the reader requires a format"),
    _R.FORMAT_WIDTH_ADDED: (W, "the reader declares a 64-bit number width (int64/double)"),
    _R.FORMAT_REMOVED: (I, "the reader no longer requires a format"),
    _R.FORMAT_CHANGED: (B, "the reader requires a different format"),
    _R.FORMAT_EXTENDED: (I, "the reader's format is a superset of the writer's"),
    _R.CONTENT_ENCODING_ADDED: (B, "the reader requires a content encoding"),
    _R.CONTENT_ENCODING_REMOVED: (I, "the reader no longer requires a content encoding"),
    _R.CONTENT_ENCODING_CHANGED: (B, "the reader requires a different content encoding"),
    _R.CONTENT_MEDIA_TYPE_ADDED: (B, "the reader requires a content media type"),
    _R.CONTENT_MEDIA_TYPE_REMOVED: (I, "the reader no longer requires a content media type"),
    _R.CONTENT_MEDIA_TYPE_CHANGED: (B, "the reader requires a different content media type"),
    _R.MAXIMUM_ADDED: (B, "the reader adds an upper bound"),
    _R.MAXIMUM_REMOVED: (I, "the reader drops the upper bound"),
    _R.MAXIMUM_INCREASED: (I, "the reader's upper bound is higher"),
    _R.MAXIMUM_DECREASED: (B, "the reader's upper bound is lower"),
    _R.MINIMUM_ADDED: (B, "the reader adds a lower bound"),
    _R.MINIMUM_REMOVED: (I, "the reader drops the lower bound"),
    _R.MINIMUM_INCREASED: (B, "the reader's lower bound is higher"),
    _R.MINIMUM_DECREASED: (I, "the reader's lower bound is lower"),
    _R.EXCLUSIVE_MAXIMUM_ADDED: (B, "the reader adds an exclusive upper bound"),
    _R.EXCLUSIVE_MAXIMUM_REMOVED: (I, "the reader drops the exclusive upper bound"),
    _R.EXCLUSIVE_MAXIMUM_INCREASED: (I, "the reader's exclusive upper bound is higher"),
    _R.EXCLUSIVE_MAXIMUM_DECREASED: (B, "the reader's exclusive upper bound is lower"),
    _R.EXCLUSIVE_MINIMUM_ADDED: (B, "the reader adds an exclusive lower bound"),
    _R.EXCLUSIVE_MINIMUM_REMOVED: (I, "the reader drops the exclusive lower bound"),
    _R.EXCLUSIVE_MINIMUM_INCREASED: (B, "the reader's exclusive lower bound is higher"),
    _R.EXCLUSIVE_MINIMUM_DECREASED: (I, "the reader's exclusive lower bound is lower"),
    _R.MULTIPLE_OF_ADDED: (B, "the reader requires a multiple"),
    _R.MULTIPLE_OF_REMOVED: (I, "the reader no longer requires a multiple"),
    _R.MULTIPLE_OF_EXPANDED: (B, "the reader requires a coarser multiple"),
    _R.MULTIPLE_OF_REDUCED: (I, "the reader accepts a finer multiple"),
    _R.MULTIPLE_OF_CHANGED: (B, "the reader requires an unrelated multiple"),
    _R.REQUIRED_ATTRIBUTE_ADDED: (B, "the reader requires a property the writer may omit"),
    _R.REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED: (
        I,
        "the reader requires a property the writer may omit, but gives it a default",
    ),
    _R.REQUIRED_ATTRIBUTE_REMOVED: (I, "the reader no longer requires a property"),
    _R.MAX_PROPERTIES_ADDED: (B, "the reader limits the number of properties"),
    _R.MAX_PROPERTIES_REMOVED: (I, "the reader no longer limits the number of properties"),
    _R.MAX_PROPERTIES_INCREASED: (I, "the reader allows more properties"),
    _R.MAX_PROPERTIES_DECREASED: (B, "the reader allows fewer properties"),
    _R.MIN_PROPERTIES_ADDED: (B, "the reader requires a minimum number of properties"),
    _R.MIN_PROPERTIES_REMOVED: (I, "the reader no longer requires a minimum of properties"),
    _R.MIN_PROPERTIES_INCREASED: (B, "the reader requires more properties"),
    _R.MIN_PROPERTIES_DECREASED: (I, "the reader requires fewer properties"),
    _R.ADDITIONAL_PROPERTIES_ADDED: (I, "the reader accepts additional properties"),
    _R.ADDITIONAL_PROPERTIES_REMOVED: (B, "the reader rejects additional properties"),
    _R.ADDITIONAL_PROPERTIES_EXTENDED: (I, "the reader accepts any additional property"),
    _R.ADDITIONAL_PROPERTIES_NARROWED: (B, "the reader constrains additional properties"),
    _R.UNEVALUATED_PROPERTIES_ADDED: (I, "the reader accepts unevaluated properties"),
    _R.UNEVALUATED_PROPERTIES_REMOVED: (B, "the reader rejects unevaluated properties"),
    _R.UNEVALUATED_PROPERTIES_EXTENDED: (I, "the reader accepts any unevaluated property"),
    _R.UNEVALUATED_PROPERTIES_NARROWED: (B, "the reader constrains unevaluated properties"),
    _R.DEPENDENCY_ARRAY_ADDED: (B, "the reader adds a property dependency"),
    _R.DEPENDENCY_ARRAY_REMOVED: (I, "the reader drops a property dependency"),
    _R.DEPENDENCY_ARRAY_EXTENDED: (B, "the reader's property dependency requires more"),
    _R.DEPENDENCY_ARRAY_NARROWED: (I, "the reader's property dependency requires less"),
    _R.DEPENDENCY_SCHEMA_ADDED: (B, "the reader adds a schema dependency"),
    _R.DEPENDENCY_SCHEMA_REMOVED: (I, "the reader drops a schema dependency"),
    _R.PROPERTY_NAMES_ADDED: (B, "the reader constrains property names"),
    _R.PROPERTY_NAMES_REMOVED: (I, "the reader no longer constrains property names"),
    _R.PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL: (
        B,
        "the reader constrains a property the writer's open model allows with any value",
    ),
    _R.PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL: (
        I,
        "the reader declares an unconstrained property",
    ),
    _R.REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL: (
        B,
        "the reader requires a property the writer never produces",
    ),
    _R.REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL: (
        I,
        "the reader requires a new property but gives it a default",
    ),
    _R.OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL: (
        I,
        "the reader declares an optional property the writer does not produce",
    ),
    _R.PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL: (
        I,
        "the reader no longer declares a property; its open model still accepts it",
    ),
    _R.PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL: (
        I,
        "the reader drops a property the writer forbade",
    ),
    _R.PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL: (
        B,
        "the reader's closed model rejects a property the writer produces",
    ),
    _R.PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: (
        I,
        "the reader no longer declares a property; its additional/pattern schema accepts it",
    ),
    _R.PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: (
        B,
        "the reader no longer declares a property and its additional/pattern schema rejects it",
    ),
    _R.PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: (
        I,
        "the reader declares a property the writer's additional/pattern schema already covered",
    ),
    _R.PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: (
        B,
        "the reader declares a property narrower than the writer's additional/pattern schema",
    ),
    _R.MAX_ITEMS_ADDED: (B, "the reader limits the number of items"),
    _R.MAX_ITEMS_REMOVED: (I, "the reader no longer limits the number of items"),
    _R.MAX_ITEMS_INCREASED: (I, "the reader allows more items"),
    _R.MAX_ITEMS_DECREASED: (B, "the reader allows fewer items"),
    _R.MIN_ITEMS_ADDED: (B, "the reader requires a minimum number of items"),
    _R.MIN_ITEMS_REMOVED: (I, "the reader no longer requires a minimum of items"),
    _R.MIN_ITEMS_INCREASED: (B, "the reader requires more items"),
    _R.MIN_ITEMS_DECREASED: (I, "the reader requires fewer items"),
    _R.MAX_CONTAINS_ADDED: (B, "the reader limits matching items"),
    _R.MAX_CONTAINS_REMOVED: (I, "the reader no longer limits matching items"),
    _R.MAX_CONTAINS_INCREASED: (I, "the reader allows more matching items"),
    _R.MAX_CONTAINS_DECREASED: (B, "the reader allows fewer matching items"),
    _R.MIN_CONTAINS_ADDED: (B, "the reader requires a minimum of matching items"),
    _R.MIN_CONTAINS_REMOVED: (I, "the reader no longer requires a minimum of matching items"),
    _R.MIN_CONTAINS_INCREASED: (B, "the reader requires more matching items"),
    _R.MIN_CONTAINS_DECREASED: (I, "the reader requires fewer matching items"),
    _R.CONTAINS_ADDED: (B, "the reader requires an item matching `contains`"),
    _R.CONTAINS_REMOVED: (I, "the reader no longer requires a matching item"),
    _R.UNIQUE_ITEMS_ADDED: (B, "the reader requires unique items"),
    _R.UNIQUE_ITEMS_REMOVED: (I, "the reader no longer requires unique items"),
    _R.ADDITIONAL_ITEMS_ADDED: (I, "the reader accepts additional items"),
    _R.ADDITIONAL_ITEMS_REMOVED: (B, "the reader rejects additional items"),
    _R.ADDITIONAL_ITEMS_EXTENDED: (I, "the reader accepts any additional item"),
    _R.ADDITIONAL_ITEMS_NARROWED: (B, "the reader constrains additional items"),
    _R.ITEM_ADDED_TO_OPEN_CONTENT_MODEL: (
        B,
        "the reader constrains a tuple position the writer leaves open",
    ),
    _R.ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL: (
        I,
        "the reader declares an unconstrained tuple position",
    ),
    _R.ITEM_ADDED_TO_CLOSED_CONTENT_MODEL: (
        I,
        "the reader declares a tuple position the writer never produces",
    ),
    _R.ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL: (
        I,
        "the reader no longer declares a tuple position; its open model accepts it",
    ),
    _R.ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL: (
        I,
        "the reader drops a tuple position the writer forbade",
    ),
    _R.ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL: (
        B,
        "the reader's closed tuple rejects a position the writer produces",
    ),
    _R.ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: (
        I,
        "the reader no longer declares a tuple position; its additional items schema accepts it",
    ),
    _R.ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: (
        B,
        "the reader no longer declares a tuple position and its additional items schema rejects it",
    ),
    _R.ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: (
        I,
        "the reader declares a tuple position the writer's additional items already covered",
    ),
    _R.ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: (
        B,
        "the reader declares a tuple position narrower than the writer's additional items",
    ),
    _R.ENUM_ARRAY_EXTENDED: (I, "the reader accepts more enum values"),
    _R.ENUM_ARRAY_NARROWED: (B, "the reader rejects enum values the writer produces"),
    _R.ENUM_ARRAY_CHANGED: (B, "the reader's enum differs from the writer's"),
    _R.ENUM_ADDED: (B, "the reader restricts values to an enum"),
    _R.ENUM_REMOVED: (I, "the reader no longer restricts values to an enum"),
    _R.COMBINED_TYPE_EXTENDED: (I, "the reader's combinator is more permissive"),
    _R.COMBINED_TYPE_CHANGED: (B, "the reader uses an incompatible combinator"),
    _R.PRODUCT_TYPE_EXTENDED: (B, "the reader's allOf has a constraint the writer lacks"),
    _R.PRODUCT_TYPE_NARROWED: (I, "the reader's allOf has fewer constraints"),
    _R.SUM_TYPE_EXTENDED: (I, "the reader accepts more alternatives"),
    _R.SUM_TYPE_NARROWED: (B, "the reader has no alternative for one of the writer's"),
    _R.NOT_TYPE_EXTENDED: (B, "the reader excludes more values"),
    _R.NOT_TYPE_NARROWED: (I, "the reader excludes fewer values"),
    _R.NOT_ADDED: (B, "the reader excludes values with `not`"),
    _R.NOT_REMOVED: (I, "the reader no longer excludes values with `not`"),
    _R.CONDITIONAL_ADDED: (B, "the reader adds an if/then/else constraint"),
    _R.CONDITIONAL_REMOVED: (I, "the reader drops an if/then/else constraint"),
    _R.CONDITION_CHANGED: (B, "the reader's `if` condition differs from the writer's"),
}


class ApiRule(StrEnum):
    """Document-level rules of API descriptions (OpenAPI, AsyncAPI), old -> new."""

    API_PATH_REMOVED_WITHOUT_DEPRECATION = "api-path-removed-without-deprecation"
    API_PATH_REMOVED_AFTER_DEPRECATION = "api-path-removed-after-deprecation"
    API_REMOVED_WITHOUT_DEPRECATION = "api-removed-without-deprecation"
    API_REMOVED_AFTER_DEPRECATION = "api-removed-after-deprecation"
    ENDPOINT_ADDED = "endpoint-added"
    ENDPOINT_DEPRECATED = "endpoint-deprecated"
    NEW_REQUIRED_REQUEST_PARAMETER = "new-required-request-parameter"
    NEW_OPTIONAL_REQUEST_PARAMETER = "new-optional-request-parameter"
    REQUEST_PARAMETER_REMOVED = "request-parameter-removed"
    REQUEST_PARAMETER_BECAME_REQUIRED = "request-parameter-became-required"
    REQUEST_PARAMETER_BECAME_OPTIONAL = "request-parameter-became-optional"
    NEW_REQUIRED_REQUEST_BODY = "new-required-request-body"
    NEW_OPTIONAL_REQUEST_BODY = "new-optional-request-body"
    REQUEST_BODY_BECAME_REQUIRED = "request-body-became-required"
    REQUEST_BODY_BECAME_OPTIONAL = "request-body-became-optional"
    REQUEST_BODY_REMOVED = "request-body-removed"
    REQUEST_BODY_MEDIA_TYPE_REMOVED = "request-body-media-type-removed"
    REQUEST_BODY_MEDIA_TYPE_ADDED = "request-body-media-type-added"
    RESPONSE_SUCCESS_STATUS_REMOVED = "response-success-status-removed"
    RESPONSE_NON_SUCCESS_STATUS_REMOVED = "response-non-success-status-removed"
    RESPONSE_STATUS_ADDED = "response-status-added"
    RESPONSE_MEDIA_TYPE_REMOVED = "response-media-type-removed"
    RESPONSE_MEDIA_TYPE_ADDED = "response-media-type-added"
    RESPONSE_REQUIRED_HEADER_REMOVED = "response-required-header-removed"
    RESPONSE_OPTIONAL_HEADER_REMOVED = "response-optional-header-removed"
    API_SECURITY_ADDED = "api-security-added"
    API_SECURITY_SCOPE_ADDED = "api-security-scope-added"
    API_SECURITY_REMOVED = "api-security-removed"
    # AsyncAPI
    CHANNEL_REMOVED = "channel-removed"
    CHANNEL_ADDED = "channel-added"
    CHANNEL_ADDRESS_CHANGED = "channel-address-changed"
    OPERATION_REMOVED = "operation-removed"
    OPERATION_ADDED = "operation-added"
    OPERATION_ACTION_CHANGED = "operation-action-changed"
    RECEIVED_MESSAGE_REMOVED = "received-message-removed"
    RECEIVED_MESSAGE_ADDED = "received-message-added"
    SENT_MESSAGE_REMOVED = "sent-message-removed"
    SENT_MESSAGE_ADDED = "sent-message-added"
    MESSAGE_CONTENT_TYPE_CHANGED = "message-content-type-changed"
    PAYLOAD_FORMAT_UNSUPPORTED = "payload-format-unsupported"
    PAYLOAD_NOT_COMPARABLE = "payload-not-comparable"


_A = ApiRule

API_RULES: dict[ApiRule, tuple[Level, str]] = {
    _A.API_PATH_REMOVED_WITHOUT_DEPRECATION: (B, "path removed without being deprecated first"),
    _A.API_PATH_REMOVED_AFTER_DEPRECATION: (W, "deprecated path removed"),
    _A.API_REMOVED_WITHOUT_DEPRECATION: (B, "operation removed without being deprecated first"),
    _A.API_REMOVED_AFTER_DEPRECATION: (W, "deprecated operation removed"),
    _A.ENDPOINT_ADDED: (I, "operation added"),
    _A.ENDPOINT_DEPRECATED: (I, "operation deprecated"),
    _A.NEW_REQUIRED_REQUEST_PARAMETER: (B, "new required request parameter"),
    _A.NEW_OPTIONAL_REQUEST_PARAMETER: (I, "new optional request parameter"),
    _A.REQUEST_PARAMETER_REMOVED: (W, "request parameter removed"),
    _A.REQUEST_PARAMETER_BECAME_REQUIRED: (B, "request parameter became required"),
    _A.REQUEST_PARAMETER_BECAME_OPTIONAL: (I, "request parameter became optional"),
    _A.NEW_REQUIRED_REQUEST_BODY: (B, "new required request body"),
    _A.NEW_OPTIONAL_REQUEST_BODY: (I, "new optional request body"),
    _A.REQUEST_BODY_BECAME_REQUIRED: (B, "request body became required"),
    _A.REQUEST_BODY_BECAME_OPTIONAL: (I, "request body became optional"),
    _A.REQUEST_BODY_REMOVED: (W, "request body removed"),
    _A.REQUEST_BODY_MEDIA_TYPE_REMOVED: (B, "request media type no longer accepted"),
    _A.REQUEST_BODY_MEDIA_TYPE_ADDED: (I, "request media type added"),
    _A.RESPONSE_SUCCESS_STATUS_REMOVED: (B, "success response status removed"),
    _A.RESPONSE_NON_SUCCESS_STATUS_REMOVED: (W, "non-success response status removed"),
    _A.RESPONSE_STATUS_ADDED: (I, "response status added"),
    _A.RESPONSE_MEDIA_TYPE_REMOVED: (B, "response media type removed"),
    _A.RESPONSE_MEDIA_TYPE_ADDED: (I, "response media type added"),
    _A.RESPONSE_REQUIRED_HEADER_REMOVED: (B, "required response header removed"),
    _A.RESPONSE_OPTIONAL_HEADER_REMOVED: (W, "optional response header removed"),
    _A.API_SECURITY_ADDED: (B, "security requirement added"),
    _A.API_SECURITY_SCOPE_ADDED: (B, "security scope added"),
    _A.API_SECURITY_REMOVED: (I, "security requirement removed"),
    _A.CHANNEL_REMOVED: (B, "channel removed"),
    _A.CHANNEL_ADDED: (I, "channel added"),
    _A.CHANNEL_ADDRESS_CHANGED: (B, "channel address changed"),
    _A.OPERATION_REMOVED: (B, "operation removed"),
    _A.OPERATION_ADDED: (I, "operation added"),
    _A.OPERATION_ACTION_CHANGED: (B, "operation switched between send and receive"),
    _A.RECEIVED_MESSAGE_REMOVED: (B, "the application no longer accepts a message"),
    _A.RECEIVED_MESSAGE_ADDED: (I, "the application accepts a new message"),
    _A.SENT_MESSAGE_REMOVED: (I, "the application no longer sends a message"),
    _A.SENT_MESSAGE_ADDED: (W, "the application sends a message existing consumers may not know"),
    _A.MESSAGE_CONTENT_TYPE_CHANGED: (B, "message content type changed"),
    _A.PAYLOAD_FORMAT_UNSUPPORTED: (W, "payload schema format not judged (not JSON Schema)"),
    _A.PAYLOAD_NOT_COMPARABLE: (W, "message not judged (a reference outside the document)"),
}

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
