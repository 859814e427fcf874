"""Classifiers that attain the optimal robust error of a finite distribution.

* :class:`NearestRobustCenterClassifier` (``domain="continuous"``): on all of
  R^d, ``h(z)`` is the label of the nearest robustly-correct pair's point.
* :class:`SupportLabeling` (``domain="support"``): a label for every support
  point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial.distance import cdist

from optrobust._validation import check_int
from optrobust.errors import InvalidInputError
from optrobust.finite.distribution import check_points

__all__ = ["NearestRobustCenterClassifier", "SupportLabeling"]

_METRIC = {1: "cityblock", 2: "euclidean", math.inf: "chebyshev", 0: "hamming"}


@dataclass(frozen=True)
class NearestRobustCenterClassifier:
    """``h(z) = y_k`` with ``k = argmin_{i robust} ||z - x_i||_p`` (constant if none robust).

    Attributes
    ----------
    centers : numpy.ndarray, shape (k, d)
        The points of the robustly-correct pairs.
    center_labels : numpy.ndarray, shape (k,)
    default : int
        The label returned everywhere when no pair is robust.
    p, eps : float
        The threat model the classifier was built for.

    Notes
    -----
    If the robust pairs pairwise satisfy ``||x_i - x_j||_p > 2 eps`` whenever
    ``y_i != y_j``, then for ``z`` in ``B_p^eps(x_i)`` every centre ``x_j``
    with ``y_j != y_i`` has ``||z - x_j|| >= ||x_i - x_j|| - ||z - x_i|| > eps
    >= ||z - x_i||``, so the nearest centre carries label ``y_i``: every robust
    pair is classified correctly on its whole ball.  (For ``p = 0`` the same
    argument holds with the Hamming metric and radius ``floor(eps)``.)
    """

    centers: np.ndarray
    center_labels: np.ndarray
    default: int
    p: float
    eps: float

    def predict(self, X: Any, *, chunk_rows: int = 4096) -> np.ndarray:
        """Labels of the rows of ``X`` (shape ``(m, d)``; a 1-d array is one point).

        Raises
        ------
        InvalidInputError
            If ``X`` has the wrong dimension or NaN/inf entries.
        InvalidTypeError
            If ``X`` holds booleans, complex numbers or strings.
        """
        d = self.centers.shape[1] if self.centers.ndim == 2 and self.centers.shape[1] else None
        X = check_points(X, name="X", dim=d) if d is not None else check_points(
            np.atleast_2d(X), name="X")
        chunk_rows = check_int(chunk_rows, name="chunk_rows", minimum=1)
        if self.centers.shape[0] == 0:
            return np.full(X.shape[0], self.default, dtype=np.int64)
        out = np.empty(X.shape[0], dtype=np.int64)
        for s in range(0, X.shape[0], chunk_rows):
            dist = cdist(X[s:s + chunk_rows], self.centers, metric=_METRIC[self.p])
            out[s:s + chunk_rows] = self.center_labels[np.argmin(dist, axis=1)]
        return out


@dataclass(frozen=True)
class SupportLabeling:
    """A classifier defined on the support points only.

    Attributes
    ----------
    support_points : numpy.ndarray, shape (m, d)
        The distinct support points.
    labeling : numpy.ndarray, shape (m,)
        ``labeling[u]`` is the label given to ``support_points[u]``.
    """

    support_points: np.ndarray
    labeling: np.ndarray

    def predict(self, X: Any) -> np.ndarray:
        """Labels of the rows of ``X``, each of which must be a support point.

        Raises
        ------
        InvalidInputError
            If ``X`` has the wrong shape or NaN/inf entries, or a row of ``X``
            is not one of the support points (the classifier is undefined there).
        """
        d = self.support_points.shape[1]
        X = check_points(X, name="X", dim=d)
        lookup = {(row + 0.0).tobytes(): k for k, row in enumerate(self.support_points)}
        idx = np.empty(X.shape[0], dtype=np.int64)
        for r, row in enumerate(np.ascontiguousarray(X)):
            k = lookup.get((row + 0.0).tobytes())
            if k is None:
                raise InvalidInputError(f"X row {r} is not a support point; a support-domain "
                                 "classifier is defined on the support points only")
            idx[r] = k
        return self.labeling[idx]
