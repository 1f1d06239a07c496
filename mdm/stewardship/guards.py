"""What every steward action starts with: the caller's precondition (the version the steward
saw), row locks on the golden records it changes, the checks that they are still active, a
reason, and how stewardship names records (golden ids, ``sr:<id>`` source-record keys,
(system, source id) keys).
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mdm.db import sqlite_write_lock
from mdm.errors import MergedAway, NotFound, PreconditionFailed, ValidationFailed, WrongState
from mdm.records.models import ACTIVE, MERGED, GoldenRecord, SourceRecord
from mdm.sources.models import SourceSystem

SR_PREFIX = "sr:"
GOLDEN_KIND, SOURCE_RECORD_KIND = "golden", "source_record"


@dataclass(frozen=True)
class Precondition:
    """The ETags a client sent in If-Match (``*`` matches any current version)."""

    etags: frozenset[str] = frozenset()
    any: bool = False

    def matches(self, etag: str) -> bool:
        return self.any or etag in self.etags

    @classmethod
    def version(cls, version: int) -> Precondition:
        return cls(frozenset({str(version)}))


def golden_etag(golden: GoldenRecord) -> str:
    return str(golden.version)


def check(pre: Precondition | None, etag: str, what: str) -> None:
    if pre is not None and not pre.matches(etag):
        raise PreconditionFailed(
            f"{what} has changed since you read it (now \"{etag}\"); read it again and retry.")


def lock_goldens(session: Session, ids: Iterable[str]) -> dict[str, GoldenRecord]:
    """Load golden records for update, in id order (so two lockers never deadlock)."""
    wanted = sorted(set(ids))
    sqlite_write_lock(session)
    rows = session.scalars(
        select(GoldenRecord).where(GoldenRecord.id.in_(wanted)).order_by(GoldenRecord.id)
        .with_for_update().execution_options(populate_existing=True)
    )
    found = {g.id: g for g in rows}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound(f"No golden record '{missing[0]}'")
    return found


def lock_one(session: Session, golden_id: str) -> GoldenRecord:
    return lock_goldens(session, [golden_id])[golden_id]


def ensure_active(golden: GoldenRecord) -> None:
    if golden.status == MERGED:
        raise MergedAway(f"Golden record '{golden.id}' was merged into '{golden.merged_into}'; "
                         "act on that record instead.", merged_into=golden.merged_into)
    if golden.status != ACTIVE:
        raise WrongState(f"Golden record '{golden.id}' is {golden.status}.")


def required_reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise ValidationFailed("A reason is required.", errors={"reason": ["Say why."]})
    return reason.strip()


def group_key(golden_ids: Iterable[str]) -> str:
    return hashlib.sha256(",".join(sorted(set(golden_ids))).encode()).hexdigest()


def source_record_ids_for(session: Session, domain: str,
                          keys: list[tuple[str, str]]) -> list[int]:
    """Source record ids of (source system, source id) keys; 404 for an unknown key."""
    out = []
    for code, sid in keys:
        rid = session.scalar(
            select(SourceRecord.id)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_system_id)
            .where(SourceRecord.domain == domain, SourceSystem.code == code,
                   SourceRecord.source_id == sid))
        if rid is None:
            raise NotFound(f"No {domain} record '{sid}' from '{code}'")
        out.append(rid)
    return out
