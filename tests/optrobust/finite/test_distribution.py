"""FiniteDistribution: validation, normalization, integer weights."""

from __future__ import annotations

import numpy as np
import pytest

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
        ([["a"], ["b"]], [0, 1], None, "points"),
    ],
)
def test_bad_input_names_the_parameter(points, labels, weights, match):
    with pytest.raises(ValueError, match=match):
        FiniteDistribution(points, labels, weights)


def test_integer_weights():
    # uniform -> all ones; rational ratios -> smallest integers; irrational -> None
    assert FiniteDistribution([0.0, 1.0], [0, 1]).integer_weights().tolist() == [1, 1]
    d = FiniteDistribution([0.0, 1.0, 2.0], [0, 1, 1], [0.1, 0.3, 0.2])
    assert d.integer_weights().tolist() == [1, 3, 2]
    assert FiniteDistribution([0.0, 1.0], [0, 1], [1.0, np.sqrt(2)]).integer_weights() is None
    assert FiniteDistribution([0.0, 1.0], [0, 1], [0.0, 2.0]).integer_weights().tolist() == [0, 1]
