"""Lemma 1 / Theorem 1 (paper Appendix A), as corrected in docs/theory.md.

Statement tested: for every simple graph G on n vertices, p in {0, 1, 2, inf}
and both domains, the finite distribution built by
``hardness.reduction_instance`` satisfies

    n * (1 - optimal robust error) = alpha_3(G),

the size of a maximum distance-3 independent set of G (Definition 2), and the
optimum is realised in both directions: the robust points of an optimal
solution form a maximum distance-3 independent set, and a maximum
distance-3 independent set yields a classifier attaining the optimal error.
Oracles: the finite solver (optrobust.finite), an independent brute force over
all subsets of points (tests/optrobust/hardness/oracle.py) and brute force over
vertex subsets.
"""

from __future__ import annotations

import math

from hypothesis import given, settings

from optrobust import hardness as H
from optrobust.finite.robust import optimal_robust_error
from optrobust.testing.graphs import graphs, norms_and_domains
from tests.optrobust.hardness import oracle


@settings(max_examples=80)
@given(graph=graphs(min_vertices=1, max_vertices=12), norm_domain=norms_and_domains())
def test_lemma1_reduction_is_exact(graph, norm_domain):
    """Lemma 1 (corrected): n (1 - R*_{p,eps}(D_G)) = alpha_3(G), with round trips."""
    p, domain = norm_domain
    n = graph.number_of_nodes()
    a3 = len(H.max_distance3_independent_set(graph, solver="brute"))
    inst = H.reduction_instance(graph, p, domain)
    assert inst.points.shape == (n, H.reduction_dimension(n, p, domain))
    sol = optimal_robust_error(inst.distribution, eps=inst.eps, p=p, domain=domain)
    assert math.isclose(n * (1 - sol.error), a3, abs_tol=1e-9)
    assert oracle.optimal_robust_count(inst.points, inst.eps, p, domain) == a3
    chosen = H.independent_set_from_solution(inst, sol)
    assert len(chosen) == a3
    best = H.max_distance3_independent_set(graph)
    assert len(best) == a3
    clf = H.classifier_from_independent_set(inst, best)
    assert math.isclose(H.classifier_robust_error(inst, clf), 1 - a3 / n, abs_tol=1e-12)


@settings(max_examples=40)
@given(graph=graphs(min_vertices=1, max_vertices=12))
def test_theorem1_sat_solver_is_exact(graph):
    """Definition 2 / Theorem 1's source problem: RC2 MaxSAT = networkx = brute force."""
    sizes = {s: len(H.max_distance3_independent_set(graph, solver=s)) for s in H.SOLVERS}
    assert len(set(sizes.values())) == 1, sizes
