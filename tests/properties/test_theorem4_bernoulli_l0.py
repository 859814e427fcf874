"""Theorem 4: the l0 optimal robust classifier of the Bernoulli model is a threshold."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from optrobust import BernoulliModel
from optrobust.bernoulli import conflict_radius, level_dp_error
from optrobust.testing.models import bernoulli_models


@given(bernoulli_models(max_k=80), st.integers(0, 45))
def test_threshold_is_optimal_over_all_level_sets(b, eps):
    """Statement (paper Theorem 4, corrected): the (0, eps)-optimal robust error is
    min(1/2, min_{0<=a<=k} 1/2 [P(J+ > a) + P(J- <= a + 2 eps)]), attained by the
    threshold rule J(x) <= a + eps.  Oracle: exact dynamic program over *all* level sets
    (all classifiers, by the symmetrization argument of docs/theory.md); the MILP over all
    classifiers on {-1,1}^k is in tests/optrobust/test_bernoulli.py.
    Invariants: Bayes at eps = 0, non-decreasing in eps, in [Bayes, 1/2]."""
    sol = b.robust_solution(eps=eps, p=0)
    r = conflict_radius(eps, 0, b.k, b.values)
    assert math.isclose(float(sol.error), float(level_dp_error(b.k, b.t, r)),
                        rel_tol=1e-9, abs_tol=1e-14)
    bayes = float(b.bayes_error())
    assert bayes - 1e-12 <= float(sol.error) <= 0.5
    if eps == 0:
        assert math.isclose(float(sol.error), bayes, rel_tol=1e-9, abs_tol=1e-300)
    assert float(b.robust_error(eps=max(eps - 1, 0), p=0)) <= float(sol.error) + 1e-12
    assert 0 <= sol.threshold <= b.k


@given(bernoulli_models(max_k=120, exact=False))
def test_feasible_eps_is_where_chance_is_reached(b):
    """Statement: feasible_eps(0) is the smallest integer eps with optimal robust error 1/2
    (closed balls, so it is attained).  Source: paper Remark 2 / Appendix G."""
    fe = b.feasible_eps(0)
    assert b.robust_error(eps=fe, p=0) == 0.5
    if fe > 0:
        assert b.robust_error(eps=fe - 1, p=0) < 0.5


@given(bernoulli_models(max_k=25, exact=True), st.integers(0, 14))
def test_exact_mode_agrees(b, eps):
    """The exact (Fraction) threshold search equals the exact level DP."""
    r = conflict_radius(eps, 0, b.k, b.values)
    assert b.robust_error(eps=eps, p=0) == level_dp_error(b.k, b.t, r)


@given(st.integers(1, 60), st.fractions(0, Fraction(1, 2), max_denominator=30), st.data())
def test_central_threshold_is_optimal_at_every_radius(k, t, data):
    """Statement (docs: module docstring of optrobust.bernoulli, from log-concavity of the
    binomial pmf): for every conflict radius r the optimum over all level sets is
    min(1/2, R(a_c)) with the central threshold a_c = floor((k - r - 1)/2).
    The l1 norm on {-1,1}^k has radius r = floor(eps), so every r (odd ones too) is reached.
    Oracle: the exact level DP over all level sets (independent of the formula), in Fractions."""
    r = data.draw(st.integers(0, k + 1))
    b = BernoulliModel.symmetric(k, t)
    sol = b.robust_solution(eps=r, p=1)
    assert sol.radius == min(r, k)
    assert sol.error == level_dp_error(k, t, min(r, k))
    if sol.error < Fraction(1, 2):
        assert sol.a == (k - sol.radius - 1) // 2


@given(st.integers(1, 150), st.floats(1e-6, 0.5))
def test_min_chance_radius_bisection_matches_a_scan(k, t):
    """The bisection for the smallest chance radius equals a linear scan over r (float mode);
    chance is monotone in r (larger radius, more conflicts)."""
    b = BernoulliModel.symmetric(k, t)
    chance = [b.robust_error(eps=r, p=1) == 0.5 for r in range(k + 1)]
    assert chance == sorted(chance)
    assert b.min_chance_radius() == chance.index(True)


@given(st.integers(1, 2**53), st.one_of(st.floats(0.0, 0.5), st.sampled_from([0.0, 0.5, 1e-300])),
       st.floats(0.0, 1e300), st.sampled_from([0, 1, 2, math.inf]), st.sampled_from(["pm1", "01"]))
def test_scale_sweep_every_k_t_eps(k, t, eps, p, values):
    """Scale sweep (issue 10): k from 1 to 2**53, any float t in [0, 1/2], eps up to 1e300,
    every norm: Bayes <= robust <= 1/2, robust non-decreasing in eps (eps/2 <= eps), and
    exactly 1/2 from feasible_eps on (closed balls).  No array of length k is built."""
    b = BernoulliModel.symmetric(k, t, values=values)
    err = b.robust_error(eps=eps, p=p)
    bayes = b.bayes_error()
    assert 0 <= bayes <= err <= 0.5
    assert b.robust_error(eps=eps / 2, p=p) <= err
    fe = b.feasible_eps(p)
    assert b.robust_error(eps=fe, p=p) == 0.5
    assert (err == 0.5) == (eps >= fe)
