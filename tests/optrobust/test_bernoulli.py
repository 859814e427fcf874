"""BernoulliModel: known values, exhaustive oracles over all classifiers, numerics, input checks."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from optrobust import BernoulliModel
from optrobust.bernoulli import MAX_ARRAY_DIM, conflict_radius, level_dp_error, threshold_errors
from optrobust.errors import InvalidInputError, InvalidTypeError, NumericalError, ResourceLimitError
from tests.optrobust.hypercube_oracle import (
    cube_distribution,
    exact_classifier_error_l0,
    milp_all_classifiers_l0,
    milp_conflict_graph,
)

# ---------------------------------------------------------------- known values


def test_bayes_error_k1_by_hand():
    # k = 1: predict the sign of the one effective pixel; wrong w.p. 1/2 - t.
    b = BernoulliModel([1], [-1], Fraction(3, 10))
    assert b.bayes_error() == Fraction(1, 5)


def test_bayes_error_k2_by_hand():
    # k = 2, t = 1/4: P(J=0 | -) = (1/4)^2, P(J=1 | -) = 2 (3/4)(1/4); the tie J = 1 costs half.
    b = BernoulliModel([1, 1], [-1, -1], Fraction(1, 4))
    assert b.bayes_error() == Fraction(1, 16) + Fraction(1, 2) * Fraction(6, 16)


def test_l0_robust_error_k2_eps1_by_hand():
    # k = 2, eps = 1: r = 2 = k, so every + level conflicts with every - level -> 1/2.
    b = BernoulliModel([1, 1], [-1, -1], Fraction(1, 4))
    assert b.robust_error(eps=1, p=0) == Fraction(1, 2)


def test_l0_robust_error_k3_eps1_by_hand():
    # k = 3, r = 2: best is A = {0}, B = {3}:  error = 1/2 [P(J+ >= 1) + P(J- <= 2)]
    # with J+ ~ Bin(3, 1/4), J- ~ Bin(3, 3/4): = 1/2 [(1 - 27/64) + (1 - 27/64)] = 37/64.
    # That exceeds 1/2, so the optimum is the constant classifier: 1/2.
    b = BernoulliModel([1, 1, 1], [-1, -1, -1], Fraction(1, 4))
    assert b.robust_error(eps=1, p=0) == Fraction(1, 2)
    # t = 1/2 (noise-free), k = 3, eps = 1: J+ = 0 and J- = 3 always, gap 3 > r = 2 -> 0.
    b = BernoulliModel([1, 1, 1], [-1, -1, -1], Fraction(1, 2))
    assert b.robust_error(eps=1, p=0) == 0


def test_paper_figure12_values():
    """k = 50, t = 0.3 (paper Appendix G, Figure 12): the curve reaches 1/2 at eps = 16.

    Source: computed here exactly with Fractions (the paper's figure is a plot
    without printed numbers; it shows the same shape, chance reached in the mid
    teens).
    """
    b = BernoulliModel.symmetric(50, Fraction(3, 10))
    assert b.feasible_eps(p=0) == 16
    assert b.robust_error(eps=15, p=0) < Fraction(1, 2)
    assert b.robust_error(eps=16, p=0) == Fraction(1, 2)
    fl = BernoulliModel.symmetric(50, 0.3)
    for eps in range(0, 18):
        assert math.isclose(float(fl.robust_error(eps=eps, p=0)),
                            float(b.robust_error(eps=eps, p=0)), rel_tol=1e-10, abs_tol=1e-300)


def test_linf_limit_is_one_or_half():
    b = BernoulliModel.symmetric(7, 0.2)
    assert b.feasible_eps(p=math.inf) == 1.0
    assert math.isclose(b.robust_error(eps=0.999, p=math.inf), b.bayes_error(), rel_tol=1e-12)
    assert b.robust_error(eps=1.0, p=math.inf) == 0.5
    b01 = BernoulliModel.symmetric(7, 0.2, values="01")
    assert b01.feasible_eps(p=math.inf) == 0.5
    assert math.isclose(b01.robust_error(eps=0.4999, p="linf"), b01.bayes_error(), rel_tol=1e-12)
    assert b01.robust_error(eps=0.5, p="linf") == 0.5


@pytest.mark.parametrize(
    ("eps", "p", "values", "expected"),
    [(2.9, 0, "pm1", 4), (1.5, 2, "pm1", 2), (math.sqrt(2), 2, "pm1", 2), (1.0, 1, "pm1", 1),
     (1.0, 1, "01", 2), (0.5, 2, "01", 1), (0.99, math.inf, "pm1", 0), (1, math.inf, "pm1", 7)],
)
def test_conflict_radius(eps, p, values, expected):
    assert conflict_radius(eps, p, 7, values) == expected


# ------------------------------------------------- exhaustive oracles (all classifiers)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("t", [0.0, 0.1, 0.3, 0.5])
def test_l0_matches_milp_over_all_classifiers(k, t):
    """Threshold search == integer program over every classifier {-1,1}^k -> {+1,-1}."""
    b = BernoulliModel.symmetric(k, t)
    for eps in range(0, k + 1):
        oracle = milp_all_classifiers_l0(k, t, eps)
        assert math.isclose(float(b.robust_error(eps=eps, p=0)), oracle, abs_tol=1e-9), (k, t, eps)


def test_l0_milp_k6_k7_and_noneffective_dims():
    for t in (0.05, 0.25, 0.45):
        b = BernoulliModel.symmetric(6, t)
        for eps in (1, 2, 3):
            assert math.isclose(float(b.robust_error(eps=eps, p=0)),
                                milp_all_classifiers_l0(6, t, eps), abs_tol=1e-9)
    # k = 7 (128 cube points, every classifier): eps near k and t in {0, 1/2} included.
    for t, eps in ((0.0, 3), (0.2, 1), (0.2, 3), (0.5, 3), (0.5, 4), (0.35, 7)):
        b = BernoulliModel.symmetric(7, t)
        assert math.isclose(float(b.robust_error(eps=eps, p=0)),
                            milp_all_classifiers_l0(7, t, eps), abs_tol=1e-9), (t, eps)
    # d = 4 with k = 2: the two non-effective pixels change nothing.
    b = BernoulliModel.symmetric(2, 0.3, d=4)
    for eps in (0, 1, 2):
        assert math.isclose(float(b.robust_error(eps=eps, p=0)),
                            milp_all_classifiers_l0(2, 0.3, eps, d=4), abs_tol=1e-9)


@pytest.mark.parametrize("p", [1, 2, math.inf])
@pytest.mark.parametrize("values", ["pm1", "01"])
def test_other_norms_match_conflict_graph_milp(p, values):
    """Continuous domain, l1/l2/linf: level reduction == MILP on the raw conflict graph."""
    k = 4
    grid = [0.0, 0.3, 0.5, 0.75, 1.0, 1.5, math.sqrt(2), 2.0, 3.0]
    for t in (0.1, 0.35):
        b = BernoulliModel.symmetric(k, t, values=values)
        for eps in grid:
            want = milp_conflict_graph(k, t, eps=eps, p=p, values=values)
            got = float(b.robust_error(eps=eps, p=p))
            assert math.isclose(got, want, abs_tol=1e-9), (p, values, t, eps, got, want)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_returned_l0_classifier_attains_error_exactly(k):
    t = Fraction(1, 5)
    b = BernoulliModel.symmetric(k, t)
    for eps in range(0, k + 1):
        sol = b.robust_solution(eps=eps, p=0)
        assert exact_classifier_error_l0(sol.classifier, k, t, eps) == sol.error


def test_level_dp_agrees_with_threshold_for_large_k():
    for k in (40, 101, 400):
        for t in (0.02, 0.2, 0.45):
            b = BernoulliModel.symmetric(k, t)
            for eps in (0, 1, k // 10, k // 4, k // 2):
                r = conflict_radius(eps, 0, k)
                assert math.isclose(float(b.robust_error(eps=eps, p=0)),
                                    float(level_dp_error(k, t, r)), rel_tol=1e-9, abs_tol=1e-15)


# -------------------------------------------------------------------- numerics


def test_exact_mode_returns_fractions_and_matches_floats():
    bf = BernoulliModel.symmetric(30, 0.15)
    be = BernoulliModel.symmetric(30, Fraction(15, 100))
    assert isinstance(be.bayes_error(), Fraction)
    assert math.isclose(float(be.bayes_error()), bf.bayes_error(), rel_tol=1e-12)
    for eps in range(0, 10):
        e = be.robust_error(eps=eps, p=0)
        assert isinstance(e, Fraction)
        assert math.isclose(float(e), bf.robust_error(eps=eps, p=0), rel_tol=1e-10)
    assert be.feasible_eps(0) == bf.feasible_eps(0)


def test_huge_k_is_finite_and_monotone():
    b = BernoulliModel.symmetric(10**6, 0.001)
    errs = [float(b.robust_error(eps=e, p=0)) for e in (0, 100, 500, 900, 1000, 1001, 2000)]
    assert all(np.isfinite(errs))
    assert errs == sorted(errs)
    assert errs[-1] == 0.5
    fe = b.feasible_eps(0)
    assert b.robust_error(eps=fe, p=0) == 0.5
    assert b.robust_error(eps=fe - 1, p=0) < 0.5


def test_tiny_errors_do_not_underflow_to_garbage():
    b = BernoulliModel.symmetric(2000, 0.3)
    assert 0.0 <= b.bayes_error() < 1e-100
    assert b.robust_error(eps=100, p=0) >= b.bayes_error()


def test_sample_statistics():
    b = BernoulliModel([1, 1, -1], [-1, 1, 1], 0.3)
    X, y = b.sample(20000, rng=1)
    assert set(np.unique(X)) <= {-1.0, 1.0}
    centre = np.where(y[:, None] == 1, b.theta_pos, b.theta_neg)
    assert abs((X == centre).mean() - 0.8) < 0.01
    X01, _ = BernoulliModel([1], [-1], 0.1, values="01").sample(10, rng=0)
    assert set(np.unique(X01)) <= {0.0, 1.0}


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"theta_pos": [1, 0], "theta_neg": [1, -1], "t": 0.1}, "theta_pos"),
        ({"theta_pos": [1, 1], "theta_neg": [1], "t": 0.1}, "same length"),
        ({"theta_pos": [1], "theta_neg": [-1], "t": 0.6}, "t must lie"),
        ({"theta_pos": [1], "theta_neg": [-1], "t": -0.1}, "t must lie"),
        ({"theta_pos": [1], "theta_neg": [-1], "t": float("nan")}, "t must lie"),
        ({"theta_pos": [1, float("nan")], "theta_neg": [-1, 1], "t": 0.1}, "theta_pos"),
    ],
)
def test_bad_model_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BernoulliModel(**kwargs)


def test_bad_eps_and_norm():
    b = BernoulliModel.symmetric(5, 0.2)
    with pytest.raises(ValueError, match="eps"):
        b.robust_error(eps=-1, p=0)
    with pytest.raises(ValueError, match="eps"):
        b.robust_error(eps=float("nan"), p=0)
    with pytest.raises(ValueError, match="p must be"):
        b.robust_error(eps=1, p="l7")
    with pytest.raises(ValueError, match="values"):
        BernoulliModel([1], [-1], 0.1, values="bits")  # type: ignore[arg-type]


def test_bad_input_is_a_named_error():
    """Booleans, strings and complex numbers are not thetas or biases (issue 10)."""
    cases = [
        (lambda: BernoulliModel([True, True], [False, True], 0.1), InvalidTypeError),
        (lambda: BernoulliModel(["1", "-1"], [-1, -1], 0.1), InvalidTypeError),
        (lambda: BernoulliModel([1 + 0j], [-1], 0.1), InvalidTypeError),
        (lambda: BernoulliModel([[1], [1, 1]], [-1], 0.1), InvalidInputError),
        (lambda: BernoulliModel([1], [-1], "0.3"), InvalidTypeError),
        (lambda: BernoulliModel([1], [-1], 0.3 + 0j), InvalidTypeError),
        (lambda: BernoulliModel([1], [-1], True), InvalidTypeError),
        (lambda: BernoulliModel([1], [-1], 10**400), InvalidInputError),
        (lambda: BernoulliModel.symmetric(5, 0.1).robust_error(eps="1", p=0), InvalidTypeError),
        (lambda: BernoulliModel.symmetric(5, 0.1).robust_error(eps=1, p=True), InvalidTypeError),
        (lambda: BernoulliModel.symmetric(5, 0.1).robust_error(eps=math.inf, p=0), InvalidInputError),
        (lambda: BernoulliModel.symmetric(True, 0.1), InvalidTypeError),
        (lambda: BernoulliModel.symmetric(2**53 + 1, 0.1), NumericalError),
        (lambda: BernoulliModel.symmetric(10**6, Fraction(3, 10)).bayes_error(),
         ResourceLimitError),
        (lambda: BernoulliModel.symmetric(10**6, Fraction(3, 10)).feasible_eps(0),
         ResourceLimitError),
    ]
    for make, err in cases:
        with pytest.raises(err):
            make()


# -------------------------------------------------- scale: O(1) memory in k (issue 10, 14)


def test_huge_eps_is_chance_for_every_norm():
    """l0 with eps = 1e300 raised OverflowError; every norm gives 1/2 there (r = k)."""
    for values in ("pm1", "01"):
        b = BernoulliModel.symmetric(50, 0.3, values=values)
        for p in (0, 1, 2, math.inf):
            sol = b.robust_solution(eps=1e300, p=p)
            assert sol.error == 0.5 and sol.radius == 50 and sol.a == 50
        assert b.robust_classifier(eps=1e300, p=0).predict(np.zeros((2, 50))).tolist() == [1, 1]
    assert conflict_radius(1.7e308, 2, 10) == 10


def test_billion_dimensions_in_constant_memory():
    """k = 10^9 (issue 14: killed at 18 GB): exact thresholds, no array of length k.

    Known values: chance needs r about 2 t k (the class means of J differ by 2 t k),
    so the feasible l0 eps is about t k; the exact integer comes from the bisection,
    and the float rounding of 1/2 - t cannot move it by more than one.
    """
    import tracemalloc

    tracemalloc.start()
    b = BernoulliModel.symmetric(10**9, 0.3)
    fe = b.feasible_eps(0)
    assert b.robust_error(eps=fe, p=0) == 0.5
    assert b.robust_error(eps=fe - 1, p=0) < 0.5
    sol = b.robust_solution(eps=fe - 1, p=0)
    assert sol.a == (b.k - sol.radius - 1) // 2
    assert abs(fe - 3 * 10**8) <= 50_000
    assert b.feasible_eps(2) == pytest.approx(math.sqrt(b.min_chance_radius()), rel=1e-15)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5 * 2**20, peak
    with pytest.raises(ResourceLimitError, match="MAX_ARRAY_DIM"):
        _ = b.theta_pos
    with pytest.raises(ResourceLimitError):
        _ = sol.classifier
    assert b.d == b.dim == 10**9 > MAX_ARRAY_DIM


def test_exact_and_float_agree_at_large_k():
    """Exact integer pass vs scipy tails, k = 3000: same feasible eps, same error to 1e-9."""
    for t in (Fraction(1, 20), Fraction(3, 10)):
        be, bf = BernoulliModel.symmetric(3000, t), BernoulliModel.symmetric(3000, float(t))
        assert be.feasible_eps(0) == bf.feasible_eps(0)
        fe = be.feasible_eps(0)
        for eps in (0, fe // 3, fe - 2, fe - 1, fe):
            e = be.robust_error(eps=eps, p=0)
            assert isinstance(e, Fraction)
            assert math.isclose(float(e), bf.robust_error(eps=eps, p=0), rel_tol=1e-9,
                                abs_tol=1e-300)


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("values", ["pm1", "01"])
def test_feasible_eps_is_the_smallest_float(p, values):
    """Closed balls, exact radius: chance at feasible_eps, not one float below it."""
    for k, t in ((7, 0.2), (50, 0.3), (1000, 0.05)):
        b = BernoulliModel.symmetric(k, t, values=values)
        fe = b.feasible_eps(p)
        assert b.robust_error(eps=fe, p=p) == 0.5
        assert b.robust_error(eps=math.nextafter(fe, 0.0), p=p) < 0.5


def test_sample_and_predict_bounds():
    b = BernoulliModel.symmetric(10**6, 0.2)
    with pytest.raises(ResourceLimitError, match="MAX_SAMPLE_ENTRIES"):
        b.sample(10**4)
    clf = BernoulliModel.symmetric(3, 0.2).robust_classifier(eps=0.5, p=2)
    with pytest.raises(InvalidInputError, match="finite"):
        clf.predict([[0.0, float("nan"), 1.0]])
    with pytest.raises(InvalidInputError, match="shape"):
        clf.predict([[0.0, 1.0]])
    # Far-away inputs: no overflow in the p-th powers, a label all the same.
    assert clf.predict([[1e200, 1e200, 1e200]]).tolist() == [-1]
    assert clf.predict([1.0, 1.0, 1.0]).tolist() == [1]


def test_results_are_frozen_and_read_only():
    b = BernoulliModel([1, -1, 1], [-1, -1, -1], 0.25)
    sol = b.robust_solution(eps=1, p=0)
    with pytest.raises(AttributeError):
        sol.error = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        b.theta_pos[0] = -1
    assert sol.classifier.theta_pos.tolist() == [1, -1, 1] and sol.classifier.k == 2


def test_level_dp_oracle_never_exceeds_one_half():
    """Found by the fuzz suite: the float pmf sum fell an ulp short (0.5000000000000001)."""
    for k in range(1, 30):
        for r in range(k + 1):
            assert level_dp_error(k, 0.2, r) <= 0.5


def test_threshold_errors_is_deprecated_but_agrees():
    b = BernoulliModel.symmetric(40, 0.2)
    with pytest.warns(DeprecationWarning):
        logs = threshold_errors(40, 0.2, 6)
    assert math.isclose(min(0.5, math.exp(logs.min())), b.robust_error(eps=3, p=0), rel_tol=1e-12)


@pytest.mark.parametrize("values", ["pm1", "01"])
@pytest.mark.parametrize("p", [1, 2])
def test_one_tie_policy_with_the_finite_solver(p, values):
    """Issue 10: the same distribution must get the same answer from BernoulliModel and from
    the finite solver, also at the float neighbours of every tie eps (distance = 2 eps).
    The cube {-1,1}^3 (or {0,1}^3) with its exact class weights is a finite distribution."""
    from optrobust import FiniteDistribution, optimal_robust_error

    k, t = 3, Fraction(1, 5)
    b = BernoulliModel.symmetric(k, t, values=values)
    pts, w_pos, w_neg = cube_distribution(k, float(t))
    if values == "01":
        pts = (pts + 1) / 2
    dist = FiniteDistribution(np.vstack([pts, pts]), [1] * len(pts) + [-1] * len(pts),
                              np.concatenate([w_pos, w_neg]))
    edge = 2.0 if values == "pm1" else 1.0
    for m in range(k + 1):
        tie = edge * m ** (1 / p) / 2  # half the distance at Hamming distance m
        for eps in (math.nextafter(tie, 0.0), tie, math.nextafter(tie, math.inf)):
            want = float(b.robust_error(eps=eps, p=p))
            got = optimal_robust_error(dist, eps=eps, p=p).error
            assert math.isclose(got, want, abs_tol=1e-12), (m, eps, got, want)
