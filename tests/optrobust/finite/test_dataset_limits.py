"""``dataset_limits``: known values, eps0 and the constant classifier by brute force, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from optrobust.errors import InvalidInputError, InvalidTypeError
from optrobust.finite import FiniteDistribution, optimal_robust_error
from optrobust.finite.dataset_limits import (
    DatasetLimit,
    dataset_limits,
    feasible_eps,
    min_cross_label_distance,
)


def test_three_points_on_a_line_known_values():
    # x = 0 (label 0), 1 (label 1), 3 (label 0): distances 1 and 2 across labels (hand count).
    # eps < 1/2: no conflict, error 0; eps = 1/2: the closed balls of 0 and 1 touch -> 1/3;
    # eps = 1: both cross pairs conflict, keep {0, 3} -> 1/3 = constant error (1 - 2/3).
    x, y = [[0.0], [1.0], [3.0]], [0, 1, 0]
    rows = dataset_limits(x, y, eps=[1.0, 0.49, 0.5], p=2, time_limit=None)
    assert [r.eps for r in rows] == [0.49, 0.5, 1.0]
    assert [r.lower for r in rows] == [0.0, pytest.approx(1 / 3), pytest.approx(1 / 3)]
    assert all(r.status == "exact" and r.lower == r.upper for r in rows)
    assert [r.conflicts for r in rows] == [0, 1, 2]
    assert all(r.eps0 == pytest.approx(0.5, rel=1e-12) and r.eps0 <= 0.5 for r in rows)
    assert all(r.constant_error == pytest.approx(1 / 3) for r in rows)
    assert feasible_eps(rows) == 0.5
    assert isinstance(rows[0], DatasetLimit) and rows[0].held_out is None
    d = rows[1].to_dict()
    assert d["held_out"] is None and d["status"] == "exact" and "graph" in d["seconds"]


@pytest.mark.parametrize("p", [1, 2, math.inf, 0])
def test_eps0_and_constant_error_against_brute_force(p):
    rng = np.random.default_rng(int(p) if math.isfinite(p) else 9)
    for _ in range(4):
        n = int(rng.integers(5, 40))
        x = rng.integers(0, 4, size=(n, 3)).astype(float) if p == 0 else rng.random((n, 3))
        y = rng.integers(0, 3, size=n)
        if np.unique(y).size < 2:
            y[0], y[1] = 0, 1
        metric = {0: "hamming", 1: "cityblock", 2: "euclidean", math.inf: "chebyshev"}[p]
        d = cdist(x, x, metric=metric) * (3 if p == 0 else 1)
        cross = d[y[:, None] != y[None, :]]
        brute_eps0 = float(cross.min()) / 2
        assert min_cross_label_distance(x, y, p=p) / 2 == pytest.approx(brute_eps0, rel=1e-12)
        grid = [0.5, 1.0, 2.0] if p == 0 else [brute_eps0 * 0.99, brute_eps0 * 1.5, 0.4]
        rows = dataset_limits(x, y, eps=grid, p=p, time_limit=None)
        share = np.bincount(y).max() / n
        for r in rows:
            assert r.eps0 == pytest.approx(brute_eps0, rel=1e-9)
            assert r.constant_error == pytest.approx(1 - share, abs=1e-15)
            exact = optimal_robust_error(FiniteDistribution(x, y), eps=r.eps, p=p).error
            assert r.lower == pytest.approx(exact, abs=1e-12) == r.upper
            assert r.upper <= r.constant_error + 1e-15


def test_below_eps0_is_zero_and_label_complete_is_instant_and_exact():
    rng = np.random.default_rng(3)
    x = rng.random((3000, 5))
    y = rng.integers(0, 4, size=3000)
    counts = np.bincount(y)
    rows = dataset_limits(x, y, eps=[0.5, 1e-9], p="linf", time_limit=1.0)
    assert rows[0].eps == 1e-9 and rows[0].lower == rows[0].upper == 0.0
    assert rows[0].conflicts == 0 and rows[0].solver == "empty"
    full = rows[1]  # [0, 1]^5 has l_inf diameter <= 1 = 2 eps: every cross pair conflicts
    assert full.solver == "label-complete" and full.status == "exact"
    assert full.conflicts == (3000**2 - int((counts**2).sum())) // 2
    assert full.lower == full.upper == pytest.approx(1 - counts.max() / 3000)
    assert feasible_eps(rows) == 0.5


def test_time_limit_path_gives_an_interval_containing_the_optimum():
    rng = np.random.default_rng(5)
    x = rng.random((120, 2))
    y = rng.integers(0, 5, size=120)
    rows = dataset_limits(x, y, eps=[0.05, 0.1, 0.2], p=2, time_limit=1e-9)
    dist = FiniteDistribution(x, y)
    for r in rows:
        exact = optimal_robust_error(dist, eps=r.eps, p=2).error
        assert r.lower <= exact + 1e-12 <= r.upper + 2e-12
        assert (r.status == "exact") == (r.lower == r.upper)
    assert [r.lower for r in rows] == sorted(r.lower for r in rows)
    assert [r.upper for r in rows] == sorted(r.upper for r in rows)


def test_held_out_row_with_a_training_sample():
    rng = np.random.default_rng(7)
    x = rng.random((60, 2))
    y = (x[:, 0] > 0.5).astype(int)
    rows = dataset_limits(x[:30], y[:30], eps=[0.01, 0.05], p=2, train_points=x[30:],
                          train_labels=y[30:], time_limit=5.0)
    for r in rows:
        h = r.held_out
        assert h is not None and 0.0 <= h.ci_low <= h.error <= h.ci_high <= 1.0
        assert r.to_dict()["held_out"]["error"] == h.error and "held_out" in r.seconds


def test_progress_callback_sees_the_phases():
    seen: list[str] = []
    dataset_limits([[0.0], [1.0]], [0, 1], eps=[0.1, 0.6], p=2, progress=seen.append)
    assert "eps=0.1 graph" in seen and "eps=0.1 solve" in seen


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"test_points": np.zeros((0, 2)), "test_labels": np.zeros(0, int)}, "test_points"),
    ({"test_points": np.zeros((3, 2)), "test_labels": [0, 1]}, "test_labels"),
    ({"test_points": [[np.nan, 0.0], [1.0, 1.0]], "test_labels": [0, 1]}, "test_points"),
    ({"test_points": [[0.0], [1.0]], "test_labels": [0.5, 1.0]}, "test_labels"),
    ({"test_points": [[0.0], [1.0]], "test_labels": [2, 2]}, "two classes"),
    ({"time_limit": 0}, "time_limit"),
    ({"time_limit": -3.0}, "time_limit"),
    ({"eps": -1.0}, "eps"),
    ({"eps": []}, "eps"),
    ({"eps": [0.1, math.nan]}, "eps"),
    ({"p": 3}, "p"),
    ({"domain": "grid"}, "domain"),
    ({"train_points": [[0.0], [1.0]]}, "train"),
    ({"train_points": [[0.0, 1.0]], "train_labels": [0]}, "dimension"),
])
def test_bad_input_raises_named_errors(kwargs, match):
    args = {"test_points": [[0.0], [1.0]], "test_labels": [0, 1], "eps": 0.3, "p": 2}
    args.update(kwargs)
    with pytest.raises(InvalidInputError, match=match):
        dataset_limits(args.pop("test_points"), args.pop("test_labels"), **args)


def test_eps_as_text_is_a_type_error():
    with pytest.raises(InvalidTypeError, match="eps"):
        dataset_limits([[0.0], [1.0]], [0, 1], eps="0.3", p=2)


def test_plot_writes_a_png_and_rejects_a_missing_folder(tmp_path):
    from optrobust.finite.dataset_limits import plot_dataset_limits

    rng = np.random.default_rng(2)
    x = rng.random((60, 2))
    y = rng.integers(0, 3, size=60)
    rows = dataset_limits(x, y, eps=[0.02, 0.1, 0.3], p=2, time_limit=1e-9)
    out = plot_dataset_limits(rows, tmp_path / "l.png", title="test")
    assert out.stat().st_size > 1000
    with pytest.raises(InvalidInputError, match="path"):
        plot_dataset_limits(rows, tmp_path / "missing" / "l.png")
    with pytest.raises(InvalidInputError, match="limits"):
        plot_dataset_limits([], tmp_path / "e.png")


@pytest.mark.parametrize("p", [2, math.inf])
def test_min_cross_label_distance_screened_paths_in_high_dimension(p):
    # d = 120 > 96 takes the l_inf screen (48 coordinates) and the l2 Gram screen; oracle:
    # the full cdist matrix.
    rng = np.random.default_rng(21)
    x = rng.random((150, 120))
    y = rng.integers(0, 4, size=150)
    metric = "euclidean" if p == 2 else "chebyshev"
    d = cdist(x, x, metric=metric)[y[:, None] != y[None, :]]
    got = min_cross_label_distance(x, y, p=p, chunk_bytes=20_000)
    assert got == pytest.approx(float(d.min()), rel=1e-12)


def test_label_complete_shortcut_builds_no_graph_at_an_exact_tie(monkeypatch):
    # Pixels exactly 0 and 1: the l_inf diameter is 1 = 2 * 0.5 (a tie, closed balls), so
    # every cross pair conflicts; the row must come from the bounding box, not a graph.
    import sys

    mod = sys.modules["optrobust.finite.dataset_limits"]  # the name is also the function's
    rng = np.random.default_rng(4)
    x = rng.integers(0, 2, size=(200, 30)).astype(float)
    y = rng.integers(0, 3, size=200)

    def boom(*a, **k):
        raise AssertionError("conflict_graph called")

    monkeypatch.setattr(mod, "conflict_graph", boom)
    (row,) = dataset_limits(x, y, eps=0.5, p="linf")
    counts = np.bincount(y)
    assert row.solver == "label-complete" and row.status == "exact"
    assert row.conflicts == (200**2 - int((counts**2).sum())) // 2
    assert row.lower == pytest.approx(1 - counts.max() / 200)
    with pytest.raises(AssertionError, match="conflict_graph"):
        dataset_limits(x, y, eps=0.5 - 1e-12, p="linf")  # below the tie: a graph is needed


@pytest.mark.parametrize("p", [1, 2, math.inf])
@pytest.mark.parametrize("scale", [2.0**-1000, 1e-160, 1e154, 1e300])
def test_eps0_and_bounds_do_not_change_with_the_units(p, scale):
    """Scaling points and eps together (units) changes neither the optimum nor eps0 / scale.

    Regression: the l2 Gram screen of eps0 under- and overflowed (eps0 came out above the
    true half-distance at scale 1e-160, inf at 1e300), and the label-complete box test
    squared tiny spans to 0.
    """
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    y = (rng.random(40) < 0.5).astype(int)
    ref = dataset_limits(x, y, eps=[0.3, 1.0], p=p)
    got = dataset_limits(x * scale, y, eps=[0.3 * scale, 1.0 * scale], p=p)
    for r, g in zip(ref, got, strict=True):
        assert (g.lower, g.upper, g.conflicts) == (r.lower, r.upper, r.conflicts)
        assert math.isclose(g.eps0 / scale, r.eps0, rel_tol=1e-12)
        assert g.eps0 <= dist_half_min(x * scale, y, p)


def dist_half_min(x, y, p):
    """Half the smallest cross-label distance by brute force in exact rationals (l1, l_inf)
    or with the distance scaled first (l2): the oracle eps0 may not exceed."""
    from fractions import Fraction

    best = None
    for i in range(len(y)):
        for j in range(i + 1, len(y)):
            if y[i] == y[j]:
                continue
            diff = [Fraction(float(a)) - Fraction(float(b)) for a, b in zip(x[i], x[j], strict=True)]
            if p == 1:
                d = float(sum(abs(v) for v in diff))
            elif p == math.inf:
                d = float(max(abs(v) for v in diff))
            else:
                m = max(abs(v) for v in diff)
                d = float(m) * math.sqrt(float(sum((v / m) ** 2 for v in diff))) if m else 0.0
            best = d if best is None else min(best, d)
    return best / 2 * (1 + 1e-15)


@pytest.mark.parametrize("labels", [[1e300, 2e300] * 2, [[1], [2, 3], [1], [2]],
                                    np.array([2**63 + 1, 1, 2**63 + 1, 1], dtype=np.uint64)])
def test_labels_that_cannot_name_distinct_classes_are_refused(labels):
    """Float labels past 2**53 (1e300 and 2e300 both cast to -2**63: two classes merged and
    a silent 0 instead of 1/4), ragged and uint64-beyond-int64 labels: a named error."""
    x = np.array([[0.0], [1.0], [0.1], [1.1]])
    with pytest.raises(InvalidInputError, match="test_labels"):
        dataset_limits(x, labels, eps=[0.6], p=2)
