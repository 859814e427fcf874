"""Conflict graphs of a finite distribution under closed l_p balls.

Two (point, label) pairs *conflict* when no deterministic classifier can be
robustly correct on both.  Pairs with the same label never conflict.  For pairs
``i, j`` with ``y_i != y_j``:

* ``domain="continuous"`` (classifier on all of R^d): conflict iff the closed
  balls ``B_p^eps(x_i)`` and ``B_p^eps(x_j)`` intersect, i.e.
  ``||x_i - x_j||_p <= 2 eps`` for ``p in {1, 2, inf}`` and
  ``||x_i - x_j||_0 <= 2 floor(eps)`` for ``p = 0``;
* ``domain="support"`` (inputs and perturbations on the support points only):
  conflict iff some support point ``z`` has ``||z - x_i||_p <= eps`` and
  ``||z - x_j||_p <= eps``.

Distances are computed block by block (``chunk_bytes`` per block), so ``n =
10^4`` points of dimension 784 never need an ``n x n x d`` array.

Tolerance policy
----------------
Balls are closed, so a distance *equal* to the threshold is a conflict.  A
computed distance ``D`` is compared with ``T (1 + rtol)`` (``rtol = 1e-9`` by
default): pairs within a relative ``1e-9`` of touching count as touching, so a
tie that floating point rounds either way (``0.7 - 0.1`` vs ``2 * 0.3``) is
always a conflict.  ``rtol=0`` compares the computed distances exactly.  For
``l2`` the fast Gram-matrix formula is used only away from the threshold; any
pair whose squared distance lies within a rounding band of it is recomputed
from the coordinate differences.  For ``l0`` distances are exact integer counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.spatial.distance import cdist

from optrobust._validation import check_eps
from optrobust.finite.distribution import FiniteDistribution
from optrobust.norms import parse_p

__all__ = ["ConflictGraph", "DOMAINS", "conflict_graph", "ball_incidence", "check_domain"]

DOMAINS = ("continuous", "support")
DEFAULT_RTOL = 1e-9
_CHUNK_BYTES = 64 * 2**20


def check_domain(domain: Any) -> str:
    """Validate ``domain`` (``'continuous'`` or ``'support'``)."""
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {DOMAINS}, got {domain!r}")
    return str(domain)


def check_rtol(rtol: Any) -> float:
    """Validate the relative tie tolerance ``0 <= rtol < 1e-3``."""
    value = check_eps(rtol, name="rtol")
    if value >= 1e-3:
        raise ValueError(f"rtol must lie in [0, 1e-3), got {rtol!r}")
    return value


@dataclass(frozen=True)
class ConflictGraph:
    """The conflict graph of a finite distribution.

    Attributes
    ----------
    n : int
        Number of (point, label) pairs (vertices).
    edges : numpy.ndarray, shape (m, 2), int64
        Conflicting pairs ``(i, j)`` with ``i < j``, sorted lexicographically.
    labels, weights : numpy.ndarray
        Copied from the distribution (weights normalized).
    eps, p, domain, rtol
        The threat model and the tie tolerance used.
    """

    n: int
    edges: np.ndarray
    labels: np.ndarray
    weights: np.ndarray
    eps: float
    p: float
    domain: str
    rtol: float

    @property
    def n_edges(self) -> int:
        """Number of conflicting pairs."""
        return int(self.edges.shape[0])

    def adjacency(self) -> sp.csr_array:
        """Symmetric boolean adjacency matrix (``n x n`` CSR)."""
        i, j = self.edges[:, 0], self.edges[:, 1]
        data = np.ones(2 * i.size, dtype=bool)
        return sp.csr_array(
            (data, (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(self.n, self.n)
        )

    def to_networkx(self) -> Any:
        """The graph as a :class:`networkx.Graph` with ``label``/``weight`` node data."""
        import networkx as nx

        g = nx.Graph()
        for v in range(self.n):
            g.add_node(v, label=int(self.labels[v]), weight=float(self.weights[v]))
        g.add_edges_from(map(tuple, self.edges.tolist()))
        return g

    def is_independent(self, robust: Any) -> bool:
        """Whether the boolean mask ``robust`` selects no two conflicting pairs."""
        r = np.asarray(robust, dtype=bool)
        if self.n_edges == 0:
            return True
        return not bool(np.any(r[self.edges[:, 0]] & r[self.edges[:, 1]]))


# --------------------------------------------------------------------------- distances
def _rows_per_chunk(m: int, d: int, chunk_bytes: int) -> int:
    return max(1, int(chunk_bytes // (8 * max(1, m) * (1 if d < 64 else 2))))


_SCREEN_COLS = 48


def _linf_within(blk: np.ndarray, b: np.ndarray, t: float,
                 screen: np.ndarray | None) -> np.ndarray:
    """``max_k |blk[r, k] - b[c, k]| <= t`` for every (r, c).

    With ``screen`` (a few high-variance coordinates), the max over those
    coordinates is a lower bound of the full max; pairs it already puts above
    ``t`` are decided, and only the survivors get the full computation.
    """
    if screen is None:
        return cdist(blk, b, metric="chebyshev") <= t
    out = cdist(blk[:, screen], b[:, screen], metric="chebyshev") <= t
    r, c = np.nonzero(out)
    if r.size > 0.05 * out.size:
        return cdist(blk, b, metric="chebyshev") <= t
    for s in range(0, r.size, 4096):
        rr, cc = r[s:s + 4096], c[s:s + 4096]
        out[rr, cc] = np.max(np.abs(blk[rr] - b[cc]), axis=1) <= t
    return out


def _within(a: np.ndarray, b: np.ndarray, p: float, thr: float, rtol: float,
            chunk_bytes: int = _CHUNK_BYTES):
    """Yield ``(rows_offset, bool block)`` with ``block[r, c] = dist(a[r], b[c]) <= thr``.

    ``thr`` is a distance threshold (for ``p = 0`` an integer count).  Ties
    within ``rtol`` (relative) count as within.
    """
    m, d = b.shape
    step = _rows_per_chunk(m, d, chunk_bytes)
    if p == 2:
        bn = np.einsum("ij,ij->i", b, b)
        t2 = (thr * (1.0 + rtol)) ** 2
    screen = None
    if p == math.inf and d > 2 * _SCREEN_COLS:
        screen = np.sort(np.argsort(-np.var(b, axis=0), kind="stable")[:_SCREEN_COLS])
    for s in range(0, a.shape[0], step):
        blk = a[s:s + step]
        if p == 0:
            hd = cdist(blk, b, metric="hamming") * d
            out = np.rint(hd) <= thr
        elif p == 1:
            out = cdist(blk, b, metric="cityblock") <= thr * (1.0 + rtol)
        elif p == math.inf:
            out = _linf_within(blk, b, thr * (1.0 + rtol), screen)
        else:
            an = np.einsum("ij,ij->i", blk, blk)
            sq = an[:, None] + bn[None, :] - 2.0 * (blk @ b.T)
            # The Gram formula's rounding error is below (d + 4) u (|a|^2 + |b|^2).
            band = max(1e-12, 4e-16 * (d + 4)) * (an[:, None] + bn[None, :])
            out = sq <= t2
            amb = np.abs(sq - t2) <= band + 1e-12 * t2
            if np.any(amb):
                r, c = np.nonzero(amb)
                diff = blk[r] - b[c]
                exact = np.einsum("ij,ij->i", diff, diff)
                out[r, c] = exact <= t2
        yield s, out


def _threshold(eps: float, p: float, domain: str) -> float:
    if p == 0:
        r = math.floor(eps)
        return float(2 * r if domain == "continuous" else r)
    return 2.0 * eps if domain == "continuous" else eps


def _continuous_edges(dist: FiniteDistribution, eps: float, p: float, rtol: float,
                      chunk_bytes: int) -> np.ndarray:
    x, y = dist.points, dist.labels
    classes = np.unique(y)
    thr = _threshold(eps, p, "continuous")
    parts = []
    groups = [np.flatnonzero(y == c) for c in classes]
    for a in range(len(classes)):
        ia = groups[a]
        rest = np.concatenate(groups[a + 1:]) if a + 1 < len(classes) else np.empty(0, int)
        if rest.size == 0:
            continue
        xb = x[rest]
        for s, blk in _within(x[ia], xb, p, thr, rtol, chunk_bytes):
            r, c = np.nonzero(blk)
            if r.size:
                parts.append(_edge_keys(ia[s + r], rest[c], dist.n))
    return _edges_from_keys(parts, dist.n)


def _edge_keys(i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """Encode undirected edges as ``min * n + max`` (int64)."""
    i = i.astype(np.int64)
    j = j.astype(np.int64)
    return np.minimum(i, j) * n + np.maximum(i, j)


def _edges_from_keys(parts: list, n: int) -> np.ndarray:
    """Sorted, de-duplicated ``(m, 2)`` edge array from lists of keys."""
    if not parts:
        return np.empty((0, 2), dtype=np.int64)
    keys = np.sort(np.concatenate(parts))  # np.unique's hash path is slow on 10^7 keys
    if keys.size > 1:
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    out = np.empty((keys.size, 2), dtype=np.int64)
    np.floor_divide(keys, n, out=out[:, 0])
    np.subtract(keys, out[:, 0] * n, out=out[:, 1])
    return out


def support_points(dist: FiniteDistribution) -> tuple[np.ndarray, np.ndarray]:
    """Distinct support points and, per pair, the index of its point."""
    uniq, inverse = np.unique(dist.points, axis=0, return_inverse=True)
    return uniq, inverse.reshape(-1)


def ball_incidence(dist: FiniteDistribution, *, eps: Any, p: Any,
                   rtol: float = DEFAULT_RTOL,
                   chunk_bytes: int = _CHUNK_BYTES) -> tuple[np.ndarray, sp.csr_array]:
    """Support points and which of them lie in each support point's ball.

    Returns
    -------
    support : numpy.ndarray, shape (m, d)
        The distinct support points (``numpy.unique`` order).
    inside : scipy.sparse.csr_array, shape (m, m), bool
        ``inside[u, v]`` iff ``||support[u] - support[v]||_p <= eps``.
    """
    eps = check_eps(eps)
    p = parse_p(p)
    uniq, _ = support_points(dist)
    thr = _threshold(eps, p, "support")
    rows, cols = [], []
    for s, blk in _within(uniq, uniq, p, thr, rtol, chunk_bytes):
        r, c = np.nonzero(blk)
        rows.append(r + s)
        cols.append(c)
    m = uniq.shape[0]
    inside = sp.csr_array(
        (np.ones(sum(len(r) for r in rows), dtype=bool),
         (np.concatenate(rows), np.concatenate(cols))), shape=(m, m))
    return uniq, inside


def _support_edges(dist: FiniteDistribution, eps: float, p: float, rtol: float,
                   chunk_bytes: int) -> np.ndarray:
    _, point_of = support_points(dist)
    _, inside = ball_incidence(dist, eps=eps, p=p, rtol=rtol, chunk_bytes=chunk_bytes)
    inside_i = inside.astype(np.int32)
    share = (inside_i @ inside_i.T).tocsr()  # support points u, v whose balls share a point
    n = dist.n
    m = inside.shape[0]
    onehot = sp.csr_array((np.ones(n, dtype=np.int32), (np.arange(n), point_of)), shape=(n, m))
    pair_share = (onehot @ share @ onehot.T).tocoo()
    i, j = pair_share.row, pair_share.col
    keep = (i < j) & (dist.labels[i] != dist.labels[j])
    return _edges_from_keys([_edge_keys(i[keep], j[keep], n)], n)


def conflict_graph(dist: FiniteDistribution, *, eps: Any, p: Any,
                   domain: str = "continuous", rtol: float = DEFAULT_RTOL,
                   chunk_bytes: int = _CHUNK_BYTES) -> ConflictGraph:
    """Conflict graph of ``dist`` for closed ``l_p`` balls of radius ``eps``.

    Parameters
    ----------
    dist : FiniteDistribution
    eps : float
        Perturbation budget, ``eps >= 0`` (for ``p = 0`` only ``floor(eps)`` matters).
    p : {0, 1, 2, inf} or str
        The norm (``"l0"``, ``"l1"``, ``"l2"``, ``"linf"`` accepted).
    domain : {"continuous", "support"}
        Where the classifier and the perturbations live (see module docstring).
    rtol : float
        Relative tie tolerance (module docstring, "Tolerance policy").
    chunk_bytes : int
        Memory for one block of distances (default 64 MiB).

    Returns
    -------
    ConflictGraph

    Notes
    -----
    Continuous: ``i ~ j`` iff ``y_i != y_j`` and ``||x_i - x_j||_p <= 2 eps``
    (``<= 2 floor(eps)`` for ``p = 0``): two closed balls of a norm meet iff
    the midpoint lies in both, and two Hamming balls of radius ``r`` in R^d
    meet iff the centres differ in at most ``2r`` coordinates.  Support:
    ``i ~ j`` iff ``y_i != y_j`` and some support point ``z`` has
    ``||z - x_i||_p <= eps`` and ``||z - x_j||_p <= eps``.  In both domains two
    different labels on the same point always conflict, also at ``eps = 0``.

    References
    ----------
    Source paper, Appendix A, proof of Lemma 1 (eqs. (18)-(21)), which uses the
    support-domain form of this graph.

    Examples
    --------
    >>> d = FiniteDistribution([[0.0], [1.0], [3.0]], [0, 1, 0])
    >>> conflict_graph(d, eps=0.5, p=2).edges.tolist()
    [[0, 1]]
    """
    if not isinstance(dist, FiniteDistribution):
        raise TypeError(f"dist must be a FiniteDistribution, got {type(dist).__name__}")
    eps = check_eps(eps)
    p = parse_p(p)
    domain = check_domain(domain)
    rtol = check_rtol(rtol)
    chunk_bytes = int(chunk_bytes)
    if chunk_bytes < 1:
        raise ValueError(f"chunk_bytes must be a positive integer, got {chunk_bytes}")
    if domain == "continuous":
        edges = _continuous_edges(dist, eps, p, rtol, chunk_bytes)
    else:
        edges = _support_edges(dist, eps, p, rtol, chunk_bytes)
    return ConflictGraph(
        n=dist.n, edges=edges, labels=dist.labels, weights=dist.weights,
        eps=eps, p=p, domain=domain, rtol=rtol,
    )
