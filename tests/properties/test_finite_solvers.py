"""Max-flow (two labels), MaxSAT and MILP compute the same optimum."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optrobust.finite import conflict_graph, optimal_robust_error
from optrobust.testing.finite import finite_distributions


@given(finite_distributions(max_n=14, dim=2, max_classes=2, coord_max=4),
       st.sampled_from([0, 1, 2, math.inf]), st.sampled_from([0.5, 1.0, 2.0]),
       st.sampled_from(["continuous", "support"]))
def test_flow_equals_brute_force_two_labels(dist, p, eps, domain):
    """Statement (Konig-Egervary, weighted; max-flow min-cut): on a bipartite conflict
    graph the maximum-weight independent set has weight w(V) - maxflow(s -> L -> R -> t),
    so the flow solver is exact for two labels.  Oracle: all 2^n subsets (n <= 14)."""
    g = conflict_graph(dist, eps=eps, p=p, domain=domain)
    flow = optimal_robust_error(dist, eps=eps, p=p, domain=domain, graph=g, solver="flow")
    brute = optimal_robust_error(dist, eps=eps, p=p, domain=domain, graph=g, solver="brute")
    assert flow.error == pytest.approx(brute.error, abs=1e-12)
    assert g.is_independent(flow.robust)


@given(finite_distributions(max_n=14, dim=2, max_classes=4, coord_max=4),
       st.sampled_from([0, 1, 2, math.inf]), st.sampled_from([0.5, 1.0, 2.0]))
def test_maxsat_equals_milp_equals_brute(dist, p, eps):
    """Statement (NP-hard case, paper Theorem 1): for 3+ labels the weighted MaxSAT
    encoding (soft x_i, hard -x_i v -x_j per conflict) and the MILP (x_i + x_j <= 1)
    both solve the maximum-weight independent set exactly.  Oracle: all 2^n subsets."""
    g = conflict_graph(dist, eps=eps, p=p)
    errs = [optimal_robust_error(dist, eps=eps, p=p, graph=g, solver=s).error
            for s in ("maxsat", "milp", "brute")]
    assert max(errs) - min(errs) < 1e-12
