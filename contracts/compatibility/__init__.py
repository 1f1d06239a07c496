"""The pure compatibility engine: JSON Schema, OpenAPI and AsyncAPI; dataclasses in and out."""

from contracts.compatibility.changelog import changelog_json, changelog_markdown
from contracts.compatibility.loader import Contract, detect_format, load_contract, parse_text
from contracts.compatibility.modes import check_compatibility, diff_contracts
from contracts.compatibility.result import (
    Change,
    CompatibilityResult,
    Direction,
    Format,
    Level,
    Mode,
)
from contracts.compatibility.rules import API_RULES, SCHEMA_RULES, ApiRule, SchemaRule

__all__ = [
    "API_RULES",
    "ApiRule",
    "Change",
    "CompatibilityResult",
    "Contract",
    "Direction",
    "Format",
    "Level",
    "Mode",
    "SCHEMA_RULES",
    "SchemaRule",
    "changelog_json",
    "changelog_markdown",
    "check_compatibility",
    "detect_format",
    "diff_contracts",
    "load_contract",
    "parse_text",
]
