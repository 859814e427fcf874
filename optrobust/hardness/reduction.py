"""The reduction of Lemma 1: maximum distance-3 independent set -> optimal robust error.

For a graph ``G`` on ``n`` vertices, :func:`reduction_instance` builds ``n``
points, one per vertex, vertex ``i`` carrying label ``i`` with mass ``1/n``,
such that for the returned budget ``eps``::

    n * (1 - optimal robust error) = size of a maximum distance-3 independent set of G

for ``p`` in ``{0, 1, 2, inf}`` and both domains.  The printed construction of
the paper does not have this property in general (docs/errata): its ``lambda``
puts adjacent rows at distance ``> eps`` for finite ``p``, and under the
``continuous`` domain (classifier on all of ``R^d``) two points conflict when
their distance is ``<= 2 eps``, not ``<= eps``.  The construction here
is a corrected one; its proof is in docs/theory.md.

Construction
------------
Let ``H`` be a graph on the vertices ``0..n-1`` and ``tau > 0`` a threshold.
The *gadget* ``X(H, tau)`` has one column per unordered pair ``{i, j}``
(``i < j``) of vertices, ``d = max(1, C(n, 2))`` columns in all:

* ``p in {1, 2, inf}``: column ``{i, j}`` holds ``-lam`` in row ``i``, ``+lam``
  in row ``j`` (the paper's eq. (15)), both ``+lam`` when ``ij`` is an edge of
  ``H`` (the paper's ``M'``), 0 elsewhere.  Row distances are
  ``A = (2n - 4)^{1/p} lam`` for edges of ``H`` and
  ``N = (2n - 4 + 2^p)^{1/p} lam`` for non-edges (``p = inf``: ``A = lam``
  for ``n >= 3``, ``N = 2 lam``), and ``lam = 2 tau / (A_1 + N_1)`` (``A_1,
  N_1`` the values at ``lam = 1``) puts ``tau`` strictly between them.
* ``p = 0`` (Remark 1): ``D`` columns, entry ``i D + c + 1`` in row ``i``,
  column ``c`` (all entries distinct), both endpoints of an edge of ``H`` get
  the minimum of their two entries in the edge's column: Hamming distances
  are ``D - 1`` on edges, ``D`` on non-edges.

Domains: ``support`` uses ``H = G`` and ``tau = eps`` (a support point ``z``
within ``eps`` of both ``x_u`` and ``x_v`` exists iff ``d_G(u, v) <= 2``);
``continuous`` uses ``H = G^2`` and ``tau = 2 eps`` (closed balls meet iff the
points are within ``2 eps``; for ``p = 0`` within ``2 floor(eps)``).  For ``p =
0`` the budget is fixed: ``support``: ``D = max(2, C(n, 2))``, ``eps = D - 1``
(Remark 1's ``eps = d - 1``); ``continuous``: ``D`` the least odd integer
``>= max(3, C(n, 2))`` and ``eps = (D - 1) / 2``.
"""

from __future__ import annotations

import math
import sys
import warnings
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from optrobust._validation import check_eps, check_int
from optrobust.errors import InvalidInputError, NumericalError, ResourceLimitError
from optrobust.finite.distribution import FiniteDistribution
from optrobust.hardness.independent_set import (
    check_graph,
    distance2_pairs,
    is_distance3_independent_set,
)
from optrobust.norms import DOMAINS, check_domain, lp_distance, parse_p
from optrobust.parsing import DEFAULT_DOMAIN

__all__ = [
    "BallClassifier",
    "DOMAINS",
    "MAX_REDUCTION_ENTRIES",
    "ReductionInstance",
    "classifier_from_independent_set",
    "classifier_robust_error",
    "gadget_points",
    "independent_set_from_solution",
    "max_reduction_vertices",
    "printed_construction_points",
    "reduction_dimension",
    "reduction_instance",
]

#: Largest ``n * d`` (float64 entries, 128 MiB) of a reduction instance; larger graphs are
#: refused before anything is built (:class:`~optrobust.errors.ResourceLimitError`).  With
#: ``d = C(n, 2)`` this allows up to 322 vertices (:func:`max_reduction_vertices`).
MAX_REDUCTION_ENTRIES = 2**24


@dataclass(frozen=True, kw_only=True)
class ReductionInstance:
    """A finite robust-classification problem encoding a graph (Lemma 1).

    Attributes
    ----------
    graph : networkx.Graph
        The input graph ``G``.
    vertices : tuple
        ``vertices[i]`` is the vertex of row/label ``i`` (``G``'s node order).
    distribution : FiniteDistribution
        ``n`` points in ``R^d``, label ``i`` on point ``i``, weights ``1/n``.
    eps : float
        The budget the instance is built for.
    p : float
        ``0, 1, 2`` or ``math.inf``.
    domain : str
        ``"support"`` or ``"continuous"``.
    threshold : float
        ``tau``: adjacent rows of the encoded graph are within ``tau``, others
        farther (``eps`` for ``support``; ``2 eps``, or ``2 floor(eps)`` for
        ``p = 0``, for ``continuous``).
    lam : float or None
        The gadget's ``lambda`` (``None`` for ``p = 0``).
    """

    graph: nx.Graph
    vertices: tuple
    distribution: FiniteDistribution
    eps: float
    p: float
    domain: str
    threshold: float
    lam: float | None

    @property
    def n_vertices(self) -> int:
        """Number of vertices = number of points = number of labels."""
        return len(self.vertices)

    @property
    def points(self) -> np.ndarray:
        """The points, shape ``(n, d)``."""
        return self.distribution.points


def max_reduction_vertices(p: Any, domain: str) -> int:
    """Largest ``n`` with ``n * reduction_dimension(n, p, domain) <= MAX_REDUCTION_ENTRIES``.

    >>> max_reduction_vertices(2, "support")
    322
    """
    lo, hi = 1, 2**12
    while lo < hi:  # n * d(n) is increasing in n
        mid = (lo + hi + 1) // 2
        if mid * reduction_dimension(mid, p, domain) <= MAX_REDUCTION_ENTRIES:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _check_size(n: int, dim: int) -> None:
    if n * dim > MAX_REDUCTION_ENTRIES:
        raise ResourceLimitError(
            f"graph has {n} vertices: the reduction would need {n} x {dim} = {n * dim} "
            f"float64 entries, more than the bound MAX_REDUCTION_ENTRIES = "
            f"{MAX_REDUCTION_ENTRIES} (at most about 322 vertices)")


def _pair_columns(n: int) -> dict[tuple[int, int], int]:
    return {pair: c for c, pair in enumerate((i, j) for i in range(n) for j in range(i + 1, n))}


def _unit_distances(n: int, p: float) -> tuple[float, float]:
    """Row distances of the ``p >= 1`` gadget at ``lam = 1``: (edge, non-edge)."""
    if n < 2:
        return 0.0, 2.0
    if p == math.inf:
        return (1.0 if n >= 3 else 0.0), 2.0
    return (2.0 * (n - 2)) ** (1.0 / p), (2.0 * (n - 2) + 2.0 ** p) ** (1.0 / p)


def reduction_dimension(n: int, p: Any, domain: str) -> int:
    """Dimension ``d`` of :func:`reduction_instance` for ``n`` vertices.

    Notes
    -----
    ``p in {1, 2, inf}``: ``d = max(1, C(n, 2))``.  ``p = 0``, ``support``:
    ``d = max(2, C(n, 2))``; ``p = 0``, ``continuous``: the least odd integer
    ``>= max(3, C(n, 2))``.  The number of points is always ``n``.

    Examples
    --------
    >>> reduction_dimension(10, 2, "support"), reduction_dimension(4, 0, "continuous")
    (45, 7)
    """
    n = check_int(n, name="n", minimum=1)
    p = parse_p(p)
    check_domain(domain)
    pairs = n * (n - 1) // 2
    if p != 0:
        return max(1, pairs)
    if domain == "support":
        return max(2, pairs)
    d = max(3, pairs)
    return d if d % 2 == 1 else d + 1


def _gadget_lambda(n: int, p: float, tau: float) -> float:
    """``lam = tau / ((A_1 + N_1) / 2)``, refused unless it is a normal float64."""
    a1, n1 = _unit_distances(n, p)
    lam = tau / ((a1 + n1) / 2.0)
    if not (math.isfinite(lam) and lam >= sys.float_info.min):
        which = "larger" if not lam >= sys.float_info.min else "smaller"
        raise NumericalError(
            f"eps is outside the scales the reduction can represent in float64: threshold "
            f"tau = {tau!r} gives the gadget entry lambda = {lam!r} for {n} vertices, and "
            f"lambda must be a normal float64 (>= {sys.float_info.min:.3g}, finite); choose a "
            f"{which} eps")
    return lam


def gadget_points(n: int, edges: Any, p: Any, tau: float, dim: int | None = None) -> np.ndarray:
    """The points ``X(H, tau)`` of the module docstring for ``H = ({0..n-1}, edges)``.

    For ``p >= 1``: ``||x_i - x_j||_p < tau`` for edges and ``> tau`` for
    non-edges.  For ``p = 0`` (``tau`` ignored, ``dim = D`` columns): Hamming
    distance ``D - 1`` for edges and ``D`` for non-edges.

    Raises
    ------
    NumericalError
        If ``lam = 2 tau / (A_1 + N_1)`` is not a normal float64 (``tau`` too small:
        ``lam`` would underflow and the gadget lose its margin; or ``tau`` infinite).
    ResourceLimitError
        If ``n * dim > MAX_REDUCTION_ENTRIES``.
    """
    n = check_int(n, name="n", minimum=1)
    p = parse_p(p)
    d = max(1, n * (n - 1) // 2) if dim is None else check_int(dim, name="dim", minimum=1)
    _check_size(n, d)
    cols = _pair_columns(n)
    edge_set = {(min(a, b), max(a, b)) for a, b in edges}
    if p == 0:
        x = (np.arange(n)[:, None] * d + np.arange(d)[None, :] + 1).astype(np.float64)
        for i, j in edge_set:
            c = cols[(i, j)]
            x[i, c] = x[j, c] = min(x[i, c], x[j, c])
        return x
    lam = _gadget_lambda(n, p, tau)
    x = np.zeros((n, d))
    for (i, j), c in cols.items():
        x[i, c], x[j, c] = (lam, lam) if (i, j) in edge_set else (-lam, lam)
    return x


def reduction_instance(graph: nx.Graph, p: Any, domain: str | None = None,
                       eps: Any = None) -> ReductionInstance:
    """Build the finite distribution of Lemma 1 (corrected) for ``graph``.

    Parameters
    ----------
    graph : networkx.Graph
        Simple undirected graph, at least one vertex, no self-loops.
    p : {0, 1, 2, inf} or str
    domain : {"continuous", "support"}
        Where the classifier and perturbations live.  Default: the library's one
        default :data:`optrobust.parsing.DEFAULT_DOMAIN` (``"continuous"``).  Until this
        release the default here was ``"support"``; calls that omit ``domain`` get a
        ``DeprecationWarning`` saying so, and ``domain="support"`` gives the old result.
    eps : float, optional
        Budget for ``p >= 1`` (``eps > 0``, default 1.0).  For ``p = 0`` the
        construction fixes the budget; leave ``eps`` as ``None``.

    Returns
    -------
    ReductionInstance
        ``n`` points in ``R^d`` (``d`` from :func:`reduction_dimension`),
        point ``i`` labelled ``i``, uniform weights ``1/n``.

    Raises
    ------
    InvalidTypeError, InvalidInputError
        Bad graph, unknown ``p`` or ``domain``, ``eps <= 0``, or ``eps`` given for ``p = 0``.
    NumericalError
        ``eps`` so small (or so large) that the gadget's ``lambda`` is not a normal
        float64 (below about ``1e-305`` for small graphs).
    ResourceLimitError
        More than :data:`MAX_REDUCTION_ENTRIES` entries (about 322 vertices); raised
        before anything is built.

    Notes
    -----
    Defining property (checked by exact solvers in the tests):

    .. math:: n\\,(1 - R^*_{p,\\epsilon}(D)) = \\alpha_3(G),

    the size of a maximum distance-3 independent set.  ``support``: points
    ``X(G, eps)``; ``continuous``: ``X(G^2, 2 eps)`` (module docstring).

    References
    ----------
    Paper ``large-perturbations.md``, Appendix A, Lemma 1, eqs. (15)-(17),
    Theorem 1 and Remark 1 (corrected, see docs/errata.md).

    Examples
    --------
    >>> import networkx as nx
    >>> inst = reduction_instance(nx.path_graph(4), p=2, domain="support")
    >>> inst.distribution.points.shape, inst.eps
    ((4, 6), 1.0)
    """
    check_graph(graph)
    p = parse_p(p)
    if domain is None:
        warnings.warn(
            f"reduction_instance: the default domain is now {DEFAULT_DOMAIN!r} (the library's "
            f"one default, optrobust.parsing.DEFAULT_DOMAIN); it was 'support' before. Pass "
            f"domain='support' for the old result or domain={DEFAULT_DOMAIN!r} to silence "
            f"this warning", DeprecationWarning, stacklevel=2)
        domain = DEFAULT_DOMAIN
    domain = check_domain(domain)
    vertices = tuple(graph.nodes())
    n = len(vertices)
    _check_size(n, reduction_dimension(n, p, domain))
    index = {v: i for i, v in enumerate(vertices)}
    pairs = graph.edges() if domain == "support" else (tuple(q) for q in distance2_pairs(graph))
    encoded = [(index[a], index[b]) for a, b in pairs]
    dim = reduction_dimension(n, p, domain)
    if p == 0:
        if eps is not None:
            raise InvalidInputError("eps is fixed by the construction for p=0 (Remark 1); "
                                    "leave it as None")
        budget = float(dim - 1) if domain == "support" else float((dim - 1) // 2)
        threshold = budget if domain == "support" else 2.0 * budget
        points = gadget_points(n, encoded, 0, threshold, dim)
        lam = None
    else:
        budget = 1.0 if eps is None else check_eps(eps)
        if budget <= 0:
            raise InvalidInputError(f"eps must be a finite real number > 0 for p >= 1, "
                                    f"got {eps!r}")
        threshold = budget if domain == "support" else 2.0 * budget
        lam = _gadget_lambda(n, p, threshold)
        points = gadget_points(n, encoded, p, threshold, dim)
    dist = FiniteDistribution(points, np.arange(n), np.full(n, 1.0 / n))
    return ReductionInstance(graph=graph, vertices=vertices, distribution=dist, eps=budget,
                             p=p, domain=domain, threshold=threshold, lam=lam)


def printed_construction_points(graph: nx.Graph, p: Any, eps: Any = 1.0) -> np.ndarray:
    """The paper's construction exactly as printed (for the errata tests).

    ``p >= 1``: ``M'`` of eqs. (15)-(16) with ``lam = eps / (2k-4)^{1/(2k-4)}``
    (``p`` finite) or ``lam = eps`` (``p = inf``); needs ``k >= 3``.
    ``p = 0``: Remark 1's ``M'`` (``d = C(k, 2)`` columns; budget ``d - 1``).
    Rows follow ``graph``'s node order.
    """
    check_graph(graph)
    p = parse_p(p)
    vertices = list(graph.nodes())
    k = len(vertices)
    index = {v: i for i, v in enumerate(vertices)}
    edges = [(index[a], index[b]) for a, b in graph.edges()]
    d = k * (k - 1) // 2
    if p == 0:
        return gadget_points(k, edges, 0, 0.0, d)
    if k < 3:
        raise InvalidInputError(f"graph must have at least 3 vertices for eq. (16), got {k}")
    eps = check_eps(eps)
    lam = eps if p == math.inf else eps / (2 * k - 4) ** (1.0 / (2 * k - 4))
    x = gadget_points(k, edges, p, 1.0, d)
    return x / np.max(np.abs(x)) * lam


def _balls_meet(x: np.ndarray, y: np.ndarray, eps: float, p: float, domain: str,
                support: np.ndarray) -> bool:
    """Can no classifier be robustly correct at both ``x`` and ``y`` (different labels)?"""
    if domain == "continuous":
        limit = 2 * math.floor(eps) if p == 0 else 2.0 * eps
        return bool(lp_distance(x, y, p) <= limit)
    return bool(np.any((lp_distance(support, x, p) <= eps) & (lp_distance(support, y, p) <= eps)))


@dataclass(frozen=True, kw_only=True)
class BallClassifier:
    """``h(x)`` = label of the first center whose closed ``eps``-ball contains ``x``, else default.

    Attributes
    ----------
    centers : numpy.ndarray, shape (m, d)
    labels : numpy.ndarray of int, shape (m,)
    eps, p
        The ball (for ``p = 0``: at most ``floor(eps)`` changed coordinates).
    default : int
        Label outside every ball.
    """

    centers: np.ndarray
    labels: np.ndarray
    eps: float
    p: float
    default: int

    def predict(self, X: Any) -> np.ndarray:
        """Labels of the rows of ``X`` (shape ``(q, d)``)."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        radius = math.floor(self.eps) if self.p == 0 else self.eps
        out = np.full(X.shape[0], self.default, dtype=np.int64)
        done = np.zeros(X.shape[0], dtype=bool)
        for c, lab in zip(self.centers, self.labels, strict=True):
            hit = ~done & (lp_distance(X, c, self.p) <= radius)
            out[hit] = lab
            done |= hit
        return out


def classifier_from_independent_set(instance: ReductionInstance, vertices: Any) -> BallClassifier:
    """A classifier robustly correct on the points of a distance-3 independent set.

    Its robust error on ``instance`` is at most ``1 - |S|/n`` (equal when ``S``
    is maximum); :func:`classifier_robust_error` computes it exactly.

    Raises
    ------
    InvalidInputError
        If ``vertices`` is not a distance-3 independent set of ``instance.graph``.
    """
    chosen = list(vertices)
    if not is_distance3_independent_set(instance.graph, chosen):
        raise InvalidInputError("vertices must be a distance-3 independent set of instance.graph")
    index = {v: i for i, v in enumerate(instance.vertices)}
    rows = np.array(sorted(index[v] for v in chosen), dtype=np.int64)
    pts = instance.distribution.points
    return BallClassifier(centers=pts[rows], labels=rows, eps=instance.eps, p=instance.p,
                          default=int(rows[0]) if rows.size else 0)


def classifier_robust_error(instance: ReductionInstance, classifier: BallClassifier) -> float:
    """Exact robust error of a :class:`BallClassifier` on ``instance``.

    ``support``: point ``i`` is robust iff every support point within ``eps``
    of ``x_i`` is predicted ``i``.  ``continuous``: ``x_i`` is robust iff ``i`` is
    the label of a center ``c = x_i`` whose ball meets no earlier center's
    ball, or ``i`` is the default label and its ball meets no center's ball.
    """
    pts, w = instance.distribution.points, instance.distribution.weights
    eps, p = instance.eps, instance.p
    robust = np.zeros(len(pts), dtype=bool)
    if instance.domain == "support":
        pred = classifier.predict(pts)
        radius = math.floor(eps) if p == 0 else eps
        for i, x in enumerate(pts):
            robust[i] = bool(np.all(pred[lp_distance(pts, x, p) <= radius] == i))
        return float(w @ ~robust)
    for i, x in enumerate(pts):
        at = np.flatnonzero((classifier.labels == i) & np.all(classifier.centers == x, axis=1))
        if at.size:
            k = int(at[0])
            robust[i] = not any(_balls_meet(x, c, eps, p, "continuous", pts)
                                for c in classifier.centers[:k])
        elif classifier.default == i:
            robust[i] = not any(_balls_meet(x, c, eps, p, "continuous", pts)
                                for c in classifier.centers)
    return float(w @ ~robust)


def independent_set_from_solution(instance: ReductionInstance, solution: Any) -> frozenset:
    """Vertices whose points a robust solution gets right: a distance-3 independent set.

    ``solution`` has a boolean ``robust`` array with one entry per point (e.g.
    :class:`optrobust.finite.robust.RobustSolution`).

    Raises
    ------
    InvalidInputError
        If the robust points do not form a distance-3 independent set (then
        the solution was not feasible for ``instance``).
    """
    robust = np.asarray(solution.robust, dtype=bool)
    if robust.shape != (instance.n_vertices,):
        raise InvalidInputError(f"solution.robust must have shape ({instance.n_vertices},), "
                         f"got {robust.shape}")
    chosen = frozenset(instance.vertices[i] for i in np.flatnonzero(robust))
    if not is_distance3_independent_set(instance.graph, chosen):
        raise InvalidInputError("solution's robust points are not a distance-3 independent set")
    return chosen
