"""Finite distributions: weighted (point, label) pairs in R^d.

A :class:`FiniteDistribution` is the data of the finite problems in
:mod:`optrobust.finite`: ``n`` pairs ``(x_i, y_i)`` with masses ``w_i``.  The
same point may carry several labels (several pairs share ``x_i``), which is how
a distribution with overlapping class supports is written down.
"""

from __future__ import annotations

from fractions import Fraction
from math import lcm
from typing import Any

import numpy as np

__all__ = ["FiniteDistribution"]

#: Largest total integer weight handed to integer solvers (scipy's max-flow uses int32).
_MAX_INTEGER_TOTAL = 2**30


class FiniteDistribution:
    """A distribution supported on finitely many labelled points.

    Parameters
    ----------
    points : array_like, shape (n, d) or (n,)
        The points ``x_i``; a 1-d array is read as ``n`` points in ``R^1``.
        Must be finite (no NaN or inf).
    labels : array_like of int, shape (n,)
        Integer class labels ``y_i`` (any integers, any number of classes).
    weights : array_like, shape (n,), optional
        Non-negative masses ``w_i`` with a positive sum; they are normalized to
        sum to one.  Uniform (``1/n``) by default.

    Attributes
    ----------
    points : numpy.ndarray, shape (n, d), float64
    labels : numpy.ndarray, shape (n,), int64
    weights : numpy.ndarray, shape (n,), float64, summing to 1
    classes : numpy.ndarray
        The distinct labels, sorted.

    Raises
    ------
    ValueError
        On empty input, NaN/inf coordinates, non-integer labels, a length
        mismatch, negative or non-finite weights, or weights summing to zero.

    Notes
    -----
    The distribution is ``D(x, y) = sum_i w_i [x = x_i, y = y_i] / sum_j w_j``.
    Pairs are kept as given (duplicates are not merged), so results index the
    ``n`` input pairs.

    References
    ----------
    The finite distributions of the proof of Lemma 1 in the source paper
    (``large-perturbations.md``, Appendix A, eq. (17)).

    Examples
    --------
    >>> d = FiniteDistribution([[0.0], [1.0]], [0, 1])
    >>> d.n, d.dim, d.weights.tolist()
    (2, 1, [0.5, 0.5])
    """

    __slots__ = ("_points", "_labels", "_weights", "_raw_weights", "_integer_weights")

    def __init__(self, points: Any, labels: Any, weights: Any = None) -> None:
        try:
            pts = np.array(points, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"points must be a numeric (n, d) array: {exc}") from None
        if pts.ndim == 1:
            pts = pts.reshape(-1, 1)
        if pts.ndim != 2:
            raise ValueError(f"points must be an (n, d) array, got shape {pts.shape}")
        if pts.shape[0] == 0 or pts.shape[1] == 0:
            raise ValueError(f"points must contain at least one point of dimension >= 1, "
                             f"got shape {pts.shape}")
        if not np.all(np.isfinite(pts)):
            raise ValueError("points must contain only finite coordinates (no NaN or inf)")
        n = pts.shape[0]

        lab = np.asarray(labels)
        if lab.ndim != 1:
            raise ValueError(f"labels must be a 1-d array of integers, got shape {lab.shape}")
        if lab.shape[0] != n:
            raise ValueError(f"labels must have one entry per point: got {lab.shape[0]} labels "
                             f"for {n} points")
        if lab.dtype.kind == "b":
            raise ValueError("labels must be integers, got booleans")
        if lab.dtype.kind not in "iu":
            try:
                labf = lab.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError("labels must be integers") from None
            if not np.all(np.isfinite(labf)) or not np.all(labf == np.round(labf)):
                raise ValueError("labels must be integers (finite, no fractional part)")
            lab = labf
        lab = lab.astype(np.int64)

        if weights is None:
            raw = np.ones(n, dtype=np.float64)
        else:
            try:
                raw = np.array(weights, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"weights must be a numeric 1-d array: {exc}") from None
            if raw.ndim != 1 or raw.shape[0] != n:
                raise ValueError(f"weights must have shape ({n},) (one per point), "
                                 f"got {raw.shape}")
            if not np.all(np.isfinite(raw)):
                raise ValueError("weights must be finite (no NaN or inf)")
            if np.any(raw < 0):
                raise ValueError("weights must be non-negative")
            if not raw.sum() > 0:
                raise ValueError("weights must have a positive sum")
        self._points = pts
        self._labels = lab
        self._raw_weights = raw
        self._weights = raw / raw.sum()
        self._integer_weights: np.ndarray | None | bool = False  # False = not computed yet
        for arr in (self._points, self._labels, self._weights, self._raw_weights):
            arr.setflags(write=False)

    # ------------------------------------------------------------------ basic
    @property
    def points(self) -> np.ndarray:
        """The points, shape ``(n, d)`` (read-only)."""
        return self._points

    @property
    def labels(self) -> np.ndarray:
        """The integer labels, shape ``(n,)`` (read-only)."""
        return self._labels

    @property
    def weights(self) -> np.ndarray:
        """The normalized masses, shape ``(n,)``, summing to one (read-only)."""
        return self._weights

    @property
    def n(self) -> int:
        """Number of (point, label) pairs."""
        return int(self._points.shape[0])

    @property
    def dim(self) -> int:
        """Dimension ``d`` of the points."""
        return int(self._points.shape[1])

    @property
    def classes(self) -> np.ndarray:
        """Sorted distinct labels."""
        return np.unique(self._labels)

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return (f"FiniteDistribution(n={self.n}, dim={self.dim}, "
                f"classes={self.classes.tolist()})")

    def integer_weights(self) -> np.ndarray | None:
        """Non-negative integers proportional to the weights, or ``None``.

        Found exactly when every raw weight is a rational multiple (denominator
        at most 10^4) of the smallest positive one and the integer total stays
        below ``2**30``; otherwise ``None`` (integer solvers are then not exact).

        Examples
        --------
        >>> FiniteDistribution([0.0, 1.0, 2.0], [0, 1, 1], [0.5, 0.25, 0.25]).integer_weights()
        array([2, 1, 1])
        """
        if self._integer_weights is False:
            self._integer_weights = _integerize(self._raw_weights)
        return self._integer_weights  # type: ignore[return-value]


def _integerize(raw: np.ndarray) -> np.ndarray | None:
    positive = raw[raw > 0]
    base = float(positive.min())
    ratios = raw / base
    fracs = []
    denom = 1
    for r in np.unique(ratios):
        f = Fraction(float(r)).limit_denominator(10_000)
        if abs(float(f) - r) > 1e-12 * max(1.0, r):
            return None
        fracs.append(f)
        denom = lcm(denom, f.denominator)
        if denom > _MAX_INTEGER_TOTAL:
            return None
    ints = np.array(
        [int(Fraction(float(r)).limit_denominator(10_000) * denom) for r in ratios],
        dtype=np.int64,
    )
    if ints.sum() >= _MAX_INTEGER_TOTAL:
        return None
    g = int(np.gcd.reduce(ints[ints > 0]))
    return ints // g
