"""Errors of the contracts package: one base, each condition with a stable machine-readable code.

Compatibility checks never raise for an incompatible change (that is a result); these are for
input that cannot be judged at all: unreadable files, invalid documents, bad configuration.
"""

from __future__ import annotations


class ContractError(Exception):
    """Base of every error the contracts package raises on purpose."""

    code = "contract-error"

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message


class UnreadableDocument(ContractError):
    """The text is neither JSON nor YAML, or the file cannot be read."""

    code = "unreadable-document"


class InvalidDocument(ContractError):
    """The document parses but is not a valid document of its format."""

    code = "invalid-document"


class UnsupportedFormat(ContractError):
    """The format or format version is not one the engine judges."""

    code = "unsupported-format"


class UnresolvableReference(ContractError):
    """A `$ref` points nowhere inside the document."""

    code = "unresolvable-reference"


class InvalidConfig(ContractError):
    """The CLI configuration file (levels, waivers) is malformed."""

    code = "invalid-config"


class RegistryError(ContractError):
    """The registry service could not be reached or answered with an error."""

    code = "registry-error"
