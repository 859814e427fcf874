"""Optimal robust error over randomized (soft) classifiers: the conflict-hypergraph LP.

A soft classifier maps each input to a distribution ``h(z)`` over labels; the
adversary picks ``z`` in the ball knowing ``h`` but not its coin flips, so pair
``i`` is correct with probability ``q_i = inf_{z in B(x_i)} h(z)_{y_i}`` and
the soft robust error is ``sum_i w_i (1 - q_i)``.  At a point ``z`` the pairs
whose balls contain ``z`` with pairwise distinct labels ``E`` satisfy
``sum_{i in E} q_i <= sum_{i in E} h(z)_{y_i} <= 1``.  Conversely, if
``q`` satisfies these *hyperedge* constraints for every set ``E`` of pairs
with distinct labels and a common point (the conflict hypergraph), then
``h(z)_y = max{q_i : y_i = y, z in B(x_i)}`` (plus slack on any label) is a
soft classifier achieving ``q``.  So

``soft optimum = 1 - max{ w.q : 0 <= q <= 1, sum_{i in E} q_i <= 1 for all hyperedges E }``,

a linear program (Bhagoji et al. 2021; Dai et al. 2023).  Hyperedges have at
most ``c`` (number of labels) pairs.  :func:`soft_robust_error_lower_bound`
keeps the hyperedges of size ``<= order`` (2: the conflict-graph edges, the
fractional vertex-packing LP; 3: also triples with a common point); dropping
constraints can only raise the LP value, so the result is always a **lower
bound** on the soft optimum, which is itself a lower bound on the
deterministic optimum of :func:`~optrobust.finite.optimal_robust_error`.  It
*equals* the soft optimum when ``order >= c``.  With ``c = 2`` it equals the
deterministic optimum too (the bipartite edge LP is integral).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from optrobust._validation import check_int
from optrobust.finite.conflict import (
    DEFAULT_RTOL,
    ConflictGraph,
    ball_incidence,
    conflict_graph,
    support_points,
    tie_policy,
)
from optrobust.finite.distribution import FiniteDistribution

__all__ = ["SoftRobustBound", "soft_robust_error_lower_bound", "conflict_triples"]


@dataclass(frozen=True, kw_only=True)
class SoftRobustBound:
    """Value of the conflict-hypergraph LP.

    Attributes
    ----------
    error : float
        ``1 - max w.q``: a lower bound on the optimal soft (and deterministic)
        robust error; the soft optimum itself when ``exact``.
    q : numpy.ndarray, shape (n,)
        An optimal LP solution (per-pair worst-case probability of being correct).
    order : int
        Largest hyperedge size kept (2 or 3).
    n_pair_constraints, n_triple_constraints : int
    exact : bool
        ``True`` when ``order >= number of labels`` (all hyperedges kept).
    eps, p, domain
    rtol : float
        Tie tolerance of the conflict decisions (0: exact ties); ``tie_policy`` names it.
    """

    error: float
    q: np.ndarray
    order: int
    n_pair_constraints: int
    n_triple_constraints: int
    exact: bool
    eps: float
    p: float
    domain: str
    rtol: float = 0.0

    @property
    def tie_policy(self) -> str:
        """``'exact'`` or ``'rtol=...'`` (see :func:`optrobust.finite.conflict.tie_policy`)."""
        return tie_policy(self.rtol)


def _hamming_triple_meets(x: np.ndarray, r: int) -> bool:
    """Do three Hamming balls of radius ``r`` in R^d (centres ``x[0..2]``) share a point?"""
    e01, e02, e12 = x[0] == x[1], x[0] == x[2], x[1] == x[2]
    a12 = int(np.sum(e01 & ~e02))  # x0 = x1 != x2
    a13 = int(np.sum(e02 & ~e01))  # x0 = x2 != x1
    a23 = int(np.sum(e12 & ~e01))  # x1 = x2 != x0
    alld = int(np.sum(~e01 & ~e02 & ~e12))
    # Variables t12, t13, t23 (coordinates matched to the odd one out), e0, e1, e2.
    # mismatch_0 = t12 + t13 + (a23 - t23) + (alld - e0) <= r, and symmetrically.
    a = np.array([
        [1, 1, -1, -1, 0, 0],
        [1, -1, 1, 0, -1, 0],
        [-1, 1, 1, 0, 0, -1],
    ], dtype=float)
    ub = np.array([r - a23 - alld, r - a13 - alld, r - a12 - alld], dtype=float)
    cons = [LinearConstraint(a, -np.inf, ub),
            LinearConstraint(np.array([[0, 0, 0, 1, 1, 1.0]]), alld, alld)]
    res = milp(c=np.zeros(6), constraints=cons, integrality=np.ones(6),
               bounds=Bounds([0] * 6, [a12, a13, a23, alld, alld, alld]))
    return res.status == 0


def _l1_triple_meets(x: np.ndarray, eps: float, rtol: float) -> bool:
    """LP feasibility: some z with ||z - x_k||_1 <= eps for k = 0, 1, 2."""
    d = x.shape[1]
    # variables z (d), t_k (3d) with t_k >= |z - x_k|, sum t_k <= eps.
    nv = 4 * d
    rows = []
    b = []
    eye = np.eye(d)
    for k in range(3):
        blk_t = np.zeros((d, 3 * d))
        blk_t[:, k * d:(k + 1) * d] = -eye
        rows.append(np.hstack([eye, blk_t]))
        b.append(x[k])
        rows.append(np.hstack([-eye, blk_t]))
        b.append(-x[k])
        s = np.zeros((1, nv))
        s[0, d + k * d:d + (k + 1) * d] = 1.0
        rows.append(s)
        b.append([eps * (1.0 + rtol)])
    res = linprog(np.zeros(nv), A_ub=np.vstack(rows), b_ub=np.concatenate(b),
                  bounds=[(None, None)] * d + [(0, None)] * (3 * d), method="highs")
    return res.status == 0


def _l2_triple_meets(x: np.ndarray, eps: float, rtol: float) -> bool:
    """Minimal enclosing ball of three points has radius ``<= eps (1 + rtol)``.

    Decided in floating point (on coordinates scaled by a power of two) when the
    radius is clearly away from the threshold and the triangle is not nearly
    degenerate, otherwise exactly in rational arithmetic (the tie policy of
    :mod:`optrobust.finite.conflict`).
    """
    k = math.frexp(float(np.max(np.abs(x), initial=0.0)) or 1.0)[1]
    xs = np.ldexp(x, -k)
    s = sorted(float(np.sum((xs[i] - xs[j]) ** 2)) for i, j in ((0, 1), (0, 2), (1, 2)))
    t = math.ldexp(eps, -k) * (1.0 + rtol)
    r2 = _enclosing_radius2(*s)
    scale = (s[0] + s[1] + s[2]) ** 2
    area16 = 2 * (s[0] * s[1] + s[1] * s[2] + s[2] * s[0]) - (s[0] ** 2 + s[1] ** 2 + s[2] ** 2)
    if math.isfinite(r2) and area16 > 1e-6 * scale and abs(r2 - t * t) > 1e-6 * t * t:
        return r2 <= t * t
    fr = [sum(((Fraction(float(a)) - Fraction(float(b))) ** 2
               for a, b in zip(x[i], x[j], strict=True)), Fraction(0))
          for i, j in ((0, 1), (0, 2), (1, 2))]
    tf = Fraction(eps) * (1 + Fraction(rtol))
    return _enclosing_radius2(*sorted(fr)) <= tf * tf


def _enclosing_radius2(a2: Any, b2: Any, c2: Any) -> Any:
    """Squared radius of the minimal enclosing ball from squared sides ``a2 <= b2 <= c2``."""
    if c2 >= a2 + b2:  # right or obtuse (or degenerate): the longest side is a diameter
        return c2 / 4
    area16 = 2 * (a2 * b2 + b2 * c2 + c2 * a2) - (a2 * a2 + b2 * b2 + c2 * c2)
    return a2 * b2 * c2 / area16


def conflict_triples(dist: FiniteDistribution, graph: ConflictGraph) -> np.ndarray:
    """Triples of pairs with three distinct labels whose balls share a point.

    Continuous domain: common point of the three closed balls (l_inf: boxes,
    Helly number 2, so every triangle; l2: minimal enclosing ball radius
    ``<= eps``; l1: LP feasibility; l0: small integer program over coordinate
    types).  Support domain: a support point in all three balls.

    Returns
    -------
    numpy.ndarray, shape (t, 3), int64, each row increasing.
    """
    adj = graph.adjacency().tocsr()
    y = dist.labels
    nbrs = [set(adj.indices[adj.indptr[v]:adj.indptr[v + 1]].tolist()) for v in range(graph.n)]
    cand = []
    for i, j in graph.edges.tolist():
        for k in nbrs[i] & nbrs[j]:
            if k > j and y[k] != y[i] and y[k] != y[j]:
                cand.append((i, j, k))
    if not cand:
        return np.empty((0, 3), dtype=np.int64)
    eps, p, rtol = graph.eps, graph.p, graph.rtol
    if graph.domain == "support":
        _, point_of = support_points(dist)
        _, inside = ball_incidence(dist, eps=eps, p=p, rtol=rtol)
        inside = inside.tocsr()
        rowsets = {}

        def row(u: int) -> set:
            if u not in rowsets:
                rowsets[u] = set(inside.indices[inside.indptr[u]:inside.indptr[u + 1]].tolist())
            return rowsets[u]

        keep = [t for t in cand if row(point_of[t[0]]) & row(point_of[t[1]])
                & row(point_of[t[2]])]
    elif p == math.inf:
        keep = cand
    else:
        tests: dict[float, Any] = {
            2: lambda x: _l2_triple_meets(x, eps, rtol),
            1: lambda x: _l1_triple_meets(x, eps, rtol),
            0: lambda x: _hamming_triple_meets(x, math.floor(eps)),
        }
        test = tests[p]
        keep = [t for t in cand if test(dist.points[list(t)])]
    return np.array(keep, dtype=np.int64).reshape(-1, 3)


def soft_robust_error_lower_bound(dist: FiniteDistribution, *, eps: Any, p: Any,
                                  domain: str = "continuous", order: int = 2,
                                  rtol: float = DEFAULT_RTOL) -> SoftRobustBound:
    """LP over the conflict hypergraph: optimal robust error of soft classifiers (bound).

    Parameters
    ----------
    dist : FiniteDistribution
    eps, p, domain, rtol
        As in :func:`~optrobust.finite.optimal_robust_error`.
    order : {2, 3}
        Keep hyperedges of at most this many pairs.

    Returns
    -------
    SoftRobustBound
        ``error <= soft optimum <= deterministic optimum``; the first is an
        equality when ``order >=`` the number of labels.

    Notes
    -----
    ``max sum_i w_i q_i`` s.t. ``0 <= q_i <= 1`` and ``sum_{i in E} q_i <= 1``
    for every conflict-hypergraph edge ``E`` with ``|E| <= order``; solved
    with HiGHS (``scipy.optimize.linprog``).  Example where all three differ:
    three pairs with labels 0, 1, 2 at the vertices of an equilateral triangle
    of side ``s`` in l2, ``sqrt(3) eps < s <= 2 eps`` (balls pairwise meet,
    no common point): order 2 and 3 give error ``1/2`` (``q = 1/2``), the
    deterministic optimum is ``2/3``; with ``s <= sqrt(3) eps`` the triple
    constraint holds and order 3 gives ``2/3`` while order 2 still gives ``1/2``.

    References
    ----------
    A. N. Bhagoji, D. Cullina, V. Sehwag, P. Mittal, "Lower bounds on
    adversarial robustness from optimal transport" (2019) and "Lower bounds
    on cross-entropy loss in the presence of test-time adversaries" (2021);
    S. Dai, W. Ding, A. N. Bhagoji, D. Cullina, H. Zheng, B. Y. Zhao,
    P. Mittal, "Characterizing the optimal 0-1 loss for multi-class
    classification with a test-time attacker" (NeurIPS 2023).
    """
    order = check_int(order, name="order", minimum=2, maximum=3)
    graph = conflict_graph(dist, eps=eps, p=p, domain=domain, rtol=rtol)
    n = dist.n
    pairs = graph.edges
    triples = conflict_triples(dist, graph) if order >= 3 else np.empty((0, 3), np.int64)
    rows = np.concatenate([np.repeat(np.arange(pairs.shape[0]), 2),
                           pairs.shape[0] + np.repeat(np.arange(triples.shape[0]), 3)])
    cols = np.concatenate([pairs.reshape(-1), triples.reshape(-1)])
    m = pairs.shape[0] + triples.shape[0]
    w = dist.weights
    if m == 0:
        q = np.ones(n)
    else:
        a = sp.csr_array((np.ones(rows.size), (rows, cols)), shape=(m, n))
        res = linprog(-w, A_ub=a, b_ub=np.ones(m), bounds=(0.0, 1.0), method="highs")
        if res.status != 0:  # pragma: no cover
            raise RuntimeError(f"HiGHS LP failed: {res.message}")
        q = np.clip(res.x, 0.0, 1.0)
    q.setflags(write=False)
    error = max(0.0, 1.0 - math.fsum((w * q).tolist()))
    return SoftRobustBound(
        error=error, q=q, order=order, n_pair_constraints=int(pairs.shape[0]),
        n_triple_constraints=int(triples.shape[0]),
        exact=order >= np.unique(dist.labels).size,
        eps=graph.eps, p=graph.p, domain=graph.domain, rtol=graph.rtol,
    )
