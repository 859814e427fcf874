"""Independent brute-force oracle for finite instances with one label per point.

Shares no code with optrobust.finite or optrobust.hardness: distances are
computed here with plain numpy, and the largest conflict-free set of points is
found by enumerating all subsets (bitmasks).  For points with pairwise distinct
labels the robustly-correct set R of a classifier is feasible iff no two points
of R conflict:

* continuous domain: closed balls meet iff ||x_i - x_j||_p <= 2 eps
  (p = 0: Hamming distance <= 2 floor(eps));
* support domain: some support point lies within eps of both.
"""

from __future__ import annotations

import math

import numpy as np


def distance(a: np.ndarray, b: np.ndarray, p: float) -> float:
    diff = np.abs(np.asarray(a, float) - np.asarray(b, float))
    if p == 0:
        return float(np.count_nonzero(diff))
    if p == math.inf:
        return float(diff.max(initial=0.0))
    return float((diff ** p).sum() ** (1.0 / p))


def conflicts(points: np.ndarray, eps: float, p: float, domain: str) -> np.ndarray:
    n = len(points)
    radius = math.floor(eps) if p == 0 else eps
    dist = np.array([[distance(points[i], points[j], p) for j in range(n)] for i in range(n)])
    if domain == "continuous":
        out = dist <= 2 * radius
    else:
        within = dist <= radius
        out = (within.astype(int) @ within.T.astype(int)) > 0
    np.fill_diagonal(out, False)
    return out


def max_conflict_free(conf: np.ndarray) -> int:
    n = len(conf)
    masks = [sum(1 << j for j in range(n) if conf[i, j]) for i in range(n)]
    best = 0
    for subset in range(1 << n):
        size = bin(subset).count("1")
        if size <= best:
            continue
        if all(not (subset >> i) & 1 or masks[i] & subset == 0 for i in range(n)):
            best = size
    return best


def optimal_robust_count(points: np.ndarray, eps: float, p: float, domain: str) -> int:
    """n * (1 - optimal robust error) for uniform weights and distinct labels."""
    return max_conflict_free(conflicts(points, eps, p, domain))
