"""Numerical contract of finite conflict graphs: every scale, exact ties, named errors.

Statement checked (docs/theory.md, "Numerical guarantees: finite distributions, ties,
hardness"): with the default tie policy (``rtol = 0``) the conflict graph is decided
exactly for the float64 inputs as given -- pair ``i, j`` of different labels conflicts iff
the real number ``||x_i - x_j||_p`` is ``<= 2 eps`` (continuous) -- at every scale from
1e-150 to 1e150 and beyond; with ``rtol > 0`` the threshold is exactly ``2 eps (1 + rtol)``.

The oracle below shares no code with :mod:`optrobust.finite.conflict`: it computes the
distances of the given float64 numbers in :class:`fractions.Fraction` arithmetic.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optrobust.errors import InvalidInputError
from optrobust.finite import FiniteDistribution, conflict_graph, optimal_robust_error


# --------------------------------------------------------------------------- exact oracle
def _frac_dist_cmp(u, v, p, t: Fraction) -> bool:
    """``||u - v||_p <= t`` in exact rational arithmetic (u, v float64 rows)."""
    diffs = [abs(Fraction(float(a)) - Fraction(float(b))) for a, b in zip(u, v, strict=True)]
    if p == math.inf:
        return max(diffs) <= t
    if p == 1:
        return sum(diffs) <= t
    if p == 0:
        return sum(1 for x in diffs if x != 0) <= t
    return sum(x * x for x in diffs) <= t * t


def oracle_edges(x, y, eps, p, domain, rtol=0.0):
    x = np.asarray(x, dtype=float)
    n = len(y)
    tol = 1 + Fraction(rtol)
    if p == 0:
        r = Fraction(math.floor(eps))
        t_cont, t_supp = 2 * r, r
    else:
        t_cont, t_supp = 2 * Fraction(eps) * tol, Fraction(eps) * tol
    out = []
    for i in range(n):
        for j in range(i + 1, n):
            if y[i] == y[j]:
                continue
            if domain == "continuous":
                hit = _frac_dist_cmp(x[i], x[j], p, t_cont)
            else:
                hit = any(_frac_dist_cmp(z, x[i], p, t_supp) and _frac_dist_cmp(z, x[j], p, t_supp)
                          for z in x)
            if hit:
                out.append([i, j])
    return out


def edges(x, y, eps, p, domain="continuous", **kw):
    return conflict_graph(FiniteDistribution(x, y), eps=eps, p=p, domain=domain, **kw).edges.tolist()


# --------------------------------------------------------------------------- known values
def test_issue_cases_l2_at_extreme_scales():
    # Two identical points at 1e154 with different labels always conflict: error 1/2
    # (the Gram formula overflowed to inf - inf = nan and gave 0).
    d = FiniteDistribution([[1e154, 1e154], [1e154, 1e154]], [0, 1])
    for eps in (0.0, 1.0, 1e154, 1e300):
        assert optimal_robust_error(d, eps=eps, p=2).error == 0.5
    # Points 1e-200 apart at eps 1e-201 (2 eps = 2e-201 < 1e-200): no conflict
    # (the Gram formula underflowed to 0 <= 0 and said conflict).
    d = FiniteDistribution([[0.0], [1e-200]], [0, 1])
    assert optimal_robust_error(d, eps=1e-201, p=2).error == 0.0
    assert optimal_robust_error(d, eps=5e-201, p=2).error == 0.5  # exactly touching
    # l2 eps near 1e154 (the squared threshold overflows float64): correct value.
    s = 2.0 ** 512  # about 1.3e154; (3 s, 4 s) is at distance exactly 5 s
    x = [[0.0, 0.0], [3 * s, 4 * s]]
    assert edges(x, [0, 1], 2.5 * s, 2) == [[0, 1]]                 # exact tie
    assert edges(x, [0, 1], math.nextafter(2.5 * s, 0), 2) == []    # one ulp below
    assert edges(x, [0, 1], 1e308, 2) == [[0, 1]]
    x = [[0.0, 0.0], [3e154, 4e154]]  # decimal inputs: the oracle decides the rounded tie
    assert edges(x, [0, 1], 2.5e154, 2) == oracle_edges(x, [0, 1], 2.5e154, 2, "continuous")
    # coordinates near the float64 maximum: differences overflow, the answer does not.
    x = [[1e308, -1e308], [-1e308, 1e308]]          # l1 4e308, l2 2.83e308, linf 2e308
    assert [edges(x, [0, 1], 1e308, p) for p in (1, 2, math.inf)] == [[], [], [[0, 1]]]
    assert [edges(x, [0, 1], 1.7e308, p) for p in (1, 2, math.inf)] == [[], [[0, 1]], [[0, 1]]]


@pytest.mark.parametrize("d", [1, 200])
def test_rounded_difference_equal_to_two_eps_is_decided_exactly(d):
    # 1 - (-2^-54) = 1 + 2^-54 rounds to 1.0 = 2 eps in float64, but the real distance is
    # larger: no conflict under the exact policy, a conflict with a tolerance.  d = 200
    # also runs the l_inf coordinate screening.
    x = np.zeros((2, d))
    x[0, 0], x[1, 0] = 1.0, -(2.0 ** -54)
    assert (x[0, 0] - x[1, 0]) == 1.0
    for p in (1, 2, math.inf):
        assert edges(x, [0, 1], 0.5, p) == [], p
        assert edges(x, [0, 1], 0.5, p, rtol=1e-12) == [[0, 1]], p
    x[1, 0] = 0.0  # now exactly 2 eps: closed balls touch
    assert all(edges(x, [0, 1], 0.5, p) == [[0, 1]] for p in (1, 2, math.inf))


def test_same_answer_as_the_exact_bernoulli_tie_policy():
    # The issue's example: (-1,-1,-1) vs (1,1,1), l2 distance 2 sqrt 3, eps = fl(sqrt 3).
    # fl(sqrt 3)^2 < 3 exactly, so 2 eps < 2 sqrt 3: the balls do not touch, error 0 --
    # as BernoulliModel (exact ties) says.  rtol = 1e-9 was the old default and said 1/2.
    assert Fraction(math.sqrt(3)) ** 2 < 3
    d = FiniteDistribution([[-1.0] * 3, [1.0] * 3], [0, 1])
    assert optimal_robust_error(d, eps=math.sqrt(3), p=2).error == 0.0
    assert optimal_robust_error(d, eps=math.sqrt(3), p=2, rtol=1e-9).error == 0.5


def test_pixel_grid_ties_are_decided_for_the_float_values():
    # Pixels k/255 and eps = 8/255: in real numbers |40/255 - 24/255| = 16/255 = 2 eps is a
    # tie, but the float64 values differ from k/255 by rounding.  The exact policy answers
    # for the floats as given (the oracle); scaling to integers (exact) or asking for a
    # tolerance gives the real-number answer, a conflict.
    pix = np.array([[24.0], [40.0], [0.0], [200.0]])
    y = [0, 1, 1, 0]
    x = pix / 255
    eps = 8 / 255
    for p in (1, 2, math.inf):
        assert edges(x, y, eps, p) == oracle_edges(x, y, eps, p, "continuous")
        assert edges(pix, y, 8.0, p) == [[0, 1]]                    # integers: exact tie
        assert edges(x, y, eps, p, rtol=1e-9) == [[0, 1]]           # tolerance asked for


def test_predict_refuses_nan_and_wrong_types():
    d = FiniteDistribution([[0.0, 0.0], [3.0, 0.0]], [0, 1])
    for domain in ("continuous", "support"):
        clf = optimal_robust_error(d, eps=1.0, p=2, domain=domain).classifier
        assert clf.predict([[0.0, 0.0]]).tolist() == [0]
        with pytest.raises(InvalidInputError, match="X"):
            clf.predict([[np.nan, 0.0]])
        with pytest.raises(InvalidInputError, match="X"):
            clf.predict([[0.0, 0.0, 0.0]])
        with pytest.raises(TypeError, match="X"):
            clf.predict([[1j, 0.0]])


def test_chunked_blocks_agree_with_the_oracle_on_tie_heavy_data():
    # integer grid: many distances equal 2 eps exactly; tiny blocks exercise every path
    rng = np.random.default_rng(11)
    x = rng.integers(-3, 4, size=(30, 6)).astype(float)
    y = rng.integers(0, 3, size=30)
    for p in (1, 2, math.inf):
        want = oracle_edges(x, y, 2.0, p, "continuous")
        for chunk in (64, 10**6):
            got = conflict_graph(FiniteDistribution(x, y), eps=2.0, p=p,
                                 chunk_bytes=chunk).edges.tolist()
            assert got == want


# --------------------------------------------------------------------------- properties
_grid = st.integers(min_value=-5, max_value=5)


@st.composite
def problems(draw):
    n = draw(st.integers(2, 7))
    d = draw(st.integers(1, 4))
    x = np.array(draw(st.lists(st.lists(_grid, min_size=d, max_size=d), min_size=n,
                               max_size=n)), dtype=float)
    y = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    # half-integers and integers make exact ties 2 eps = distance likely (l1, linf; l2 via
    # Pythagorean and axis-aligned pairs)
    eps = draw(st.integers(0, 12)) / 2
    p = draw(st.sampled_from([1, 2, math.inf]))
    domain = draw(st.sampled_from(["continuous", "support"]))
    return x, y, eps, p, domain


@settings(max_examples=80, deadline=None)
@given(prob=problems(), k=st.integers(-480, 480))
def test_power_of_two_scaling_never_changes_the_graph(prob, k):
    """Scaling points and eps by 2^k (exact in float64) leaves the conflict graph unchanged,
    ties included, for k in [-480, 480] (about 1e-145 .. 1e145); both equal the exact oracle.
    Source: closed balls scale with the norm, ||s x - s x'|| = s ||x - x'|| (DESIGN.md,
    numerical guarantees)."""
    x, y, eps, p, domain = prob
    base = edges(x, y, eps, p, domain)
    assert base == oracle_edges(x, y, eps, p, domain)
    s = 2.0 ** k
    assert edges(x * s, y, eps * s, p, domain) == base


@settings(max_examples=60, deadline=None)
@given(prob=problems(), log_s=st.floats(-150, 150))
def test_any_scale_matches_the_exact_oracle(prob, log_s):
    """At any scale s in 1e-150..1e150 (s x and s eps rounded to float64), the graph is the
    exact answer for the float64 inputs as given (Fraction oracle), with and without a
    tolerance; away from ties (eps + 1/4) it equals the unscaled graph."""
    x, y, eps, p, domain = prob
    s = 10.0 ** log_s
    xs, es = x * s, eps * s
    assert edges(xs, y, es, p, domain) == oracle_edges(xs, y, es, p, domain)
    assert (edges(xs, y, es, p, domain, rtol=1e-9)
            == oracle_edges(xs, y, es, p, domain, rtol=1e-9))
    # eps + 1/4: no distance of the grid is within a relative 1e-3 of 2 eps or eps
    # (l2 distances are square roots of integers <= 400), so rounding cannot matter.
    far = eps + 0.25
    assert edges(xs, y, far * s, p, domain) == edges(x, y, far, p, domain)


@settings(max_examples=40, deadline=None)
@given(prob=problems())
def test_ties_at_exactly_two_eps_follow_the_policy(prob):
    """A pair at distance exactly 2 eps conflicts (closed balls); the tie policy is exact,
    so the graph at eps is the oracle's and at eps (1 - 2^-50) loses exactly the ties."""
    x, y, eps, p, domain = prob
    g = conflict_graph(FiniteDistribution(x, y), eps=eps, p=p, domain=domain)
    assert g.tie_policy == "exact" and g.rtol == 0.0
    below = eps * (1 - 2.0 ** -50)
    assert edges(x, y, below, p, domain) == oracle_edges(x, y, below, p, domain)
    assert set(map(tuple, edges(x, y, below, p, domain))) <= set(map(tuple, g.edges.tolist()))
