"""The corrected Lemma-1 reduction: sizes, distances, exactness, round trips, errata."""

from __future__ import annotations

import math
import warnings

import networkx as nx
import numpy as np
import pytest

from optrobust import hardness as H
from optrobust.errors import NumericalError, ResourceLimitError
from optrobust.finite.distribution import FiniteDistribution
from optrobust.finite.robust import optimal_robust_error
from optrobust.norms import DOMAINS as DOMAINS_ONE
from optrobust.parsing import DEFAULT_DOMAIN
from tests.optrobust.hardness import oracle

P_VALUES = (0, 1, 2, math.inf)
DOMAINS = ("support", "continuous")
SMALL_ATLAS = [g for g in nx.graph_atlas_g()[1:] if g.number_of_nodes() <= 6]


def alpha3(graph):
    return len(H.max_distance3_independent_set(graph, solver="brute"))


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_defining_property_on_all_graphs_up_to_6_vertices(p, domain):
    """n (1 - R*) = alpha_3(G) by two exact oracles (finite solver, brute force here)."""
    for g in SMALL_ATLAS:
        inst = H.reduction_instance(g, p, domain)
        n, a3 = g.number_of_nodes(), alpha3(g)
        sol = optimal_robust_error(inst.distribution, eps=inst.eps, p=p, domain=domain)
        assert round(n * (1 - sol.error)) == a3, (list(g.edges()), p, domain)
        assert math.isclose(n * (1 - sol.error), a3, abs_tol=1e-9)
        brute = oracle.optimal_robust_count(inst.points, inst.eps, p, domain)
        assert brute == a3, (list(g.edges()), p, domain)


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 12])
def test_size_formulas(n, p, domain):
    """Docstring formulas: n points, d from reduction_dimension, labels 0..n-1, weights 1/n."""
    g = nx.gnp_random_graph(n, 0.4, seed=n)
    inst = H.reduction_instance(g, p, domain)
    pairs = n * (n - 1) // 2
    if p != 0:
        d = max(1, pairs)
    elif domain == "support":
        d = max(2, pairs)
    else:
        d = max(3, pairs) + (1 - max(3, pairs) % 2)
    assert inst.points.shape == (n, d) == (n, H.reduction_dimension(n, p, domain))
    assert inst.distribution.labels.tolist() == list(range(n))
    np.testing.assert_allclose(inst.distribution.weights, 1.0 / n)
    if p == 0:
        assert inst.eps == (d - 1 if domain == "support" else (d - 1) // 2)
        if domain == "continuous":
            assert d % 2 == 1
    else:
        assert inst.eps == 1.0


@pytest.mark.parametrize("p", (1, 2, math.inf))
@pytest.mark.parametrize("eps", (0.01, 1.0, 37.5))
def test_gadget_distances_straddle_threshold(p, eps):
    """Edges of the encoded graph strictly within tau, non-edges strictly beyond."""
    g = nx.Graph([(0, 1), (1, 2), (2, 3), (0, 4), (5, 6)])
    for domain in DOMAINS:
        inst = H.reduction_instance(g, p, domain, eps=eps)
        tau = eps if domain == "support" else 2 * eps
        assert inst.threshold == tau
        near = ({frozenset(e) for e in g.edges()} if domain == "support"
                else H.distance2_pairs(g))
        n = g.number_of_nodes()
        for i in range(n):
            for j in range(i + 1, n):
                dij = oracle.distance(inst.points[i], inst.points[j], p)
                if frozenset((i, j)) in near:
                    assert dij < tau * (1 - 1e-3)
                else:
                    assert dij > tau * (1 + 1e-3)


@pytest.mark.parametrize("domain", DOMAINS)
def test_l0_hamming_distances(domain):
    """p = 0: Hamming D - 1 on encoded edges, D elsewhere (Remark 1, corrected budget)."""
    g = nx.path_graph(5)
    inst = H.reduction_instance(g, 0, domain)
    d = inst.points.shape[1]
    near = ({frozenset(e) for e in g.edges()} if domain == "support" else H.distance2_pairs(g))
    for i in range(5):
        for j in range(i + 1, 5):
            expected = d - 1 if frozenset((i, j)) in near else d
            assert oracle.distance(inst.points[i], inst.points[j], 0) == expected
    assert inst.threshold == d - 1


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_round_trips(p, domain):
    """solution -> independent set, and independent set -> classifier attaining the optimum."""
    for seed in range(4):
        g = nx.gnp_random_graph(9, 0.25, seed=seed)
        inst = H.reduction_instance(g, p, domain)
        sol = optimal_robust_error(inst.distribution, eps=inst.eps, p=p, domain=domain)
        s_from_sol = H.independent_set_from_solution(inst, sol)
        assert H.is_distance3_independent_set(g, s_from_sol)
        best = H.max_distance3_independent_set(g)
        assert len(s_from_sol) == len(best)
        clf = H.classifier_from_independent_set(inst, best)
        err = H.classifier_robust_error(inst, clf)
        assert math.isclose(err, sol.error, abs_tol=1e-12)
        assert math.isclose(err, 1 - len(best) / 9, abs_tol=1e-12)
        # the classifier's predictions on the support match the labels of the chosen points
        rows = sorted(inst.vertices.index(v) for v in best)
        assert clf.predict(inst.points[rows]).tolist() == rows


def test_classifier_survives_sampled_attacks_continuous():
    """Random points of each chosen ball (on its sphere and inside) keep the label."""
    rng = np.random.default_rng(0)
    g = nx.cycle_graph(9)
    for p in (1, 2, math.inf):
        inst = H.reduction_instance(g, p, "continuous", eps=0.5)
        best = H.max_distance3_independent_set(g)
        clf = H.classifier_from_independent_set(inst, best)
        for v in best:
            x = inst.points[v]
            u = rng.normal(size=(200, x.size))
            u /= np.array([oracle.distance(r, 0 * r, p) for r in u])[:, None]
            # half on the sphere of radius 0.5 (up to rounding), half inside
            scale = np.where(np.arange(200) < 100, 1 - 1e-9, rng.uniform(0, 1, 200))[:, None]
            pert = x + 0.5 * u * scale
            assert np.all(clf.predict(pert) == v)


def test_non_maximum_set_gives_matching_error():
    g = nx.path_graph(7)
    inst = H.reduction_instance(g, math.inf, "support")
    clf = H.classifier_from_independent_set(inst, [0])
    assert math.isclose(H.classifier_robust_error(inst, clf), 1 - 1 / 7)


def test_round_trip_rejects_infeasible_inputs():
    g = nx.path_graph(4)
    inst = H.reduction_instance(g, 2, "support")
    with pytest.raises(ValueError, match="distance-3"):
        H.classifier_from_independent_set(inst, [0, 2])

    class Fake:
        robust = np.array([True, True, False, False])

    with pytest.raises(ValueError, match="distance-3"):
        H.independent_set_from_solution(inst, Fake())
    Fake.robust = np.array([True])
    with pytest.raises(ValueError, match="shape"):
        H.independent_set_from_solution(inst, Fake())


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"graph": nx.path_graph(3), "p": 3}, ValueError, "p must"),
        ({"graph": nx.path_graph(3), "p": 2, "domain": "torus"}, ValueError, "domain"),
        ({"graph": nx.path_graph(3), "p": 2, "domain": "support", "eps": 0},
         ValueError, "eps"),
        ({"graph": nx.path_graph(3), "p": 2, "domain": "support", "eps": -1},
         ValueError, "eps"),
        ({"graph": nx.path_graph(3), "p": 0, "domain": "support", "eps": 2},
         ValueError, "eps"),
        ({"graph": nx.Graph(), "p": 2}, ValueError, "graph"),
        ({"graph": nx.Graph([(0, 0)]), "p": 2}, ValueError, "self-loop"),
        ({"graph": "petersen", "p": 2}, TypeError, "graph"),
    ],
)
def test_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        H.reduction_instance(**kwargs)


def test_unrepresentable_scales_are_named_errors():
    # eps so small that lambda = 2 tau / (A_1 + N_1) underflows (it became 0 and the CLI
    # reported INCONSISTENT): NumericalError, for both domains and every p >= 1.
    g = nx.cycle_graph(6)
    for p in (1, 2, math.inf):
        for domain in DOMAINS:
            for eps in (1e-320, 5e-324):
                with pytest.raises(NumericalError, match="eps"):
                    H.reduction_instance(g, p, domain, eps=eps)
            with pytest.raises(NumericalError, match="smaller eps"):  # 2 eps overflows
                H.reduction_instance(g, p, "continuous", eps=1.7e308)
    # the smallest scales that are representable still give the exact answer
    for domain in DOMAINS:
        inst = H.reduction_instance(g, 2, domain, eps=1e-300)
        sol = optimal_robust_error(inst.distribution, eps=inst.eps, p=2, domain=domain)
        assert round(6 * (1 - sol.error)) == 2   # alpha_3(C_6) = 2


def test_size_bound_is_checked_before_anything_is_built():
    assert H.MAX_REDUCTION_ENTRIES == 2**24
    for p, domain in ((2, "support"), (0, "continuous"), (math.inf, "continuous")):
        n = H.max_reduction_vertices(p, domain)
        assert n * H.reduction_dimension(n, p, domain) <= H.MAX_REDUCTION_ENTRIES
        assert (n + 1) * H.reduction_dimension(n + 1, p, domain) > H.MAX_REDUCTION_ENTRIES
    assert H.max_reduction_vertices(2, "support") == 322
    with pytest.raises(ResourceLimitError, match="MAX_REDUCTION_ENTRIES"):
        H.reduction_instance(nx.cycle_graph(100_000), 2, "continuous")
    with pytest.raises(ResourceLimitError):
        H.gadget_points(400, [], 2, 1.0)


def test_domain_default_is_the_library_default_with_a_deprecation_warning():
    g = nx.path_graph(4)
    with pytest.warns(DeprecationWarning, match="default domain is now 'continuous'"):
        inst = H.reduction_instance(g, 2)
    assert inst.domain == DEFAULT_DOMAIN == "continuous"
    # the old behaviour stays reachable, and an explicit domain gives no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        old = H.reduction_instance(g, 2, "support")
        new = H.reduction_instance(g, 2, domain="continuous")
    assert old.domain == "support" and new.domain == "continuous"
    assert H.DOMAINS == DOMAINS_ONE == ("continuous", "support")


# ---------------------------------------------------------------- errata
def _printed_count(graph, p, domain, eps=1.0):
    x = H.printed_construction_points(graph, p, eps)
    n = graph.number_of_nodes()
    budget = n * (n - 1) // 2 - 1 if p == 0 else eps
    sol = optimal_robust_error(FiniteDistribution(x, np.arange(n)), eps=budget, p=p,
                               domain=domain)
    brute = oracle.optimal_robust_count(x, budget, p, domain)
    assert round(n * (1 - sol.error)) == brute
    return brute


@pytest.mark.parametrize(
    ("graph", "p", "domain", "printed", "correct"),
    [
        # eq. (16): lam = eps/(2k-4)^(1/(2k-4)) puts adjacent rows sqrt(2) eps apart
        (nx.path_graph(4), 2, "support", 4, 2),
        (nx.path_graph(3), 1, "support", 3, 1),
        (nx.star_graph(4), 2, "support", 5, 1),
        # continuous domain: balls meet at distance <= 2 eps, every pair conflicts
        (nx.empty_graph(3), math.inf, "continuous", 1, 3),
        (nx.path_graph(4), 2, "continuous", 1, 2),
        # Remark 1 (p = 0, eps = d - 1) under the continuous domain: 2 floor(eps) >= d
        (nx.empty_graph(3), 0, "continuous", 1, 3),
    ],
)
def test_printed_construction_counterexamples(graph, p, domain, printed, correct):
    assert alpha3(graph) == correct
    assert _printed_count(graph, p, domain) == printed
    inst = H.reduction_instance(graph, p, domain)
    assert oracle.optimal_robust_count(inst.points, inst.eps, p, domain) == correct


@pytest.mark.parametrize("p", (0, math.inf))
def test_printed_construction_is_right_where_paper_is(p):
    """p = inf (lam = eps) and Remark 1 (p = 0) are correct in the support domain, k >= 3."""
    for g in SMALL_ATLAS:
        if g.number_of_nodes() >= 3:
            assert _printed_count(g, p, "support") == alpha3(g), list(g.edges())
