"""Finite distributions: weighted (point, label) pairs in R^d.

A :class:`FiniteDistribution` is the data of the finite problems in
:mod:`optrobust.finite`: ``n`` pairs ``(x_i, y_i)`` with masses ``w_i``.  The
same point may carry several labels (several pairs share ``x_i``), which is how
a distribution with overlapping class supports is written down.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction
from math import lcm
from typing import Any

import numpy as np

from optrobust.errors import InvalidInputError, InvalidTypeError
from optrobust.validation import check_finite_array

__all__ = ["FiniteDistribution", "check_labels", "check_points"]

#: Largest total integer weight handed to integer solvers (scipy's max-flow uses int32).
_MAX_INTEGER_TOTAL = 2**30
#: Integers up to this magnitude are exact in float64.
_EXACT_FLOAT_INT = 2**53
_INT64_MAX = 2**63 - 1


def check_points(value: Any, *, name: str = "points", dim: int | None = None) -> np.ndarray:
    """Points as a finite float64 ``(n, d)`` array (a 1-d array is ``n`` points in ``R^1``).

    Raises
    ------
    InvalidTypeError
        Booleans, complex numbers, strings or other non-numeric entries.
    InvalidInputError
        NaN/inf, a wrong shape (also ``d != dim`` when ``dim`` is given), ``d = 0``,
        or integers that float64 cannot represent exactly.
    """
    pts = check_finite_array(value, name=name, exact_integers=True).copy()  # never the caller's
    if pts.ndim == 1:
        pts = pts.reshape(-1, 1) if dim in (None, 1) else pts.reshape(1, -1)
    if pts.ndim != 2:
        raise InvalidInputError(f"{name} must be an (n, d) array, got shape {pts.shape}")
    if pts.shape[1] == 0 or (dim is not None and pts.shape[1] != dim):
        want = "d) with d >= 1" if dim is None else f"{dim})"
        raise InvalidInputError(f"{name} must have shape (n, {want}, got {pts.shape}")
    if not np.all(np.isfinite(pts)):
        raise InvalidInputError(f"{name} must contain only finite coordinates (no NaN or inf)")
    return pts


def check_labels(labels: Any, n: int, *, name: str = "labels") -> np.ndarray:
    """Integer labels as int64, one per point; booleans, strings, fractions, ragged input and
    values beyond int64 (or floats past 2^53, which may merge distinct labels) are refused."""
    try:
        lab = np.asarray(labels)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be a 1-d array of integers: {exc}") from None
    if lab.ndim != 1:
        raise InvalidInputError(f"{name} must be a 1-d array of integers, got shape {lab.shape}")
    if lab.shape[0] != n:
        raise InvalidInputError(f"{name} must have one entry per point: got {lab.shape[0]} "
                                f"labels for {n} points")
    kind = lab.dtype.kind
    if kind == "b":
        raise InvalidTypeError(f"{name} must be integers, got booleans")
    if kind in "US":
        raise InvalidTypeError(f"{name} must be integers, got strings (encode class names as "
                               "0, 1, 2, ...)")
    if kind == "O":
        flat = lab.tolist()
        if not all(isinstance(v, numbers.Integral | np.integer) and not isinstance(v, bool)
                   for v in flat):
            raise InvalidTypeError(f"{name} must be integers (every element an int)")
        if any(not -_INT64_MAX - 1 <= int(v) <= _INT64_MAX for v in flat):
            raise InvalidInputError(f"{name} must fit in int64 (|label| < 2^63)")
        return np.array([int(v) for v in flat], dtype=np.int64)
    if kind == "u":
        if lab.size and int(np.max(lab)) > _INT64_MAX:
            raise InvalidInputError(f"{name} must fit in int64 (|label| < 2^63)")
        return lab.astype(np.int64)
    if kind == "i":
        return lab.astype(np.int64)
    if kind == "f":
        if not np.all(np.isfinite(lab)) or not np.all(lab == np.round(lab)):
            raise InvalidInputError(f"{name} must be integers (finite, no fractional part)")
        if lab.size and float(np.max(np.abs(lab))) >= _EXACT_FLOAT_INT:
            raise InvalidInputError(f"{name} given as floats must be below 2^53 in magnitude "
                                    "(larger floats may merge distinct labels); pass integers")
        return lab.astype(np.int64)
    if kind == "c":
        raise InvalidTypeError(f"{name} must be integers, got complex numbers")
    raise InvalidTypeError(f"{name} must be integers, got dtype {lab.dtype}")


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
    InvalidInputError
        On empty input, NaN/inf coordinates, non-integer labels or labels beyond
        int64, integers that float64 cannot hold exactly, a length mismatch,
        negative or non-finite weights, or weights summing to zero.
    InvalidTypeError
        On booleans, complex numbers or strings (points, labels or weights).

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
        pts = check_points(points, name="points")
        if pts.shape[0] == 0:
            raise InvalidInputError(f"points must contain at least one point of dimension >= 1, "
                                    f"got shape {pts.shape}")
        n = pts.shape[0]
        lab = check_labels(labels, n)
        if weights is None:
            raw = np.ones(n, dtype=np.float64)
        else:
            raw = check_finite_array(weights, name="weights", exact_integers=True).copy()
            if raw.ndim != 1 or raw.shape[0] != n:
                raise InvalidInputError(f"weights must have shape ({n},) (one per point), "
                                        f"got {raw.shape}")
            if not np.all(np.isfinite(raw)):
                raise InvalidInputError("weights must be finite (no NaN or inf)")
            if np.any(raw < 0):
                raise InvalidInputError("weights must be non-negative")
            if not np.any(raw > 0):
                raise InvalidInputError("weights must have a positive sum")
        self._points = pts
        self._labels = lab
        self._raw_weights = raw
        # Divide by the largest weight first: the sum of the scaled weights is at most n,
        # so weights near the float64 maximum never overflow the sum (and become zeros).
        scaled = raw / np.max(raw)
        self._weights = scaled / math.fsum(scaled.tolist())
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
    if float(positive.max()) / _MAX_INTEGER_TOTAL >= base:  # ratio >= 2^30 (or overflowing)
        return None
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
