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
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from mdm.audit.service import audit_row
from mdm.context import RequestContext
from mdm.db import bulk_insert, new_id, sqlite_write_lock, utcnow
from mdm.domains.definitions import DomainDefinition
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
from mdm.stewardship.approvals import KnownRequests
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


@dataclass
class _Accepted:
    """A record that passed parsing, with its quality findings."""

    pos: int  # its place in the request
    sid: str
    values: dict[str, Any]
    active: bool
    findings: list[Finding]


@dataclass
class _New:
    """A new source record on its way in: its linking request and its row."""

    pos: int
    values: dict[str, Any]
    findings: list[Finding]
    pending: PendingRecord


@dataclass
class _Changed:
    """An existing source record this request updates, deactivates or reactivates."""

    pos: int
    record: SourceRecord
    before: dict[str, Any]
    findings: list[Finding]


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
    """One attempt of ``ingest``: parse, read and lock what exists, link the new records,
    write everything, recompute the golden records touched, commit."""
    definition = registry.get(domain)
    system = sources.get_by_code(session, system_code)
    now = utcnow()
    results, accepted = _parse(definition, items, from_text)

    sqlite_write_lock(session)  # PostgreSQL: key locks and run_retrying instead
    existing = _existing(session, domain, system.id, [a.sid for a in accepted])
    digests = lock_changing_records(
        session, existing, [(a.pos, a.sid, a.values, a.active, a.findings) for a in accepted]
    )
    new, changed = _sort_out(accepted, existing, digests, results, system.code, now)

    pending = gold.Pending()
    linker = NewGoldenLinker() if defer_matching else linker_for(definition)
    pendings = [n.pending for n in new]
    decisions = linker.link(session, definition, pendings, ctx) if new else []
    new_golden_of, touched = _place_new(
        session, definition, pending, ctx, system, new, decisions, results, now
    )
    new_ids = _insert_new(session, definition, system, new, new_golden_of, now)
    _write_quality_and_audit(
        session, pending, ctx, domain, system.code, new, new_golden_of, new_ids, changed,
        results, now,
    )
    touched.update(c.record.golden_id for c in changed)
    if touched:
        _recompute(session, pending, ctx, definition, touched)

    pending.write(session)
    if new:
        linker.after_link(session, definition, pendings, decisions, new_golden_of, new_ids, ctx)
    session.commit()
    for status, count in Counter(res.status for res in results).items():
        RECORDS_INGESTED.labels(domain, status).inc(count)
    return results


def _parse(
    definition: DomainDefinition, items: list[IngestItem], from_text: bool
) -> tuple[list[IngestResult], list[_Accepted]]:
    """One result per item (rejected until written) and the items that parsed, each with
    its quality findings (stored and flagged, never a rejection)."""
    results = [IngestResult(None, REJECTED, line=i.line) for i in items]
    accepted: list[_Accepted] = []
    seen: set[str] = set()
    parse, findings_of = definition.parse_attributes, definition.quality_findings
    for pos, item in enumerate(items):
        sid, sid_error = _source_id(item.source_id)
        active = bool(item.active)
        values, errors = parse(
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
        accepted.append(_Accepted(pos, sid, values, active, findings_of(values) if active else []))
    return results, accepted


def _existing(
    session: Session, domain: str, system_id: int, source_ids: list[str]
) -> dict[str, SourceRecord]:
    """The stored records of these source ids (source id -> record)."""
    existing: dict[str, SourceRecord] = {}
    for i in range(0, len(source_ids), 500):
        for row in session.scalars(
            select(SourceRecord).where(
                SourceRecord.domain == domain,
                SourceRecord.source_system_id == system_id,
                SourceRecord.source_id.in_(source_ids[i : i + 500]),
            )
        ):
            existing[row.source_id] = row
    return existing


def _sort_out(
    accepted: list[_Accepted],
    existing: dict[str, SourceRecord],
    digests: dict[str, str],
    results: list[IngestResult],
    system_code: str,
    now: datetime,
) -> tuple[list[_New], list[_Changed]]:
    """New records (to link) and changed existing ones (updated in place on their ORM
    objects); the results of unchanged records and of deactivations of unknown ids."""
    new: list[_New] = []
    changed: list[_Changed] = []
    for a in accepted:
        res = results[a.pos]
        res.quality = _finding_dicts(a.findings)
        sr = existing.get(a.sid)
        if sr is None:
            if not a.active:
                res.status = REJECTED
                res.errors = {"source_id": ["No such record to deactivate."]}
                continue
            new.append(_New(a.pos, a.values, a.findings,
                            PendingRecord(len(new), system_code, a.sid, a.values)))
            continue
        digest = digests[a.sid] if a.active else content_hash(sr.attributes, a.active)
        res.golden_id = sr.golden_id
        if digest == sr.content_hash:
            res.status = UNCHANGED
            continue
        before = {"attributes": sr.attributes, "active": sr.active, "golden_id": sr.golden_id}
        findings = a.findings
        if a.active:
            res.status = REACTIVATED if not sr.active else UPDATED
            sr.attributes = a.values
        else:
            res.status = DEACTIVATED
            findings = []
            res.quality = []
        sr.active = a.active
        sr.content_hash = digest
        sr.version += 1
        sr.updated_at = now
        sr.quality_status = gold.quality_status(f.severity for f in findings)
        changed.append(_Changed(a.pos, sr, before, findings))
    return new, changed


def _place_new(
    session: Session,
    definition: DomainDefinition,
    pending: gold.Pending,
    ctx: RequestContext,
    system: Any,
    new: list[_New],
    decisions: list[LinkDecision],
    results: list[IngestResult],
    now: datetime,
) -> tuple[list[str], set[str]]:
    """The golden id of each new record (``new_golden_of``, in order) and the existing
    golden records they join (``touched``). Golden records made only of new source records
    are computed in memory and inserted in bulk, complete, with their history: before
    their source records (foreign key order)."""
    new_golden_of: list[str] = []
    touched: set[str] = set()
    fresh: dict[str, list[SourceView]] = {}  # new golden id -> its (new) source records
    findings_of: dict[str, list[Finding]] = {}
    for n, decision in zip(new, decisions, strict=True):
        gid = _resolve_target(decision, new_golden_of)
        if gid is None:
            gid = new_id()
            fresh[gid] = []
        elif gid not in fresh:
            touched.add(gid)
        new_golden_of.append(gid)
        if gid in fresh:
            invalid = frozenset(f.attribute for f in n.findings if f.severity == "error")
            fresh[gid].append(SourceView(None, system.code, n.pending.source_id, n.values, now,
                                         invalid))
            findings_of[gid] = n.findings
        res = results[n.pos]
        res.status = CREATED
        res.golden_id = gid
        res.joined = decision.golden_id is not None or decision.same_as is not None

    domain = definition.name
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
    return new_golden_of, touched


def _insert_new(
    session: Session,
    definition: DomainDefinition,
    system: Any,
    new: list[_New],
    new_golden_of: list[str],
    now: datetime,
) -> list[int]:
    """Insert the new source records (one bulk insert); their ids, in order."""
    if not new:
        return []
    rows = [
        {
            "domain": definition.name,
            "source_system_id": system.id,
            "source_id": n.pending.source_id,
            "golden_id": gid,
            "attributes": n.values,
            "content_hash": content_hash(n.values, True),
            "active": True,
            "quality_status": gold.quality_status(f.severity for f in n.findings),
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for n, gid in zip(new, new_golden_of, strict=True)
    ]
    bulk_insert(session, SourceRecord.__table__, rows)
    return _ids_of(session, definition.name, system.id, [r["source_id"] for r in rows])


def _write_quality_and_audit(
    session: Session,
    pending: gold.Pending,
    ctx: RequestContext,
    domain: str,
    system_code: str,
    new: list[_New],
    new_golden_of: list[str],
    new_ids: list[int],
    changed: list[_Changed],
    results: list[IngestResult],
    now: datetime,
) -> None:
    """Quality findings (replacing the previous ones of each written source record) and
    one audit entry per written source record (changed ones first, then the new)."""
    stale_ids = [c.record.id for c in changed]
    for i in range(0, len(stale_ids), 500):
        session.query(QualityIssue).filter(
            QualityIssue.source_record_id.in_(stale_ids[i : i + 500])
        ).delete(synchronize_session=False)
    written: list[
        tuple[int, int, str, str, dict[str, Any], bool, dict[str, Any] | None, list[Finding]]
    ] = [
        (c.pos, c.record.id, c.record.source_id, c.record.golden_id, c.record.attributes,
         c.record.active, c.before, c.findings)
        for c in changed
    ]
    written += [
        (n.pos, rid, n.pending.source_id, gid, n.values, True, None, n.findings)
        for n, rid, gid in zip(new, new_ids, new_golden_of, strict=True)
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
                f"{domain}/{system_code}/{sid}",
                domain=domain,
                before=before,
                after=after,
                at=now,
                redacted=True,
            )
        )


def _recompute(
    session: Session,
    pending: gold.Pending,
    ctx: RequestContext,
    definition: DomainDefinition,
    touched: set[str],
) -> None:
    """Existing golden records that gained, changed or lost a source record: reload and
    recompute. Locked first, then read: a concurrent writer of the same golden record
    finishes before we read its source records, so survivorship sees both writes. Their
    pending change requests are read in one query, under those locks."""
    locked = lock_golden_records(session, touched)
    views_by_golden = gold.source_views(session, touched)
    known = KnownRequests(session, touched)
    for g in locked:
        gold.refresh(
            session,
            pending,
            ctx,
            definition,
            g,
            views_by_golden.get(g.id, []),
            action="golden.recompute",
            known=known,
        )


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
