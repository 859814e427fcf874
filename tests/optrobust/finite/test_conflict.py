"""Conflict graphs: closed-ball ties, every norm, both domains, chunking."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from optrobust.finite import FiniteDistribution, conflict_graph


def edges(dist, **kw):
    return conflict_graph(dist, **kw).edges.tolist()


@pytest.mark.parametrize("p", [1, 2, math.inf])
def test_distance_exactly_two_eps_conflicts(p):
    # 1-d: |0 - 0.6| = 0.6 = 2 * 0.3 exactly, the closed balls touch at 0.3.
    d = FiniteDistribution([[0.0], [0.6]], [0, 1])
    assert edges(d, eps=0.3, p=p) == [[0, 1]]
    assert edges(d, eps=0.29999, p=p) == []
    # exact policy: fl(0.7) - fl(0.1) <= 2 fl(0.3) in real numbers (checked with Fraction),
    # while fl(0.4) - fl(0.1) > 2 fl(0.15): no conflict, unless a tolerance is asked for.
    assert Fraction(0.7) - Fraction(0.1) <= 2 * Fraction(0.3)
    d = FiniteDistribution([[0.1], [0.7]], [0, 1])
    assert edges(d, eps=0.3, p=p) == [[0, 1]]
    assert Fraction(0.4) - Fraction(0.1) > 2 * Fraction(0.15)
    d = FiniteDistribution([[0.1], [0.4]], [0, 1])
    assert edges(d, eps=0.15, p=p) == []
    assert edges(d, eps=0.15, p=p, rtol=1e-9) == [[0, 1]]
    assert conflict_graph(d, eps=0.15, p=p).tie_policy == "exact"
    assert conflict_graph(d, eps=0.15, p=p, rtol=1e-9).tie_policy == "rtol=1e-09"


def test_l2_pythagorean_tie_and_gram_band():
    # ||(0,0) - (3,4)||_2 = 5 exactly: eps = 2.5 touches.
    d = FiniteDistribution([[0.0, 0.0], [3.0, 4.0]], [0, 1])
    assert edges(d, eps=2.5, p=2) == [[0, 1]]
    assert edges(d, eps=2.5 * (1 - 1e-7), p=2) == []
    # far from the origin the Gram formula loses digits; the band recomputes.
    off = 1e4 * np.ones(2)
    d = FiniteDistribution([off, off + [3.0, 4.0]], [0, 1])
    assert edges(d, eps=2.5, p=2) == [[0, 1]]
    assert edges(d, eps=2.5 * (1 - 1e-7), p=2) == []
    assert edges(d, eps=2.5, p=2, rtol=0.0) == [[0, 1]]


def test_each_norm_known_values():
    # (0,0,0) vs (1,1,0): l1 = 2, l2 = sqrt 2, linf = 1, l0 = 2.
    d = FiniteDistribution([[0.0, 0, 0], [1.0, 1, 0]], [0, 1])
    assert edges(d, eps=1.0, p=1) == [[0, 1]]
    assert edges(d, eps=0.99, p=1) == []
    assert edges(d, eps=math.sqrt(2) / 2, p=2) == [[0, 1]]
    assert edges(d, eps=0.70, p=2) == []
    assert edges(d, eps=0.5, p=math.inf) == [[0, 1]]
    assert edges(d, eps=0.49, p=math.inf) == []
    # l0: Hamming 2 <= 2 floor(eps) iff eps >= 1; eps = 0.9 means radius 0.
    assert edges(d, eps=1, p=0) == [[0, 1]]
    assert edges(d, eps=0.9, p=0) == []


def test_same_point_two_labels_conflicts_at_eps_zero_and_same_label_never():
    d = FiniteDistribution([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]], [0, 1, 0])
    for domain in ("continuous", "support"):
        for p in (0, 1, 2, math.inf):
            assert edges(d, eps=0.0, p=p, domain=domain) == [[0, 1], [1, 2]]


def test_support_domain_differs_from_continuous():
    # 0 and 2 in R, eps = 1: balls touch at 1 (continuous conflict), but no
    # support point lies at 1, so on the support they do not conflict.
    d = FiniteDistribution([[0.0], [2.0]], [0, 1])
    assert edges(d, eps=1.0, p=2) == [[0, 1]]
    assert edges(d, eps=1.0, p=2, domain="support") == []
    # a third point at 1 (either label) is in both balls: conflict on the support.
    d = FiniteDistribution([[0.0], [2.0], [1.0]], [0, 1, 0])
    assert edges(d, eps=1.0, p=2, domain="support") == [[0, 1], [1, 2]]


def test_chunking_does_not_change_the_graph():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, size=(60, 5)).astype(float)
    y = rng.integers(0, 3, size=60)
    d = FiniteDistribution(x, y)
    for p in (0, 1, 2, math.inf):
        for domain in ("continuous", "support"):
            a = conflict_graph(d, eps=1.0, p=p, domain=domain).edges
            b = conflict_graph(d, eps=1.0, p=p, domain=domain, chunk_bytes=100).edges
            np.testing.assert_array_equal(a, b)


def test_graph_matches_direct_definition():
    rng = np.random.default_rng(4)
    x = rng.integers(0, 3, size=(25, 3)).astype(float)
    y = rng.integers(0, 3, size=25)
    d = FiniteDistribution(x, y)
    for p in (0, 1, 2, math.inf):
        thr = {0: 2, 1: 2.0, 2: 2.0, math.inf: 2.0}[p]
        g = conflict_graph(d, eps=1.0, p=p)
        want = []
        for i in range(25):
            for j in range(i + 1, 25):
                dist = np.count_nonzero(x[i] - x[j]) if p == 0 else np.linalg.norm(
                    x[i] - x[j], ord=p)
                if y[i] != y[j] and dist <= thr:
                    want.append([i, j])
        assert g.edges.tolist() == want


@pytest.mark.parametrize(("kw", "match"), [
    ({"eps": -1, "p": 2}, "eps"), ({"eps": 1, "p": 3}, "p"),
    ({"eps": 1, "p": 2, "domain": "grid"}, "domain"), ({"eps": 1, "p": 2, "rtol": 0.5}, "rtol"),
])
def test_bad_arguments(kw, match):
    d = FiniteDistribution([[0.0]], [0])
    with pytest.raises(ValueError, match=match):
        conflict_graph(d, **kw)
    with pytest.raises(TypeError, match="dist"):
        conflict_graph([[0.0]], eps=1, p=2)


def test_networkx_view():
    d = FiniteDistribution([[0.0], [0.5], [5.0]], [0, 1, 1])
    g = conflict_graph(d, eps=0.5, p=2)
    nxg = g.to_networkx()
    assert sorted(nxg.edges) == [(0, 1)] and nxg.nodes[2]["label"] == 1
    assert g.is_independent([True, False, True]) and not g.is_independent([True, True, False])


@pytest.mark.parametrize("eps", [0.2, 0.35, 0.45, 0.5])
def test_linf_high_dimension_screening_matches_direct(eps):
    # d = 200 > 96 triggers the coordinate screening; compare with numpy directly,
    # with some pairs constructed to be at exactly 2 eps (a tie) in one coordinate.
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 1, size=(80, 200)) * 0.5
    x[40:] = x[:40] + rng.uniform(-0.4, 0.4, size=(40, 200)) * 0.5
    x[79] = x[0]
    x[79, 5] = x[0, 5] + 2 * eps  # exact tie in one coordinate (others closer)
    y = np.array([0] * 40 + [1] * 40)
    d = FiniteDistribution(x, y)
    got = conflict_graph(d, eps=eps, p=math.inf).edges.tolist()
    # exact oracle: the real differences of the float64 inputs against the real 2 eps
    # (in Fraction arithmetic wherever the float64 value is within 1e-12 of the threshold)
    def within(u, v):
        approx = np.max(np.abs(u - v))
        if abs(approx - 2 * eps) > 1e-12:
            return approx <= 2 * eps
        return max(abs(Fraction(a) - Fraction(b)) for a, b in zip(u, v, strict=True)) <= 2 * Fraction(eps)

    want = [[i, j] for i in range(40) for j in range(40, 80) if within(x[i], x[j])]
    assert got == want
    assert ([0, 79] in got) == (Fraction(x[79, 5]) - Fraction(x[0, 5]) <= 2 * Fraction(eps))
    # with a tolerance asked for, the rounded tie is a conflict whatever the rounding
    loose = conflict_graph(d, eps=eps, p=math.inf, rtol=1e-9).edges.tolist()
    assert [0, 79] in loose and set(map(tuple, got)) <= set(map(tuple, loose))


@pytest.mark.parametrize("p", [0, 1, 2, math.inf])
@pytest.mark.parametrize("scale", [2.0**-1000, 1.0, 1e300])
def test_restricted_graph_equals_the_graph_built_at_the_smaller_eps(p, scale):
    """restrict_conflict_graph (used by held_out_curve) is conflict_graph at the smaller eps,
    ties included: pixel values k/8 put many distances exactly at 2 eps (the old restriction
    compared float lengths with 2 eps (1 + 1e-12) and kept those near-ties as conflicts)."""
    from optrobust.finite.conflict import restrict_conflict_graph

    rng = np.random.default_rng(1)
    x = rng.integers(0, 9, size=(60, 4)) / 8.0 * (1.0 if p == 0 else scale)
    dist = FiniteDistribution(x, rng.integers(0, 3, size=60))
    big = 3 if p == 0 else 0.5 * scale
    base = conflict_graph(dist, eps=big, p=p)
    for eps in ([0, 1, 2] if p == 0 else [0.125 * scale, 0.1875 * scale, 0.25 * scale]):
        want = conflict_graph(dist, eps=eps, p=p)
        got = restrict_conflict_graph(base, dist.points, eps=eps)
        assert got.edges.tolist() == want.edges.tolist() and got.eps == want.eps
    with pytest.raises(ValueError, match="eps"):
        restrict_conflict_graph(base, dist.points, eps=2 * big)


def test_restriction_decides_near_ties_exactly():
    """Distance 2 eps (1 + 2^-50): no conflict under the exact policy, at any budget path."""
    from optrobust.finite.conflict import restrict_conflict_graph

    dist = FiniteDistribution([[0.0], [0.25 + 2.0**-52], [5.0]], [0, 1, 0])
    base = conflict_graph(dist, eps=0.5, p=2)
    assert base.edges.tolist() == [[0, 1]]
    assert restrict_conflict_graph(base, dist.points, eps=0.125).n_edges == 0
    assert conflict_graph(dist, eps=0.125, p=2).n_edges == 0
    tol = conflict_graph(dist, eps=0.5, p=2, rtol=1e-12)
    assert restrict_conflict_graph(tol, dist.points, eps=0.125).edges.tolist() == [[0, 1]]
