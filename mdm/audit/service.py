"""Writing and reading the audit trail. Writes join the caller's transaction."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from mdm.audit.models import AuditEntry
from mdm.context import RequestContext
from mdm.db import utcnow
from mdm.records.history import snapshot_at_version, source_states, versions_of
from mdm.redaction import redact, redact_each, redact_text

SOURCE_RECORD = "source_record"
# what a source record's entry says after the change; all but the golden id are the
# record's own state until its next change (mdm.audit.models)
_SOURCE_STATE = ("attributes", "active", "golden_id")


def audit_row(
    ctx: RequestContext,
    action: str,
    entity_type: str,
    entity_id: str,
    *,
    domain: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
    at: datetime | None = None,
    before_version: int | None = None,
    after_version: int | None = None,
    redacted: bool = False,
) -> dict[str, Any]:
    """An audit row as a dict, for bulk inserts on the ingestion path. Secrets in it are
    redacted (mdm.redaction). ``before_version``/``after_version``: the golden version
    whose snapshot stands for a before/after given as None (mdm.audit.models); an entry
    with an ``after_version`` gives that version's reason (not stored twice).
    ``redacted``: the caller has redacted ``before`` and ``after`` already (in bulk)."""
    if not redacted:
        before = redact(before) if before else before
        after = redact(after) if after else after
    if entity_type == SOURCE_RECORD and after is not None and tuple(after) == _SOURCE_STATE:
        after = {"golden_id": after["golden_id"]}
    return {
        "at": at or utcnow(),
        "actor": ctx.actor.name,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "domain": domain,
        "request_id": ctx.request_id,
        "reason": None if after_version is not None or not reason else redact_text(reason),
        "before": before,
        "after": after,
        "before_version": before_version,
        "after_version": after_version,
    }


def audit(session: Session, ctx: RequestContext, action: str, entity_type: str, entity_id: str,
          **kwargs: Any) -> AuditEntry:
    entry = AuditEntry(**audit_row(ctx, action, entity_type, entity_id, **kwargs))
    session.add(entry)
    return entry


def list_entries(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    domain: str | None = None,
    request_id: str | None = None,
    action: str | None = None,
    after: int | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    q = select(AuditEntry).order_by(AuditEntry.id)
    if entity_type:
        q = q.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        q = q.where(AuditEntry.entity_id == entity_id)
    if domain:
        q = q.where(AuditEntry.domain == domain)
    if request_id:
        q = q.where(AuditEntry.request_id == request_id)
    if action:
        q = q.where(AuditEntry.action == action)
    if after is not None:
        q = q.where(AuditEntry.id > after)
    return with_states(session, list(session.scalars(q.limit(limit))))


def with_states(session: Session, entries: list[AuditEntry]) -> list[AuditEntry]:
    """``entries`` with the before/after they refer to filled in, as they were written: a
    golden version's snapshot, a source record's state, redacted. Changes nothing in the
    database."""
    _with_source_states(session, entries)
    refs = [(e, name, e.entity_id, version) for e in entries
            for name, version in (("before", e.before_version), ("after", e.after_version))
            if version is not None]
    if not refs:
        return entries
    stored = versions_of(session, [(gid, version) for _, _, gid, version in refs])
    for entry, name, gid, version in refs:
        row = stored.get((gid, version))
        snap = snapshot_at_version(row, entry.domain or "") if row is not None else None
        set_committed_value(entry, name, redact(snap) if snap else snap)
        if name == "after" and row is not None and entry.reason is None and row["reason"]:
            set_committed_value(entry, "reason", redact_text(row["reason"]))
    return entries


def _with_source_states(session: Session, entries: list[AuditEntry]) -> None:
    """Source record entries with the attributes and active flag of their after: the
    before of the record's next entry, or the record itself when nothing changed since."""
    compact = [e for e in entries if e.entity_type == SOURCE_RECORD and e.after is not None
               and "attributes" not in e.after]
    if not compact:
        return
    ids = sorted({e.entity_id for e in compact})
    start = min(e.id for e in compact)
    later: dict[str, list[tuple[int, Any]]] = {gid: [] for gid in ids}
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for entity_id, entry_id, before in session.execute(
            select(AuditEntry.entity_id, AuditEntry.id, AuditEntry.before)
            .where(AuditEntry.entity_type == SOURCE_RECORD, AuditEntry.entity_id.in_(chunk),
                   AuditEntry.id > start, AuditEntry.before.is_not(None))
            .order_by(AuditEntry.id)
        ):
            later[entity_id].append((entry_id, before))
    states: dict[int, tuple[Any, Any]] = {}
    unchanged: list[AuditEntry] = []
    for e in compact:
        nxt = next((b for i, b in later[e.entity_id] if i > e.id and b), None)
        if nxt is None:
            unchanged.append(e)
        else:
            states[e.id] = (nxt["attributes"], nxt["active"])
    if unchanged:
        current = source_states(session, [e.entity_id for e in unchanged])
        found = [e for e in unchanged if e.entity_id in current]
        redacted = redact_each([current[e.entity_id][0] for e in found])
        for e, attributes in zip(found, redacted, strict=True):
            states[e.id] = (attributes, current[e.entity_id][1])
    for e in compact:
        attributes, active = states.get(e.id, (None, None))
        golden_id = (e.after or {}).get("golden_id")
        set_committed_value(e, "after", {"attributes": attributes, "active": active,
                                         "golden_id": golden_id})
