"""Soft (randomized) robust error LP: known values and its place between bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optrobust.finite import (
    FiniteDistribution,
    conflict_graph,
    conflict_triples,
    optimal_robust_error,
    soft_robust_error_lower_bound,
)


def triangle(side):
    return FiniteDistribution(
        [[0.0, 0.0], [side, 0.0], [side / 2, side * math.sqrt(3) / 2]], [0, 1, 2]
    )


def test_equilateral_triangle_balls_meet_pairwise_not_jointly():
    # Hand derivation: side s in (sqrt(3) eps, 2 eps] -> balls pairwise meet but the
    # circumradius s / sqrt(3) > eps, so no triple constraint; q = 1/2 each is a
    # soft classifier (every point lies in at most two balls): soft error 1/2,
    # deterministic 2/3.
    d = triangle(1.9)
    for order in (2, 3):
        b = soft_robust_error_lower_bound(d, eps=1.0, p=2, order=order)
        assert b.error == pytest.approx(0.5) and b.n_triple_constraints == 0
        np.testing.assert_allclose(b.q, [0.5, 0.5, 0.5])
    assert soft_robust_error_lower_bound(d, eps=1.0, p=2, order=3).exact
    assert optimal_robust_error(d, eps=1.0, p=2).error == pytest.approx(2 / 3)


def test_triple_constraint_closes_the_gap():
    # side 1.7 < sqrt(3): the centroid is in all three balls -> q sums to <= 1.
    d = triangle(1.7)
    assert soft_robust_error_lower_bound(d, eps=1.0, p=2, order=2).error == pytest.approx(0.5)
    b3 = soft_robust_error_lower_bound(d, eps=1.0, p=2, order=3)
    assert b3.n_triple_constraints == 1 and b3.error == pytest.approx(2 / 3)


def test_linf_boxes_helly_and_support_triples():
    # l_inf boxes: pairwise intersecting -> common point (Helly number 2).
    d = triangle(1.9)
    g = conflict_graph(d, eps=1.0, p=math.inf)
    assert conflict_triples(d, g).tolist() == [[0, 1, 2]]
    # support domain: the common point must be a support point.
    d = FiniteDistribution([[0.0], [2.0], [1.0]], [0, 1, 2])
    g = conflict_graph(d, eps=1.0, p=2, domain="support")
    assert conflict_triples(d, g).tolist() == [[0, 1, 2]]
    # equilateral triangle of side 2, eps = 1, edge midpoints as extra support
    # points (label 3): A, B, C conflict pairwise through the midpoints, but no
    # support point lies in all three balls (the centroid is not in the support).
    s3 = math.sqrt(3)
    pts = [[0.0, 0], [2.0, 0], [1.0, s3], [1.0, 0], [0.5, s3 / 2], [1.5, s3 / 2]]
    d = FiniteDistribution(pts, [0, 1, 2, 3, 3, 3], [1, 1, 1, 0, 0, 0])
    g = conflict_graph(d, eps=1.0, p=2, domain="support")
    assert {(0, 1), (0, 2), (1, 2)} <= set(map(tuple, g.edges.tolist()))
    assert [0, 1, 2] not in conflict_triples(d, g).tolist()
    b = soft_robust_error_lower_bound(d, eps=1.0, p=2, domain="support", order=3)
    assert b.error == pytest.approx(0.5)


def test_l1_and_l0_triples_against_grid_search():
    # l1: three points in the plane; a common point exists iff the LP is feasible.
    # Grid oracle: the l1 balls are polytopes with vertices on a 1/2-grid here.
    rng = np.random.default_rng(5)
    grid = np.stack(np.meshgrid(np.arange(-3, 7, 0.5), np.arange(-3, 7, 0.5)), -1).reshape(-1, 2)
    for _ in range(30):
        x = rng.integers(0, 4, size=(3, 2)).astype(float)
        d = FiniteDistribution(x, [0, 1, 2])
        g = conflict_graph(d, eps=1.5, p=1)
        got = conflict_triples(d, g).shape[0] == 1
        inside = np.all([np.abs(grid - xi).sum(1) <= 1.5 for xi in x], axis=0)
        assert got == bool(inside.any())
    # l0 in R^4, radius 1: brute force over z built from the centres' coordinates + a fresh value.
    import itertools
    for _ in range(30):
        x = rng.integers(0, 3, size=(3, 4)).astype(float)
        d = FiniteDistribution(x, [0, 1, 2])
        g = conflict_graph(d, eps=1.0, p=0)
        got = conflict_triples(d, g).shape[0] == 1
        vals = [sorted(set(x[:, k].tolist()) | {9.0}) for k in range(4)]
        want = any(all(np.count_nonzero(np.array(z) - xi) <= 1 for xi in x)
                   for z in itertools.product(*vals))
        assert got == want


def test_two_labels_lp_equals_deterministic():
    rng = np.random.default_rng(6)
    for _ in range(10):
        x = rng.integers(0, 5, size=(12, 2)).astype(float)
        d = FiniteDistribution(x, rng.integers(0, 2, size=12), rng.integers(1, 4, size=12))
        for p in (1, 2, math.inf):
            lp = soft_robust_error_lower_bound(d, eps=1.0, p=p).error
            assert lp == pytest.approx(optimal_robust_error(d, eps=1.0, p=p).error, abs=1e-9)


def test_order_validated():
    with pytest.raises(ValueError, match="order"):
        soft_robust_error_lower_bound(triangle(1.0), eps=1.0, p=2, order=4)


def test_l2_triple_at_the_exact_enclosing_radius_is_a_hyperedge_at_every_scale():
    # Right triangle (0,0), (6,0), (0,8): hypotenuse 10 is a diameter, enclosing radius 5
    # exactly.  eps = 5 touches (closed balls: a common point exists), one ulp below does
    # not; scaling everything by 2^k (exact) changes nothing (tie policy: exact).
    from optrobust.finite import conflict_graph, conflict_triples

    x = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 8.0]])
    for k in (-600, 0, 600):
        s = 2.0 ** k
        d = FiniteDistribution(x * s, [0, 1, 2])
        at = conflict_graph(d, eps=5.0 * s, p=2)
        assert conflict_triples(d, at).tolist() == [[0, 1, 2]]
        below = conflict_graph(d, eps=math.nextafter(5.0, 0) * s, p=2)
        assert conflict_triples(d, below).tolist() == []
        bound = soft_robust_error_lower_bound(d, eps=5.0 * s, p=2, order=3)
        assert bound.tie_policy == "exact" and bound.error == pytest.approx(2 / 3)
