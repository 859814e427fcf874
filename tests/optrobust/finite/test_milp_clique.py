"""The MILP backend's clique-cover rows and its label-complete shortcut are exact."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from optrobust.finite import ConflictGraph, FiniteDistribution, optimal_robust_error
from optrobust.finite import solvers as solvers_mod
from optrobust.finite.solvers import clique_cover, max_weight_independent_set


def _graph(labels, edges, weights=None) -> ConflictGraph:
    labels = np.asarray(labels, dtype=np.int64)
    n = labels.size
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    e = np.asarray(sorted(tuple(sorted(x)) for x in edges), dtype=np.int64).reshape(-1, 2)
    return ConflictGraph(n=n, edges=e, labels=labels, weights=w / w.sum(), eps=1.0, p=2.0,
                         domain="continuous", rtol=0.0)


def _brute_value(g: ConflictGraph, w: np.ndarray) -> float:
    best = 0.0
    for mask in itertools.product([False, True], repeat=g.n):
        r = np.array(mask)
        if g.is_independent(r):
            best = max(best, float(w[r].sum()))
    return best


def _random_multilabel_graph(rng, n, n_labels, density):
    labels = rng.integers(0, n_labels, size=n)
    edges = [(i, j) for i in range(n) for j in range(i + 1, n)
             if labels[i] != labels[j] and rng.random() < density]
    return labels, edges


def test_clique_cover_is_a_cover_by_cliques():
    rng = np.random.default_rng(0)
    for _ in range(30):
        n = int(rng.integers(2, 40))
        labels, edges = _random_multilabel_graph(rng, n, int(rng.integers(2, 6)),
                                                 float(rng.random()))
        e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        edge_set = {tuple(sorted(x)) for x in edges}
        covered = set()
        for clique in clique_cover(n, e):
            assert len(clique) >= 2 and len(set(clique.tolist())) == len(clique)
            pairs = {tuple(sorted(p)) for p in itertools.combinations(clique.tolist(), 2)}
            assert pairs <= edge_set  # a clique of the graph
            covered |= pairs
        assert covered == edge_set  # every edge lies in some clique


def test_five_cycle_known_value():
    # C5 with labels 0,1,0,1,2 (adjacent labels differ): a maximum independent set has 2 of
    # the 5 vertices (hand count), so the error is 3/5 although the LP of the edge rows
    # reaches 5/2 at x = 1/2 everywhere.
    g = _graph([0, 1, 0, 1, 2], [(0, 1), (1, 2), (2, 3), (3, 4), (0, 4)])
    robust, used = max_weight_independent_set(g, solver="milp")
    assert used == "milp" and robust.sum() == 2 and g.is_independent(robust)


@pytest.mark.parametrize("cap", [None, 0])
def test_milp_equals_brute_on_dense_multilabel_graphs(cap, monkeypatch):
    # cap=0 forces the plain edge rows (the fallback for components above CLIQUE_MAX_N).
    if cap is not None:
        monkeypatch.setattr(solvers_mod, "CLIQUE_MAX_N", cap)
    rng = np.random.default_rng(1)
    for _ in range(25):
        n = int(rng.integers(3, 13))
        labels, edges = _random_multilabel_graph(rng, n, int(rng.integers(3, 6)),
                                                 float(rng.uniform(0.3, 0.95)))
        w = rng.integers(1, 6, size=n).astype(float)
        g = _graph(labels, edges, w)
        robust, _ = max_weight_independent_set(g, solver="milp")
        assert g.is_independent(robust)
        assert float(w[robust].sum()) == _brute_value(g, w)
        sat, _ = max_weight_independent_set(g, solver="maxsat")
        assert float(w[sat].sum()) == float(w[robust].sum())


def test_label_complete_component_is_the_heaviest_label():
    # Every two pairs of different labels conflict (complete 3-partite graph): an
    # independent set holds one label, so the optimum keeps the heaviest label:
    # masses 1+1+1 = 3 (label 0), 2+2 = 4 (label 1), 3.5 (label 2) -> keep label 1.
    labels = [0, 0, 0, 1, 1, 2]
    w = np.array([1, 1, 1, 2, 2, 3.5])
    edges = [(i, j) for i in range(6) for j in range(i + 1, 6) if labels[i] != labels[j]]
    g = _graph(labels, edges, w)
    robust, _ = max_weight_independent_set(g, solver="milp")
    assert robust.tolist() == [False, False, False, True, True, False]
    assert _brute_value(g, w) == 4.0


def test_label_complete_points_in_a_small_box():
    # All points in [0, 1]^3, eps = 1/2 l_inf: every two balls meet, optimum 1 - max share.
    rng = np.random.default_rng(2)
    x = rng.random((60, 3))
    y = rng.integers(0, 4, size=60)
    d = FiniteDistribution(x, y)
    sol = optimal_robust_error(d, eps=0.5, p=np.inf, solver="milp")
    share = np.bincount(y).max() / 60
    assert sol.n_conflicts == (60**2 - (np.bincount(y) ** 2).sum()) // 2
    assert sol.error == pytest.approx(1 - share, abs=1e-15)
    assert optimal_robust_error(d, eps=0.5, p=np.inf, solver="maxsat").error == sol.error
