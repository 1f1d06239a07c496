"""Confluent schema references: a JSON Schema `$ref`s another subject's version by a name.

A version with references is judged (compared, validated) as one self-contained document: the
schemas it references, transitively, are embedded under `REFERENCES_KEY` and each `$ref` to a
reference name becomes a JSON pointer into that embedding. The stored document stays exactly
as registered; only what the engine and validators read is bundled.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.registry.errors import InvalidSchema, ReferenceExists
from contracts.registry.models import ContractVersion, SchemaReference, Subject

# An extension keyword: JSON Schema validators and the comparator ignore it as a keyword, and
# JSON pointers reach into it.
REFERENCES_KEY = "x-schema-references"
# Keywords whose values are data, not schemas: a `$ref` key in there is not a reference.
_DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples", "example"})


@dataclass(frozen=True)
class Reference:
    """One resolved reference: `$ref`s to `name` mean the document of `target`."""

    name: str
    target: ContractVersion

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "subject": self.target.subject.name,
            "version": self.target.number,
        }


def of_version(version: ContractVersion) -> tuple[Reference, ...]:
    return tuple(Reference(r.name, r.target) for r in version.references)


def parse(session: Session, raw: Any, fmt: str) -> tuple[Reference, ...]:
    """Confluent's `references` ([{name, subject, version}]) -> live versions of `fmt`
    subjects. Version -1 means the subject's latest version. Raises InvalidSchema (42201, as
    Confluent answers a reference it cannot resolve)."""
    if raw in (None, []):
        return ()
    if not isinstance(raw, list):
        raise InvalidSchema("'references' must be a list of {name, subject, version}.")
    found: list[Reference] = []
    for item in raw:
        if not isinstance(item, dict):
            raise InvalidSchema("Each reference must be an object {name, subject, version}.")
        name, subject, number = item.get("name"), item.get("subject"), item.get("version")
        if not isinstance(name, str) or not name or not isinstance(subject, str):
            raise InvalidSchema("A reference needs a non-empty 'name' and a 'subject'.")
        if isinstance(number, bool) or not isinstance(number, int):
            raise InvalidSchema(f"Reference '{name}': 'version' must be an integer.")
        if any(r.name == name for r in found):
            raise InvalidSchema(f"Reference name '{name}' is given twice.")
        found.append(Reference(name, _target(session, name, subject, number, fmt)))
    return tuple(found)


def _target(session: Session, name: str, subject: str, number: int, fmt: str) -> ContractVersion:
    owner = session.scalar(select(Subject).where(Subject.name == subject))
    query = select(ContractVersion).where(ContractVersion.deleted_at.is_(None))
    if owner is not None:
        query = query.where(ContractVersion.subject_id == owner.id)
        if number == -1:
            query = query.order_by(ContractVersion.number.desc()).limit(1)
        else:
            query = query.where(ContractVersion.number == number)
    version = session.scalar(query) if owner is not None else None
    if version is None or owner is None:
        raise InvalidSchema(
            f"Invalid schema: reference '{name}' to subject '{subject}' version {number} "
            "does not exist."
        )
    if owner.format != fmt:
        raise InvalidSchema(
            f"Reference '{name}': subject '{subject}' holds {owner.format}, not {fmt}."
        )
    return version


def digest(document: Any, references: Sequence[Reference]) -> str:
    """The fingerprint of a document with its references (a schema is both): without
    references, that of the document alone, as versions registered before references were."""
    body: Any = document
    if references:
        body = {
            "schema": document,
            "references": [[r.name, r.target.subject.name, r.target.number] for r in references],
        }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def bundle(document: Any, references: Sequence[Reference]) -> Any:
    """One self-contained document: every referenced schema (transitively) embedded under
    `REFERENCES_KEY`, `$ref`s to reference names rewritten as pointers into it."""
    if not references or not isinstance(document, dict):
        return document
    embedded: dict[str, Any] = {}
    slots: dict[int, str] = {}

    def slot_of(version: ContractVersion) -> str:
        slot = slots.get(version.id)
        if slot is None:
            slot = slots[version.id] = str(len(slots))
            names = {r.name: slot_of(r.target) for r in version.references}
            body = version.document
            base = body.get("$id", "") if isinstance(body, dict) else ""
            if isinstance(body, dict):  # an embedded resource must not move the base URI
                body = {k: v for k, v in body.items() if k not in ("$id", "$schema")}
            embedded[slot] = _rewrite(body, _Names(names, base), f"#/{REFERENCES_KEY}/{slot}")
        return slot

    names = {r.name: slot_of(r.target) for r in references}
    root = _rewrite(document, _Names(names, document.get("$id", "")), "#")
    return {**root, REFERENCES_KEY: embedded}


class _Names:
    """Reference names as a document's `$ref`s may write them: exactly, or resolved against
    the document's `$id` (a name that is a URL next to the referencing schema's own)."""

    def __init__(self, slots: dict[str, str], base: str) -> None:
        self.slots = dict(slots)
        if isinstance(base, str) and base:
            for name, slot in slots.items():
                self.slots.setdefault(urljoin(base, name), slot)
        self.base = base if isinstance(base, str) else ""

    def slot(self, uri: str) -> str | None:
        found = self.slots.get(uri)
        if found is None and self.base:
            found = self.slots.get(urljoin(self.base, uri))
        return found


def _rewrite(node: Any, names: _Names, here: str) -> Any:
    if isinstance(node, list):
        return [_rewrite(item, names, here) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = _pointer_for(value, names, here)
        elif key in _DATA_KEYWORDS:
            out[key] = value
        else:
            out[key] = _rewrite(value, names, here)
    return out


def _pointer_for(ref: str, names: _Names, here: str) -> str:
    if ref.startswith("#"):
        return ref if here == "#" else here + ref[1:]
    base, _, fragment = ref.partition("#")
    slot = names.slot(base)
    if slot is None or (fragment and not fragment.startswith("/")):
        return ref  # not a reference name (or an anchor in one): left to fail as unresolvable
    return f"#/{REFERENCES_KEY}/{slot}{fragment}"


def referrers(
    session: Session, version: ContractVersion, *, live: bool = True
) -> list[ContractVersion]:
    """Versions whose references point at `version` (only not soft-deleted ones with `live`)."""
    query = (
        select(ContractVersion)
        .join(SchemaReference, SchemaReference.version_id == ContractVersion.id)
        .where(SchemaReference.target_id == version.id)
    )
    if live:
        query = query.where(ContractVersion.deleted_at.is_(None))
    return sorted(set(session.scalars(query)), key=lambda v: (v.schema_id, v.id))


def refuse_if_referenced(
    session: Session, versions: Sequence[ContractVersion], *, permanent: bool
) -> None:
    """Confluent refuses to delete a version other schemas reference (42206). A soft delete is
    refused while a live version references it; a permanent one while any version does (even
    a soft-deleted one, which could be brought back by nobody but would dangle)."""
    deleting = {v.id for v in versions}
    for version in versions:
        holders = [
            v for v in referrers(session, version, live=not permanent) if v.id not in deleting
        ]
        if holders:
            raise ReferenceExists(
                f"One or more references exist to the schema {{magic=1,keytype=SCHEMA,"
                f"subject={version.subject.name},version={version.number}}}: referenced by "
                + ", ".join(f"{v.subject.name} version {v.number}" for v in holders)
                + "."
            )


__all__ = [
    "REFERENCES_KEY",
    "Reference",
    "bundle",
    "digest",
    "of_version",
    "parse",
    "referrers",
    "refuse_if_referenced",
]
