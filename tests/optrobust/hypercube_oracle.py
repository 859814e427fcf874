"""Exhaustive oracles for the Bernoulli model on small hypercubes (independent of the library).

Nothing here uses the level reduction or the threshold formula: every point of
the cube is its own variable, and the optimum is taken over *all* classifiers.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix


def cube_distribution(k: int, t: float, d: int | None = None):
    """All points of {-1,1}^d with class weights, theta_pos = +1, theta_neg = -1 on the first k."""
    d = k if d is None else d
    pts = np.array(list(itertools.product((-1, 1), repeat=d)), dtype=float)
    theta_pos = np.ones(d)
    theta_neg = np.ones(d)
    theta_neg[:k] = -1
    a_pos = (pts == theta_pos).sum(axis=1)
    a_neg = (pts == theta_neg).sum(axis=1)
    w_pos = 0.5 * (0.5 + t) ** a_pos * (0.5 - t) ** (d - a_pos)
    w_neg = 0.5 * (0.5 + t) ** a_neg * (0.5 - t) ** (d - a_neg)
    return pts, w_pos, w_neg


def milp_all_classifiers_l0(k: int, t: float, eps: int, d: int | None = None) -> float:
    """Optimal l0 robust error over all h: {-1,1}^d -> {+1,-1}, perturbations inside the cube.

    Integer program: binary h_x (1 = label +1) for every cube point, and robust
    indicators ``u+_x <= h_z``, ``u-_x <= 1 - h_z`` for every z within Hamming
    distance eps of x.  Maximize the robustly-correct mass.
    """
    pts, w_pos, w_neg = cube_distribution(k, t, d)
    n = len(pts)
    ham = (pts[:, None, :] != pts[None, :, :]).sum(axis=2)
    rows = []
    for x in range(n):
        for z in np.flatnonzero(ham[x] <= eps):
            rows.append((x, z))
    m = 2 * len(rows)
    A = lil_matrix((m, 3 * n))
    lb = np.full(m, -np.inf)
    ub = np.zeros(m)
    for r, (x, z) in enumerate(rows):
        A[2 * r, n + x] = 1  # u+_x - h_z <= 0
        A[2 * r, z] = -1
        A[2 * r + 1, 2 * n + x] = 1  # u-_x + h_z <= 1
        A[2 * r + 1, z] = 1
        ub[2 * r + 1] = 1
    # HiGHS stops within an absolute gap of 1e-6: scale so the smallest weight is 1.
    scale = _scale(w_pos, w_neg)
    c = np.concatenate([np.zeros(n), -w_pos, -w_neg]) * scale
    integrality = np.ones(3 * n)  # all binary: no LP-tolerance slack in the robust indicators
    res = milp(c, constraints=LinearConstraint(A.tocsr(), lb, ub), integrality=integrality,
               bounds=Bounds(0, 1), options={"mip_rel_gap": 0})
    assert res.status == 0, res.message
    return float(1.0 + res.fun / scale)


def _scale(w_pos: np.ndarray, w_neg: np.ndarray) -> float:
    w = np.concatenate([w_pos, w_neg])
    return 1.0 / float(np.min(w[w > 0]))


def milp_conflict_graph(k: int, t: float, *, eps: float, p: float, values: str = "pm1") -> float:
    """Continuous-domain optimum: max-weight independent set over (point, label) pairs.

    Two pairs of different labels conflict iff ``||x - x'||_p <= 2 eps`` (closed
    balls intersect); distances are computed directly, in exact rationals.
    """
    pts, w_pos, w_neg = cube_distribution(k, t)
    if values == "01":
        pts = (pts + 1) / 2
    n = len(pts)
    diff = np.abs(pts[:, None, :] - pts[None, :, :])
    two_eps = 2 * Fraction(eps)
    edges = []
    for i in range(n):
        for j in range(n):
            dv = diff[i, j]
            if p == 0:
                conflict = np.count_nonzero(dv) <= 2 * math.floor(eps)
            elif p == math.inf:
                conflict = Fraction(float(dv.max())) <= two_eps
            else:
                conflict = sum(Fraction(float(v)) ** int(p) for v in dv) <= two_eps ** int(p)
            if conflict:
                edges.append((i, j))
    A = lil_matrix((len(edges), 2 * n))
    for r, (i, j) in enumerate(edges):
        A[r, i] = 1
        A[r, n + j] = 1
    scale = _scale(w_pos, w_neg)
    c = -np.concatenate([w_pos, w_neg]) * scale
    res = milp(c, constraints=LinearConstraint(A.tocsr(), -np.inf, 1),
               integrality=np.ones(2 * n), bounds=Bounds(0, 1), options={"mip_rel_gap": 0})
    assert res.status == 0, res.message
    return float(1.0 + res.fun / scale)


def exact_classifier_error_l0(clf, k: int, t: Fraction, eps: int) -> Fraction:
    """Exact adversarial error of a classifier on {-1,1}^k under l0 (enumerating every ball).

    Perturbed coordinates may take any real value; for classifiers that only test
    ``x_i == theta_i`` a value off the cube acts like a flip, so the cube suffices,
    and we add the value 0 for good measure.
    """
    pts = np.array(list(itertools.product((-1, 1), repeat=k)), dtype=float)
    q, pb = Fraction(1, 2) - t, Fraction(1, 2) + t
    err = Fraction(0)
    for x in pts:
        ball = [x]
        for idx in itertools.chain.from_iterable(
            itertools.combinations(range(k), s) for s in range(1, min(eps, k) + 1)
        ):
            for vals in itertools.product((-1.0, 0.0, 1.0), repeat=len(idx)):
                z = x.copy()
                z[list(idx)] = vals
                ball.append(z)
        labels = clf.predict(np.array(ball))
        agree_pos = int((x == 1).sum())
        w_pos = pb**agree_pos * q ** (k - agree_pos) / 2
        w_neg = q**agree_pos * pb ** (k - agree_pos) / 2
        if np.any(labels != 1):
            err += w_pos
        if np.any(labels != -1):
            err += w_neg
    return err
