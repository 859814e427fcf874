"""optimal_robust_error: known values, solver agreement, oracles, certificates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optrobust.finite import FiniteDistribution, conflict_graph, optimal_robust_error
from optrobust.testing.finite import (
    brute_force_box_cells_error,
    brute_force_support_error,
    check_certificate,
)


def test_paper_two_point_example():
    # Paper Sec. 5.1 after Def. 5: x1, x2 within eps with labels 1, -1, equal
    # mass: the optimal robust classifier is constant, error 1/2.
    d = FiniteDistribution([[0.0, 0.0], [0.3, 0.4]], [1, -1])
    sol = optimal_robust_error(d, eps=0.5, p=2)
    assert sol.error == 0.5 and sol.solver == "flow" and sol.robust.sum() == 1
    assert not check_certificate(d, sol)
    # far apart: both robust, and the classifier separates them.
    sol = optimal_robust_error(d, eps=0.2, p=2)
    assert sol.error == 0.0
    assert sol.classifier.predict([[0.0, 0.0], [0.3, 0.4]]).tolist() == [1, -1]


def test_hand_computed_chain():
    # Hand derivation: 1-d chain 0(a) 1(b) 2(a) 3(b), eps = 0.5 -> conflict path
    # 0-1-2-3.  Weights 1, 3, 3, 1: independent sets {0,2} = 4, {1,3} = 4,
    # {0,3} = 2, so the optimum is 4 of 8 -> error 1/2.  Weights 1, 3, 1, 3:
    # {1,3} = 6 of 8 -> error 1/4.
    x = [[0.0], [1.0], [2.0], [3.0]]
    d = FiniteDistribution(x, [0, 1, 0, 1], [1, 3, 3, 1])
    assert optimal_robust_error(d, eps=0.5, p=math.inf).error == 0.5
    d = FiniteDistribution(x, [0, 1, 0, 1], [1, 3, 1, 3])
    sol = optimal_robust_error(d, eps=0.5, p=math.inf)
    assert sol.error == 0.25 and sol.robust.tolist() == [False, True, False, True]


@pytest.mark.parametrize("solver", ["flow", "maxsat", "milp", "brute"])
def test_all_solvers_agree_two_labels(solver):
    rng = np.random.default_rng(11)
    for _ in range(15):
        n = int(rng.integers(2, 14))
        x = rng.integers(0, 4, size=(n, 2)).astype(float)
        y = rng.integers(0, 2, size=n)
        w = rng.integers(1, 5, size=n)
        d = FiniteDistribution(x, y, w)
        for p in (0, 1, 2, math.inf):
            ref = optimal_robust_error(d, eps=1.0, p=p, solver="brute").error
            sol = optimal_robust_error(d, eps=1.0, p=p, solver=solver)
            assert sol.error == pytest.approx(ref, abs=1e-12)
            assert not check_certificate(d, sol)


def test_multiclass_maxsat_milp_brute_agree():
    rng = np.random.default_rng(12)
    for _ in range(25):
        n = int(rng.integers(3, 15))
        x = rng.integers(0, 4, size=(n, 2)).astype(float)
        y = rng.integers(0, 4, size=n)
        w = rng.integers(1, 5, size=n)
        d = FiniteDistribution(x, y, w)
        for domain in ("continuous", "support"):
            errs = {s: optimal_robust_error(d, eps=1.0, p=2, domain=domain, solver=s).error
                    for s in ("maxsat", "milp", "brute")}
            assert max(errs.values()) - min(errs.values()) < 1e-12, errs


def test_non_integer_weights_use_milp_and_maxsat():
    d = FiniteDistribution([[0.0], [1.0], [5.0]], [0, 1, 1], [1.0, math.sqrt(2), 1.0])
    sol = optimal_robust_error(d, eps=0.5, p=2)
    assert sol.solver == "milp"
    want = 1.0 / (2 + math.sqrt(2))  # drop the pair at 0
    assert sol.error == pytest.approx(want, rel=1e-12)
    assert optimal_robust_error(d, eps=0.5, p=2, solver="maxsat").error == pytest.approx(want)
    with pytest.raises(ValueError, match="flow"):
        optimal_robust_error(d, eps=0.5, p=2, solver="flow")


def test_solver_errors():
    d3 = FiniteDistribution([[0.0], [1.0], [2.0]], [0, 1, 2])
    with pytest.raises(ValueError, match="flow"):
        optimal_robust_error(d3, eps=0.5, p=2, solver="flow")
    with pytest.raises(ValueError, match="solver"):
        optimal_robust_error(d3, eps=0.5, p=2, solver="greedy")
    big = FiniteDistribution(np.arange(21.0), [0, 1] * 10 + [0])
    with pytest.raises(ValueError, match="n <= 20"):
        optimal_robust_error(big, eps=0.5, p=2, solver="brute")
    g = conflict_graph(d3, eps=0.5, p=2)
    with pytest.raises(ValueError, match="graph"):
        optimal_robust_error(d3, eps=0.6, p=2, graph=g)
    assert optimal_robust_error(d3, eps=0.5, p=2, graph=g).error == pytest.approx(1 / 3)


def test_zero_weight_pairs_are_added_when_free():
    d = FiniteDistribution([[0.0], [10.0], [0.2]], [0, 1, 1], [1, 1, 0])
    sol = optimal_robust_error(d, eps=0.5, p=2)
    assert sol.error == 0.0 and sol.robust.tolist() == [True, True, False]
    d = FiniteDistribution([[0.0], [10.0], [20.0]], [0, 1, 1], [1, 1, 0])
    assert optimal_robust_error(d, eps=0.5, p=2, solver="maxsat").robust.all()


def test_cell_oracle_linf_and_tie():
    # linf in R^2 on all classifiers (arrangement cells), including ties at 2 eps.
    rng = np.random.default_rng(13)
    for _ in range(12):
        n = int(rng.integers(2, 7))
        x = rng.integers(0, 3, size=(n, 2)).astype(float)
        y = rng.integers(0, 3, size=n)
        d = FiniteDistribution(x, y)
        for eps in (0.0, 0.5, 1.0):
            sol = optimal_robust_error(d, eps=eps, p=math.inf)
            assert sol.error == pytest.approx(brute_force_box_cells_error(d, eps=eps))


def test_support_oracle_all_labelings():
    rng = np.random.default_rng(14)
    for _ in range(12):
        n = int(rng.integers(2, 7))
        x = rng.integers(0, 3, size=(n, 2)).astype(float)
        y = rng.integers(0, 3, size=n)
        d = FiniteDistribution(x, y, rng.integers(1, 4, size=n))
        for p in (0, 1, 2, math.inf):
            sol = optimal_robust_error(d, eps=1.0, p=p, domain="support")
            assert sol.error == pytest.approx(brute_force_support_error(d, eps=1.0, p=p))
            assert not check_certificate(d, sol)


def test_support_classifier_rejects_off_support_points():
    d = FiniteDistribution([[0.0], [3.0]], [0, 1])
    sol = optimal_robust_error(d, eps=1.0, p=2, domain="support")
    assert sol.classifier.predict([[3.0], [0.0]]).tolist() == [1, 0]
    assert sol.classifier.labeling.tolist() == [0, 1]
    with pytest.raises(ValueError, match="support point"):
        sol.classifier.predict([[1.5]])


def test_predict_is_defined_everywhere_and_checks_input():
    d = FiniteDistribution([[0.0, 0.0], [4.0, 0.0]], [0, 1])
    sol = optimal_robust_error(d, eps=1.0, p=1)
    assert sol.classifier.predict([[1.0, 0.0], [3.0, 0.0], [100.0, -7.0]]).tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match="X"):
        sol.classifier.predict([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="X"):
        sol.classifier.predict([[np.nan, 0.0]])


def test_mnist_size_smoke_two_labels():
    # 300 points of dimension 784: flow result equals MILP result.
    rng = np.random.default_rng(15)
    x = rng.uniform(0, 1, size=(300, 784))
    y = rng.integers(0, 2, size=300)
    d = FiniteDistribution(x, y)
    g = conflict_graph(d, eps=5.7, p=2)
    assert 0 < g.n_edges < 300 * 300 / 2
    a = optimal_robust_error(d, eps=5.7, p=2, graph=g)
    b = optimal_robust_error(d, eps=5.7, p=2, graph=g, solver="milp")
    assert a.solver == "flow" and a.error == pytest.approx(b.error)
    assert g.is_independent(a.robust)


def test_errata_threshold_two_eps_and_domains():
    # docs/errata.md, "Errata and clarifications found while building optrobust.finite", items 1-2: distance 1.5 > eps = 1 still forces a
    # constant classifier on R (0.75 is in both balls); on the support it does not.
    d = FiniteDistribution([[0.0], [1.5]], [1, -1])
    assert optimal_robust_error(d, eps=1.0, p=2).error == 0.5
    assert optimal_robust_error(d, eps=1.0, p=2, domain="support").error == 0.0
    d = FiniteDistribution([[0.0], [2.0]], [0, 1])
    assert optimal_robust_error(d, eps=1.0, p=2).error == 0.5
    assert optimal_robust_error(d, eps=1.0, p=2, domain="support").error == 0.0


# ----------------------------------------------------------------- solve_independent_set
def _cg(labels, edges, weights=None):
    from optrobust.finite import ConflictGraph

    labels = np.asarray(labels, dtype=np.int64)
    w = np.ones(labels.size) if weights is None else np.asarray(weights, dtype=float)
    e = np.asarray(sorted(tuple(sorted(x)) for x in edges), dtype=np.int64).reshape(-1, 2)
    return ConflictGraph(n=labels.size, edges=e, labels=labels, weights=w / w.sum(), eps=1.0,
                         p=2.0, domain="continuous", rtol=0.0)


def test_solve_independent_set_five_cycle_bounds():
    from optrobust.finite.solvers import clique_partition_bound, solve_independent_set

    # C5, labels 0,1,0,1,2: the maximum independent set has 2 of 5 vertices (hand count).
    g = _cg([0, 1, 0, 1, 2], [(0, 1), (1, 2), (2, 3), (3, 4), (0, 4)])
    iw = np.ones(5, dtype=np.int64)
    res = solve_independent_set(g, integer_weights=iw)
    assert res.status == "exact" and res.weight == res.upper == pytest.approx(2 / 5)
    assert res.components == 1 and res.largest_component == 5
    # Edges are the maximal cliques of C5; a partition into cliques needs 3 parts (5 odd),
    # so the clique-partition bound is 3 (hand count) -- valid but not tight.
    cl = [np.array(e) for e in g.edges]
    assert clique_partition_bound(np.ones(5), cl, 5) == 3.0
    tiny = solve_independent_set(g, time_limit=1e-9, integer_weights=iw)
    assert g.is_independent(tiny.robust)
    assert tiny.weight <= 2 / 5 <= tiny.upper <= 3 / 5


def test_solve_independent_set_empty_and_label_complete_are_exact():
    from optrobust.finite.solvers import solve_independent_set

    g = _cg([0, 1, 2], [])
    res = solve_independent_set(g, time_limit=1e-9)
    assert res.status == "exact" and res.weight == pytest.approx(1.0) and res.components == 0
    labels = [0, 0, 1, 1, 1, 2]
    edges = [(i, j) for i in range(6) for j in range(i + 1, 6) if labels[i] != labels[j]]
    res = solve_independent_set(_cg(labels, edges), time_limit=1e-9,
                                integer_weights=np.ones(6, dtype=np.int64))
    assert res.status == "exact" and res.weight == pytest.approx(0.5)
    assert res.solver == "label-complete"


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf, "soon"])
def test_solve_independent_set_rejects_bad_time_limit(bad):
    from optrobust.errors import InvalidInputError
    from optrobust.finite.solvers import solve_independent_set

    with pytest.raises(InvalidInputError, match="time_limit"):
        solve_independent_set(_cg([0, 1], [(0, 1)]), time_limit=bad)


def test_solve_independent_set_rejects_maxsat_with_limit_and_bad_solver():
    from optrobust.errors import InvalidInputError
    from optrobust.finite.solvers import solve_independent_set

    g = _cg([0, 1], [(0, 1)])
    with pytest.raises(InvalidInputError, match="maxsat"):
        solve_independent_set(g, time_limit=1.0, solver="maxsat")
    with pytest.raises(InvalidInputError, match="solver"):
        solve_independent_set(g, solver="magic")
    assert solve_independent_set(g, solver="maxsat").status == "exact"


def test_local_search_keeps_independence_and_never_loses_weight():
    from optrobust.finite.solvers import greedy_independent_set, improve_independent_set

    rng = np.random.default_rng(11)
    for _ in range(20):
        k = int(rng.integers(5, 60))
        pairs = np.array([(i, j) for i in range(k) for j in range(i + 1, k)
                          if rng.random() < rng.uniform(0.05, 0.6)], dtype=np.int64)
        edges = pairs.reshape(-1, 2)
        w = rng.integers(1, 4, size=k).astype(float)
        start = greedy_independent_set(k, edges, w)
        out = improve_independent_set(k, edges, w, start)
        assert not np.any(out[edges[:, 0]] & out[edges[:, 1]])
        assert w[out].sum() >= w[start].sum()
    # A star K_{1,3} with the centre chosen: the swap takes the three leaves (hand count).
    star = np.array([[0, 1], [0, 2], [0, 3]])
    out = improve_independent_set(4, star, np.ones(4), np.array([True, False, False, False]))
    assert out.tolist() == [False, True, True, True]
