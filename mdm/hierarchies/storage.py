"""Reading a version's node rows: all of them, those valid on a date, and walks.

Walks are recursive CTEs filtered by version and date at every step, so a query touches
only the subtree (or the path to the root) it answers about. They use UNION, not UNION ALL:
a draft may hold a cycle, and de-duplication is what makes the walk stop.

Large reads walk an in-process copy of the version's links instead (``graph``): loaded once
per worker and revision, then every date is an adjacency walk in memory. The copy is keyed
by the version's ``revision``, read from the database on every query, and every change to a
version's nodes bumps that counter in the same transaction (``service._touch``), so a worker
never serves links another worker has changed. Read paths only: a use case must not read
through the copy between changing nodes and committing.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date
from typing import Any, Protocol

import orjson
from sqlalchemy import ColumnElement, Select, Text, cast, select
from sqlalchemy.orm import Session

from mdm.hierarchies.engine import DatedLinks, Link, NodeRow
from mdm.hierarchies.models import HierarchyNode, HierarchyVersion

_node = HierarchyNode.__table__


def _valid(table: Any, at: date) -> ColumnElement[bool]:
    return (table.c.valid_from <= at) & (table.c.valid_to.is_(None) | (table.c.valid_to >= at))


def load_rows(session: Session, version_id: int, at: date | None = None) -> list[NodeRow]:
    """Every node row of a version (or only those valid on ``at``)."""
    n = _node.c
    # attributes as JSON text, decoded here: nearly all are "{}", and orjson is cheaper than
    # SQLAlchemy's JSON processing of 100,000 rows
    q = select(n.node_key, n.parent_key, n.valid_from, n.valid_to, n.name,
               cast(n.attributes, Text), n.line, n.golden_id).where(n.version_id == version_id)
    if at is not None:
        q = q.where(_valid(_node, at))
    return [NodeRow(r[0], r[1], r[2], r[3], r[4],
                    orjson.loads(r[5]) if r[5] and r[5] != "{}" else {}, r[6], r[7])
            for r in session.execute(q).all()]


def _links(result: Any) -> list[Link]:
    return [(r[0], r[1], r[2], r[3]) for r in result]


def _columns(table: Any) -> list[Any]:
    return [table.c.node_key, table.c.parent_key, table.c.name, table.c.golden_id]


def node_links(session: Session, version_id: int, key: str, at: date) -> list[Link]:
    """The rows of one node valid on ``at`` (several only for a shared node)."""
    q = select(*_columns(_node)).where(_node.c.version_id == version_id,
                                       _node.c.node_key == key, _valid(_node, at))
    return _links(session.execute(q))


def child_links(session: Session, version_id: int, key: str, at: date) -> list[Link]:
    q = select(*_columns(_node)).where(_node.c.version_id == version_id,
                                       _node.c.parent_key == key, _valid(_node, at))
    return _links(session.execute(q))


def _walk(version_id: int, key: str, at: date, down: bool) -> Select[Any]:
    start = _node.c.parent_key if down else _node.c.node_key
    anchor = select(*_columns(_node)).where(_node.c.version_id == version_id, start == key,
                                            _valid(_node, at))
    cte = anchor.cte("walk", recursive=True)
    step = _node.alias("step")
    link = (step.c.parent_key == cte.c.node_key) if down else (step.c.node_key == cte.c.parent_key)
    cte = cte.union(select(*_columns(step)).where(step.c.version_id == version_id, link,
                                                  _valid(step, at)))
    return select(cte.c.node_key, cte.c.parent_key, cte.c.name, cte.c.golden_id)


def walk_down(session: Session, version_id: int, key: str, at: date) -> list[Link]:
    """The links below ``key`` valid on ``at`` (each descendant with its parent)."""
    return _links(session.execute(_walk(version_id, key, at, down=True)))


def walk_up(session: Session, version_id: int, key: str, at: date) -> list[Link]:
    """``key``'s own rows and its ancestors' rows valid on ``at``."""
    return _links(session.execute(_walk(version_id, key, at, down=False)))


class Links(Protocol):
    """As-of links of one version: from the database walks or from memory."""

    def node(self, key: str, at: date) -> list[Link]: ...
    def children(self, key: str, at: date) -> list[Link]: ...
    def below(self, key: str, at: date) -> list[Link]: ...
    def above(self, key: str, at: date) -> list[Link]: ...


class DatabaseLinks:
    """The recursive walks, for a version not (yet) held in memory."""

    def __init__(self, session: Session, version_id: int):
        self.session, self.version_id = session, version_id

    def node(self, key: str, at: date) -> list[Link]:
        return node_links(self.session, self.version_id, key, at)

    def children(self, key: str, at: date) -> list[Link]:
        return child_links(self.session, self.version_id, key, at)

    def below(self, key: str, at: date) -> list[Link]:
        return walk_down(self.session, self.version_id, key, at)

    def above(self, key: str, at: date) -> list[Link]:
        return walk_up(self.session, self.version_id, key, at)


Stamp = tuple[int, str, int, int]  # version id, hierarchy id, number, revision


class LinkCache:
    """Versions' links in memory, least recently used first out, bounded by link count."""

    def __init__(self, max_links: int):
        self.max_links = max_links
        self._entries: OrderedDict[Stamp, DatedLinks] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, stamp: Stamp) -> DatedLinks | None:
        with self._lock:
            found = self._entries.get(stamp)
            if found is not None:
                self._entries.move_to_end(stamp)
            return found

    def put(self, stamp: Stamp, graph: DatedLinks) -> None:
        if graph.size > self.max_links:
            return
        with self._lock:
            # an older revision of the same version is dead weight now
            for old in [k for k in self._entries if k[:3] == stamp[:3] and k != stamp]:
                del self._entries[old]
            self._entries[stamp] = graph
            self._entries.move_to_end(stamp)
            while sum(g.size for g in self._entries.values()) > self.max_links:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# a 100,000-node version takes some tens of MB; a handful of large versions per worker
CACHE = LinkCache(max_links=1_000_000)


def stamp(session: Session, version_id: int) -> Stamp | None:
    """What identifies a version's content: one primary-key read, on every query. The
    hierarchy id (a UUID) keeps a recreated database's version ids from matching."""
    v = HierarchyVersion.__table__.c
    row = session.execute(select(v.hierarchy_id, v.number, v.revision)
                          .where(v.id == version_id)).first()
    return None if row is None else (version_id, row[0], row[1], row[2])


def graph(session: Session, version_id: int) -> DatedLinks:
    """The version's links in memory: this worker's copy of the current revision, else
    loaded (one read of the version's rows, without their attributes) and kept."""
    current = stamp(session, version_id)
    held = CACHE.get(current) if current is not None else None
    if held is not None:
        return held
    n = _node.c
    loaded = DatedLinks(session.execute(
        select(n.node_key, n.parent_key, n.valid_from, n.valid_to, n.name, n.golden_id)
        .where(n.version_id == version_id)).all())  # all(): one fetch, not one per row
    # keep it only if no change was committed while it was read (under READ COMMITTED
    # each statement sees its own snapshot)
    if current is not None and stamp(session, version_id) == current:
        CACHE.put(current, loaded)
    return loaded


def links(session: Session, version_id: int) -> Links:
    """For small reads: the copy in memory when this worker holds the current revision,
    else the recursive walks (a cold version is not loaded whole for one node's parents)."""
    current = stamp(session, version_id)
    held = CACHE.get(current) if current is not None else None
    return held if held is not None else DatabaseLinks(session, version_id)
