"""Hypothesis strategies and independent exact oracles for finite distributions.

The oracles never use :mod:`optrobust.finite.conflict`: they enumerate
classifiers directly, so they check the conflict-graph reduction itself.

* :func:`brute_force_support_error` -- all labelings of the support points.
* :func:`brute_force_box_cells_error` -- ``p = inf`` in R^d (any ``p`` in R^1):
  every set of pairs against the cells of the arrangement of the closed boxes
  (a classifier is robust on a set ``R`` iff no cell lies in two balls of ``R``
  with different labels; the cells are products of the 1-d cells, each
  represented by an endpoint or the midpoint between consecutive endpoints).
* :func:`check_certificate` -- the returned classifier attains the error.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from optrobust.finite.distribution import FiniteDistribution
from optrobust.norms import lp_distance

__all__ = [
    "brute_force_box_cells_error",
    "brute_force_support_error",
    "check_certificate",
    "finite_distributions",
]


def finite_distributions(*, max_n: int = 7, dim: int = 2, max_classes: int = 3,
                         coord_max: int = 3, weighted: bool = True) -> Any:
    """Strategy: small distributions on integer grid points (ties at ``2 eps`` are common)."""
    from hypothesis import strategies as st

    @st.composite
    def _build(draw: Any) -> FiniteDistribution:
        n = draw(st.integers(1, max_n))
        c = draw(st.integers(1, max_classes))
        pts = draw(st.lists(st.lists(st.integers(0, coord_max), min_size=dim, max_size=dim),
                            min_size=n, max_size=n))
        labels = draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))
        weights = (draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))
                   if weighted else None)
        return FiniteDistribution(np.array(pts, dtype=float), labels, weights)

    return _build()


def _in_ball(z: np.ndarray, x: np.ndarray, eps: float, p: float) -> np.ndarray:
    """Exact closed-ball membership of the rows of ``z`` (no tolerance)."""
    d = lp_distance(z, x, p)
    return d <= (math.floor(eps) if p == 0 else eps)


def brute_force_support_error(dist: FiniteDistribution, *, eps: float, p: float) -> float:
    """Minimum robust error over all ``c^m`` labelings of the ``m`` support points."""
    supp = np.unique(dist.points, axis=0)
    classes = np.unique(dist.labels)
    if len(classes) ** supp.shape[0] > 200_000:
        raise ValueError("instance too large for the support brute force")
    balls = np.array([_in_ball(supp, x, eps, p) for x in dist.points])  # (n, m)
    best = math.inf
    for lab in itertools.product(classes.tolist(), repeat=supp.shape[0]):
        lab = np.array(lab)
        ok = np.array([np.all(lab[balls[i]] == dist.labels[i]) for i in range(dist.n)])
        best = min(best, 1.0 - math.fsum(dist.weights[ok].tolist()))
    return best


def _cell_representatives(dist: FiniteDistribution, eps: float) -> np.ndarray:
    reps = []
    for k in range(dist.dim):
        ends = np.unique(np.concatenate([dist.points[:, k] - eps, dist.points[:, k] + eps]))
        mids = (ends[:-1] + ends[1:]) / 2.0
        reps.append(np.concatenate([ends, mids]))
    return np.array(list(itertools.product(*reps)))


def brute_force_box_cells_error(dist: FiniteDistribution, *, eps: float) -> float:
    """Optimal robust error for ``p = inf`` on all of R^d by arrangement cells.

    Enumerates every subset ``R`` of pairs (``n <= 12``) and accepts it iff no
    cell representative lies in two closed boxes of ``R`` with different labels.
    """
    if dist.n > 12:
        raise ValueError("instance too large for the cell brute force")
    reps = _cell_representatives(dist, eps)
    inside = np.array([_in_ball(reps, x, eps, math.inf) for x in dist.points])  # (n, cells)
    best = math.inf
    for mask in range(2 ** dist.n):
        r = np.array([(mask >> i) & 1 for i in range(dist.n)], dtype=bool)
        ok = True
        for cell in range(reps.shape[0]):
            labs = set(dist.labels[r & inside[:, cell]].tolist())
            if len(labs) > 1:
                ok = False
                break
        if ok:
            best = min(best, 1.0 - math.fsum(dist.weights[r].tolist()))
    return best


def check_certificate(dist: FiniteDistribution, sol: Any, *, n_samples: int = 64,
                      rng: Any = 0) -> list[str]:
    """Problems found with a :class:`~optrobust.finite.RobustSolution` (empty if none).

    Checks ``error == 1 - w(robust)``; for ``continuous``: robust pairs of
    different labels are farther than ``2 eps`` (``2 floor(eps)`` for ``p=0``),
    and ``predict`` returns the pair's label at its centre, at sampled points of
    its ball and on the ball's boundary in the direction of every other-label
    robust centre; for ``support``: every support point in a robust ball
    carries that pair's label.
    """
    gen = np.random.default_rng(rng)
    problems = []
    r = np.asarray(sol.robust, dtype=bool)
    if abs(sol.error - (1.0 - math.fsum(dist.weights[r].tolist()))) > 1e-9:
        problems.append("error differs from 1 - robust weight")
    eps, p = sol.eps, sol.p
    idx = np.flatnonzero(r)
    if sol.domain == "support":
        supp = sol.classifier.support_points
        for i in idx.tolist():
            z = supp[_in_ball(supp, dist.points[i], eps, p)]
            if np.any(sol.classifier.predict(z) != dist.labels[i]):
                problems.append(f"support point in ball of pair {i} mislabelled")
        return problems
    thr = 2 * math.floor(eps) if p == 0 else 2 * eps
    for a, b in itertools.combinations(idx.tolist(), 2):
        if dist.labels[a] != dist.labels[b]:
            if float(lp_distance(dist.points[a], dist.points[b], p)) <= thr:
                problems.append(f"robust pairs {a}, {b} have intersecting balls")
    d = dist.dim
    for i in idx.tolist():
        x = dist.points[i]
        zs = [x]
        if p == 0:
            for _ in range(n_samples):
                z = x.copy()
                k = int(math.floor(eps))
                coords = gen.choice(d, size=min(k, d), replace=False)
                z[coords] = gen.normal(size=coords.size) * 3
                zs.append(z)
        else:
            u = gen.normal(size=(n_samples, d))
            u /= np.maximum(lp_distance(u, np.zeros(d), p), 1e-300)[:, None]
            zs.extend(x + eps * gen.uniform(0, 1, size=(n_samples, 1)) ** (1 / d) * u)
            zs.extend(x + eps * u[: n_samples // 4])  # on the sphere
            for j in idx.tolist():
                if dist.labels[j] != dist.labels[i]:
                    v = dist.points[j] - x
                    nv = float(lp_distance(v, np.zeros(d), p))
                    if nv > 0:
                        zs.append(x + eps * v / nv)
        zs = np.array(zs)
        keep = _in_ball(zs, x, eps, p)
        pred = sol.classifier.predict(zs[keep])
        if np.any(pred != dist.labels[i]):
            problems.append(f"predict wrong inside the ball of robust pair {i}")
    return problems
