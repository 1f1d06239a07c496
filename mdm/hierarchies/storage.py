"""Reading a version's node rows: all of them, those valid on a date, and recursive walks.

Walks are recursive CTEs filtered by version and date at every step, so a query touches
only the subtree (or the path to the root) it answers about. They use UNION, not UNION ALL:
a draft may hold a cycle, and de-duplication is what makes the walk stop.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from mdm.hierarchies.engine import NodeRow
from mdm.hierarchies.models import HierarchyNode

_node = HierarchyNode.__table__


def _valid(table: Any, at: date) -> ColumnElement[bool]:
    return (table.c.valid_from <= at) & (table.c.valid_to.is_(None) | (table.c.valid_to >= at))


def load_rows(session: Session, version_id: int, at: date | None = None) -> list[NodeRow]:
    """Every node row of a version (or only those valid on ``at``)."""
    n = _node.c
    q = select(n.node_key, n.parent_key, n.valid_from, n.valid_to, n.name, n.attributes,
               n.line, n.golden_id).where(n.version_id == version_id)
    if at is not None:
        q = q.where(_valid(_node, at))
    return [NodeRow(key=r[0], parent=r[1], valid_from=r[2], valid_to=r[3], name=r[4],
                    attributes=r[5] or {}, line=r[6], golden_id=r[7])
            for r in session.execute(q)]


Link = tuple[str, str | None, str | None, str | None]  # node, parent, name, golden_id


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
