"""Ingestion: upserting source records and keeping their golden records current.

One call is one transaction: every accepted record, its quality findings, the golden
records it touches, their history, change events and audit entries commit together. A
malformed record is rejected with its field errors and does not stop the others.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from mdm.audit.service import audit_row
from mdm.context import RequestContext
from mdm.db import bulk_insert, new_id, sqlite_write_lock, utcnow
from mdm.domains.registry import DomainRegistry
from mdm.domains.validators import Finding
from mdm.records import golden as gold
from mdm.records.conflicts import run_retrying
from mdm.records.linking import LinkDecision, NewGoldenLinker, PendingRecord, linker_for
from mdm.records.models import (
    ACTIVE,
    GoldenRecord,
    QualityIssue,
    SourceRecord,
)
from mdm.records.survivorship import SourceView
from mdm.redaction import redact_each
from mdm.sources import service as sources
from mdm.web.observability import RECORDS_INGESTED

CREATED, UPDATED, UNCHANGED, REJECTED = "created", "updated", "unchanged", "rejected"
DEACTIVATED, REACTIVATED = "deactivated", "reactivated"


@dataclass
class IngestItem:
    source_id: Any
    attributes: Any
    active: bool = True
    line: int | None = None  # for file loads: where the record came from


@dataclass
class IngestResult:
    source_id: str | None
    status: str
    golden_id: str | None = None
    errors: dict[str, Any] = field(default_factory=dict)
    quality: list[dict[str, str]] = field(default_factory=list)
    line: int | None = None
    # A new record that matching put into an existing golden record or beside another
    # new record of the same call (not part of the API answer: load summaries count it).
    joined: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source_id": self.source_id,
            "status": self.status,
            "golden_id": self.golden_id,
        }
        if self.errors:
            out["errors"] = self.errors
        if self.quality:
            out["quality"] = self.quality
        if self.line is not None:
            out["line"] = self.line
        return out


def content_hash(attributes: dict[str, Any], active: bool) -> str:
    """SHA-256 of the record's canonical JSON (sorted keys, ASCII escapes): stored, so the
    text must never change. Attributes of plain types (text, integers, flags) are encoded
    by orjson and escaped as json.dumps would; anything else by json.dumps itself."""
    raw = None
    if all(type(v) in _PLAIN for v in attributes.values()):
        try:
            raw = orjson.dumps([attributes, active], option=orjson.OPT_SORT_KEYS).decode()
        except orjson.JSONEncodeError:  # integers beyond 64 bits, lone surrogates
            raw = None
        else:
            raw = _NOT_PRINTABLE_ASCII.sub(_json_escape, raw)
    if raw is None:
        raw = json.dumps([attributes, active], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


_PLAIN = frozenset((str, int, bool, type(None)))
# what json.dumps (ensure_ascii) escapes that orjson writes as it is
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x00-\x7e]")


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


def _source_id(value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, bool) or value is None:
        return None, "Missing data for required field." if value is None else "Not a valid id."
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return None, "Not a valid string."
    value = value.strip()
    if not value:
        return None, "Must not be empty."
    if len(value) > 200:
        return None, "Longer than 200 characters."
    return value, None


def _finding_dicts(findings: list[Finding]) -> list[dict[str, str]]:
    return [
        {"attribute": f.attribute, "rule": f.rule, "severity": f.severity, "message": f.message}
        for f in findings
    ]


def ingest(
    session: Session,
    registry: DomainRegistry,
    domain: str,
    system_code: str,
    items: list[IngestItem],
    ctx: RequestContext,
    *,
    from_text: bool = False,
    defer_matching: bool = False,
) -> list[IngestResult]:
    """Upsert ``items`` from one source system in one transaction; one result per item.

    A request that loses a race to a concurrent one (both created the same source key,
    or updated the same golden record) is run again as a whole: it then finds what the
    winner committed, so each of its records is answered ``unchanged``/``updated``
    instead of the whole request failing.

    ``defer_matching`` gives every new record a golden record of its own without asking
    the domain's matcher (a large first load is matched afterwards in batch).
    """
    with collector_paused():
        return run_retrying(
            session,
            lambda: _ingest_once(
                session, registry, domain, system_code, items, ctx, from_text=from_text,
                defer_matching=defer_matching,
            ),
            what=f"ingest {domain}/{system_code}",
        )


_paused_lock = threading.Lock()
_paused = 0  # callers inside collector_paused (threads of one server process)
_resume = True  # whether the collector was on when the first of them came in


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a chunk is written, on again after.

    A chunk allocates a few hundred objects per record and frees almost all of them by
    reference counting; meanwhile the collector's full passes walk every live object (the
    app, the session, the chunk) again and again: about a third of the chunk's CPU time.
    Threads pause it together: it is switched on when the last one leaves.
    """
    global _paused, _resume
    with _paused_lock:
        if _paused == 0:
            _resume = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused -= 1
            if _paused == 0 and _resume:
                gc.enable()


def _ingest_once(
    session: Session,
    registry: DomainRegistry,
    domain: str,
    system_code: str,
    items: list[IngestItem],
    ctx: RequestContext,
    *,
    from_text: bool = False,
    defer_matching: bool = False,
) -> list[IngestResult]:
    definition = registry.get(domain)
    system = sources.get_by_code(session, system_code)
    now = utcnow()
    results: list[IngestResult] = [IngestResult(None, REJECTED, line=i.line) for i in items]
    accepted: list[tuple[int, str, dict[str, Any], bool, list[Finding]]] = []
    seen: set[str] = set()

    for pos, item in enumerate(items):
        sid, sid_error = _source_id(item.source_id)
        values, errors = definition.parse_attributes(
            item.attributes if item.active else (item.attributes or {}),
            from_text=from_text,
            partial=not item.active,
        )
        res = results[pos]
        res.source_id = sid
        if sid_error:
            errors = {"source_id": [sid_error], **errors}
        elif sid in seen:
            errors = {"source_id": ["Sent twice in the same request."], **errors}
        if errors:
            res.errors = errors
            continue
        assert sid is not None
        seen.add(sid)
        findings = definition.quality_findings(values) if item.active else []
        accepted.append((pos, sid, values, bool(item.active), findings))

    sqlite_write_lock(session)  # PostgreSQL: key locks and run_retrying instead
    existing: dict[str, SourceRecord] = {}
    ids = [a[1] for a in accepted]
    for i in range(0, len(ids), 500):
        for row in session.scalars(
            select(SourceRecord).where(
                SourceRecord.domain == domain,
                SourceRecord.source_system_id == system.id,
                SourceRecord.source_id.in_(ids[i : i + 500]),
            )
        ):
            existing[row.source_id] = row
    digests = lock_changing_records(session, existing, accepted)

    pending_new: list[PendingRecord] = []
    new_meta: list[tuple[int, dict[str, Any], list[Finding]]] = []
    changed: list[tuple[int, SourceRecord, dict[str, Any] | None, list[Finding]]] = []
    for pos, sid, values, active, findings in accepted:
        res = results[pos]
        res.quality = _finding_dicts(findings)
        sr = existing.get(sid)
        if sr is None:
            if not active:
                res.status = REJECTED
                res.errors = {"source_id": ["No such record to deactivate."]}
                continue
            pending_new.append(PendingRecord(len(pending_new), system.code, sid, values))
            new_meta.append((pos, values, findings))
            continue
        digest = digests[sid] if active else content_hash(sr.attributes, active)
        res.golden_id = sr.golden_id
        if digest == sr.content_hash:
            res.status = UNCHANGED
            continue
        before = {"attributes": sr.attributes, "active": sr.active, "golden_id": sr.golden_id}
        if active:
            res.status = REACTIVATED if not sr.active else UPDATED
            sr.attributes = values
        else:
            res.status = DEACTIVATED
            findings = []
            res.quality = []
        sr.active = active
        sr.content_hash = digest
        sr.version += 1
        sr.updated_at = now
        sr.quality_status = gold.quality_status(f.severity for f in findings)
        changed.append((pos, sr, before, findings))

    pending = gold.Pending()
    touched: set[str] = set()

    # New records: ask the linker where each one goes.
    linker = NewGoldenLinker() if defer_matching else linker_for(definition)
    decisions = linker.link(session, definition, pending_new, ctx) if pending_new else []
    new_golden_of: list[str] = []
    fresh: dict[str, list[SourceView]] = {}  # new golden id -> its (new) source records
    findings_of: dict[str, list[Finding]] = {}
    new_rows: list[dict[str, Any]] = []
    for rec, decision, (pos, values, findings) in zip(
        pending_new, decisions, new_meta, strict=True
    ):
        gid = _resolve_target(decision, new_golden_of)
        if gid is None:
            gid = new_id()
            fresh[gid] = []
        elif gid not in fresh:
            touched.add(gid)
        new_golden_of.append(gid)
        invalid = frozenset(f.attribute for f in findings if f.severity == "error")
        if gid in fresh:
            fresh[gid].append(SourceView(None, system.code, rec.source_id, values, now, invalid))
            findings_of[gid] = findings
        new_rows.append(
            {
                "domain": domain,
                "source_system_id": system.id,
                "source_id": rec.source_id,
                "golden_id": gid,
                "attributes": values,
                "content_hash": content_hash(values, True),
                "active": True,
                "quality_status": gold.quality_status(f.severity for f in findings),
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        results[pos].status = CREATED
        results[pos].golden_id = gid
        results[pos].joined = decision.golden_id is not None or decision.same_as is not None

    # New golden records made only of new source records are computed in memory and
    # inserted in bulk, complete, before their source records (foreign key order).
    golden_rows = []
    for gid, views in fresh.items():
        # A plain namespace, not an ORM object: it is inserted in bulk below, and ORM
        # instrumentation costs more than the rest of the row's work.
        # cast: record_version and the bulk insert read only the attributes set here.
        g = cast(GoldenRecord, SimpleNamespace(
            id=gid,
            domain=domain,
            status=ACTIVE,
            version=1,
            overrides={},
            created_at=now,
            updated_at=now,
            merged_into=None,
        ))
        # A golden record of one source record holds exactly its values, so the source's
        # quality findings are the golden's: no need to run the rules twice.
        known = findings_of[gid] if len(views) == 1 else None
        g.attributes, g.provenance, g.quality_status = gold.compute(
            definition, views, findings=known
        )
        g.search_name = gold.fold(str(g.attributes.get(definition.display, "")))
        golden_rows.append({c: getattr(g, c) for c in _GOLDEN_COLUMNS})
        gold.record_version(
            pending, ctx, g, action="golden.create", event_type="created", before=None, at=now
        )
    session.flush()
    if golden_rows:
        bulk_insert(session, GoldenRecord.__table__, golden_rows)
    new_ids: list[int] = []
    if new_rows:
        bulk_insert(session, SourceRecord.__table__, new_rows)
        new_ids = _ids_of(session, domain, system.id, [r["source_id"] for r in new_rows])

    # Quality findings replace the previous ones of each written source record.
    stale_ids = [sr.id for _, sr, _, _ in changed]
    for i in range(0, len(stale_ids), 500):
        session.query(QualityIssue).filter(
            QualityIssue.source_record_id.in_(stale_ids[i : i + 500])
        ).delete(synchronize_session=False)
    written: list[
        tuple[int, int, str, str, dict[str, Any], bool, dict[str, Any] | None, list[Finding]]
    ] = [
        (pos, sr.id, sr.source_id, sr.golden_id, sr.attributes, sr.active, before, findings)
        for pos, sr, before, findings in changed
    ]
    written += [
        (pos, rid, row["source_id"], row["golden_id"], row["attributes"], True, None, findings)
        for (pos, _, findings), rid, row in zip(new_meta, new_ids, new_rows, strict=True)
    ]
    issue_rows = [
        {
            "domain": domain,
            "source_record_id": rid,
            "golden_id": gid,
            "attribute": f.attribute,
            "rule": f.rule,
            "severity": f.severity,
            "message": f.message,
            "created_at": now,
        }
        for _, rid, _, gid, _, _, _, findings in written
        for f in findings
    ]
    if issue_rows:
        bulk_insert(session, QualityIssue.__table__, issue_rows)
    # Redacted all at once: a chunk with nothing secret-looking is checked in one pass.
    states = redact_each(
        [
            [before, {"attributes": attrs, "active": active, "golden_id": gid}]
            for _, _, _, gid, attrs, active, before, _ in written
        ]
    )
    for (pos, _, sid, _, _, _, _, _), (before, after) in zip(written, states, strict=True):
        pending.audits.append(
            audit_row(
                ctx,
                f"source_record.{results[pos].status}",
                "source_record",
                f"{domain}/{system.code}/{sid}",
                domain=domain,
                before=before,
                after=after,
                at=now,
                redacted=True,
            )
        )
    touched.update(sr.golden_id for _, sr, _, _ in changed)

    # Existing golden records that gained, changed or lost a source record: reload and recompute.
    if touched:
        # Locked first, then read: a concurrent writer of the same golden record finishes
        # before we read its source records, so survivorship sees both writes.
        locked = lock_golden_records(session, touched)
        views_by_golden = gold.source_views(session, touched)
        for g in locked:
            gold.refresh(
                session,
                pending,
                ctx,
                definition,
                g,
                views_by_golden.get(g.id, []),
                action="golden.recompute",
            )

    pending.write(session)
    if pending_new:
        linker.after_link(session, definition, pending_new, decisions, new_golden_of, new_ids, ctx)
    session.commit()
    for status, count in Counter(res.status for res in results).items():
        RECORDS_INGESTED.labels(domain, status).inc(count)
    return results




def lock_changing_records(
    session: Session,
    existing: dict[str, SourceRecord],
    accepted: list[tuple[int, str, dict[str, Any], bool, list[Finding]]],
) -> dict[str, str]:
    """Content hashes of the sent values of existing records (source id -> hash), after
    locking, on PostgreSQL, the records they would change and reading those again.

    Read before a concurrent writer of the same record committed, a record would be
    compared with its old content: two clients sending the same update would both answer
    ``updated``. Locked (in id order, so two callers never deadlock) and read again, the
    second finds the first one's content and answers ``unchanged``. A record that looks
    unchanged is not locked: answering so is what running before the other writer gives.
    """
    digests: dict[str, str] = {}
    changing: list[int] = []
    for _, sid, values, active, _ in accepted:
        sr = existing.get(sid)
        if sr is None:
            continue
        if active:
            digests[sid] = content_hash(values, True)
        if not active or digests[sid] != sr.content_hash:
            changing.append(sr.id)
    if changing and session.get_bind().dialect.name == "postgresql":
        changing.sort()
        for i in range(0, len(changing), 500):
            session.execute(
                select(SourceRecord)
                .where(SourceRecord.id.in_(changing[i : i + 500]))
                .order_by(SourceRecord.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).all()
    return digests


def lock_golden_records(session: Session, golden_ids: set[str]) -> list[GoldenRecord]:
    """Golden records about to be recomputed, locked in id order (no two writers deadlock
    on them) and read as committed now (the identity map's copy may be older)."""
    ids = sorted(golden_ids)
    out: list[GoldenRecord] = []
    for i in range(0, len(ids), 500):
        out.extend(
            session.scalars(
                select(GoldenRecord)
                .where(GoldenRecord.id.in_(ids[i : i + 500]))
                .order_by(GoldenRecord.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )
    return out


_GOLDEN_COLUMNS = (
    "id",
    "domain",
    "status",
    "merged_into",
    "version",
    "attributes",
    "provenance",
    "quality_status",
    "overrides",
    "search_name",
    "created_at",
    "updated_at",
)


def _ids_of(session: Session, domain: str, system_id: int, source_ids: list[str]) -> list[int]:
    """Ids of freshly inserted source records, in the order of ``source_ids``."""
    found: dict[str, int] = {}
    for i in range(0, len(source_ids), 500):
        found.update(
            session.execute(
                select(SourceRecord.source_id, SourceRecord.id).where(
                    SourceRecord.domain == domain,
                    SourceRecord.source_system_id == system_id,
                    SourceRecord.source_id.in_(source_ids[i : i + 500]),
                )
            ).all()
        )
    return [found[sid] for sid in source_ids]


def _resolve_target(decision: LinkDecision, new_golden_of: list[str]) -> str | None:
    if decision.golden_id:
        return decision.golden_id
    if decision.same_as is not None:
        return new_golden_of[decision.same_as]
    return None


def deactivate(
    session: Session,
    registry: DomainRegistry,
    domain: str,
    system_code: str,
    source_id: str,
    ctx: RequestContext,
) -> IngestResult:
    system = sources.get_by_code(session, system_code)
    sr = session.scalar(
        select(SourceRecord).where(
            SourceRecord.domain == registry.get(domain).name,
            SourceRecord.source_system_id == system.id,
            SourceRecord.source_id == source_id,
        )
    )
    if sr is None:
        from mdm.errors import NotFound

        raise NotFound(f"No {domain} record '{source_id}' from '{system_code}'")
    item = IngestItem(source_id=source_id, attributes=sr.attributes, active=False)
    return ingest(session, registry, domain, system_code, [item], ctx)[0]
