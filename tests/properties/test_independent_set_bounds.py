"""``solve_independent_set``: the certified interval always contains the optimum."""

from __future__ import annotations

import math
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optrobust.finite import conflict_graph, optimal_robust_error
from optrobust.finite import solvers as solvers_mod
from optrobust.finite.solvers import solve_independent_set
from optrobust.testing.finite import finite_distributions

_PATHS = ["exact", "tiny", "lp-only", "node-limit", "no-lp", "cuts", "cuts-tiny",
          "cuts-scipy"]


def _solve(g, dist, path, monkeypatch):
    iw = dist.integer_weights()
    if path == "exact":
        return solve_independent_set(g, integer_weights=iw)
    if path == "tiny":  # no time for the LP or the MILP: greedy set + clique partition
        return solve_independent_set(g, time_limit=1e-9, integer_weights=iw)
    with monkeypatch.context() as m:
        if path.startswith("cuts"):  # the large-component path (cutting-plane clique LP)
            m.setattr(solvers_mod, "LARGE_EDGES", 0)
            if path == "cuts-scipy":  # without highspy: fresh scipy LPs over binding rows
                m.setitem(sys.modules, "highspy", None)
            return solve_independent_set(g, time_limit=1e-9 if path == "cuts-tiny" else 30.0,
                                         integer_weights=iw)
        if path in ("lp-only", "node-limit"):
            m.setattr(solvers_mod, "MILP_NODE_LIMIT", 0 if path == "lp-only" else 1)
        if path == "no-lp":
            m.setattr(solvers_mod, "lp_dual_bound", lambda *a, **k: None)
            m.setattr(solvers_mod, "MILP_NODE_LIMIT", 1)
        return solve_independent_set(g, time_limit=30.0, integer_weights=iw)


@settings(max_examples=60, deadline=None)
@given(finite_distributions(max_n=14, dim=2, max_classes=5, coord_max=4),
       st.sampled_from([1, 2, math.inf]), st.sampled_from([0.5, 1.0, 2.0]),
       st.sampled_from(_PATHS))
def test_interval_contains_the_optimum(dist, p, eps, path):
    """Statement (weak duality; docs/theory.md "Dataset limits: certified bounds"):
    for every path of the solver (optimal, no time at all, LP bound only, MILP stopped
    after one node, no LP, the cutting-plane clique LP of large components) the returned set is independent with weight ``w(S)`` and
    ``w(S) <= OPT <= upper``; ``status == "exact"`` implies ``w(S) == OPT``.
    Oracle: the brute-force optimum over all 2^n subsets (n <= 14)."""
    g = conflict_graph(dist, eps=eps, p=p)
    brute = optimal_robust_error(dist, eps=eps, p=p, graph=g, solver="brute")
    opt = 1.0 - brute.error
    with pytest.MonkeyPatch.context() as mp:
        res = _solve(g, dist, path, mp)
    assert g.is_independent(res.robust)
    assert res.weight == pytest.approx(float(dist.weights[res.robust].sum()), abs=1e-12)
    assert res.weight <= opt + 1e-12 <= res.upper + 2e-12
    assert res.status in ("exact", "bounded")
    if res.status == "exact":
        assert res.weight == pytest.approx(opt, abs=1e-12) and res.upper == res.weight
    if path == "exact":
        assert res.status == "exact"


@settings(max_examples=30, deadline=None)
@given(finite_distributions(max_n=12, dim=2, max_classes=4, coord_max=4),
       st.sampled_from([1.0, 2.0]))
def test_interval_with_float_weights(dist, eps):
    """Statement: the same inclusion without integer weights (float weights, bounds padded
    by the documented relative slack).  Oracle: brute force over all subsets."""
    g = conflict_graph(dist, eps=eps, p=2)
    opt = 1.0 - optimal_robust_error(dist, eps=eps, p=2, graph=g, solver="brute").error
    for tl in (None, 1e-9, 30.0):
        res = solve_independent_set(g, time_limit=tl)
        assert g.is_independent(res.robust)
        assert res.weight <= opt + 1e-12 <= res.upper + 1e-9


@settings(max_examples=60, deadline=None)
@given(finite_distributions(max_n=12, dim=2, max_classes=4, coord_max=4),
       st.sampled_from([1, 2, math.inf]), st.sampled_from([1.0, 2.0]),
       st.lists(st.floats(0.0, 3.0), min_size=1, max_size=80))
def test_any_nonnegative_dual_bounds_the_optimum(dist, p, eps, ys):
    """Statement (B3, docs/theory.md "Dataset limits: certified bounds"): for cliques
    ``K_1..K_r`` and *any* ``y >= 0``, ``sum_K y_K + sum_i max(0, w_i - (A^T y)_i)`` bounds
    the maximum independent weight.  This is why the cutting-plane LP may be solved by
    interior point without crossover: its approximate duals still give a valid bound.
    Rows: the edges and one greedy maximal clique per vertex; ``y`` arbitrary.
    Oracle: brute force over all subsets."""
    import numpy as np

    g = conflict_graph(dist, eps=eps, p=p)
    opt = 1.0 - optimal_robust_error(dist, eps=eps, p=p, graph=g, solver="brute").error
    k = g.n
    adj = solvers_mod._csr_local(k, g.edges)
    adj.sort_indices()
    rows = [np.sort(e) for e in g.edges] + [
        solvers_mod._grow_clique(adj.indptr, adj.indices, v, np.arange(k, dtype=float))
        for v in range(k)]
    y = np.resize(np.asarray(ys, dtype=float), len(rows))
    a = solvers_mod._row_matrix(rows, k)
    w = np.asarray(g.weights, dtype=float)
    assert solvers_mod._dual_value(w, a, y) >= opt - 1e-12
    lp = solvers_mod._clique_lp(w, rows, 10.0)
    assert lp is not None and lp[0] >= opt - 1e-12
