from __future__ import annotations

import numpy as np

from mdm.matching.clustering import Constraints, cluster_edges

AUTO = 10.0


def cluster(n, edges, conflicts=(), not_a_match=()):
    """Cluster n nodes; edges are (i, j, weight); conflicts are forbidden pairs."""
    forbidden = {frozenset(p) for p in conflicts}
    cons = Constraints.of((str(a), str(b)) for a, b in not_a_match)

    def conflict(i, j):
        if cons.forbids(str(i), str(j)):
            return "not_a_match"
        return "conflict" if frozenset((i, j)) in forbidden else None

    left = np.array([e[0] for e in edges], dtype=np.int64)
    right = np.array([e[1] for e in edges], dtype=np.int64)
    weight = np.array([e[2] for e in edges], dtype=float)
    return cluster_edges(n, left, right, weight, auto_weight=AUTO, conflict=conflict)


def test_connected_pairs_merge_transitively_when_nothing_conflicts():
    out = cluster(3, [(0, 1, 20), (1, 2, 15)])
    assert out.clusters == [[0, 1, 2]]


def test_a_chain_does_not_merge_conflicting_ends():
    # A~B strongly, B~C a bit less, but A and C conflict: C must stay apart.
    out = cluster(3, [(0, 1, 20), (1, 2, 15)], conflicts=[(0, 2)])
    assert sorted(out.clusters) == [[0, 1], [2]]
    assert out.blocked == {(1, 2): "conflict"}
    [(nodes, pairs)] = out.review
    assert nodes == [0, 1, 2] and pairs[0][:2] == (1, 2)


def test_strongest_edge_wins_the_contested_record():
    # B is claimed by A (20) and C (25); A and C conflict, so B joins C.
    out = cluster(3, [(0, 1, 20), (1, 2, 25)], conflicts=[(0, 2)])
    assert sorted(out.clusters) == [[0], [1, 2]]


def test_not_a_match_constraint_is_hard_even_through_chains():
    out = cluster(4, [(0, 1, 30), (1, 2, 30), (2, 3, 30)], not_a_match=[(0, 3)])
    assert all(not {0, 3} <= set(c) for c in out.clusters)
    assert "not_a_match" in out.blocked.values()


def test_edges_between_thresholds_become_review_not_merges():
    out = cluster(3, [(0, 1, 20), (1, 2, 5)])
    assert sorted(out.clusters) == [[0, 1], [2]]
    [(nodes, pairs)] = out.review
    assert nodes == [0, 1, 2]
    assert pairs == [(1, 2, 5.0, "between_thresholds")]


def test_every_node_is_in_exactly_one_cluster():
    out = cluster(6, [(0, 1, 20), (3, 4, 20)])
    flat = sorted(i for c in out.clusters for i in c)
    assert flat == list(range(6))
