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

Tie policy (one for the whole library)
--------------------------------------
Balls are closed, so a distance *equal* to the threshold is a conflict.  By
default (``rtol=0``) every comparison ``||x_i - x_j||_p <= T`` is decided
**exactly** for the float64 numbers as given, as real numbers (``T = 2 eps``
or ``eps``, also exact, so ``2 eps`` never overflows): a fast pass on data
scaled by a power of two (BLAS Gram formula for ``l2``, ``cdist`` for ``l1``
and ``l_inf``) decides every pair whose computed value is farther from ``T``
than its proven rounding-error bound; the few pairs inside the bound are
recomputed from coordinate differences (``l2``) and, if still undecided, in
exact integer arithmetic.  The answer is therefore invariant under scaling
points and ``eps`` together by a power of two, and correct from ``1e-300``
to ``1e300``.  ``rtol > 0`` is a tolerance asked for explicitly: the
threshold becomes ``T (1 + rtol)`` (pairs within a relative ``rtol`` of
touching count as touching), which is what data that are *meant* to tie in
real numbers (pixels ``k/255`` with ``eps = k'/255``) may need, since their
float64 distances land an ulp either side of ``2 eps``.  Every result
records ``rtol`` (:attr:`ConflictGraph.tie_policy`).  ``l0`` distances are
exact integer counts.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.spatial.distance import cdist

from optrobust._validation import check_eps, check_int
from optrobust.errors import InvalidInputError, InvalidTypeError
from optrobust.finite.distribution import FiniteDistribution
from optrobust.norms import DOMAINS, check_domain, parse_p

__all__ = [
    "DEFAULT_RTOL",
    "DOMAINS",
    "ConflictGraph",
    "ball_incidence",
    "box_within_conflict",
    "edge_lengths",
    "restrict_conflict_graph",
    "check_domain",
    "check_rtol",
    "difference_norms",
    "conflict_graph",
    "support_points",
    "tie_policy",
]

#: Default tie tolerance: 0, i.e. exact comparisons (module docstring, "Tie policy").
DEFAULT_RTOL = 0.0
_CHUNK_BYTES = 64 * 2**20


def check_rtol(rtol: Any) -> float:
    """Validate the relative tie tolerance ``0 <= rtol < 1e-3`` (0: exact ties)."""
    value = check_eps(rtol, name="rtol")
    if value >= 1e-3:
        raise InvalidInputError(f"rtol must lie in [0, 1e-3), got {rtol!r}")
    return value


def tie_policy(rtol: float) -> str:
    """``'exact'`` for ``rtol = 0``, else ``'rtol=<value>'`` (the tolerance asked for)."""
    return "exact" if rtol == 0.0 else f"rtol={rtol:g}"


@dataclass(frozen=True, kw_only=True)
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
        The threat model and the tie tolerance used (``rtol = 0``: exact ties).
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
    def tie_policy(self) -> str:
        """``'exact'`` or ``'rtol=...'``: how distances equal to the threshold were decided."""
        return tie_policy(self.rtol)

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
_U = 2.0 ** -53  # unit roundoff of float64
_TINY = 2.0 ** -1074  # smallest subnormal
_PAIR_BATCH = 4096


def _rows_per_chunk(m: int, d: int, chunk_bytes: int, arrays: int = 1) -> int:
    return max(1, int(chunk_bytes // (8 * max(1, m) * arrays * (1 if d < 64 else 2))))


_SCREEN_COLS = 48


def _scale_exponent(a: np.ndarray, b: np.ndarray) -> int:
    """``k`` with ``max |a|, |b| < 2^k``: dividing by ``2^k`` is exact outside subnormals."""
    top = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    return 0 if top == 0.0 else math.frexp(top)[1]


def _exact_within(u: np.ndarray, v: np.ndarray, p: float, thr: Fraction) -> bool:
    """``||u - v||_p <= thr`` decided in exact (integer) arithmetic.

    Every float64 is ``M 2^E`` with integer ``M`` (``|M| < 2^53``); all values are
    brought to the smallest exponent present, so the differences, their squares and
    sums are exact Python integers.
    """
    m, e = np.frexp(np.concatenate([u, v]))
    mant = (m * 2.0 ** 53).astype(np.int64).tolist()
    expo = (e.astype(np.int64) - 53).tolist()
    num, den = thr.numerator, thr.denominator  # den is a power of two (thr is dyadic)
    den_exp = den.bit_length() - 1
    nz = [x for mm, x in zip(mant, expo, strict=True) if mm != 0]
    base = min(nz) if nz else 0
    base = min(base, -den_exp)
    vals = [mm << (x - base) if mm else 0 for mm, x in zip(mant, expo, strict=True)]
    d = len(u)
    diffs = [abs(vals[k] - vals[d + k]) for k in range(d)]
    t_int = num << (-den_exp - base)  # thr in units of 2^base (an integer)
    if p == math.inf:
        return max(diffs, default=0) <= t_int
    if p == 1:
        return sum(diffs) <= t_int
    return sum(x * x for x in diffs) <= t_int * t_int


def _box_diameter_within(a: np.ndarray, b: np.ndarray, p: float, thr: Fraction) -> bool:
    """Exactly: is every pair of the bounding box of ``a`` and ``b`` within ``thr``?

    ``||x - z||_p <= ||hi - lo||_p`` for all ``x, z`` in the box ``[lo, hi]``; the
    box's diameter is computed in exact rational arithmetic (``d`` terms).
    """
    lo = np.minimum(np.min(a, axis=0), np.min(b, axis=0)).tolist()
    hi = np.maximum(np.max(a, axis=0), np.max(b, axis=0)).tolist()
    width = [Fraction(h) - Fraction(low) for h, low in zip(hi, lo, strict=True)]
    if p == math.inf:
        return max(width, default=Fraction(0)) <= thr
    if p == 1:
        return sum(width, Fraction(0)) <= thr
    return sum((w * w for w in width), Fraction(0)) <= thr * thr


def edge_lengths(points: np.ndarray, edges: np.ndarray, *, p: float) -> np.ndarray:
    """``||x_i - x_j||_p`` for the rows ``(i, j)`` of ``edges``, from coordinate differences.

    Each difference row is scaled by its largest entry first, so no square overflows or
    underflows (relative error about ``(d + 2) u``); for ``l0`` the number of differing
    coordinates (exact).
    """
    out = np.empty(edges.shape[0])
    for s in range(0, edges.shape[0], _PAIR_BATCH):
        e = edges[s:s + _PAIR_BATCH]
        with np.errstate(over="ignore"):  # a difference past float64 is inf: length inf
            diff = points[e[:, 0]] - points[e[:, 1]]
        out[s:s + e.shape[0]] = difference_norms(diff, p=p)
    return out


def difference_norms(diff: np.ndarray, *, p: float) -> np.ndarray:
    """``||diff_k||_p`` per row, each row scaled by its largest entry first (no overflow or
    underflow of squares); for ``l0`` the number of non-zero entries."""
    if p == 0:
        return np.count_nonzero(diff, axis=1).astype(float)
    m = np.max(np.abs(diff), axis=1)
    safe = np.where((m > 0) & np.isfinite(m), m, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        return m * np.linalg.norm(diff / safe[:, None], ord=p, axis=1)


def restrict_conflict_graph(graph: ConflictGraph, points: np.ndarray, *, eps: Any
                            ) -> ConflictGraph:
    """The continuous-domain conflict graph at a budget ``eps <= graph.eps``, from ``graph``.

    Conflicts are monotone in eps, so the graph at ``eps`` is the subgraph of the edges
    whose pair is within ``2 eps`` (``2 floor(eps)`` changed coordinates for ``l0``), decided
    with ``graph``'s tie policy: edges whose computed length is within its rounding bound of
    the threshold are decided in exact arithmetic, as :func:`conflict_graph` decides them.
    """
    eps = check_eps(eps)
    if graph.domain != "continuous":
        raise InvalidInputError("restrict_conflict_graph needs a continuous-domain graph, got "
                                f"domain={graph.domain!r}")
    if eps > graph.eps:
        raise InvalidInputError(f"eps must be at most the graph's eps {graph.eps!r}, got {eps!r}")
    lengths = edge_lengths(points, graph.edges, p=graph.p)
    if graph.p == 0:
        keep = lengths <= 2 * math.floor(eps)
    else:
        exact_thr = 2 * Fraction(eps) * (1 + Fraction(graph.rtol))
        try:
            t = float(exact_thr)
        except OverflowError:
            t = math.inf
        band = 8.0 * (points.shape[1] + 4) * _U * t + (8.0 * points.shape[1] + 16.0) * _TINY
        keep = np.isfinite(lengths) & (lengths <= t - band)
        unsure = ~keep & ((lengths <= t + band) | ~np.isfinite(lengths))
        for k in np.flatnonzero(unsure).tolist():
            i, j = graph.edges[k]
            keep[k] = _exact_within(points[i], points[j], graph.p, exact_thr)
    return dataclasses.replace(graph, edges=graph.edges[keep], eps=eps)


def box_within_conflict(points: np.ndarray, *, eps: float, p: float) -> bool:
    """Whether every two rows of ``points`` conflict at ``eps`` (continuous domain), decided
    exactly from their bounding box ``[lo, hi]``.

    ``||x - z||_p <= ||hi - lo||_p`` for all ``x, z`` in the box, so a box diameter of at
    most ``2 eps`` makes the conflict graph complete between labels ("label-complete")
    without building its ``n^2 / 2`` edges.  The diameter is compared in exact rational
    arithmetic, so a tie (l_inf eps = 1/2 on [0, 1] pixels) conflicts, as the closed balls
    and the exact tie policy require.  For ``l0`` the Hamming diameter is the number of
    non-constant coordinates, against ``2 floor(eps)``.
    """
    if p == 0:
        varying = np.max(points, axis=0) != np.min(points, axis=0)
        return int(np.count_nonzero(varying)) <= 2 * math.floor(eps)
    return _box_diameter_within(points, points, p, 2 * Fraction(eps))


def _linf_within(blk: np.ndarray, b: np.ndarray, t: float,
                 screen: np.ndarray | None) -> np.ndarray:
    """Computed ``max_k |blk[r, k] - b[c, k]|`` for every (r, c), ``inf`` where surely ``> t``.

    With ``screen`` (a few high-variance coordinates), the max over those
    coordinates is a lower bound of the full max; pairs it already puts above
    ``t`` are decided, and only the survivors get the full computation.
    """
    if screen is None:
        return cdist(blk, b, metric="chebyshev")
    dist = cdist(blk[:, screen], b[:, screen], metric="chebyshev")
    r, c = np.nonzero(dist <= t)
    if r.size > 0.05 * dist.size:
        return cdist(blk, b, metric="chebyshev")
    dist[dist > t] = math.inf
    for s in range(0, r.size, _PAIR_BATCH):
        rr, cc = r[s:s + _PAIR_BATCH], c[s:s + _PAIR_BATCH]
        dist[rr, cc] = np.max(np.abs(blk[rr] - b[cc]), axis=1)
    return dist


class _Comparator:
    """Decides ``||x_r - x_c||_p <= T`` for blocks of rows of one point array.

    Everything that does not depend on the block -- the power-of-two scaling, the
    scaled threshold, squared norms, the screening columns, the exact box test -- is
    computed once.  ``T = factor * thr * (1 + rtol)`` exactly (``factor`` 1 or 2, so
    ``2 eps`` never overflows); for ``p = 0``, ``thr`` is an integer count.
    """

    def __init__(self, x: np.ndarray, p: float, thr: float, factor: int, rtol: float) -> None:
        self.x, self.p, self.d = x, p, x.shape[1]
        self.count = factor * thr
        if p == 0:
            self.all_within = self.count >= self.d
            return
        d = self.d
        self.exact_thr = Fraction(thr) * factor * (1 + Fraction(rtol))  # T, exactly
        k = _scale_exponent(x, x)
        self.xs = np.ldexp(x, -k)
        try:  # T / 2^k in float64, relative error <= 2 u
            self.ts = math.ldexp(thr, (factor - 1) - k) * (1.0 + rtol)
        except OverflowError:
            self.ts = math.inf
        # scaled coordinates lie in (-1, 1), so every distance is below 2 d <= 4 d + 4
        self.all_within = (not self.ts <= 4.0 * d + 4.0
                           or _box_diameter_within(x, x, p, self.exact_thr))
        if self.all_within:
            return
        # absolute slack for underflow (scaling, products) and the rounding of ts itself
        self.slack = (8.0 * d + 16.0) * _TINY
        self.t_float = math.inf
        if p == math.inf:
            try:
                t_float = float(self.exact_thr)
            except OverflowError:
                t_float = math.inf
            if math.isfinite(t_float) and Fraction(t_float) == self.exact_thr:
                self.t_float = t_float  # else: T is not a float64, exact integer fallback
                self.lo, self.hi = np.min(x, axis=0), np.max(x, axis=0)
        self.t2 = self.t2_err = 0.0
        if p == 2:
            self.sq = np.einsum("ij,ij->i", self.xs, self.xs)
            self.t2 = self.ts * self.ts
            self.t2_err = 6.0 * _U * self.t2 + 4.0 * self.ts * _TINY + self.slack
        self.screen = None
        if p == math.inf and d > 2 * _SCREEN_COLS:
            self.screen = np.sort(np.argsort(-np.var(self.xs, axis=0),
                                             kind="stable")[:_SCREEN_COLS])

    def rows_per_block(self, n_cols: int, chunk_bytes: int) -> int:
        return _rows_per_chunk(n_cols, self.d, chunk_bytes, arrays=3 if self.p == 2 else 1)

    def columns(self, rb: Any) -> tuple:
        """The column side of :meth:`block` (original, scaled, squared norms), to reuse."""
        if self.p == 0 or self.all_within:
            return self.x[rb], None, None
        return self.x[rb], self.xs[rb], self.sq[rb] if self.p == 2 else None

    def block(self, ra: Any, cols: tuple) -> np.ndarray:
        """Boolean matrix ``[||x[ra][i] - b[j]||_p <= T]`` for ``cols = columns(rb)``."""
        p = self.p
        b_orig, bs, bn = cols
        if p == 0:
            hd = cdist(self.x[ra], b_orig, metric="hamming") * self.d
            return np.rint(hd) <= self.count
        a_orig = self.x[ra]
        if self.all_within:
            return np.ones((a_orig.shape[0], b_orig.shape[0]), dtype=bool)
        d, ts, slack = self.d, self.ts, self.slack
        blk = self.xs[ra]
        if p == 2:
            an = self.sq[ra]
            dist = an[:, None] + bn[None, :] - 2.0 * (blk @ bs.T)
            # Gram formula, any summation order: |error| <= 2 (d + 4) u (|a|^2 + |b|^2).
            margin = (2.0 * (d + 4) * _U) * (an[:, None] + bn[None, :])
            margin += self.t2_err
            out = dist <= self.t2
            amb = np.abs(dist - self.t2) <= margin
        else:
            if p == 1:
                dist = cdist(blk, bs, metric="cityblock")
                margin = (2.0 * (d + 2) * _U) * dist + (4.0 * _U * ts + slack)
            else:
                dist = _linf_within(blk, bs, ts, self.screen)
                margin = 4.0 * _U * ts + slack  # each |a - b| is correctly rounded
            out = dist <= ts
            amb = np.abs(dist - ts) <= margin
            if math.isfinite(self.t_float) and np.any(amb):
                # rows whose whole reach over the bounding box of all points is within T
                full = (_linf_exact(a_orig, self.lo[None, :], self.t_float)
                        & _linf_exact(a_orig, self.hi[None, :], self.t_float))
                out[full, :] = True
                amb[full, :] = False
        if np.any(amb):
            r, c = np.nonzero(amb)
            out[r, c] = self._resolve(a_orig, b_orig, blk, bs, r, c)
        return out

    def _resolve(self, a: np.ndarray, b: np.ndarray, as_: np.ndarray, bs: np.ndarray,
                 r: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Decide the pairs ``(r, c)`` that the fast pass left within its error margin."""
        p, ts, t2 = self.p, self.ts, self.t2
        res = np.empty(r.size, dtype=bool)
        for s in range(0, r.size, _PAIR_BATCH):
            rr, cc = r[s:s + _PAIR_BATCH], c[s:s + _PAIR_BATCH]
            undecided = np.ones(rr.size, dtype=bool)
            if p == 2:  # second pass: differences (relative error (d + 3) u of the distance)
                diff = as_[rr] - bs[cc]
                sq = np.einsum("ij,ij->i", diff, diff)
                margin = ((2.0 * (self.d + 3) * _U) * sq + 6.0 * _U * t2
                          + 4.0 * ts * _TINY + self.slack)
                res[s:s + rr.size] = sq <= t2
                undecided = np.abs(sq - t2) <= margin
            if p == math.inf and math.isfinite(self.t_float):
                res[s:s + rr.size] = _linf_exact(a[rr], b[cc], self.t_float)
                continue
            for q in np.flatnonzero(undecided).tolist():
                res[s + q] = _exact_within(a[rr[q]], b[cc[q]], p, self.exact_thr)
        return res


def _linf_exact(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Row-wise ``max_k |a_k - b_k| <= t`` exactly, for a float64 ``t``.

    ``a - b = s + e`` exactly (Knuth's TwoSum, error-free without overflow, also
    for subnormals), so ``|a - b| > t`` iff ``|s| > t``, or ``|s| = t`` and ``e``
    has the sign of ``s``; an overflowing ``s`` is a difference beyond any float.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        c = -b
        s = a + c
        a1 = s - c
        c1 = s - a1
        e = (a - a1) + (c - c1)
        over = np.isinf(s)
        big = (np.abs(s) > t) | ((np.abs(s) == t) & (s * e > 0)) | over
    return ~np.any(big, axis=1)


def _threshold(eps: float, p: float, domain: str) -> tuple[float, int]:
    """``(thr, factor)``: pairs conflict at distance ``<= factor * thr``."""
    factor = 2 if domain == "continuous" else 1
    if p == 0:
        return float(math.floor(eps)), factor
    return eps, factor


#: With more labels than this, pairs are enumerated by upper-triangular row blocks
#: (no per-class copies of the points); with fewer, class by class (only pairs of
#: different labels are computed).
_FEW_CLASSES = 16


def _continuous_edges(dist: FiniteDistribution, eps: float, p: float, rtol: float,
                      chunk_bytes: int) -> np.ndarray:
    x, y, n = dist.points, dist.labels, dist.n
    classes = np.unique(y)
    thr, factor = _threshold(eps, p, "continuous")
    comp = _Comparator(x, p, thr, factor, rtol)
    parts = []
    if classes.size <= _FEW_CLASSES:
        groups = [np.flatnonzero(y == c) for c in classes]
        for a in range(len(classes) - 1):
            ia = groups[a]
            rest = np.concatenate(groups[a + 1:])
            step = comp.rows_per_block(rest.size, chunk_bytes)
            cols = comp.columns(rest)
            for s in range(0, ia.size, step):
                rows = ia[s:s + step]
                r, c = np.nonzero(comp.block(rows, cols))
                if r.size:
                    parts.append(_edge_keys(rows[r], rest[c], n))
        return _edges_from_keys(parts, n)
    step = comp.rows_per_block(n, chunk_bytes)
    for s in range(0, n, step):
        e = min(n, s + step)
        blk = comp.block(slice(s, e), comp.columns(slice(s, n)))
        r, c = np.nonzero(blk)
        i, j = r + s, c + s
        keep = (j > i) & (y[i] != y[j])
        if np.any(keep):
            parts.append(_edge_keys(i[keep], j[keep], n))
    return _edges_from_keys(parts, n)


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
    thr, factor = _threshold(eps, p, "support")
    comp = _Comparator(uniq, p, thr, factor, rtol)
    m = uniq.shape[0]
    rows, cols = [], []
    step = comp.rows_per_block(m, chunk_bytes)
    side = comp.columns(slice(0, m))
    for s in range(0, m, step):
        r, c = np.nonzero(comp.block(slice(s, min(m, s + step)), side))
        rows.append(r + s)
        cols.append(c)
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
        Relative tie tolerance, ``0 <= rtol < 1e-3``; default 0: ties decided
        exactly (module docstring, "Tie policy").
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
        raise InvalidTypeError(f"dist must be a FiniteDistribution, got {type(dist).__name__}")
    eps = check_eps(eps)
    p = parse_p(p)
    domain = check_domain(domain)
    rtol = check_rtol(rtol)
    chunk_bytes = check_int(chunk_bytes, name="chunk_bytes", minimum=1)
    if domain == "continuous":
        edges = _continuous_edges(dist, eps, p, rtol, chunk_bytes)
    else:
        edges = _support_edges(dist, eps, p, rtol, chunk_bytes)
    return ConflictGraph(
        n=dist.n, edges=edges, labels=dist.labels, weights=dist.weights,
        eps=eps, p=p, domain=domain, rtol=rtol,
    )
