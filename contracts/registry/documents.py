"""Contract documents as the registry stores, fingerprints and judges them (references too)."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from contracts.compatibility.loader import Contract, load_contract, parse_text
from contracts.registry import references
from contracts.registry.errors import (
    InvalidSchema,
)
from contracts.registry.models import (
    ContractVersion,
)
from contracts.registry.references import Reference


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):  # YAML reads unquoted dates as dates
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def normalize_document(content: Any) -> Any:
    """Text (JSON or YAML) or parsed data -> plain JSON data, as stored and fingerprinted."""
    document = parse_text(content) if isinstance(content, str | bytes) else content
    try:
        return json.loads(json.dumps(document, default=_jsonable, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidSchema(f"the document cannot be represented as JSON: {exc}") from exc


_CONTRACTS: OrderedDict[tuple[str, str], Contract] = OrderedDict()


_CONTRACT_CACHE_SIZE = 64


def contract_of(version: ContractVersion) -> Contract:
    """Stored documents were validated on the way in; cache them parsed by fingerprint (which
    covers the references too). A version with references is read bundled with them."""
    key = (version.fingerprint, version.subject.format)
    contract = _CONTRACTS.get(key)
    if contract is None:
        document = references.bundle(version.document, references.of_version(version))
        contract = load_contract(document, version.subject.format, source=version.version)
        _CONTRACTS[key] = contract
        if len(_CONTRACTS) > _CONTRACT_CACHE_SIZE:
            _CONTRACTS.popitem(last=False)
    else:
        _CONTRACTS.move_to_end(key)
    return contract


@dataclass(frozen=True)
class Candidate:
    document: Any
    contract: Contract
    fingerprint: str
    references: tuple[Reference, ...] = ()


def load_candidate(content: Any, fmt: str, refs: Sequence[Reference] = ()) -> Candidate:
    """A document as it would be stored, and its contract as the engine reads it (bundled
    with its references); the fingerprint covers both."""
    if content is None:
        raise InvalidSchema("the contract document is missing", errors={"content": ["Required."]})
    document = normalize_document(content)
    contract = load_contract(references.bundle(document, refs), fmt, source="candidate")
    return Candidate(document, contract, references.digest(document, refs), tuple(refs))
