"""``dataset_limits``: every row's interval contains the exact optimum, on every path."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optrobust.finite import FiniteDistribution, optimal_robust_error
from optrobust.finite import solvers as solvers_mod
from optrobust.finite.dataset_limits import dataset_limits


@st.composite
def _samples(draw):
    n = draw(st.integers(2, 14))
    pts = draw(st.lists(st.lists(st.integers(0, 4), min_size=2, max_size=2),
                        min_size=n, max_size=n))
    labels = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    if len(set(labels)) < 2:
        labels[0], labels[1] = 0, 1
    return np.array(pts, dtype=float), np.array(labels)


@settings(max_examples=50, deadline=None)
@given(_samples(), st.sampled_from([1, 2, math.inf]),
       st.lists(st.sampled_from([0.25, 0.5, 1.0, 1.5, 2.0, 3.0]), min_size=1, max_size=4),
       st.sampled_from([None, 1e-9, "node-limit"]))
def test_rows_bracket_the_exact_optimum(sample, p, grid, limit):
    """Statement (docs/theory.md, "Dataset limits: certified bounds"): for every eps of the
    grid, ``lower <= R*(eps) <= upper`` with ``R*`` the optimal robust error over
    deterministic classifiers, also when the solver is stopped (no time at all, or the MILP
    after one node) and after the monotonicity tightening; exact rows are equalities;
    rows below ``eps0`` are 0 and no row exceeds ``constant_error``.  Oracle: brute force
    over all 2^n subsets of the conflict graph (n <= 14)."""
    x, y = sample
    with pytest.MonkeyPatch.context() as mp:
        if limit == "node-limit":
            mp.setattr(solvers_mod, "MILP_NODE_LIMIT", 1)
            tl = 30.0
        else:
            tl = limit
        rows = dataset_limits(x, y, eps=grid, p=p, time_limit=tl)
    dist = FiniteDistribution(x, y)
    for r in rows:
        exact = optimal_robust_error(dist, eps=r.eps, p=p, solver="brute").error
        assert r.lower <= exact + 1e-12 and exact <= r.upper + 1e-12
        assert r.upper <= r.constant_error + 1e-15
        if r.status == "exact":
            assert r.lower == r.upper == pytest.approx(exact, abs=1e-12)
        if r.eps < r.eps0:
            assert r.upper == 0.0
        if tl is None:
            assert r.status == "exact"
