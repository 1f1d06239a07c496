"""Clustering scored pairs into entities without chaining.

Plain connected components merge A and C whenever A~B and B~C, even if A and C are two
different legal entities. Here auto-merge edges are applied strongest first and a
merge of two clusters is refused when any cross pair conflicts: a not-a-match
constraint, a deterministic non-match rule, or evidence far below the threshold.
Refused and between-threshold edges become review groups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ClusterOutcome", "Constraints", "cluster_edges"]

Conflict = Callable[[int, int], str | None]


@dataclass
class Constraints:
    """Hard not-a-match pairs (record ids), as recorded by data stewards."""

    not_a_match: set[frozenset[str]] = field(default_factory=set)

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]] | Constraints | None) -> Constraints:
        if isinstance(pairs, Constraints):
            return pairs
        return cls({frozenset(p) for p in pairs or ()})

    def forbids(self, a: str, b: str) -> bool:
        return frozenset((a, b)) in self.not_a_match


@dataclass
class ClusterOutcome:
    clusters: list[list[int]]                       # every node in exactly one cluster
    review: list[tuple[list[int], list[tuple[int, int, float, str]]]]
    blocked: dict[tuple[int, int], str]             # auto edges refused, and why


def cluster_edges(
    n: int,
    left: np.ndarray,
    right: np.ndarray,
    weight: np.ndarray,
    *,
    auto_weight: float,
    conflict: Conflict,
    max_cross_checks: int = 250_000,
    edges_are_consistent: bool = False,
) -> ClusterOutcome:
    """Cluster ``n`` nodes given edges at or above the review weight.

    ``conflict(i, j)`` must include not-a-match constraints; it is only called for
    pairs that would end up in one cluster. ``edges_are_consistent`` says an auto-merge
    edge can never conflict itself (not-a-match pairs were removed and the conflict
    evidence level lies below the auto-merge weight), so joining two single records
    along one needs no check.
    """
    root = _components(n, left, right)
    by_component: dict[int, list[int]] = defaultdict(list)
    for e, i in enumerate(left.tolist()):
        by_component[root[i]].append(e)

    cluster_of = list(range(n))
    members: dict[int, list[int]] = {}
    blocked: dict[tuple[int, int], str] = {}
    review: list[tuple[list[int], list[tuple[int, int, float, str]]]] = []
    lw, rw, ww = left.tolist(), right.tolist(), weight.tolist()

    for edge_ids in by_component.values():
        edge_ids.sort(key=lambda e: -ww[e])
        for e in edge_ids:
            if ww[e] < auto_weight:
                break
            i, j = lw[e], rw[e]
            ci, cj = cluster_of[i], cluster_of[j]
            if ci == cj:
                continue
            mi = members.get(ci, [i])
            mj = members.get(cj, [j])
            # Two single records: the edge itself is the only cross pair.
            trusted = edges_are_consistent and len(mi) == len(mj) == 1
            reason = None if trusted else _cross_conflict(
                mi, mj, conflict, max_cross_checks)
            if reason is not None:
                blocked[(i, j)] = reason
                continue
            # Relabel the smaller side so total relabelling stays O(n log n).
            if len(mi) < len(mj):
                ci, cj, mi, mj = cj, ci, mj, mi
            members[ci] = [*mi, *mj]
            members.pop(cj, None)
            for node in mj:
                cluster_of[node] = ci
        review.extend(_review_groups(edge_ids, lw, rw, ww, cluster_of, members,
                                     auto_weight, blocked))

    seen: set[int] = set()
    clusters: list[list[int]] = []
    for node in range(n):
        c = cluster_of[node]
        if c in seen:
            continue
        seen.add(c)
        clusters.append(sorted(members.get(c, [node])))
    return ClusterOutcome(clusters, review, blocked)


def _components(n: int, left: np.ndarray, right: np.ndarray) -> list[int]:
    """Connected-component root of every node (union-find with path halving)."""
    parent = list(range(n))
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        while parent[j] != j:
            parent[j] = parent[parent[j]]
            j = parent[j]
        if i != j:
            parent[max(i, j)] = min(i, j)
    for k in range(n):
        parent[k] = parent[parent[k]]  # roots have smaller ids: one pass settles them
    return parent


def _cross_conflict(
    mi: Sequence[int], mj: Sequence[int], conflict: Conflict, cap: int
) -> str | None:
    if len(mi) * len(mj) > cap:
        # Checking every pair would be too slow and a cluster this big is suspect
        # anyway: leave it to a steward.
        return "cluster_too_large"
    for x in mi:
        for y in mj:
            reason = conflict(x, y)
            if reason is not None:
                return reason
    return None


def _review_groups(
    edge_ids: list[int], lw: list[int], rw: list[int], ww: list[float],
    cluster_of: list[int], members: dict[int, list[int]], auto_weight: float,
    blocked: dict[tuple[int, int], str],
) -> list[tuple[list[int], list[tuple[int, int, float, str]]]]:
    """Edges left between clusters, grouped so a steward sees them together."""
    if all(cluster_of[lw[e]] == cluster_of[rw[e]] for e in edge_ids):
        return []
    # Imported here, not with the module: every `mdm` command loads this module (through
    # the ingestion linker) and networkx alone took a third of the command's start-up.
    import networkx as nx

    graph = nx.Graph()
    for e in edge_ids:
        i, j = lw[e], rw[e]
        ci, cj = cluster_of[i], cluster_of[j]
        if ci == cj:
            continue
        why = blocked.get((i, j)) or ("between_thresholds" if ww[e] < auto_weight else
                                      "not_merged")
        graph.add_edge(ci, cj)
        graph.edges[ci, cj].setdefault("pairs", []).append((i, j, ww[e], why))
    groups = []
    for component in nx.connected_components(graph):
        nodes = sorted(
            node for c in component for node in members.get(c, [c])
        )
        pairs = [p for _, _, data in graph.subgraph(component).edges(data=True)
                 for p in data["pairs"]]
        groups.append((nodes, pairs))
    return groups
