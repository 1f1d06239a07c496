"""Hierarchy use cases: create, import a version, plan moves, validate, and the version
lifecycle (draft -> submitted -> approved by a second steward -> published -> archived).

Every use case does its writes (nodes, audit entries, the publication event) and commits
once; a failure leaves nothing behind.
"""
from __future__ import annotations

import contextlib
import gc
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from mdm.audit.service import audit
from mdm.context import RequestContext
from mdm.db import new_id, utcnow
from mdm.domains.registry import DomainRegistry
from mdm.errors import (
    AlreadyExists,
    DomainMismatch,
    Forbidden,
    NotFound,
    NothingToChange,
    ValidationFailed,
    WouldCreateCycle,
    WrongState,
)
from mdm.events.service import emit
from mdm.hierarchies import formats
from mdm.hierarchies.engine import (
    ONE_DAY,
    NodeRow,
    RecordFacts,
    Subject,
    ValidationResult,
    validate,
)
from mdm.hierarchies.models import (
    APPROVED,
    ARCHIVED,
    DRAFT,
    HIERARCHY_DOMAINS,
    HIERARCHY_KINDS,
    PUBLISHED,
    SUBMITTED,
    Hierarchy,
    HierarchyNode,
    HierarchyVersion,
)
from mdm.hierarchies.resolve import resolve
from mdm.hierarchies.storage import load_rows, walk_down

INSERT_BATCH = 10_000
NODES = cast(Table, HierarchyNode.__table__)  # a mapped class's __table__ is typed FromClause
PUBLISHED_EVENT = "hierarchy_published"
MAX_REPORTED = 50  # violations per rule in a refusal's error body

# action -> (statuses it starts from, status it ends in)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": ((DRAFT,), SUBMITTED),
    "reject": ((SUBMITTED,), DRAFT),
    "approve": ((SUBMITTED,), APPROVED),
    "publish": ((APPROVED,), PUBLISHED),
    "archive": ((DRAFT, SUBMITTED, APPROVED, PUBLISHED), ARCHIVED),
}


def actor_identity(ctx: RequestContext) -> str:
    """Who acted, for the four-eyes rule: the API key, else the operator's name."""
    return f"key:{ctx.actor.key_id}" if ctx.actor.key_id else ctx.actor.name


# --- hierarchies -----------------------------------------------------------------------------


def get_hierarchy(session: Session, name: str) -> Hierarchy:
    h = session.scalar(select(Hierarchy).where(Hierarchy.name == name))
    if h is None:
        raise NotFound(f"No hierarchy '{name}'")
    return h


def list_hierarchies(session: Session, domain: str | None = None) -> list[Hierarchy]:
    q = select(Hierarchy).order_by(Hierarchy.name)
    if domain:
        q = q.where(Hierarchy.domain == domain)
    return list(session.scalars(q))


def _new_hierarchy(session: Session, registry: DomainRegistry, ctx: RequestContext, *,
                   name: str, domain: str, kind: str = "standard",
                   allow_shared: bool | None = None, chart: str | None = None,
                   legal_entity_code: str | None = None, description: str = "") -> Hierarchy:
    errors: dict[str, list[str]] = {}
    if domain not in HIERARCHY_DOMAINS:
        errors["domain"] = [f"One of {', '.join(HIERARCHY_DOMAINS)}."]
    else:
        registry.get(domain)
    if kind not in HIERARCHY_KINDS:
        errors["kind"] = [f"One of {', '.join(HIERARCHY_KINDS)}."]
    if domain == "gl_account" and not chart:
        errors["chart"] = ["A gl_account hierarchy names its chart of accounts."]
    if chart and domain != "gl_account":
        errors["chart"] = ["Only gl_account hierarchies have a chart."]
    if legal_entity_code and domain != "cost_center":
        errors["legal_entity_code"] = ["Only cost_center hierarchies belong to a legal entity."]
    if kind == "ownership" and domain != "legal_entity":
        errors["kind"] = ["Ownership hierarchies are legal_entity hierarchies."]
    if errors:
        raise ValidationFailed("The hierarchy is not valid.", errors=errors)
    if session.scalar(select(Hierarchy.id).where(Hierarchy.name == name)):
        raise AlreadyExists(f"A hierarchy '{name}' already exists")
    h = Hierarchy(id=new_id(), name=name, domain=domain, kind=kind,
                  # an entity may have several owners, so ownership structures share nodes
                  allow_shared=bool(allow_shared) or kind == "ownership",
                  chart=chart or None, legal_entity_code=legal_entity_code or None,
                  description=description or "", created_by=ctx.actor.name,
                  created_at=utcnow())
    session.add(h)
    session.flush()
    audit(session, ctx, "hierarchy.create", "hierarchy", h.name, domain=domain,
          after=hierarchy_dict(h))
    return h


def create_hierarchy(session: Session, registry: DomainRegistry, ctx: RequestContext,
                     **fields: Any) -> Hierarchy:
    h = _new_hierarchy(session, registry, ctx, **fields)
    session.commit()
    return h


def hierarchy_dict(h: Hierarchy) -> dict[str, Any]:
    return {"id": h.id, "name": h.name, "domain": h.domain, "kind": h.kind,
            "allow_shared": h.allow_shared, "chart": h.chart,
            "legal_entity_code": h.legal_entity_code, "description": h.description,
            "created_by": h.created_by, "created_at": h.created_at.isoformat()}


# --- versions --------------------------------------------------------------------------------


def list_versions(session: Session, h: Hierarchy) -> list[HierarchyVersion]:
    return list(session.scalars(select(HierarchyVersion)
                                .where(HierarchyVersion.hierarchy_id == h.id)
                                .order_by(HierarchyVersion.number)))


def get_version(session: Session, h: Hierarchy, number: int) -> HierarchyVersion:
    v = session.scalar(select(HierarchyVersion).where(HierarchyVersion.hierarchy_id == h.id,
                                                      HierarchyVersion.number == number))
    if v is None:
        raise NotFound(f"Hierarchy '{h.name}' has no version {number}")
    return v


def published_version(session: Session, h: Hierarchy) -> HierarchyVersion | None:
    return session.scalar(select(HierarchyVersion).where(
        HierarchyVersion.hierarchy_id == h.id, HierarchyVersion.status == PUBLISHED))


def version_for_reading(session: Session, h: Hierarchy, number: int | None) -> HierarchyVersion:
    """The version asked for, or else the published one."""
    if number is not None:
        return get_version(session, h, number)
    v = published_version(session, h)
    if v is None:
        raise NotFound(f"Hierarchy '{h.name}' has no published version; ask for one by number",
                       errors={"version": ["No published version."]})
    return v


def version_dict(h: Hierarchy, v: HierarchyVersion) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {"hierarchy": h.name, "domain": h.domain, "number": v.number, "status": v.status,
            "based_on": v.based_on, "note": v.note, "node_count": v.node_count,
            "authors": list(v.authors or []), "created_by": v.created_by,
            "created_at": iso(v.created_at), "submitted_by": v.submitted_by,
            "submitted_at": iso(v.submitted_at), "approved_by": v.approved_by,
            "approved_at": iso(v.approved_at), "published_by": v.published_by,
            "published_at": iso(v.published_at), "archived_at": iso(v.archived_at)}


@dataclass
class ImportOutcome:
    hierarchy: Hierarchy
    version: HierarchyVersion
    validation: ValidationResult


def _subject(session: Session, h: Hierarchy, rows: list[NodeRow],
             records: dict[str, RecordFacts] | None = None) -> Subject:
    if records is None:
        records = resolve(session, h.domain, {r.key for r in rows}, h.chart)
    entities: dict[str, RecordFacts] = {}
    if h.domain == "cost_center":
        codes = {f.text("legal_entity_code") for f in records.values()}
        codes.add(h.legal_entity_code)
        entities = resolve(session, "legal_entity", {c for c in codes if c})
    chart = h.chart

    def label(key: str) -> str:
        return f"with chart '{chart}' and code '{key}'" if chart else f"with code '{key}'"

    return Subject(domain=h.domain, rows=rows, allow_shared=h.allow_shared, kind=h.kind,
                   records=records, entities=entities, legal_entity_code=h.legal_entity_code,
                   label=label)


NODE_COLUMNS = ("version_id", "node_key", "parent_key", "golden_id", "name", "valid_from",
                "valid_to", "attributes", "line")


def _insert_rows(session: Session, version: HierarchyVersion, rows: list[NodeRow],
                 records: dict[str, RecordFacts]) -> None:
    """Bulk-insert a version's rows: COPY on PostgreSQL, executemany elsewhere.

    Values are converted by the columns' own bind processors (exactly what an ORM or Core
    insert would store) but without Core building a parameter dict per row, which cost more
    than the insert itself at 100,000 rows.
    """
    conn = session.connection()
    dialect = conn.dialect

    def processor(column: str) -> Any:
        return NODES.c[column].type.dialect_impl(dialect).bind_processor(dialect) or _same

    # a file has few distinct dates and mostly empty attributes: convert each once
    days, to_json, vid = _Converted(processor("valid_from")), processor("attributes"), version.id
    days[None] = None
    empty = to_json({})
    values = ((vid, r.key, r.parent, f.golden_id if (f := records.get(r.key)) else None,
               r.name, days[r.valid_from], days[r.valid_to],
               to_json(r.attributes) if r.attributes else empty, r.line) for r in rows)
    names = ", ".join(NODE_COLUMNS)
    if dialect.name == "postgresql":
        # COPY streams the rows in one statement: several times faster than INSERTs
        driver = conn.connection.driver_connection
        # only psycopg 3 (the PostgreSQL driver the hub uses) has cursor.copy
        with driver.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
                f"COPY {NODES.name} ({names}) FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
        return
    # SQLite (the other supported database): executemany in batches
    sql = (f"INSERT INTO {NODES.name} ({names}) "
           f"VALUES ({', '.join('?' * len(NODE_COLUMNS))})")
    while batch := list(itertools.islice(values, INSERT_BATCH)):
        # executemany: a list of row tuples, which the stub's parameter type does not name
        conn.exec_driver_sql(sql, batch)  # type: ignore[arg-type]


def _same(value: Any) -> Any:
    return value


class _Converted(dict[Any, Any]):
    """value -> ``convert(value)``, computed on first use."""

    def __init__(self, convert: Any):
        super().__init__()
        self.convert = convert

    def __missing__(self, value: Any) -> Any:
        self[value] = converted = self.convert(value)
        return converted


def _touch(version: HierarchyVersion, ctx: RequestContext) -> None:
    """Record an author; the version row always changes with its nodes, so two stewards
    editing one draft at once conflict (optimistic concurrency on ``revision``) and every
    worker's in-memory copy of the links goes stale (``storage.graph``)."""
    who = actor_identity(ctx)
    if who not in (version.authors or []):
        version.authors = [*(version.authors or []), who]
    flag_modified(version, "authors")


def _next_number(session: Session, h: Hierarchy) -> int:
    last = session.scalar(select(func.max(HierarchyVersion.number))
                          .where(HierarchyVersion.hierarchy_id == h.id))
    return (last or 0) + 1


def _add_version(session: Session, h: Hierarchy, ctx: RequestContext, *, based_on: int | None,
                 note: str) -> HierarchyVersion:
    v = HierarchyVersion(hierarchy_id=h.id, number=_next_number(session, h), status=DRAFT,
                         based_on=based_on, note=note or "", node_count=0,
                         authors=[actor_identity(ctx)], created_by=ctx.actor.name,
                         created_at=utcnow())
    session.add(v)
    session.flush()
    return v


@contextlib.contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while a whole hierarchy is parsed, stored or
    validated: its hundreds of thousands of short-lived, acyclic objects (rows, tuples,
    dicts) set off full collections that find nothing and cost a fifth of a 100,000-node
    import. Reference counting still frees them; the collector resumes afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_bulk()
def _fill(session: Session, h: Hierarchy, v: HierarchyVersion,
          rows: list[NodeRow]) -> ValidationResult:
    """Store a whole hierarchy's rows in a draft and validate them (one golden lookup)."""
    records = resolve(session, h.domain, {r.key for r in rows}, h.chart)
    _insert_rows(session, v, rows, records)
    v.node_count = len({r.key for r in rows})
    return validate(_subject(session, h, rows, records))


def _audit_version(session: Session, ctx: RequestContext, action: str, h: Hierarchy,
                   v: HierarchyVersion, *, before: dict[str, Any] | None = None,
                   after: dict[str, Any] | None = None, reason: str | None = None) -> None:
    audit(session, ctx, f"hierarchy.{action}", "hierarchy_version", f"{h.name}/{v.number}",
          domain=h.domain, before=before, after=after, reason=reason)


@_bulk()
def parse(h_domain: str, registry: DomainRegistry, text: str, fmt: str) -> list[NodeRow]:
    """A whole hierarchy file -> rows; every bad line is reported, nothing is applied."""
    try:
        if fmt == "csv":
            # columns that are golden-record attributes of the domain belong to the records
            # (a chart-of-accounts load file doubles as its hierarchy file)
            names = {a.name for a in registry.get(h_domain).attributes}
            ignore = (names | {"source_id", "active"}) - set(formats.ALIASES)
            return formats.parse_csv(text, ignore)
        if fmt == "json":
            return formats.loads_json(text)
    except formats.ParseFailed as exc:
        raise ValidationFailed("The hierarchy file has errors; nothing was imported.",
                               errors=exc.errors) from None
    raise ValidationFailed("Unknown format", errors={"format": ["csv or json"]})


@_bulk()
def parse_nodes(nodes: Any) -> list[NodeRow]:
    try:
        return formats.parse_json(nodes)
    except formats.ParseFailed as exc:
        raise ValidationFailed("The nodes have errors; nothing was imported.",
                               errors=exc.errors) from None


def create_version(session: Session, ctx: RequestContext, h: Hierarchy, *,
                   rows: list[NodeRow] | None = None, copy_of: int | None = None,
                   note: str = "") -> ImportOutcome:
    """A new draft: the given rows (an import), or a copy of a version (default: published)."""
    if rows is not None:
        v = _add_version(session, h, ctx, based_on=None, note=note)
        result = _fill(session, h, v, rows)
        action = "import"
    else:
        base = version_for_reading(session, h, copy_of)
        v = _add_version(session, h, ctx, based_on=base.number, note=note)
        n = NODES.c
        cols = ["version_id", "node_key", "parent_key", "golden_id", "name", "valid_from",
                "valid_to", "attributes", "line"]
        session.execute(insert(NODES).from_select(
            cols, select(literal(v.id), n.node_key, n.parent_key, n.golden_id, n.name,
                         n.valid_from, n.valid_to, n.attributes, n.line)
            .where(n.version_id == base.id)))
        v.node_count = base.node_count
        result = validate(_subject(session, h, load_rows(session, v.id)))
        action = "copy"
    _audit_version(session, ctx, f"version.{action}", h, v,
                   after={**version_dict(h, v), "violations": len(result.violations)})
    session.commit()
    return ImportOutcome(h, v, result)


def import_file(session: Session, registry: DomainRegistry, ctx: RequestContext, name: str,
                text: str, fmt: str, *, domain: str | None = None,
                **options: Any) -> ImportOutcome:
    """Import a whole hierarchy file as a new draft, creating the hierarchy if needed."""
    h = session.scalar(select(Hierarchy).where(Hierarchy.name == name))
    if h is None:
        if not domain:
            raise ValidationFailed(f"No hierarchy '{name}' yet: give its domain to create it",
                                   errors={"domain": ["Required for a new hierarchy."]})
        rows = parse(domain, registry, text, fmt)
        h = _new_hierarchy(session, registry, ctx, name=name, domain=domain, **options)
    else:
        if domain and domain != h.domain:
            raise DomainMismatch(f"Hierarchy '{name}' is a {h.domain} hierarchy, not {domain}")
        rows = parse(h.domain, registry, text, fmt)
    return create_version(session, ctx, h, rows=rows)


def _draft(session: Session, h: Hierarchy, number: int) -> HierarchyVersion:
    v = get_version(session, h, number)
    if v.status != DRAFT:
        raise WrongState(f"Version {number} of '{h.name}' is {v.status}; only drafts change")
    return v


def replace_nodes(session: Session, ctx: RequestContext, h: Hierarchy, number: int,
                  rows: list[NodeRow]) -> ImportOutcome:
    v = _draft(session, h, number)
    before = v.node_count
    session.execute(delete(HierarchyNode).where(HierarchyNode.version_id == v.id))
    result = _fill(session, h, v, rows)
    _touch(v, ctx)
    _audit_version(session, ctx, "version.replace", h, v, before={"node_count": before},
                   after={"node_count": v.node_count, "violations": len(result.violations)})
    session.commit()
    return ImportOutcome(h, v, result)


def plan_move(session: Session, ctx: RequestContext, h: Hierarchy, number: int, *, node: str,
              new_parent: str, effective_from: date, from_parent: str | None = None,
              reason: str | None = None) -> HierarchyVersion:
    """Move ``node`` under ``new_parent`` from ``effective_from`` on, in a draft.

    The node's period that contains the date is split: the old parent keeps the days before,
    the new parent gets the rest. Today's view is untouched when the date lies ahead.
    """
    v = _draft(session, h, number)
    rows = list(session.scalars(select(HierarchyNode).where(
        HierarchyNode.version_id == v.id, HierarchyNode.node_key == node)))
    current = [r for r in rows if r.valid_from <= effective_from
               and (r.valid_to is None or r.valid_to >= effective_from)]
    if from_parent is not None:
        current = [r for r in current if r.parent_key == from_parent]
    if not current:
        raise ValidationFailed(f"'{node}' is not in version {number} on {effective_from}",
                               errors={"node": ["Not in the hierarchy on that date."]})
    if len(current) > 1:
        raise ValidationFailed(f"'{node}' has several parents on {effective_from}",
                               errors={"from_parent": ["Say which parent the node leaves."]})
    parent_there = session.scalar(select(HierarchyNode.id).where(
        HierarchyNode.version_id == v.id, HierarchyNode.node_key == new_parent,
        HierarchyNode.valid_from <= effective_from,
        (HierarchyNode.valid_to.is_(None)) | (HierarchyNode.valid_to >= effective_from)).limit(1))
    if parent_there is None:
        raise ValidationFailed(f"'{new_parent}' is not in version {number} on {effective_from}",
                               errors={"new_parent": ["Not in the hierarchy on that date."]})
    row = current[0]
    if row.parent_key == new_parent:
        raise NothingToChange(f"'{node}' is already under '{new_parent}' on {effective_from}")
    below = {link[0] for link in walk_down(session, v.id, node, effective_from)}
    if new_parent == node or new_parent in below:
        raise WouldCreateCycle(f"Moving '{node}' under '{new_parent}' would create a cycle")
    before = {"parent": row.parent_key, "valid_from": row.valid_from.isoformat(),
              "valid_to": row.valid_to.isoformat() if row.valid_to else None}
    if row.valid_from == effective_from:
        row.parent_key = new_parent
    else:
        session.add(HierarchyNode(
            version_id=v.id, node_key=node, parent_key=new_parent, golden_id=row.golden_id,
            name=row.name, valid_from=effective_from, valid_to=row.valid_to,
            attributes=dict(row.attributes or {}), line=None))
        row.valid_to = effective_from - ONE_DAY
    _touch(v, ctx)
    session.flush()
    _audit_version(session, ctx, "version.move", h, v, before={"node": node, **before},
                   after={"node": node, "parent": new_parent,
                          "effective_from": effective_from.isoformat()}, reason=reason)
    session.commit()
    return v


@_bulk()
def validate_version(session: Session, h: Hierarchy, number: int) -> ValidationResult:
    v = get_version(session, h, number)
    return validate(_subject(session, h, load_rows(session, v.id)))


def refusal(result: ValidationResult) -> dict[str, list[str]]:
    """Violations grouped by rule, for an error body."""
    out: dict[str, list[str]] = {}
    for viol in result.violations:
        bucket = out.setdefault(str(viol.rule), [])
        if len(bucket) < MAX_REPORTED:
            where = f" (line {viol.line})" if viol.line else ""
            bucket.append(f"{viol.node}: {viol.message}{where}")
    return out


def transition(session: Session, ctx: RequestContext, h: Hierarchy, number: int, action: str,
               reason: str | None = None) -> HierarchyVersion:
    """Move a version along its lifecycle (see ``TRANSITIONS``)."""
    starts, target = TRANSITIONS[action]
    v = get_version(session, h, number)
    if v.status not in starts:
        raise WrongState(f"Cannot {action} version {number} of '{h.name}': it is {v.status}",
                         errors={"status": [f"{action} needs {' or '.join(starts)}."]})
    before = {"status": v.status}
    now = utcnow()
    who = actor_identity(ctx)
    if action == "submit":
        result = validate(_subject(session, h, load_rows(session, v.id)))
        if not result.valid:
            raise ValidationFailed(
                f"Version {number} of '{h.name}' has {len(result.violations)} violation(s) "
                "and cannot be submitted", errors=refusal(result))
        _touch(v, ctx)
        v.submitted_by, v.submitted_at = ctx.actor.name, now
    elif action == "approve":
        if who in (v.authors or []):
            raise Forbidden("A version is approved by a second steward, not by its author or "
                            "submitter", errors={"approver": [f"{ctx.actor.name} edited or "
                                                              "submitted this version."]})
        v.approved_by, v.approved_at = ctx.actor.name, now
    elif action == "reject":
        v.submitted_by = v.submitted_at = None
    elif action == "publish":
        previous = published_version(session, h)
        if previous is not None:
            previous.status, previous.archived_at = ARCHIVED, now
            _audit_version(session, ctx, "version.archive", h, previous,
                           before={"status": PUBLISHED}, after={"status": ARCHIVED},
                           reason=f"superseded by version {number}")
        v.published_by, v.published_at = ctx.actor.name, now
    elif action == "archive":
        v.archived_at = now
    v.status = target
    session.flush()
    if action == "publish":
        summary = version_dict(h, v)
        emit(session, ctx, domain=h.domain, golden_id=h.id, golden_version=v.number,
             type=PUBLISHED_EVENT, snapshot=summary,
             extra={"hierarchy": hierarchy_dict(h), "superseded": previous.number
                    if previous is not None else None})
    _audit_version(session, ctx, f"version.{action}", h, v, before=before,
                   after={"status": target}, reason=reason)
    session.commit()
    return v
