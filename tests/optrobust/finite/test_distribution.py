"""FiniteDistribution: validation, normalization, integer weights."""

from __future__ import annotations

import numpy as np
import pytest

from optrobust.errors import InvalidInputError, InvalidTypeError
from optrobust.finite import FiniteDistribution


def test_uniform_default_and_normalization():
    d = FiniteDistribution([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], [0, 1, 1])
    np.testing.assert_allclose(d.weights, [1 / 3] * 3)
    d = FiniteDistribution([[0.0], [1.0]], [3, 7], [3.0, 1.0])
    assert d.weights.tolist() == [0.75, 0.25]
    assert d.classes.tolist() == [3, 7]
    assert d.points.shape == (2, 1) and d.labels.dtype == np.int64


def test_one_dimensional_points_and_shared_point_with_two_labels():
    d = FiniteDistribution([0.0, 0.0], [0, 1])
    assert d.points.shape == (2, 1) and d.n == 2


def test_arrays_are_read_only():
    d = FiniteDistribution([[0.0]], [0])
    with pytest.raises(ValueError):
        d.points[0, 0] = 1.0


@pytest.mark.parametrize(
    ("points", "labels", "weights", "match"),
    [
        ([[0.0], [np.nan]], [0, 1], None, "points"),
        ([[0.0], [np.inf]], [0, 1], None, "points"),
        ([[0.0], [1.0]], [0, 1, 1], None, "labels"),
        ([[0.0], [1.0]], [0, 0.5], None, "labels"),
        ([[0.0], [1.0]], [0, 1], [1.0, -1.0], "weights"),
        ([[0.0], [1.0]], [0, 1], [0.0, 0.0], "weights"),
        ([[0.0], [1.0]], [0, 1], [1.0, np.nan], "weights"),
        ([[0.0], [1.0]], [0, 1], [1.0], "weights"),
        (np.zeros((0, 2)), [], None, "points"),
        (np.zeros((2, 2, 2)), [0, 1], None, "points"),
    ],
)
def test_bad_input_names_the_parameter(points, labels, weights, match):
    with pytest.raises(InvalidInputError, match=match):
        FiniteDistribution(points, labels, weights)


@pytest.mark.parametrize(
    ("points", "labels", "weights", "match"),
    [
        ([["a"], ["b"]], [0, 1], None, "points"),
        ([[1j], [0.0]], [0, 1], None, "points.*complex"),
        (np.array([[1.0], [0.0]], dtype=complex), [0, 1], None, "points.*complex"),
        ([[True], [False]], [0, 1], None, "points.*booleans"),
        ([[0.0], [1.0]], [True, False], None, "labels.*booleans"),
        ([[0.0], [1.0]], ["a", "b"], None, "labels.*strings"),
        ([[0.0], [1.0]], ["1", "2"], None, "labels.*strings"),
        ([[0.0], [1.0]], [0, 1], [True, True], "weights.*booleans"),
        ([[0.0], [1.0]], [0, 1], [1.0, 1j], "weights"),
    ],
)
def test_wrong_types_are_named_type_errors(points, labels, weights, match):
    with pytest.raises(InvalidTypeError, match=match):
        FiniteDistribution(points, labels, weights)


@pytest.mark.parametrize("labels", [
    [2**64, 2**64 + 1],                                  # Python ints beyond int64
    np.array([2**63, 2**63 + 1], dtype=np.uint64),       # uint64 beyond int64
    [1e17, 1e17 + 64],                                   # floats beyond 2^53: would merge
])
def test_labels_beyond_int64_are_refused_not_merged(labels):
    with pytest.raises(InvalidInputError, match="labels"):
        FiniteDistribution([[0.0], [1.0]], labels)
    # within range, distinct labels stay distinct (no merging)
    d = FiniteDistribution([[0.0], [1.0]], [2**63 - 1, -(2**63)])
    assert d.labels.tolist() == [2**63 - 1, -(2**63)] and d.classes.size == 2


def test_integer_points_beyond_float_precision_are_refused():
    # 2^60 and 2^60 + 1 are distinct integers but the same float64: refusing is the only
    # correct answer (merging them would make two labels conflict at distance 1 < 2 eps).
    with pytest.raises(InvalidInputError, match="2\\^53"):
        FiniteDistribution([[2**60], [2**60 + 1]], [0, 1])
    with pytest.raises(InvalidInputError, match="2\\^53"):
        FiniteDistribution(np.array([[2**60], [2**60 + 1]], dtype=np.int64), [0, 1])
    d = FiniteDistribution(np.array([[2**60], [2**61]], dtype=np.int64), [0, 1])  # exact
    assert d.points[:, 0].tolist() == [2.0**60, 2.0**61]


@pytest.mark.parametrize("scale", [1e-320, 1e-300, 1.0, 1e300, 1e308])
def test_weights_normalize_at_every_scale(scale):
    # sum of 1e308 + 1e308 overflows float64; normalizing by the maximum first does not.
    d = FiniteDistribution([[0.0], [1.0], [2.0]], [0, 1, 1], [scale, scale, 2 * scale]
                           if scale < 1e308 else [scale, scale, scale])
    want = [0.25, 0.25, 0.5] if scale < 1e308 else [1 / 3] * 3
    np.testing.assert_allclose(d.weights, want, rtol=1e-15)
    assert abs(float(np.sum(d.weights)) - 1.0) < 1e-15


def test_extreme_weight_ratios_are_not_integer_and_do_not_raise():
    # ratio 1e600 overflows float64 and 2^70 exceeds int64: no integer weights, no exception.
    for w in ([1e-300, 1e300], [1.0, 2.0**70], [1.0, 2.0**63 + 2.0**11]):
        d = FiniteDistribution([[0.0], [1.0]], [0, 1], w)
        assert d.integer_weights() is None
        assert np.all(np.isfinite(d.weights)) and d.weights[1] > 0.5


def test_integer_weights():
    # uniform -> all ones; rational ratios -> smallest integers; irrational -> None
    assert FiniteDistribution([0.0, 1.0], [0, 1]).integer_weights().tolist() == [1, 1]
    d = FiniteDistribution([0.0, 1.0, 2.0], [0, 1, 1], [0.1, 0.3, 0.2])
    assert d.integer_weights().tolist() == [1, 3, 2]
    assert FiniteDistribution([0.0, 1.0], [0, 1], [1.0, np.sqrt(2)]).integer_weights() is None
    assert FiniteDistribution([0.0, 1.0], [0, 1], [0.0, 2.0]).integer_weights().tolist() == [0, 1]


def test_the_callers_arrays_stay_writable_and_unshared():
    """The distribution keeps read-only copies; the caller's float64 arrays are not frozen."""
    pts, w = np.array([[0.0], [1.0]]), np.array([1.0, 3.0])
    d = FiniteDistribution(pts, [0, 1], w)
    assert pts.flags.writeable and w.flags.writeable
    assert not np.shares_memory(d.points, pts)
    pts[0, 0] = 5.0
    assert d.points[0, 0] == 0.0
