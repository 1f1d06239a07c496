"""Golden-record bookkeeping shared by ingestion and stewardship.

``apply`` recomputes a golden record from its source records and, when anything changed,
writes the new version, the change event and the audit entry in the caller's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from anyascii import anyascii
from sqlalchemy import select
from sqlalchemy.orm import Session

from mdm.audit.models import AuditEntry
from mdm.audit.service import audit_row
from mdm.context import RequestContext
from mdm.db import bulk_insert, utcnow
from mdm.domains.definitions import DomainDefinition
from mdm.domains.validators import Finding
from mdm.events.models import ChangeEvent
from mdm.events.service import event_row
from mdm.records import survivorship
from mdm.records.history import repeats_dropped, snapshot_at_version, versions_of
from mdm.records.models import (
    ACTIVE,
    MERGED,
    QUALITY_ERROR,
    QUALITY_OK,
    QUALITY_WARNING,
    RETIRED,
    GoldenRecord,
    GoldenVersion,
    QualityIssue,
    SourceRecord,
)
from mdm.redaction import redact, redact_each
from mdm.sources.models import SourceSystem
from mdm.stewardship.approvals import (
    KnownRequests,
    hold_risky_changes,
    keep_current,
    plan_holds,
)

_ZERO = timedelta(0)


def fold(text: str) -> str:
    """Case- and accent-insensitive form used for name search."""
    return " ".join(anyascii(text).casefold().split())[:300]


def snapshot(golden: GoldenRecord) -> dict[str, Any]:
    """The canonical JSON of a golden record, as events and the API carry it."""
    return {
        "id": golden.id,
        "domain": golden.domain,
        "status": golden.status,
        "version": golden.version,
        "merged_into": golden.merged_into,
        "attributes": golden.attributes,
        "overrides": sorted(golden.overrides or {}),
        "quality_status": golden.quality_status,
        "updated_at": golden.updated_at.isoformat() if golden.updated_at else None,
    }


def quality_status(severities: Iterable[str]) -> str:
    sev = set(severities)
    if "error" in sev:
        return QUALITY_ERROR
    if "warning" in sev:
        return QUALITY_WARNING
    return QUALITY_OK


def source_views(
    session: Session, golden_ids: Iterable[str]
) -> dict[str, list[survivorship.SourceView]]:
    """Active source records of each golden record, with the attributes that failed a rule."""
    ids = list(set(golden_ids))
    out: dict[str, list[survivorship.SourceView]] = defaultdict(list)
    if not ids:
        return out
    invalid: dict[int, set[str]] = defaultdict(set)
    rows: list[Any] = []
    for chunk in _chunks(ids, 500):
        rows.extend(
            session.execute(
                select(SourceRecord, SourceSystem.code)
                .join(SourceSystem, SourceSystem.id == SourceRecord.source_system_id)
                .where(SourceRecord.golden_id.in_(chunk), SourceRecord.active.is_(True))
            )
        )
        for sr_id, attr in session.execute(
            select(QualityIssue.source_record_id, QualityIssue.attribute)
            .join(SourceRecord, SourceRecord.id == QualityIssue.source_record_id)
            .where(SourceRecord.golden_id.in_(chunk), QualityIssue.severity == "error")
        ):
            invalid[sr_id].add(attr)
    for sr, code in rows:
        out[sr.golden_id].append(view_of(sr, code, invalid.get(sr.id, ())))
    return out


def view_of(sr: SourceRecord, system_code: str, invalid: Iterable[str]) -> survivorship.SourceView:
    return survivorship.SourceView(
        source_record_id=sr.id,
        source_system=system_code,
        source_id=sr.source_id,
        attributes=sr.attributes,
        updated_at=sr.updated_at,
        invalid=frozenset(invalid),
    )


@dataclass
class Pending:
    """Rows collected during one use case and written in bulk at the end."""

    versions: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    # (audit row, domain, the caller's before snapshot): kept as a reference to the previous
    # version when that version's snapshot is this very before (checked in ``write``)
    befores: list[tuple[dict[str, Any], str, dict[str, Any]]] = field(default_factory=list)
    # events whose payload is redacted in ``write``, all at once
    unredacted: list[dict[str, Any]] = field(default_factory=list)

    def write(self, session: Session) -> None:
        session.flush()
        if self.befores:
            _resolve_befores(session, self.versions, self.befores)
        if self.unredacted:
            payloads = redact_each([e["payload"] for e in self.unredacted])
            for event, payload in zip(self.unredacted, payloads, strict=True):
                event["payload"] = payload
        # Core inserts: plain executemany, without the ORM's per-row bookkeeping.
        if self.versions:
            repeats_dropped(session, self.versions)  # after the befores compared them
            bulk_insert(session, GoldenVersion.__table__, self.versions)
        if self.events:
            bulk_insert(session, ChangeEvent.__table__, self.events)
        if self.audits:
            bulk_insert(session, AuditEntry.__table__, self.audits)
        self.versions, self.events, self.audits, self.befores = [], [], [], []
        self.unredacted = []


def _resolve_befores(
    session: Session,
    versions: list[dict[str, Any]],
    befores: list[tuple[dict[str, Any], str, dict[str, Any]]],
) -> None:
    """Each audit row's before: a reference to the previous version when that version's
    snapshot is exactly the before the caller saw, else a (redacted) copy."""
    queued = {(v["golden_id"], v["version"]): v for v in versions}
    keys = {(row["entity_id"], row["before_version"]) for row, _, _ in befores}
    stored = versions_of(session, keys - set(queued))
    for row, domain, before in befores:
        key = (row["entity_id"], row["before_version"])
        previous = queued.get(key) or stored.get(key)
        if previous is None or snapshot_at_version(previous, domain) != before:
            row["before"], row["before_version"] = redact(before), None


def overrides_of(golden: GoldenRecord) -> dict[str, survivorship.Override]:
    return {
        attr: survivorship.Override(o["value"], o.get("actor", ""), o.get("reason", ""))
        for attr, o in (golden.overrides or {}).items()
    }


def compute(
    definition: DomainDefinition,
    sources: list[survivorship.SourceView],
    overrides: dict[str, survivorship.Override] | None = None,
    findings: list[Finding] | None = None,
) -> tuple[dict[str, Any], dict[str, Any], str]:
    names = [a.name for a in definition.attributes]
    values, provenance = survivorship.survive(names, sources, definition.survivorship, overrides)
    if findings is None:
        findings = definition.quality_findings(values)
    status = quality_status(f.severity for f in findings)
    return values, provenance, status


def record_version(
    pending: Pending,
    ctx: RequestContext,
    golden: GoldenRecord,
    *,
    action: str,
    event_type: str | None,
    before: dict[str, Any] | None,
    reason: str | None = None,
    extra: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Queue the history row, change event and audit entry for the golden's current state.

    The audit entry refers to the version for its after (the version's snapshot is the
    golden's), and to the previous version for its before when that is the same snapshot.
    """
    at = at or golden.updated_at or utcnow()
    snap = snapshot(golden)
    overrides = sorted(golden.overrides or {})
    pending.versions.append(
        {
            "golden_id": golden.id,
            "version": golden.version,
            "status": golden.status,
            "merged_into": golden.merged_into,
            "attributes": golden.attributes,
            "provenance": golden.provenance,
            "valid_from": at,
            "action": action,
            "actor": ctx.actor.name,
            "reason": reason,
            "request_id": ctx.request_id,
            "quality_status": golden.quality_status,
            "overrides": overrides or None,
        }
    )
    if event_type:
        event = event_row(
            ctx,
            domain=golden.domain,
            golden_id=golden.id,
            golden_version=golden.version,
            type=event_type,
            snapshot=snap,
            extra=extra,
            redacted=False,
            version=pending.versions[-1],
        )
        pending.events.append(event)
        pending.unredacted.append(event)
    # The version rebuilds the snapshot when its valid_from is the snapshot's updated_at.
    updated = golden.updated_at
    by_ref = updated is not None and at == updated and updated.utcoffset() == _ZERO
    previous = golden.version - 1
    before_ref = (
        before is not None and before.get("id") == golden.id and before.get("version") == previous
    )
    row = audit_row(
        ctx,
        action,
        "golden_record",
        golden.id,
        domain=golden.domain,
        before=None if before_ref else before,
        after=None if by_ref else snap,
        reason=reason,
        at=at,
        before_version=previous if before_ref else None,
        after_version=golden.version if by_ref else None,
    )
    pending.audits.append(row)
    if before_ref:
        assert before is not None
        pending.befores.append((row, golden.domain, before))


def preview(
    session: Session,
    definition: DomainDefinition,
    golden: GoldenRecord,
    sources: list[survivorship.SourceView],
) -> tuple[dict[str, Any], dict[str, Any], str, str]:
    """What ``refresh`` would make of ``golden`` now: (values, provenance, quality, status).

    Writes nothing: a risky change that would open a change request shows as held with
    ``change_request_id`` None. A golden record equal to its preview is current.
    """

    def dry_run_holds(values: dict[str, Any], provenance: dict[str, Any]) -> bool:
        holds = plan_holds(session, definition, golden, values, provenance)
        keep_current(values, provenance, holds)
        return bool(holds)

    return _target(definition, golden, sources, dry_run_holds)


def _target(
    definition: DomainDefinition,
    golden: GoldenRecord,
    sources: list[survivorship.SourceView],
    hold: Callable[[dict[str, Any], dict[str, Any]], bool],
) -> tuple[dict[str, Any], dict[str, Any], str, str]:
    """Survivorship's values with four eyes applied by ``hold``, their quality and status."""
    values, provenance, qstatus = compute(definition, sources, overrides_of(golden))
    if definition.approval and hold(values, provenance):
        qstatus = quality_status(f.severity for f in definition.quality_findings(values))
    status = golden.status
    if golden.status != MERGED:
        status = ACTIVE if sources else RETIRED
    return values, provenance, qstatus, status


def refresh(
    session: Session,
    pending: Pending,
    ctx: RequestContext,
    definition: DomainDefinition,
    golden: GoldenRecord,
    sources: list[survivorship.SourceView],
    *,
    action: str,
    reason: str | None = None,
    extra: dict[str, Any] | None = None,
    force: bool = False,
    event_type: str | None = None,
    approved: dict[str, Any] | None = None,
    known: KnownRequests | None = None,
    new_requests: bool = True,
) -> bool:
    """Recompute ``golden`` from ``sources``; version it if anything changed (or ``force``).

    Changes to the domain's approval attributes (removals included) are held as change
    requests (four eyes) unless ``approved`` carries that very value. ``event_type`` names
    the change event (default: updated, retired or reactivated as the status moves).
    ``known``: the change requests of many golden records read at once (bulk callers).
    ``new_requests`` False: a change no request holds yet passes (a batch merge of a
    golden record no downstream system holds: ``approvals.Unpublished``).
    """
    values, provenance, qstatus, status = _target(
        definition,
        golden,
        sources,
        lambda v, p: hold_risky_changes(
            session, pending, ctx, definition, golden, v, p, approved, known, new_requests
        ),
    )
    if not force and (
        values == golden.attributes
        and provenance == golden.provenance
        and status == golden.status
        and qstatus == golden.quality_status
    ):
        return False
    before = snapshot(golden)
    if event_type is None:
        event_type = "updated"
        if status != golden.status:
            event_type = "retired" if status == RETIRED else "reactivated"
    golden.attributes = values
    golden.provenance = provenance
    golden.quality_status = qstatus
    golden.status = status
    golden.search_name = fold(str(values.get(definition.display, "")))
    golden.version = golden.version + 1
    golden.updated_at = utcnow()
    record_version(
        pending,
        ctx,
        golden,
        action=action,
        event_type=event_type,
        before=before,
        reason=reason,
        extra=extra,
    )
    return True


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
