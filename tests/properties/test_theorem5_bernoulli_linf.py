"""Theorem 5: l_inf robustness of the Bernoulli model."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from optrobust.testing.models import bernoulli_models


@given(bernoulli_models(max_k=40), st.floats(0.0, 2.5))
def test_linf_optimum_is_bayes_below_half_edge_then_chance(b, eps):
    """Statement (paper Theorem 5 with closed balls): for eps < 1 ({-1,1} pixels; 1/2 for
    {0,1}) the optimal l_inf robust error is the Bayes error, attained by Bayes o sign;
    for eps >= 1 (resp. 1/2) it is 1/2.  Also: the returned classifier never changes its
    answer under an l_inf perturbation smaller than the limit (checked on random points)."""
    limit = 1.0 if b.values == "pm1" else 0.5
    err = float(b.robust_error(eps=eps, p=math.inf))
    if eps < limit:
        assert math.isclose(err, float(b.bayes_error()), rel_tol=1e-12, abs_tol=1e-300)
        X, _ = b.sample(64, rng=0)
        clf = b.robust_classifier(eps=eps, p=math.inf)
        noise = np.random.default_rng(1).uniform(-eps, eps, X.shape)
        assert np.array_equal(clf.predict(X), clf.predict(X + noise))
    else:
        assert err == 0.5
    assert b.feasible_eps(math.inf) in ((limit, 0.0) if b.t in (0, 0.0) else (limit,))
