"""Reading golden and source records: by id, as of a time, history, search with cursors."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from mdm.domains.registry import DomainRegistry
from mdm.errors import NotFound, ValidationFailed
from mdm.records import history as history_store
from mdm.records.golden import fold, snapshot
from mdm.records.models import GoldenRecord, GoldenVersion, QualityIssue, SourceRecord
from mdm.sources.models import SourceSystem


def get_golden(session: Session, golden_id: str) -> GoldenRecord:
    golden = session.get(GoldenRecord, golden_id)
    if golden is None:
        raise NotFound(f"No golden record '{golden_id}'")
    return golden


def survivor_ids(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """Each golden id mapped to the id that stands for it now, following ``merged_into``.

    The one walk of the merge chain: one query per chain depth (500 ids per statement),
    whatever the number of ids. An id the hub does not know maps to itself; a broken,
    cyclic chain stops where it would repeat instead of looping forever.
    """
    ids = list(ids)
    parent: dict[str, str | None] = {}
    frontier = set(ids)
    while frontier:
        chunk = sorted(frontier)
        frontier = set()
        for i in range(0, len(chunk), 500):
            for gid, into in session.execute(
                select(GoldenRecord.id, GoldenRecord.merged_into)
                .where(GoldenRecord.id.in_(chunk[i : i + 500]))
            ).all():
                parent[gid] = into
                if into and into not in parent:
                    frontier.add(into)
    out: dict[str, str] = {}
    for gid in ids:
        cur, seen = gid, {gid}
        while (nxt := parent.get(cur)) and nxt not in seen:
            seen.add(nxt)
            cur = nxt
        out[gid] = cur
    return out


def survivor_of(session: Session, golden: GoldenRecord) -> GoldenRecord:
    """The record that now stands for this one (itself unless it was merged away)."""
    if not golden.merged_into:
        return golden
    return session.get(GoldenRecord, survivor_ids(session, [golden.id])[golden.id]) or golden


def version_as_of(session: Session, golden_id: str, at: datetime) -> GoldenVersion:
    get_golden(session, golden_id)
    version = session.scalar(
        select(GoldenVersion)
        .where(GoldenVersion.golden_id == golden_id, GoldenVersion.valid_from <= at)
        .order_by(GoldenVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise NotFound(f"Golden record '{golden_id}' did not exist at {at.isoformat()}")
    return history_store.complete(session, [version])[0]


def history(session: Session, golden_id: str) -> list[GoldenVersion]:
    get_golden(session, golden_id)
    return history_store.complete(session, list(
        session.scalars(
            select(GoldenVersion)
            .where(GoldenVersion.golden_id == golden_id)
            .order_by(GoldenVersion.version)
        )
    ))


def version_snapshot(v: GoldenVersion, domain: str) -> dict[str, Any]:
    return {
        "id": v.golden_id,
        "domain": domain,
        "version": v.version,
        "status": v.status,
        "merged_into": v.merged_into,
        "attributes": v.attributes,
        "provenance": v.provenance,
        "valid_from": v.valid_from.isoformat(),
        "action": v.action,
        "actor": v.actor,
        "reason": v.reason,
        "request_id": v.request_id,
    }


def source_records_of(session: Session, golden_id: str) -> list[tuple[SourceRecord, str]]:
    get_golden(session, golden_id)
    return list(
        session.execute(
            select(SourceRecord, SourceSystem.code)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_system_id)
            .where(SourceRecord.golden_id == golden_id)
            .order_by(SourceSystem.code, SourceRecord.source_id)
        )
    )


def get_source_record(
    session: Session, registry: DomainRegistry, domain: str, system: str, source_id: str
) -> tuple[SourceRecord, list[QualityIssue]]:
    registry.get(domain)
    sr = session.scalar(
        select(SourceRecord)
        .join(SourceSystem, SourceSystem.id == SourceRecord.source_system_id)
        .where(
            SourceRecord.domain == domain,
            SourceSystem.code == system,
            SourceRecord.source_id == source_id,
        )
    )
    if sr is None:
        raise NotFound(f"No {domain} record '{source_id}' from '{system}'")
    issues = list(
        session.scalars(select(QualityIssue).where(QualityIssue.source_record_id == sr.id))
    )
    return sr, issues


_CURSOR_MARK = "c1:"  # tells a cursor this API wrote from any other base64 text


def encode_cursor(value: str | int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_MARK}{value}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    if not text.startswith(_CURSOR_MARK) or len(text) > 300 or "\x00" in text:
        raise ValidationFailed(
            "Bad cursor", errors={"cursor": ["Not a cursor from this API."]}
        ) from None
    return text[len(_CURSOR_MARK):]


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def search_golden(
    session: Session,
    registry: DomainRegistry,
    domain: str,
    *,
    status: str | None = None,
    quality_status: str | None = None,
    q: str | None = None,
    attr: list[str] | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    definition = registry.get(domain)
    conds: list[ColumnElement[bool]] = [GoldenRecord.domain == domain]
    if status:
        conds.append(GoldenRecord.status == status)
    if quality_status:
        conds.append(GoldenRecord.quality_status == quality_status)
    if q:
        conds.append(GoldenRecord.search_name.like(f"%{_escape_like(fold(q))}%", escape="\\"))
    for spec in attr or []:
        name, sep, value = spec.partition(":")
        attribute = definition.attribute(name)
        if not sep or attribute is None:
            raise ValidationFailed(
                "Bad attribute filter",
                errors={"attr": [f"'{spec}': expected name:value with a {domain} attribute."]},
            )
        col = GoldenRecord.attributes[name]
        if attribute.type == "integer":
            try:
                conds.append(col.as_integer() == int(value))
            except ValueError:
                raise ValidationFailed(
                    "Bad attribute filter", errors={"attr": [f"'{spec}': not an integer."]}
                ) from None
        elif attribute.type == "boolean":
            conds.append(col.as_boolean() == (value.lower() in ("true", "1", "yes")))
        else:
            conds.append(col.as_string() == value)
    after = decode_cursor(cursor)
    if after:
        conds.append(GoldenRecord.id > after)
    rows = list(
        session.scalars(
            select(GoldenRecord).where(*conds).order_by(GoldenRecord.id).limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([snapshot(g) for g in rows], encode_cursor(rows[-1].id) if more and rows else None)


def list_quality_issues(
    session: Session,
    registry: DomainRegistry,
    domain: str,
    *,
    rule: str | None = None,
    severity: str | None = None,
    golden_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    registry.get(domain)
    conds: list[ColumnElement[bool]] = [QualityIssue.domain == domain]
    if rule:
        conds.append(QualityIssue.rule == rule)
    if severity:
        conds.append(QualityIssue.severity == severity)
    if golden_id:
        conds.append(QualityIssue.golden_id == golden_id)
    after = decode_cursor(cursor)
    if after:
        try:
            conds.append(QualityIssue.id > int(after))
        except ValueError:
            raise ValidationFailed(
                "Bad cursor", errors={"cursor": ["Not a cursor from this API."]}
            ) from None
    rows = list(
        session.execute(
            select(QualityIssue, SourceRecord.source_id, SourceSystem.code)
            .join(SourceRecord, SourceRecord.id == QualityIssue.source_record_id)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_system_id)
            .where(*conds)
            .order_by(QualityIssue.id)
            .limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        {
            "id": qi.id,
            "golden_id": qi.golden_id,
            "source_system": code,
            "source_id": sid,
            "attribute": qi.attribute,
            "rule": qi.rule,
            "severity": qi.severity,
            "message": qi.message,
            "created_at": qi.created_at.isoformat(),
        }
        for qi, sid, code in rows
    ]
    return Page(items, encode_cursor(rows[-1][0].id) if more and rows else None)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
