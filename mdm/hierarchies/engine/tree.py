"""As-of trees over effective-dated rows: snapshots, dated links, queries and move impact."""
from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from mdm.hierarchies.engine.rows import MAX_PATHS, NodeRow


class Snapshot:
    """The hierarchy as it stands on one date: parent and child links valid that day."""

    def __init__(self, rows: Iterable[NodeRow], at: date):
        self._setup(at)
        self._add((r.key, r.parent, r.name, r.golden_id) for r in rows if r.valid_at(at))

    @classmethod
    def from_links(cls, links: Iterable[tuple[str, str | None, str | None, str | None]],
                   at: date) -> Snapshot:
        """From (node, parent, name, golden_id) tuples already valid on ``at``; the fast
        path for database walks (no NodeRow per link)."""
        snap = cls.__new__(cls)
        snap._setup(at)
        snap._add(links)
        return snap

    def _setup(self, at: date) -> None:
        self.at = at
        self.info: dict[str, tuple[str | None, str | None]] = {}  # node -> (name, golden_id)
        self.parents: dict[str, list[str]] = defaultdict(list)
        self.children: dict[str, list[str]] = defaultdict(list)

    def _add(self, links: Iterable[tuple[str, str | None, str | None, str | None]]) -> None:
        info, parents, children = self.info, self.parents, self.children
        for key, parent, name, golden_id in links:
            if key not in info:
                info[key] = (name, golden_id)
            if parent is not None:
                parents[key].append(parent)
                children[parent].append(key)
        for kids in children.values():
            kids.sort()

    def name(self, key: str) -> str | None:
        return self.info.get(key, (None, None))[0]

    def __contains__(self, key: object) -> bool:
        return key in self.info

    def roots(self) -> list[str]:
        return sorted(k for k in self.info if not self.parents.get(k))

    def children_of(self, key: str) -> list[str]:
        return list(self.children.get(key, ()))

    def parents_of(self, key: str) -> list[str]:
        return sorted(self.parents.get(key, ()))

    def is_leaf(self, key: str) -> bool:
        return not self.children.get(key)

    def ancestors(self, key: str) -> list[str]:
        """Nearest first; each ancestor once even when shared nodes reach it twice."""
        seen = {key}
        out: list[str] = []
        queue = deque(self.parents_of(key))
        while queue:
            node = queue.popleft()
            if node in seen:
                continue
            seen.add(node)
            out.append(node)
            queue.extend(self.parents_of(node))
        return out

    def descendants(self, key: str, max_depth: int | None = None) -> list[tuple[str, int]]:
        """(node, depth below ``key``) in pre-order; cycle-safe."""
        seen = {key}
        out: list[tuple[str, int]] = []
        stack = [(child, 1) for child in reversed(self.children.get(key, ()))]
        while stack:
            node, depth = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            out.append((node, depth))
            if max_depth is None or depth < max_depth:
                stack.extend((c, depth + 1) for c in reversed(self.children.get(node, ())))
        return out

    def leaves(self, key: str) -> list[str]:
        if self.is_leaf(key):
            return [key]
        return [n for n, _ in self.descendants(key) if self.is_leaf(n)]

    def paths(self, key: str) -> list[list[str]]:
        """Every path from a root down to ``key`` (several only for shared nodes)."""
        out: list[list[str]] = []
        stack: list[list[str]] = [[key]]
        while stack and len(out) < MAX_PATHS:
            path = stack.pop()
            parents = self.parents_of(path[-1])
            if not parents:
                out.append(list(reversed(path)))
                continue
            for p in reversed(parents):
                if p not in path:  # a cycle in a draft must not loop forever
                    stack.append([*path, p])
        return out

    def level(self, key: str) -> int:
        """Depth below the nearest root (a root is level 0)."""
        depth, frontier, seen = 0, [key], {key}
        while frontier:
            if any(not self.parents.get(n) for n in frontier):
                return depth
            nxt = [p for n in frontier for p in self.parents.get(n, ()) if p not in seen]
            seen.update(nxt)
            frontier, depth = nxt, depth + 1
        return depth

    def subtree(self, key: str, max_depth: int | None = None) -> dict[str, Any]:
        """Nested ``{node, name, children}``; built iteratively so deep trees cannot overflow."""

        def make(node: str) -> dict[str, Any]:
            return {"node": node, "name": self.name(node), "children": []}

        top = make(key)
        seen = {key}
        stack = [(top, 0)]
        while stack:
            entry, depth = stack.pop()
            if max_depth is not None and depth >= max_depth:
                continue
            for child in self.children.get(entry["node"], ()):
                if child in seen:
                    continue
                seen.add(child)
                sub = make(child)
                entry["children"].append(sub)
                stack.append((sub, depth + 1))
        return top


Link = tuple[str, str | None, str | None, str | None]  # node, parent, name, golden_id
# node, parent, valid_from, valid_to, name, golden_id
DatedRow = tuple[str, str | None, date, date | None, str | None, str | None]


class DatedLinks:
    """Every row of a version as dated links, indexed both ways, for as-of walks in memory.

    Answers what the recursive walks in ``storage`` answer (the same links, de-duplicated
    the same way) with one validity test per link, so a version loaded once serves every
    date. Built from (node, parent, valid_from, valid_to, name, golden_id) rows, which both
    indexes share (no copy per row: a version can have 100,000 of them).
    """

    __slots__ = ("_down", "_own", "size")

    def __init__(self, rows: Iterable[DatedRow]):
        down: dict[str | None, list[DatedRow]] = defaultdict(list)  # parent -> child rows
        own: dict[str, list[DatedRow]] = defaultdict(list)  # node -> its own rows
        size = 0
        for row in rows:
            own[row[0]].append(row)
            down[row[1]].append(row)
            size += 1
        down.pop(None, None)  # roots: nobody's children
        for edges in down.values():
            if len(edges) > 1:
                edges.sort(key=_node_key)  # children in key order, as Snapshot lists them
        self._down, self._own, self.size = dict(down), dict(own), size

    def node(self, key: str, at: date) -> list[Link]:
        """``key``'s rows valid on ``at`` (several only for a shared node)."""
        return [(key, p, name, gid) for _, p, start, end, name, gid in self._own.get(key, ())
                if start <= at and (end is None or end >= at)]

    def children(self, key: str, at: date) -> list[Link]:
        return [(c, key, name, gid) for c, _, start, end, name, gid in self._down.get(key, ())
                if start <= at and (end is None or end >= at)]

    def below(self, key: str, at: date) -> list[Link]:
        """The links below ``key`` valid on ``at`` (each descendant with its parent)."""
        return self._walk(key, at, self._down, down=True)

    def above(self, key: str, at: date) -> list[Link]:
        """``key``'s own rows and its ancestors' rows valid on ``at``."""
        return self._walk(key, at, self._own, down=False)

    def descendants(self, key: str, at: date, max_depth: int | None = None
                    ) -> list[tuple[str, int, str | None, str | None, bool]]:
        """(node, depth, name, golden_id, leaf) below ``key`` on ``at``, in pre-order with
        children by key: ``Snapshot.descendants`` over ``below``, without building the
        snapshot first (the 10,000-node answer is mostly that overhead)."""
        down = self._down

        def valid_children(edges: list[DatedRow], depth: int
                           ) -> list[tuple[str, int, str | None, str | None]]:
            return [(child, depth, name, gid)
                    for child, _, start, end, name, gid in reversed(edges)
                    if start <= at and (end is None or end >= at)]

        out: list[tuple[str, int, str | None, str | None, bool]] = []
        seen = {key}
        stack = valid_children(down.get(key, []), 1)
        while stack:
            node, depth, name, gid = stack.pop()
            if node in seen:  # a shared node (or a draft's cycle) is listed once
                continue
            seen.add(node)
            edges = down.get(node)
            kids = valid_children(edges, depth + 1) if edges else None
            out.append((node, depth, name, gid, not kids))
            if kids and (max_depth is None or depth < max_depth):
                stack += kids  # reversed: the smallest key is popped first
        return out

    def valid(self, at: date) -> list[Link]:
        """Every link valid on ``at``, roots included (parent ``None``)."""
        return [(key, p, name, gid) for edges in self._own.values()
                for key, p, start, end, name, gid in edges
                if start <= at and (end is None or end >= at)]

    @staticmethod
    def _walk(key: str, at: date, index: dict[Any, list[DatedRow]], down: bool) -> list[Link]:
        # breadth first over nodes, following each valid row to its node (going down) or its
        # parent (going up); each link once (a draft may hold a cycle or a duplicate row:
        # the seen sets are what make the walk stop)
        out: dict[Link, None] = {}
        seen = {key}
        frontier = [key]
        while frontier:
            nxt: list[str] = []
            for node in frontier:
                for child, parent, start, end, name, gid in index.get(node, ()):
                    if start <= at and (end is None or end >= at):
                        out[(child, parent, name, gid)] = None
                        other = child if down else parent
                        if other is not None and other not in seen:
                            seen.add(other)
                            nxt.append(other)
            frontier = nxt
        return list(out)


def _node_key(row: DatedRow) -> str:
    return row[0]


class MoveError(ValueError):
    """A planned move that cannot be made: it names no node of the hierarchy."""


class CycleError(MoveError):
    """A planned move that would put a node under itself."""


@dataclass
class MoveImpact:
    node: str
    from_parents: list[str]
    to_parent: str
    descendants: list[str]
    postable: list[str]
    ancestors_losing: list[str]
    ancestors_gaining: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node, "from_parents": self.from_parents, "to_parent": self.to_parent,
            "descendants": self.descendants, "postable": self.postable,
            "ancestors_losing": self.ancestors_losing,
            "ancestors_gaining": self.ancestors_gaining,
        }


def move_impact(snap: Snapshot, key: str, new_parent: str,
                postable: Callable[[str], bool]) -> MoveImpact:
    """What changes roll-up if ``key`` moves under ``new_parent``: the moved subtree, the
    postable accounts in it, and the ancestors that lose or gain them."""
    if key not in snap:
        raise MoveError(f"'{key}' is not in the hierarchy on {snap.at.isoformat()}")
    if new_parent not in snap:
        raise MoveError(f"'{new_parent}' is not in the hierarchy on {snap.at.isoformat()}")
    descendants = [n for n, _ in snap.descendants(key)]
    if new_parent == key or new_parent in set(descendants):
        raise CycleError(f"moving '{key}' under '{new_parent}' would create a cycle")
    before = snap.ancestors(key)
    after = [new_parent, *[a for a in snap.ancestors(new_parent) if a != new_parent]]
    before_set, after_set = set(before), set(after)
    return MoveImpact(
        node=key,
        from_parents=snap.parents_of(key),
        to_parent=new_parent,
        descendants=descendants,
        postable=[n for n in [key, *descendants] if postable(n)],
        ancestors_losing=[a for a in before if a not in after_set],
        ancestors_gaining=[a for a in after if a not in before_set],
    )


