"""Properties of the Gaussian optimum under scaling, conditioning and near-feasible budgets.

Statements (docs/theory.md, "Theorem 2, generalized" and "Numerical guarantees: Gaussian"):
the optimum Phi(-min_{||z||_p <= eps} ||Delta/2 - z||_{Sigma^-1}) is invariant under
(s mu, s^2 Sigma, s eps); it lies in [Bayes error, 1/2], is non-decreasing in eps and equals
1/2 exactly from eps = ||Delta||_p / 2 on.  Every call either returns a value whose two-sided
certificate closes (relative gap <= GAUSSIAN_RTOL max(1, (D/2)^2), i.e. the margin D/2 to
GAUSSIAN_RTOL) or raises NumericalError -- never a silent wrong value.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from optrobust import GaussianModel
from optrobust.errors import NumericalError
from optrobust.gaussian import GAUSSIAN_RTOL
from optrobust.testing.models import gaussian_models

NORMS = st.sampled_from([1, 2, math.inf])
_coord = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


@st.composite
def conditioned_models(draw, max_dim: int = 6) -> GaussianModel:
    """Full covariance Q diag(logspace(0, -K)) Q' with K in [0, 12] and a random rotation."""
    d = draw(st.integers(2, max_dim))
    K = draw(st.floats(0.0, 12.0))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    cov = (Q * np.logspace(0.0, -K, d)) @ Q.T
    mu_pos = np.array(draw(st.lists(_coord, min_size=d, max_size=d)))
    mu_neg = np.array(draw(st.lists(_coord, min_size=d, max_size=d)))
    return GaussianModel(mu_pos, mu_neg, cov=cov)


def _scaled(g: GaussianModel, s: float) -> GaussianModel:
    return GaussianModel(g.mu_pos * s, g.mu_neg * s, cov=g.cov * (s * s))


@settings(deadline=None)
@given(gaussian_models(), NORMS, st.integers(-150, 150),
       st.one_of(st.floats(0.0, 0.999), st.floats(1.0, 3.0)))
def test_scale_invariance(g, p, k, frac):
    """(s mu, s^2 Sigma, s eps), s = 10^k, |k| <= 150: the same Bayes and robust error."""
    s = 10.0**k
    h = _scaled(g, s)
    eps = frac * g.feasible_eps(p)
    ref, got = g.robust_error(eps=eps, p=p), h.robust_error(eps=eps * s, p=p)
    assert math.isclose(got, ref, rel_tol=1e-9, abs_tol=1e-15)
    assert math.isclose(h.bayes_error(), g.bayes_error(), rel_tol=1e-12, abs_tol=1e-300)
    assert math.isclose(h.feasible_eps(p), g.feasible_eps(p) * s, rel_tol=1e-14)


@settings(deadline=None)
@given(conditioned_models(), NORMS, st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_conditioning_certified_or_named_error(g, p, f1, f2):
    """Condition numbers up to 1e12: a closed certificate, bayes <= error <= 1/2, monotone in
    eps, and exactly 1/2 at feasible_eps -- or NumericalError."""
    fe = g.feasible_eps(p)
    lo, hi = sorted((f1, f2))
    try:
        a = g.robust_solution(eps=lo * fe, p=p)
        b = g.robust_solution(eps=hi * fe, p=p)
    except NumericalError as exc:
        assert "certified" in str(exc)
        return
    for sol in (a, b):
        assert sol.gap <= sol.rtol * sol.upper_bound * (1 + 1e-9) + 1e-300
        assert sol.rtol >= GAUSSIAN_RTOL
        assert sol.lower_bound <= sol.error <= sol.upper_bound <= 0.5
        assert g.bayes_error() <= sol.error
    assert a.error <= b.error * (1 + 2 * max(a.rtol, b.rtol)) + 1e-15
    assert g.robust_error(eps=fe, p=p) == 0.5
    if hi == 1.0:
        assert b.error == 0.5


@settings(deadline=None)
@given(st.one_of(gaussian_models(), conditioned_models(max_dim=4)), NORMS,
       st.integers(1, 16))
def test_near_feasible_from_below(g, p, k):
    """eps = feasible (1 - 10^-k): the error is at most 1/2, at least its value at
    feasible (1 - 10^-(k-1)), and exactly 1/2 at feasible_eps (issue 10: it exceeded 1/2)."""
    fe = g.feasible_eps(p)
    try:
        near = g.robust_error(eps=fe * (1 - 10.0**-k), p=p)
        before = g.robust_error(eps=fe * (1 - 10.0 ** -(k - 1)), p=p)
    except NumericalError:
        return
    assert before <= near * (1 + 1e-12) <= 0.5 * (1 + 1e-12)
    assert near <= 0.5
    assert g.robust_error(eps=fe, p=p) == 0.5
