"""Adversarial pruning + certified 1-NN (optrobust.finite.pruned_nn): known values, the
robustness of the kept training points, pruning optimality, the population bracket on
Gaussian data with a known optimum, invariances and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest

from optrobust import GaussianModel
from optrobust.errors import InvalidInputError, InvalidTypeError, OptrobustError
from optrobust.finite import FiniteDistribution, optimal_robust_error
from optrobust.finite.pruned_nn import (
    HeldOutEstimate,
    PrunedNearestNeighbor,
    held_out_curve,
    held_out_estimate,
)

NORMS = (0, 1, 2, math.inf)


def _blobs(n: int, d: int, seed: int, classes: int = 3, spread: float = 1.0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2.0, size=(classes, d))
    y = rng.integers(0, classes, size=n)
    return centers[y] + rng.normal(scale=spread, size=(n, d)), y


# ------------------------------------------------------------------ known values
def test_one_dimensional_known_values():
    """Hand-computed: kept points 0 (label 0) and 1 (label 1), eps = 0.25.  The 1-NN
    boundary is 0.5; x is robust iff |x - 0.5| > 0.25 on the correct side."""
    h = PrunedNearestNeighbor(eps=0.25, p=2).fit([[0.0], [1.0]], [0, 1])
    x = [[-1.0], [0.2], [0.25], [0.3], [0.8], [0.75], [2.0], [0.2]]
    y = [0, 0, 0, 0, 1, 1, 1, 1]
    # 0.25 and 0.75 touch the boundary: ties count against robustness.
    assert h.certify(x, y, eps=0.25).tolist() == [True, True, False, False, True, False,
                                                  True, False]
    assert h.predict([[0.2], [0.8]]).tolist() == [0, 1]


@pytest.mark.parametrize("p", [1, 2, math.inf])
def test_two_dimensional_known_values(p):
    """a = (0, 0) label 0, b = (4, 0) label 1, x = (1, 0).  l2: the bisector x_1 = 2 is at
    distance 1; l1 and l_inf: ||x-b|| - ||x-a|| = 2, so the triangle bound certifies
    eps < 1; l_inf exact: the ball [0, 2] x [-eps, eps] touches x_1 = 2 at eps = 1."""
    h = PrunedNearestNeighbor(eps=0.0, p=p).fit([[0.0, 0.0], [4.0, 0.0]], [0, 1])
    for eps, expected in ((0.5, True), (0.99, True), (1.0, False), (1.5, False)):
        assert h.certify([[1.0, 0.0]], [0], eps=eps).tolist() == [expected], (p, eps)


def test_l2_hyperplane_beats_the_triangle_bound():
    """x = (1, 3), a = (0, 0), b = (4, 0): ||x-b|| - ||x-a|| = 5 - sqrt(10) = 1.838, so the
    triangle bound certifies only eps < 0.919, while the bisector x_1 = 2 is at distance 1."""
    h = PrunedNearestNeighbor(eps=0.0, p=2).fit([[0.0, 0.0], [4.0, 0.0]], [0, 1])
    assert h.certify([[1.0, 3.0]], [0], eps=0.95).tolist() == [True]
    assert h.certify([[1.0, 3.0]], [0], eps=1.0).tolist() == [False]


def test_linf_box_certifies_more():
    """l_inf in 1-D, a = 0 (label 0), b = 0.8 (label 1), x = 0, eps = 0.45; the 1-NN
    boundary is 0.4.  Unrestricted, x' = 0.45 crosses it; in the box [0, 0.41] x' = 0.41
    still does (0.41 > 0.39); in the box [0, 0.39] no x' can: certified."""
    h = PrunedNearestNeighbor(eps=0.0, p=math.inf).fit([[0.0], [0.8]], [0, 1])
    assert h.certify([[0.0]], [0], eps=0.45).tolist() == [False]
    assert h.certify([[0.0]], [0], eps=0.45, box=(0.0, 0.41)).tolist() == [False]
    assert h.certify([[0.0]], [0], eps=0.45, box=(0.0, 0.39)).tolist() == [True]


def test_l0_triangle_integer():
    """Hamming: a = 0000, b = 1111, x = 0001: H(x,b) - H(x,a) = 3 - 1 = 2 > 2 floor(eps)
    only for floor(eps) = 0."""
    h = PrunedNearestNeighbor(eps=0, p=0).fit([[0, 0, 0, 0], [1, 1, 1, 1]], [0, 1])
    assert h.certify([[0, 0, 0, 1]], [0], eps=0.9).tolist() == [True]
    assert h.certify([[0, 0, 0, 1]], [0], eps=1).tolist() == [False]


def test_held_out_fields_and_clopper_pearson():
    x, y = _blobs(120, 3, 0)
    xt, yt = _blobs(90, 3, 1)
    est = held_out_estimate(x, y, xt, yt, eps=0.3, p=2)
    assert isinstance(est, HeldOutEstimate)
    h = PrunedNearestNeighbor(eps=0.3, p=2).fit(x, y)
    ok = h.certify(xt, yt, eps=0.3)
    bad = int((~ok).sum())
    ci = binomtest(bad, 90).proportion_ci(0.95, method="exact")
    assert (est.n_test, est.n_certified, est.n_train, est.n_kept) == (90, 90 - bad, 120,
                                                                      int(h.kept.sum()))
    assert est.error == bad / 90
    assert (est.ci_low, est.ci_high) == pytest.approx((ci.low, ci.high))
    assert est.ci_low <= est.error <= est.ci_high
    assert est.pruning_status == "exact" and est.seconds >= 0
    with pytest.raises(AttributeError):
        est.error = 0.0  # frozen


# ------------------------------------------------------------------ pruning
@pytest.mark.parametrize("p", NORMS)
def test_kept_points_are_robust_and_pruning_is_optimal(p):
    """The kept set is a maximum independent set (its size is n (1 - optimal robust error),
    oracle: optimal_robust_error), and every kept training point is certified on its
    whole ball (robust error 0 on the kept set: kept pairs of different labels are more
    than 2 eps apart)."""
    x, y = _blobs(150, 6 if p == 0 else 2, 3)
    if p == 0:
        x = np.round(x)
    eps = {0: 1, 1: 0.6, 2: 0.4, math.inf: 0.3}[p]
    h = PrunedNearestNeighbor(eps=eps, p=p).fit(x, y)
    opt = optimal_robust_error(FiniteDistribution(x, y), eps=eps, p=p)
    assert h.kept.sum() == pytest.approx(150 * (1 - opt.error))
    assert 0 < h.kept.sum() < 150
    assert h.certify(h.points, h.labels, eps=eps).all()
    assert (h.predict(h.points) == h.labels).all()


def test_time_limited_pruning_is_still_sound():
    """With a tiny time limit the pruning may stop at an incumbent ("bounded"); the kept set
    stays independent, so the kept points stay robust."""
    x, y = _blobs(300, 2, 4, classes=4, spread=1.5)
    h = PrunedNearestNeighbor(eps=0.5, p=2, time_limit=1e-6).fit(x, y)
    assert h.pruning_status in ("exact", "bounded")
    assert h.certify(h.points, h.labels, eps=0.5).all()


# ------------------------------------------------------------------ bracket
@pytest.mark.parametrize("p,eps", [(2, 0.5), (math.inf, 0.3)])
def test_bracket_of_the_gaussian_population_optimum(p, eps):
    """Statement: E[optimum of a test sample] <= population optimum <= E[held-out error]
    (docs/theory.md, "Held-out estimate").  Known population value:
    GaussianModel.robust_error (paper Theorem 2).  Over five seeds, the mean sample
    optimum stays below the population value plus two standard errors, and the population
    value lies below every held-out interval's upper end."""
    model = GaussianModel([1.0, 0.5], [-1.0, -0.5], sigma=1.0)
    pop = model.robust_error(eps=eps, p=p)
    n = 300
    optima = []
    for seed in range(5):
        x, y = model.sample(n, rng=seed)
        xt, yt = model.sample(n, rng=100 + seed)
        opt = optimal_robust_error(FiniteDistribution(xt, yt), eps=eps, p=p).error
        est = held_out_estimate(x, y, xt, yt, eps=eps, p=p)
        optima.append(opt)
        assert opt <= est.error  # the held-out classifier is one candidate on the test sample
        assert pop <= est.ci_high, (seed, pop, est)
    se = math.sqrt(pop * (1 - pop) / (n * len(optima)))
    assert np.mean(optima) <= pop + 2 * se, (optima, pop)


# ------------------------------------------------------------------ invariances
@pytest.mark.parametrize("p", NORMS)
def test_scale_and_permutation_invariance(p):
    """Scaling points and eps by 2^k (exact in float64) and permuting the training sample
    change no certificate."""
    d = 8 if p == 0 else 3
    x, y = _blobs(80, d, 5)
    xt, yt = _blobs(60, d, 6)
    if p == 0:
        x, xt = np.round(x), np.round(xt)
    eps = 0 if p == 0 else 0.3
    base = PrunedNearestNeighbor(eps=eps, p=p).fit(x, y).certify(xt, yt, eps=eps)
    assert 0 < base.sum() < 60
    perm = np.random.default_rng(0).permutation(80)
    for c in (2.0**-30, 2.0**30):
        e = eps if p == 0 else eps * c
        h = PrunedNearestNeighbor(eps=e, p=p).fit(x[perm] * c, y[perm])
        assert (h.certify(xt * c, yt, eps=e) == base).all(), c
    small = PrunedNearestNeighbor(eps=eps, p=p).fit(x, y).certify(xt, yt, eps=eps,
                                                                   chunk_bytes=1)
    assert (small == base).all()


def test_progress_callback_counts_every_test_point():
    x, y = _blobs(50, 2, 7)
    seen = []
    held_out_estimate(x, y, x[:33], y[:33], eps=0.1, p=2, progress=seen.append)
    assert sum(seen) == 33


def test_one_training_class_is_a_constant_classifier():
    h = PrunedNearestNeighbor(eps=1.0, p=2).fit([[0.0], [1.0]], [3, 3])
    assert h.certify([[5.0], [5.0]], [3, 4], eps=1.0).tolist() == [True, False]


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs,match", [
    (dict(train_points=np.zeros((0, 2)), train_labels=[]), "train_points"),
    (dict(train_labels=[0, 1]), "train_labels"),
    (dict(train_points=[[0.0, np.nan], [1.0, 1.0], [2.0, 2.0]]), "train_points"),
    (dict(train_labels=[0.5, 1, 0]), "train_labels"),
    (dict(test_labels=[0]), "test_labels"),
    (dict(test_points=[[0.0, 0.0, 0.0]], test_labels=[0]), "dimension"),
    (dict(eps=-1.0), "eps"),
    (dict(eps=float("nan")), "eps"),
    (dict(p=3), "p"),
    (dict(time_limit=0), "time_limit"),
    (dict(time_limit=-2.0), "time_limit"),
    (dict(box=(1.0, 0.0)), "box"),
    (dict(box="ab"), "box"),
])
def test_bad_input_raises_named_errors(kwargs, match):
    args = dict(train_points=[[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], train_labels=[0, 1, 0],
                test_points=[[0.5, 0.5], [1.5, 1.5]], test_labels=[0, 1], eps=0.1, p=2)
    args.update(kwargs)
    with pytest.raises(OptrobustError, match=match):
        held_out_estimate(**args)


def test_bad_label_types_and_unfitted():
    with pytest.raises(InvalidTypeError, match="train_labels"):
        PrunedNearestNeighbor(eps=0.1, p=2).fit([[0.0], [1.0]], [True, False])
    with pytest.raises(InvalidInputError, match="not fitted"):
        PrunedNearestNeighbor(eps=0.1, p=2).predict([[0.0]])
    h = PrunedNearestNeighbor(eps=0.1, p=2).fit([[0.0], [1.0]], [0, 1])
    with pytest.raises(InvalidInputError, match="dimension"):
        h.certify([[0.0, 1.0]], [0], eps=0.1)
    with pytest.raises(InvalidInputError, match="chunk_bytes"):
        h.certify([[0.0]], [0], eps=0.1, chunk_bytes=0)


@pytest.mark.parametrize("p,eps", [(math.inf, 0.5), (2, 0.9), (1, 1.5)])
def test_label_complete_shortcut_matches_the_solver(p, eps):
    """When 2 eps reaches the bounding box's diameter every cross-label pair conflicts; the
    shortcut keeps the largest class, which is what the exact solver finds (oracle:
    optimal_robust_error on the same sample)."""
    rng = np.random.default_rng(8)
    x = rng.uniform(0, 1, size=(40, 3)) * np.array([1.0, 0.2, 0.2])
    y = rng.integers(0, 3, size=40)
    h = PrunedNearestNeighbor(eps=eps, p=p).fit(x, y)
    assert h.solver == "label-complete"
    opt = optimal_robust_error(FiniteDistribution(x, y), eps=eps, p=p)
    assert h.kept.sum() == pytest.approx(40 * (1 - opt.error))
    assert len(set(h.labels.tolist())) == 1


@pytest.mark.parametrize("p,grid", [(2, [0.1, 0.4, 0.8, 50.0]), (math.inf, [0.2, 0.5]),
                                    (1, [0.3, 0.9]), (0, [0, 1, 2])])
def test_curve_reuses_one_graph_and_matches_single_estimates(p, grid):
    """held_out_curve builds the training graph once; its restriction to smaller eps is the
    conflict graph there (oracle: conflict_graph at each eps), so the pruned sizes agree with
    held_out_estimate's and every estimate stays sound."""
    from optrobust.finite import conflict_graph

    x, y = _blobs(120, 4, 9)
    xt, yt = _blobs(50, 4, 10)
    if p == 0:
        x, xt = np.round(x), np.round(xt)
    seen = []
    curve = held_out_curve(x, y, xt, yt, eps=grid, p=p, phase=seen.append,
                           on_result=lambda e, est: seen.append(e))
    assert sum(m.startswith("graph") for m in seen if isinstance(m, str)) <= 1
    assert [e for e in seen if not isinstance(e, str)] == sorted(grid)
    big = conflict_graph(FiniteDistribution(x, y), eps=max(grid), p=p)
    for e, est in zip(grid, curve, strict=True):
        single = held_out_estimate(x, y, xt, yt, eps=e, p=p)
        assert est.n_kept == single.n_kept and est.n_test == 50
        g = conflict_graph(FiniteDistribution(x, y), eps=e, p=p)
        thr = 2 * math.floor(e) if p == 0 else 2 * e * (1 + 1e-12)
        diff = x[big.edges[:, 0]] - x[big.edges[:, 1]]
        length = (np.count_nonzero(diff, axis=1) if p == 0
                  else np.linalg.norm(diff, ord=p, axis=1))
        sub = big.edges[length <= thr]
        assert np.array_equal(sub, g.edges)


def test_label_complete_tie_is_exact():
    """Pixels in {0, 1/255, ..., 1}: at l_inf eps = 1/2 the widest coordinate has width
    exactly 1 = 2 eps, a tie that closed balls count as a conflict (shortcut taken); just
    below 1/2 it is not taken."""
    rng = np.random.default_rng(11)
    x = rng.integers(0, 256, size=(30, 5)) / 255
    x[0, 0], x[1, 0] = 0.0, 1.0
    y = np.arange(30) % 2
    assert PrunedNearestNeighbor(eps=0.5, p=math.inf).fit(x, y).solver == "label-complete"
    below = PrunedNearestNeighbor(eps=np.nextafter(0.5, 0), p=math.inf).fit(x, y)
    assert below.solver != "label-complete"


def test_curve_bad_input():
    x, y = [[0.0, 0.0], [1.0, 1.0]], [0, 1]
    with pytest.raises(InvalidInputError, match="eps"):
        held_out_curve(x, y, x, y, eps=[], p=2)
    with pytest.raises(InvalidInputError, match="eps"):
        held_out_curve(x, y, x, y, eps=[0.1, -1.0], p=2)
    with pytest.raises(InvalidInputError, match="dimension"):
        held_out_curve(x, y, [[0.0]], [0], eps=[0.1], p=2)
    with pytest.raises(InvalidInputError, match="box"):
        held_out_curve(x, y, x, y, eps=[0.1], p=math.inf, box=(2, 1))
    with pytest.raises(InvalidInputError, match="time_limit"):
        held_out_curve(x, y, x, y, eps=[0.1], p=2, time_limit=0)


@pytest.mark.parametrize("labels", [[1e300, 2e300, 1e300], np.array([2**63 + 1, 1, 2**63 + 1],
                                                                     dtype=np.uint64)])
def test_labels_that_would_merge_classes_are_refused(labels):
    """Floats past 2**53 and uint64 past int64 used to be cast to int64 (1e300 and 2e300 both
    became -2**63: two classes merged); now the library's one label check refuses them."""
    with pytest.raises(InvalidInputError, match="train_labels"):
        held_out_estimate([[0.0], [1.0], [2.0]], labels, [[0.5]], [1], eps=0.1, p=2)
