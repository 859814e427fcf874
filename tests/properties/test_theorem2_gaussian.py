"""Theorem 2 (generalized): optimal robust error of two Gaussians with a shared covariance."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import ndtr

from optrobust.testing.models import gaussian_models


@given(gaussian_models(), st.sampled_from([1, 2, math.inf]), st.floats(0.0, 1.3))
def test_gaussian_robust_optimum_certificate(g, p, frac):
    """Statement: for x|y ~ N(mu_y, Sigma), equal priors, and p in {1, 2, inf},
    min_h R_adv(h) = Phi(-D/2) with D = min_{||z||_p <= eps} ||Delta - 2z||_{Sigma^-1};
    the attacker shift z (lower bound) and the linear classifier w = Sigma^-1 (Delta - 2z)
    (upper bound) certify it; it is Bayes at eps = 0, lies in [Bayes, 1/2], and equals 1/2
    exactly from eps = ||Delta||_p / 2 on.

    Source: paper Theorem 2 (isotropic l2, continuous boundary assumed), generalized via
    Bhagoji, Cullina & Mittal (2019) and Dan, Wei & Ravikumar (2020); docs/theory.md.
    """
    fe = g.feasible_eps(p)
    eps = frac * fe
    sol = g.robust_solution(eps=eps, p=p)
    assert abs(sol.gap) <= 1e-9
    # The lower bound is what the shift gives, recomputed independently here (the norm of
    # the shift scaled to max |z_i| = 1 first: numpy's x.dot(x) loses digits in the
    # subnormal range, e.g. |z| = 8e-158 squares to 6e-315).
    zmax = float(np.max(np.abs(sol.shift))) if sol.shift.size else 0.0
    znorm = zmax * float(np.linalg.norm(sol.shift / zmax, ord=p)) if zmax > 0 else 0.0
    assert znorm <= eps * (1 + 1e-12) + 1e-300
    D = g.mahalanobis(g.delta - 2 * sol.shift)
    assert math.isclose(sol.lower_bound, float(ndtr(-D / 2)), rel_tol=1e-12, abs_tol=1e-300)
    bayes = g.bayes_error()
    assert bayes - 1e-12 <= sol.error <= 0.5
    if frac >= 1.0:
        assert sol.error == 0.5
    elif D > 1e-14:  # below that, Phi(-D/2) rounds to 1/2 in float64
        assert sol.error < 0.5
    # Monotone in eps.
    assert g.robust_error(eps=eps * 0.8, p=p) <= sol.error + 1e-12
    assert math.isclose(g.robust_error(eps=0.0, p=p), bayes, rel_tol=1e-12, abs_tol=1e-300)


@given(gaussian_models(isotropic=True), st.floats(0.0, 0.999))
def test_theorem2_isotropic_formula(g, frac):
    """Statement (paper Theorem 2): isotropic l2, eps < ||Delta||_2/2:
    R* = Phi((2 eps - ||Delta||_2) / (2 sigma)). Source: paper Section 5.3."""
    sigma = math.sqrt(g.cov[0, 0])
    dist = float(np.linalg.norm(g.delta))
    eps = frac * dist / 2
    expected = float(ndtr((2 * eps - dist) / (2 * sigma)))
    assert math.isclose(g.robust_error(eps=eps, p=2), expected, rel_tol=1e-9, abs_tol=1e-300)
