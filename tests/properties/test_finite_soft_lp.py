"""Soft (randomized) optimum: LP over the conflict hypergraph."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optrobust.finite import optimal_robust_error, soft_robust_error_lower_bound
from optrobust.testing.finite import finite_distributions


@given(finite_distributions(max_n=8, dim=2, max_classes=3, coord_max=3),
       st.sampled_from([0, 1, 2, math.inf]), st.sampled_from([0.5, 1.0, 1.5]),
       st.sampled_from(["continuous", "support"]))
def test_soft_lp_chain(dist, p, eps, domain):
    """Statement (Bhagoji et al. 2021; Dai et al. 2023; docs/theory.md "Randomized (soft) classifiers",
    Proposition F2): LP(order 2) <= LP(order 3) <= deterministic optimum, with equality
    LP(order 2) = deterministic when there are at most two labels (the edge polytope of
    a bipartite graph is integral)."""
    kw = {"eps": eps, "p": p, "domain": domain}
    e2 = soft_robust_error_lower_bound(dist, order=2, **kw).error
    e3 = soft_robust_error_lower_bound(dist, order=3, **kw).error
    det = optimal_robust_error(dist, **kw).error
    assert e2 <= e3 + 1e-9 and e3 <= det + 1e-9
    if dist.classes.size <= 2:
        assert e2 == pytest.approx(det, abs=1e-9)
