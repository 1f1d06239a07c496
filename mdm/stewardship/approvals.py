"""Four-eyes approval: holding risky attribute changes as change requests.

``hold_risky_changes`` runs inside every golden-record recomputation
(``mdm.records.golden.refresh``): when survivorship would add, change or remove the value
of an attribute the domain lists under ``approval`` (a supplier's IBAN, BIC, tax id), the
golden record keeps its current value, and a pending ``ChangeRequest`` records the
proposed one (``None`` for a removal). Only an approval by a second steward lets it
through.

What is held: adding, changing or removing a value on an existing golden record, whatever
caused the recomputation (a source update, a merge, an unmerge, an unpinned override, a
rules change). Values are compared in their canonical form (``mdm.identifiers``), so
"DE 136 695 976" and "DE136695976" are the same tax id and no change at all. Not held:
the values a brand-new golden record starts with (onboarding is the source system's
control).

Batch merges (``mdm match``, applied in bulk or one at a time) ask four eyes only of a
golden record some downstream system may hold: one whose creation the change feed has
handed out (its "created" change event has a position: publication, ``GET /events`` and
export runs read sequenced events only). For a golden record not handed out yet (a first
load followed by ``mdm match``, a golden record a split of the same run created) such a
merge opens no change request: survivorship's value, already in the hub as a source
record's value, passes. Steward decisions still hold there too: a value a pending request
holds stays held, a rejected value stays rejected (``Unpublished``).

While a value is held its provenance names the change request that holds it (rule
``held_by_change_request``), not a source record: the source that supplied the value may
no longer carry it. The request says whether it awaits a decision or was rejected (a
rejected change is not raised again, so the value stays, still held by that request).

This module imports no golden-record code: ``golden.py`` calls it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mdm import identifiers
from mdm.audit.service import audit_row
from mdm.context import RequestContext
from mdm.db import new_id, utcnow
from mdm.domains.definitions import DomainDefinition
from mdm.events.models import ChangeEvent
from mdm.events.service import lock_sequencer
from mdm.records.models import MERGED, GoldenRecord
from mdm.stewardship.models import (
    FROM_SURVIVORSHIP,
    PENDING,
    REJECTED,
    SUPERSEDED,
    ChangeRequest,
)

# Provenance rule of a golden value kept by four eyes (with the holding request's id).
HELD = "held_by_change_request"


class AuditSink(Protocol):
    audits: list[dict[str, Any]]


def pending_key(golden_id: str, attribute: str, origin: str) -> str:
    return f"{golden_id}|{attribute}|{origin}"


# --- comparing values ---------------------------------------------------------------------

# The canonical form of each identifier validator's values: the form validation checks and
# matching compares (country from the same record, for tax ids and phone numbers).
_CANONICAL: dict[str, Callable[[Any, dict[str, Any]], Any]] = {
    "tax_id": lambda v, attrs: identifiers.parse_tax_id(v, attrs.get("country")).value,
    "iban": lambda v, _attrs: identifiers.parse_iban(v).value,
    "bic": lambda v, _attrs: identifiers.parse_bic(v).value,
    "lei": lambda v, _attrs: identifiers.parse_lei(v).value,
    "duns": lambda v, _attrs: identifiers.parse_duns(v).value,
    "email": lambda v, _attrs: identifiers.parse_email(v).value,
    "phone": lambda v, attrs: identifiers.parse_phone(v, attrs.get("country")).value,
}


def canonical(
    definition: DomainDefinition, attribute: str, value: Any, attributes: dict[str, Any]
) -> Any:
    """``value`` of ``attribute`` as four eyes compares it (``attributes``: its record)."""
    if value is None:
        return None
    attr = definition.attribute(attribute)
    for check in attr.validators if attr is not None else ():
        if check in _CANONICAL:
            return _CANONICAL[check](value, attributes)
    if isinstance(value, str):
        return " ".join(value.split())
    return value


def same_value(
    definition: DomainDefinition,
    attribute: str,
    a: Any,
    a_attrs: dict[str, Any],
    b: Any,
    b_attrs: dict[str, Any],
) -> bool:
    """Whether two values of an approval attribute are the same (formatting aside)."""
    if a == b:
        return True
    return canonical(definition, attribute, a, a_attrs) == canonical(
        definition, attribute, b, b_attrs
    )


# --- holding changes ----------------------------------------------------------------------


@dataclass
class Hold:
    """A risky change survivorship proposes and the golden record does not take yet."""

    attribute: str
    value: Any  # what survivorship proposes; None: remove the value
    provenance: dict[str, Any] | None  # where the proposed value comes from
    previous: Any  # the golden record's current value, kept meanwhile
    request_id: str | None = None  # the change request holding it; None: one is to be opened
    stale_request_id: str | None = None  # a pending request for a value no longer proposed


class KnownRequests:
    """The survivorship change requests of many golden records, read in one query.

    For recomputing many golden records in one transaction (``mdm match`` applying its
    merges): ``plan_holds`` looks here instead of querying per attribute, and requests
    opened or superseded meanwhile are kept here too. The caller holds the golden records'
    row locks, so no other transaction opens requests for them meanwhile.
    """

    def __init__(self, session: Session, golden_ids: Iterable[str]) -> None:
        self.golden_ids = set(golden_ids)
        self.pending: dict[str, ChangeRequest] = {}  # pending_key -> request
        self.rejected: dict[tuple[str, str], ChangeRequest] = {}  # newest rejection
        self.by_id: dict[str, ChangeRequest] = {}
        ids = sorted(self.golden_ids)
        for i in range(0, len(ids), 500):
            for cr in session.scalars(
                select(ChangeRequest).where(
                    ChangeRequest.golden_id.in_(ids[i : i + 500]),
                    ChangeRequest.origin == FROM_SURVIVORSHIP,
                    ChangeRequest.status.in_((PENDING, REJECTED)),
                ).order_by(ChangeRequest.requested_at, ChangeRequest.id)
            ):
                self.add(cr)

    def add(self, cr: ChangeRequest) -> None:
        self.by_id[cr.id] = cr
        if cr.status == PENDING and cr.pending_key:
            self.pending[cr.pending_key] = cr
        elif cr.status == REJECTED:
            self.rejected[(cr.golden_id, cr.attribute)] = cr  # read oldest first

    def covers(self, golden_id: str) -> bool:
        return golden_id in self.golden_ids


class Unpublished:
    """The golden records of a domain that no downstream system holds yet, for one batch
    merge run: those whose "created" change event has no position (the change feed has
    not handed them out), and those the run itself creates (``add``).

    Read once per run (one pass over the unsequenced events, an index range); ``refresh``
    then drops those sequenced meanwhile, reading only the events sequenced since. Call it
    in the transaction that merges, after ``lock``: on PostgreSQL that holds the
    sequencer until the commit, so the answer stays true until the merge is visible (on
    SQLite the caller's write lock already does). A golden record without a "created"
    event counts as handed out.
    """

    def __init__(self, session: Session, domain: str) -> None:
        CE = ChangeEvent
        self.since = session.scalar(select(func.max(CE.position))) or 0
        self.ids: set[str] = set(session.scalars(select(CE.golden_id).where(
            CE.position.is_(None), CE.domain == domain, CE.type == "created")))

    def add(self, golden_ids: Iterable[str]) -> None:
        self.ids.update(golden_ids)

    def lock(self, session: Session) -> None:
        """Hold the sequencer until the caller's transaction ends (when it matters)."""
        if self.ids:
            lock_sequencer(session)

    def refresh(self, session: Session) -> None:
        if not self.ids:
            return
        CE = ChangeEvent
        for position, golden_id, kind in session.execute(
            select(CE.position, CE.golden_id, CE.type).where(CE.position > self.since)
        ):
            self.since = max(self.since, position or 0)
            if kind == "created":
                self.ids.discard(golden_id)

    def __contains__(self, golden_id: object) -> bool:
        return golden_id in self.ids

    def __len__(self) -> int:
        return len(self.ids)


def plan_holds(
    session: Session,
    definition: DomainDefinition,
    golden: GoldenRecord,
    values: dict[str, Any],
    provenance: dict[str, Any],
    approved: dict[str, Any] | None = None,
    known: KnownRequests | None = None,
) -> list[Hold]:
    """The risky changes in ``values`` and which change request holds each (reads only).

    ``approved`` maps attribute -> value a steward has just approved: that value passes.
    ``known``: the requests, read beforehand (else they are queried).
    """
    known = known if known is not None and known.covers(golden.id) else None
    if golden.status == MERGED or not definition.approval:
        return []
    current = golden.attributes or {}
    holds = []
    for attr in definition.approval:
        new, old = values.get(attr), current.get(attr)
        if same_value(definition, attr, new, values, old, current):
            continue
        if (
            approved
            and attr in approved
            and same_value(definition, attr, approved[attr], values, new, values)
        ):
            continue
        hold = Hold(attr, new, provenance.get(attr), old)
        key = pending_key(golden.id, attr, FROM_SURVIVORSHIP)
        if known is not None:
            pending = known.pending.get(key)
        else:
            pending = session.scalar(select(ChangeRequest).where(ChangeRequest.pending_key == key))
        if pending is not None and same_value(definition, attr, pending.value, values, new, values):
            hold.request_id = pending.id
        else:
            hold.stale_request_id = pending.id if pending is not None else None
            # A value a steward rejected is not raised again while the golden value is
            # unchanged: the rejection keeps holding it.
            last = known.rejected.get((golden.id, attr)) if known is not None else session.scalar(
                select(ChangeRequest)
                .where(
                    ChangeRequest.golden_id == golden.id,
                    ChangeRequest.attribute == attr,
                    ChangeRequest.origin == FROM_SURVIVORSHIP,
                    ChangeRequest.status == REJECTED,
                )
                .order_by(ChangeRequest.requested_at.desc(), ChangeRequest.id.desc())
                .limit(1)
            )
            if (
                last is not None
                and same_value(definition, attr, last.value, values, new, values)
                and same_value(definition, attr, last.previous, current, old, current)
            ):
                hold.request_id = last.id
        holds.append(hold)
    return holds


def keep_current(values: dict[str, Any], provenance: dict[str, Any], holds: list[Hold]) -> None:
    """Put the held attributes' current values back, their provenance naming the request."""
    for hold in holds:
        if hold.previous is None:
            values.pop(hold.attribute, None)
            provenance.pop(hold.attribute, None)
            continue
        values[hold.attribute] = hold.previous
        provenance[hold.attribute] = {"rule": HELD, "change_request_id": hold.request_id}


def hold_risky_changes(
    session: Session,
    sink: AuditSink,
    ctx: RequestContext,
    definition: DomainDefinition,
    golden: GoldenRecord,
    values: dict[str, Any],
    provenance: dict[str, Any],
    approved: dict[str, Any] | None = None,
    known: KnownRequests | None = None,
    new_requests: bool = True,
) -> bool:
    """Keep the current value of every unapproved risky change, opening a change request
    for each new one; True when any was held. ``values``/``provenance`` are edited.

    ``new_requests`` False (a batch merge's golden record no one holds yet, see
    ``Unpublished``): a change no request holds passes instead (a pending request for
    another value is superseded by it); pending and rejected requests still hold.
    """
    known = known if known is not None and known.covers(golden.id) else None
    holds = plan_holds(session, definition, golden, values, provenance, approved, known)
    held = []
    for hold in holds:
        if hold.request_id is None:
            if not new_requests:
                if hold.stale_request_id is not None:
                    _supersede(session, hold.stale_request_id, known)
                continue
            hold.request_id = _propose(session, sink, ctx, golden, hold, known)
        elif hold.stale_request_id is not None:
            _supersede(session, hold.stale_request_id, known)
        held.append(hold)
    keep_current(values, provenance, held)
    return bool(held)


def _propose(
    session: Session,
    sink: AuditSink,
    ctx: RequestContext,
    golden: GoldenRecord,
    hold: Hold,
    known: KnownRequests | None = None,
) -> str:
    """Open the change request for ``hold`` (superseding a pending one for another value)."""
    key = pending_key(golden.id, hold.attribute, FROM_SURVIVORSHIP)
    if hold.stale_request_id is not None:
        _supersede(session, hold.stale_request_id, known)
    cr = ChangeRequest(
        id=new_id(),
        domain=golden.domain,
        golden_id=golden.id,
        attribute=hold.attribute,
        value=hold.value,
        previous=hold.previous,
        provenance=hold.provenance,
        origin=FROM_SURVIVORSHIP,
        status=PENDING,
        pending_key=key,
        requested_by=ctx.actor.name,
        requested_at=utcnow(),
        request_id=ctx.request_id,
        reason="value removed from the source records"
        if hold.value is None
        else "value supplied by survivorship from source records",
    )
    if known is not None:
        cr.version = 1  # what the insert will write: the audit entry below shows it
        session.add(cr)  # flushed with the caller's other writes; known answers meanwhile
        known.add(cr)
    elif not add_unique(session, cr):
        # A concurrent transaction raised the same request first: it holds the value.
        winner = session.scalar(select(ChangeRequest.id).where(ChangeRequest.pending_key == key))
        return winner or cr.id
    sink.audits.append(
        audit_row(
            ctx,
            "change_request.opened",
            "change_request",
            cr.id,
            domain=golden.domain,
            after=change_request_dict(cr),
            reason=cr.reason,
        )
    )
    return cr.id


def _supersede(session: Session, request_id: str, known: KnownRequests | None = None) -> None:
    cr = known.by_id.get(request_id) if known is not None else session.get(ChangeRequest,
                                                                            request_id)
    if cr is not None and cr.status == PENDING:
        if known is not None and cr.pending_key:
            known.pending.pop(cr.pending_key, None)
        cr.status, cr.pending_key = SUPERSEDED, None
        cr.decided_at, cr.decision_reason = utcnow(), "superseded by a newer value"
        session.flush()


def add_unique(session: Session, obj: Any) -> bool:
    """Insert ``obj``; False when a unique constraint says another transaction won.

    On PostgreSQL the insert runs in a savepoint so the caller's transaction survives the
    violation. SQLite serialises writers, so there is no race to lose there.
    """
    if session.get_bind().dialect.name != "postgresql":
        session.add(obj)
        session.flush()
        return True
    try:
        with session.begin_nested():
            session.add(obj)
    except IntegrityError:
        return False
    return True


def change_request_dict(cr: ChangeRequest) -> dict[str, Any]:
    return {
        "id": cr.id,
        "domain": cr.domain,
        "golden_id": cr.golden_id,
        "attribute": cr.attribute,
        "value": cr.value,
        "previous": cr.previous,
        "provenance": cr.provenance,
        "origin": cr.origin,
        "status": cr.status,
        "requested_by": cr.requested_by,
        "requested_at": cr.requested_at.isoformat() if cr.requested_at else None,
        "request_id": cr.request_id,
        "reason": cr.reason,
        "decided_by": cr.decided_by,
        "decided_at": cr.decided_at.isoformat() if cr.decided_at else None,
        "decision_reason": cr.decision_reason,
        "version": cr.version,
    }
