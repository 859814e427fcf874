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
        ValueError
            If ``X`` has the wrong dimension or non-finite entries.
        """
        X = np.asarray(X, dtype=np.float64)
        d = self.centers.shape[1] if self.centers.size else None
        if X.ndim == 1:
            X = X.reshape(1, -1)
        if X.ndim != 2 or (d is not None and X.shape[1] != d):
            raise ValueError(f"X must have shape (m, {d}), got {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X must contain only finite values (no NaN or inf)")
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
        ValueError
            If a row of ``X`` is not one of the support points (the classifier
            is undefined there).
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X.reshape(1, -1)
        d = self.support_points.shape[1]
        if X.ndim != 2 or X.shape[1] != d:
            raise ValueError(f"X must have shape (m, {d}), got {X.shape}")
        lookup = {(row + 0.0).tobytes(): k for k, row in enumerate(self.support_points)}
        idx = np.empty(X.shape[0], dtype=np.int64)
        for r, row in enumerate(np.ascontiguousarray(X)):
            k = lookup.get((row + 0.0).tobytes())
            if k is None:
                raise ValueError(f"X row {r} is not a support point; a support-domain "
                                 "classifier is defined on the support points only")
            idx[r] = k
        return self.labeling[idx]
