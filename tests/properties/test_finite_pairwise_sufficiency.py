"""Pairwise sufficiency: the optimal robust error of a finite distribution is
1 - (max-weight independent set of the conflict graph), for both domains."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optrobust.finite import optimal_robust_error
from optrobust.testing.finite import (
    brute_force_box_cells_error,
    brute_force_support_error,
    check_certificate,
    finite_distributions,
)


@settings(max_examples=40)
@given(finite_distributions(max_n=6, dim=2, max_classes=3, coord_max=2),
       st.sampled_from([0.0, 0.5, 1.0, 1.5]))
def test_continuous_linf_equals_all_classifier_optimum(dist, eps):
    """Statement (docs/theory.md, Proposition F1; paper Def. 5 and
    Appendix A eq. (18)-(21)): over all deterministic h: R^d -> L, the minimal
    (inf, eps) robust error equals 1 - max{w(S): S independent in the conflict graph
    ||x_i - x_j||_inf <= 2 eps, y_i != y_j}.  Oracle: every subset of pairs tested
    against the cells of the arrangement of the closed boxes (integer points, so
    ties at exactly 2 eps are frequent); certificate: predict() right on the balls."""
    sol = optimal_robust_error(dist, eps=eps, p=math.inf)
    assert sol.error == pytest.approx(brute_force_box_cells_error(dist, eps=eps), abs=1e-12)
    assert not check_certificate(dist, sol)


@settings(max_examples=40)
@given(finite_distributions(max_n=6, dim=2, max_classes=3, coord_max=2),
       st.sampled_from([0, 1, 2, math.inf]), st.sampled_from([0.0, 1.0, 1.5, 2.0]))
def test_support_domain_equals_all_labelings_optimum(dist, p, eps):
    """Statement (Proposition F1, support form; the paper's Lemma 1 proof, eq. (20)):
    over all labelings h of the support points, the minimal robust error equals
    1 - max{w(S): S independent}, where i ~ j iff y_i != y_j and a support point lies in
    both balls.  Oracle: enumeration of all c^m labelings, robustness checked directly."""
    sol = optimal_robust_error(dist, eps=eps, p=p, domain="support")
    assert sol.error == pytest.approx(brute_force_support_error(dist, eps=eps, p=p),
                                      abs=1e-12)
    assert not check_certificate(dist, sol)


@settings(max_examples=40)
@given(finite_distributions(max_n=9, dim=3, max_classes=2, coord_max=3),
       st.sampled_from([0, 1, 2, math.inf]), st.sampled_from([0.0, 0.5, 1.0, 1.5]))
def test_certificate_continuous_all_norms(dist, p, eps):
    """Statement (Proposition F1, attaining classifier): the nearest-robust-centre rule
    is correct on every point of every robust pair's ball, so it attains the reported
    error; and the error is at most 1 - (largest class mass), the error of the best
    constant classifier.  Checked by sampling each ball, its boundary towards every
    other-label robust centre, and exact pairwise distances."""
    sol = optimal_robust_error(dist, eps=eps, p=p)
    assert not check_certificate(dist, sol)
    mass = {c: dist.weights[dist.labels == c].sum() for c in dist.classes.tolist()}
    assert sol.error <= 1 - max(mass.values()) + 1e-12
