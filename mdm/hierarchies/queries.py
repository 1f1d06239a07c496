"""As-of reads of a hierarchy version: node, children, ancestors, descendants, paths, subtree,
leaves, level, the impact of a move, version diffs and exports.

Every read names a version (default: the published one) and a date (default: today).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from mdm.db import utcnow
from mdm.errors import NotFound, NotInHierarchy, WouldCreateCycle, WrongState
from mdm.hierarchies import engine, service, storage
from mdm.hierarchies.engine import NodeRow, Snapshot
from mdm.hierarchies.models import PUBLISHED, Hierarchy, HierarchyVersion
from mdm.hierarchies.resolve import resolve


@dataclass
class View:
    hierarchy: Hierarchy
    version: HierarchyVersion
    at: date

    def meta(self) -> dict[str, Any]:
        return {"hierarchy": self.hierarchy.name, "version": self.version.number,
                "status": self.version.status, "as_of": self.at.isoformat()}


def open_view(session: Session, name: str, version: int | None = None,
              at: date | None = None) -> View:
    h = service.get_hierarchy(session, name)
    return View(h, service.version_for_reading(session, h, version), at or utcnow().date())


def _item(snap: Snapshot, key: str) -> dict[str, Any]:
    name, golden_id = snap.info.get(key, (None, None))
    return {"node": key, "name": name, "golden_id": golden_id}


def _require(links: storage.Links, view: View, key: str) -> list[storage.Link]:
    rows = links.node(key, view.at)
    if not rows:
        raise NotFound(f"'{key}' is not in '{view.hierarchy.name}' version "
                       f"{view.version.number} on {view.at.isoformat()}")
    return rows


def _upward(links: storage.Links, view: View, key: str) -> Snapshot:
    _require(links, view, key)
    return Snapshot.from_links(links.above(key, view.at), view.at)


def _downward(session: Session, view: View, key: str) -> Snapshot:
    # a subtree can be most of the version: walk it in memory
    links = storage.graph(session, view.version.id)
    own = _require(links, view, key)
    return Snapshot.from_links(own[:1] + links.below(key, view.at), view.at)


def node(session: Session, view: View, key: str) -> dict[str, Any]:
    links = storage.links(session, view.version.id)
    up = _upward(links, view, key)
    kids = links.children(key, view.at)
    return {**view.meta(), **_item(up, key), "parents": up.parents_of(key),
            "level": up.level(key), "leaf": not kids, "children": len({k[0] for k in kids})}


def children(session: Session, view: View, key: str) -> dict[str, Any]:
    links = storage.links(session, view.version.id)
    _require(links, view, key)
    kids = Snapshot.from_links(links.children(key, view.at), view.at)
    return {**view.meta(), "node": key, "items": [_item(kids, k) for k in sorted(kids.info)]}


def ancestors(session: Session, view: View, key: str) -> dict[str, Any]:
    up = _upward(storage.links(session, view.version.id), view, key)
    return {**view.meta(), "node": key,
            "items": [_item(up, a) for a in up.ancestors(key)]}


def paths(session: Session, view: View, key: str) -> dict[str, Any]:
    up = _upward(storage.links(session, view.version.id), view, key)
    return {**view.meta(), "node": key, "level": up.level(key),
            "paths": [[_item(up, n) for n in p] for p in up.paths(key)]}


def descendants(session: Session, view: View, key: str,
                max_depth: int | None = None) -> dict[str, Any]:
    links = storage.graph(session, view.version.id)
    _require(links, view, key)
    items = [{"node": n, "name": name, "golden_id": gid, "depth": depth, "leaf": leaf}
             for n, depth, name, gid, leaf in links.descendants(key, view.at, max_depth)]
    return {**view.meta(), "node": key, "count": len(items), "items": items}


def subtree(session: Session, view: View, key: str,
            max_depth: int | None = None) -> dict[str, Any]:
    down = _downward(session, view, key)
    return {**view.meta(), "tree": down.subtree(key, max_depth)}


def leaves(session: Session, view: View, key: str) -> dict[str, Any]:
    down = _downward(session, view, key)
    found = down.leaves(key)
    return {**view.meta(), "node": key, "count": len(found),
            "items": [_item(down, n) for n in found]}


def roots(session: Session, view: View) -> dict[str, Any]:
    snap = Snapshot.from_links(storage.graph(session, view.version.id).valid(view.at), view.at)
    return {**view.meta(), "node": None,
            "items": [_item(snap, r) for r in snap.roots()]}


def move_impact(session: Session, view: View, key: str, new_parent: str) -> dict[str, Any]:
    """Which descendants and which postable accounts change roll-up if ``key`` moves."""
    at = view.at
    links = storage.graph(session, view.version.id)
    _require(links, view, key)
    _require(links, view, new_parent)
    rows = links.above(key, at) + links.below(key, at) + links.above(new_parent, at)
    snap = Snapshot.from_links(rows, at)
    h = view.hierarchy
    if h.domain == "gl_account":
        moved = {key, *(n for n, _ in snap.descendants(key))}
        facts = resolve(session, h.domain, moved, h.chart)

        def postable(n: str) -> bool:
            f = facts.get(n)
            return bool(f and f.attributes.get("posting_allowed") is True)
    else:
        def postable(n: str) -> bool:  # cost centers and entities: costs sit on the leaves
            return snap.is_leaf(n)
    try:
        impact = engine.move_impact(snap, key, new_parent, postable)
    except engine.CycleError as exc:
        raise WouldCreateCycle(str(exc)) from None
    except engine.MoveError as exc:
        raise NotInHierarchy(str(exc)) from None
    return {**view.meta(), **impact.to_dict()}


def diff(session: Session, name: str, number: int, against: int | None = None,
         at: date | None = None) -> dict[str, Any]:
    """What version ``number`` changes against ``against`` (default: the published one)."""
    h = service.get_hierarchy(session, name)
    new = service.get_version(session, h, number)
    base = service.version_for_reading(session, h, against)
    result = engine.diff(storage.load_rows(session, base.id),
                         storage.load_rows(session, new.id), at)
    counts = {k: len(v) for k, v in result.to_dict().items()}
    return {"hierarchy": h.name, "version": new.number, "against": base.number,
            "as_of": at.isoformat() if at else None, "counts": counts, **result.to_dict()}


def export(session: Session, name: str, number: int | None = None,
           at: date | None = None) -> tuple[dict[str, Any], list[NodeRow]]:
    """A published version's rows (every period, or those valid on ``at``) for ERPs."""
    h = service.get_hierarchy(session, name)
    v = service.version_for_reading(session, h, number)
    if v.status != PUBLISHED:
        raise WrongState(f"Version {v.number} of '{name}' is {v.status}; only the published "
                       "version is exported", errors={"version": ["Not published."]})
    meta = {"hierarchy": h.name, "domain": h.domain, "kind": h.kind, "chart": h.chart,
            "legal_entity_code": h.legal_entity_code, "version": v.number,
            "as_of": at.isoformat() if at else None,
            "published_at": v.published_at.isoformat() if v.published_at else None}
    return meta, storage.load_rows(session, v.id, at)
