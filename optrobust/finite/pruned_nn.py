"""Held-out estimate of a data set's robust-error limit: adversarial pruning + certified 1-NN.

The optimal robust error of a *test sample* (:func:`optrobust.optimal_robust_error`) is an
optimistic estimate of the population limit: the population's best classifier is one
candidate on the sample, so on average the sample optimum lies below the population optimum.
This module gives the other side of the bracket: the robust error, on the test sample, of a
concrete classifier fitted on a *training* sample alone.  Its expectation over test samples
is the classifier's population robust error, hence at least the population optimum.

The classifier (:class:`PrunedNearestNeighbor`) is *adversarial pruning* followed by
1-nearest-neighbour in the threat norm (Yang, Rashtchian, Wang & Chaudhuri, "Robustness for
non-parametric classification: a generic attack and defense", AISTATS 2020): the training
sample is pruned to a maximum-weight independent set of its conflict graph at ``eps`` (no two
kept points of different labels are within ``2 eps``), and the label of the nearest kept point
is returned.  A test point counts as robust only when a sound check proves that *every*
point of its closed ``eps``-ball is classified with its label (:meth:`certify`); ties count
against robustness.  The checks, their float64 margins and the soundness proofs are in
``docs/theory.md`` ("Held-out estimate: adversarial pruning + certified 1-NN").
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial.distance import cdist

from optrobust.errors import InvalidInputError
from optrobust.finite.conflict import (
    ConflictGraph,
    box_within_conflict,
    conflict_graph,
    restrict_conflict_graph,
)
from optrobust.finite.distribution import FiniteDistribution, check_labels, check_points
from optrobust.norms import parse_p
from optrobust.validation import check_eps, check_time_limit

__all__ = ["HeldOutEstimate", "PrunedNearestNeighbor", "held_out_curve", "held_out_estimate"]

#: Relative safety margin of every float64 comparison of the certificate (docs/theory.md).
CERT_RTOL = 1e-9
_CHUNK_BYTES = 64 * 2**20
_SCREEN_COLS = 48
#: Same-label points tried as the anchor ``a`` of the certificate (the l2-nearest ones).
_N_CANDIDATES = 8
#: Other-label points tested first (the l2-nearest), before any prefilter.
_FIRST = 32
_METRIC = {1: "cityblock", 2: "euclidean", math.inf: "chebyshev"}
_U = np.finfo(np.float64).eps / 2


@dataclass(frozen=True, kw_only=True)
class HeldOutEstimate:
    """Certified robust error, on a test sample, of the pruned 1-NN fitted on a training sample.

    Attributes
    ----------
    error : float
        ``1 - n_certified / n_test``: the fraction of test points *not* certified robust.  An
        upper bound of the classifier's robust error on the test sample (uncertified points
        may still be robust), hence of its expectation, the classifier's population robust
        error, which is at least the population optimum.
    ci_low, ci_high : float
        Two-sided 95% Clopper-Pearson interval for the population mean of the uncertified
        indicator (``scipy.stats.binomtest``).
    n_test, n_certified, n_train, n_kept : int
        Test points, certified test points, training points and kept (pruned) training points.
    pruning_status : {"exact", "bounded"}
        Whether the kept set is a *maximum*-weight independent set ("exact") or the best one
        found within ``time_limit`` ("bounded"); the certificate is sound either way.
    seconds : float
        Wall time of the whole estimate (pruning and certification).
    """

    error: float
    ci_low: float
    ci_high: float
    n_test: int
    n_certified: int
    n_train: int
    n_kept: int
    pruning_status: str
    seconds: float


def _check_points(points: Any, *, name: str) -> np.ndarray:
    arr = check_points(points, name=name)
    if arr.shape[0] == 0:
        raise InvalidInputError(f"{name} must hold at least one point of dimension >= 1, "
                                f"got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def _check_box(box: Any) -> tuple[float, float] | None:
    if box is None:
        return None
    try:
        lo, hi = (float(v) for v in box)
    except (TypeError, ValueError):
        raise InvalidInputError(f"box must be None or a pair (lower, upper), got {box!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise InvalidInputError(f"box must be finite with lower < upper, got {box!r}")
    return lo, hi


def _prune(points: np.ndarray, labels: np.ndarray, eps: float, p: float,
           time_limit: float | None, graph: ConflictGraph | None = None
           ) -> tuple[np.ndarray, str, str]:
    """A (maximum-weight, when exact) independent set of the training conflict graph."""
    if box_within_conflict(points, eps=eps, p=p):
        # Every two points of different labels conflict: an independent set holds one
        # label, and all points of one label are independent; the largest class wins.
        classes, counts = np.unique(labels, return_counts=True)
        return labels == classes[int(np.argmax(counts))], "exact", "label-complete"
    dist = FiniteDistribution(points, labels)
    if graph is None:
        graph = conflict_graph(dist, eps=eps, p=p, domain="continuous")
    from optrobust.finite.solvers import solve_independent_set

    if graph.n_edges == 0:
        keep, status, solver = np.ones(dist.n, dtype=bool), "exact", "none"
    else:
        res = solve_independent_set(graph, time_limit=time_limit,
                                    integer_weights=dist.integer_weights())
        keep, status, solver = np.asarray(res.robust, dtype=bool), str(res.status), res.solver
    if not graph.is_independent(keep):  # pragma: no cover - the solver checks its sets
        from optrobust.errors import SolverError

        raise SolverError("the pruning solver returned a set that is not independent")
    return keep, status, solver


class PrunedNearestNeighbor:
    """Adversarial pruning at ``eps``, then 1-nearest-neighbour in the ``l_p`` norm.

    ``h(z) = label of argmin_{k kept} ||z - x_k||_p`` where the kept training pairs are a
    maximum-weight independent set of the conflict graph of the training sample at ``eps``
    (``domain="continuous"``; Yang et al., AISTATS 2020, Sec. 4).  Kept pairs of different
    labels are more than ``2 eps`` apart, so every kept training point is classified
    correctly on its whole closed ``eps``-ball (robust error 0 on the kept set).

    Parameters
    ----------
    eps : float
        The pruning radius (``eps >= 0``; for ``p = 0`` only ``floor(eps)`` matters).
    p : {0, 1, 2, inf} or str
        The threat norm (``"l2"``, ``"linf"``, ... accepted).
    time_limit : float, optional
        Seconds for the independent-set solver; past it the best set found is kept
        (``pruning_status == "bounded"``).

    Attributes (after :meth:`fit`)
    ------------------------------
    points, labels : numpy.ndarray
        The kept training points and their labels.
    kept : numpy.ndarray of bool
        Which training pairs were kept.
    pruning_status : {"exact", "bounded"}
    solver : str

    Examples
    --------
    >>> h = PrunedNearestNeighbor(eps=0.4, p=2).fit([[0.0], [0.5], [0.6], [2.0], [5.0]],
    ...                                            [0, 1, 1, 1, 0])
    >>> h.kept.tolist(), h.predict([[0.2], [4.0]]).tolist()
    ([False, True, True, True, True], [1, 0])
    >>> h.certify([[6.0], [3.4]], [0, 0], eps=0.4).tolist()
    [True, False]
    """

    def __init__(self, *, eps: Any, p: Any, time_limit: Any = None) -> None:
        self.eps = check_eps(eps)
        self.p = parse_p(p)
        self.time_limit = check_time_limit(time_limit)
        self._fitted = False

    def fit(self, points: Any, labels: Any) -> PrunedNearestNeighbor:
        """Prune ``(points, labels)`` to an independent set of its conflict graph at ``eps``."""
        x = _check_points(points, name="train_points")
        y = check_labels(labels, x.shape[0], name="train_labels")
        keep, status, solver = _prune(x, y, self.eps, self.p, self.time_limit)
        return self._keep(x, y, keep, status, solver)

    def _keep(self, x: np.ndarray, y: np.ndarray, keep: np.ndarray, status: str,
              solver: str) -> PrunedNearestNeighbor:
        self.kept = keep
        self.points = x[keep]
        self.labels = y[keep]
        self.pruning_status = status
        self.solver = solver
        self.n_train = int(x.shape[0])
        self._fitted = True
        self._sqnorm = np.einsum("ij,ij->i", self.points, self.points)
        var = np.var(self.points, axis=0)
        d = self.points.shape[1]
        self._screen = (np.sort(np.argsort(-var, kind="stable")[:_SCREEN_COLS])
                        if d > 2 * _SCREEN_COLS else np.arange(d))
        self._by_label = {int(c): np.flatnonzero(self.labels == c)
                          for c in np.unique(self.labels)}
        return self

    def _require_fit(self, x: Any, name: str) -> np.ndarray:
        if not self._fitted:
            raise InvalidInputError("the classifier is not fitted: call fit(points, labels)")
        arr = _check_points(x, name=name)
        if arr.shape[1] != self.points.shape[1]:
            raise InvalidInputError(f"{name} must have dimension {self.points.shape[1]} (the "
                                    f"training points'), got {arr.shape[1]}")
        return arr

    def _distances(self, x: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """``l_p`` distances from the rows of ``x`` to kept points ``idx`` (all by default)."""
        c = self.points if idx is None else self.points[idx]
        if self.p == 0:
            return np.rint(cdist(x, c, metric="hamming") * x.shape[1])
        return cdist(x, c, metric=_METRIC[self.p])

    def predict(self, X: Any, *, chunk_bytes: int = _CHUNK_BYTES) -> np.ndarray:
        """Label of the nearest kept point in ``l_p`` (ties: the lowest kept index).

        Floating-point ties are broken by the computed distances; :meth:`certify` never
        relies on this rule (a certified point has no tie in its whole ball).
        """
        x = self._require_fit(X, "X")
        if self.points.shape[0] == 0:
            raise InvalidInputError("the pruned training set is empty (all weights zero)")
        out = np.empty(x.shape[0], dtype=np.int64)
        step = max(1, int(chunk_bytes // (8 * self.points.shape[0])))
        for s in range(0, x.shape[0], step):
            out[s:s + step] = self.labels[np.argmin(self._distances(x[s:s + step]), axis=1)]
        return out

    def certify(self, X: Any, y: Any, *, eps: Any, box: Any = None,
                chunk_bytes: int = _CHUNK_BYTES,
                progress: Callable[[int], Any] | None = None) -> np.ndarray:
        """Which ``(X[i], y[i])`` are proven robustly correct: ``h(x') = y[i]`` on the whole ball.

        Parameters
        ----------
        X : array_like, shape (m, d)
        y : array_like of int, shape (m,)
        eps : float
            The attack radius (closed ball ``{x' : ||x' - x||_p <= eps}``).
        box : (lower, upper), optional
            Restrict the attack to ``x'`` in ``[lower, upper]^d`` (images: ``(0, 1)``).  Used
            exactly for ``p = inf``; for the other norms the unrestricted ball is checked,
            which is sound for the restricted one (a larger set of attacks).  A point whose
            ball misses the box is never certified.
        chunk_bytes : int
            Memory for one block of test-to-train distances.
        progress : callable, optional
            Called with the number of test points finished after each block
            (e.g. ``tqdm(...).update``).

        Returns
        -------
        numpy.ndarray of bool, shape (m,)

        Notes
        -----
        With ``a`` a kept point of label ``y`` (the nearest one), ``x`` is certified iff for
        every kept ``b`` of another label ``max_{x' in B} ||x' - a|| - ||x' - b|| < 0`` is
        proven: then on the whole ball ``a`` is strictly nearer than every other-label point.
        Per pair: ``l2`` the bisecting hyperplane of ``a, b`` lies farther than ``eps`` from
        ``x`` (``(||x-b||^2 - ||x-a||^2) / (2 ||a-b||) > eps``); ``l_inf`` the exact test of
        docs/theory.md (``O(d)`` per pair, with the box); ``l1`` and ``l0`` the triangle bound
        ``||x-b|| - ||x-a|| > 2 eps`` (``2 floor(eps)`` for ``l0``).  Every comparison keeps a
        relative margin ``CERT_RTOL`` (docs/theory.md proves it covers float64 rounding).
        """
        x = self._require_fit(X, "X")
        lab = check_labels(y, x.shape[0], name="y")
        eps = check_eps(eps)
        box = _check_box(box)
        chunk_bytes = int(chunk_bytes)
        if chunk_bytes < 1:
            raise InvalidInputError(f"chunk_bytes must be a positive integer, got {chunk_bytes}")
        out = np.zeros(x.shape[0], dtype=bool)
        k = self.points.shape[0]
        if k == 0:
            return out
        step = max(1, int(chunk_bytes // (8 * k)))
        for s in range(0, x.shape[0], step):
            blk = x[s:s + step]
            sq = self._sqdist_gram(blk)
            for r in range(blk.shape[0]):
                out[s + r] = self._certify_one(blk[r], int(lab[s + r]), sq[r], eps, box)
            if progress is not None:
                progress(blk.shape[0])
        return out

    # ------------------------------------------------------------------ internals
    def _sqdist_gram(self, blk: np.ndarray) -> np.ndarray:
        """Squared l2 distances by the Gram formula (ordering and l2 lower bounds only)."""
        bn = np.einsum("ij,ij->i", blk, blk)
        return bn[:, None] + self._sqnorm[None, :] - 2.0 * (blk @ self.points.T)

    def _l2_lower(self, x: np.ndarray, sq: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Certified lower bounds of ``||x - b||_2`` from the Gram values ``sq``.

        The Gram formula's rounding error is below ``(d + 4) u (|x|^2 + |b|^2)``; the band
        subtracted is four times that.
        """
        band = 4.0 * (x.size + 4) * _U * (float(x @ x) + self._sqnorm[idx])
        return np.sqrt(np.maximum(sq[idx] - band, 0.0))

    def _other(self, label: int) -> np.ndarray:
        cache = self.__dict__.setdefault("_other_cache", {})
        if label not in cache:
            cache[label] = np.flatnonzero(self.labels != label)
        return cache[label]

    def _certify_one(self, x: np.ndarray, label: int, sq: np.ndarray, eps: float,
                     box: tuple[float, float] | None) -> bool:
        same = self._by_label.get(label)
        if same is None:
            return False
        if len(self._by_label) == 1:
            return True  # a constant classifier: every input gets this label
        other = self._other(label)
        # Candidates for a: the l2-nearest same-label points (any a gives a sound test).
        cand = same[np.argsort(sq[same], kind="stable")[:_N_CANDIDATES]]
        if self.p == 2:
            da = np.sqrt(np.sum((x[None, :] - self.points[cand]) ** 2, axis=1))
            return any(self._certify_l2(x, int(a), float(d_a), other, sq, eps)
                       for a, d_a in zip(cand, da, strict=True))
        if self.p == math.inf:
            lo, hi = x - eps, x + eps
            if box is not None:
                lo, hi = np.maximum(lo, box[0]), np.minimum(hi, box[1])
                if np.any(lo > hi):  # x lies farther than eps outside the box: not claimed
                    return False
            pc = self.points[cand]
            reach = np.max(np.maximum(np.abs(lo - pc), np.abs(hi - pc)), axis=1)
            order = np.argsort(reach, kind="stable")
            split = self._split(other, sq)
            return any(self._certify_linf(x, int(cand[i]), float(reach[i]), other, sq, lo, hi,
                                          eps, split) for i in order)
        dist = self._distances(x[None, :], cand)[0]
        i = int(np.argmin(dist))
        return self._certify_triangle(x, float(dist[i]), other, sq, eps)

    @staticmethod
    def _split(idx: np.ndarray, sq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``idx`` as (its ``_FIRST`` l2-nearest members, the others)."""
        k = min(_FIRST, idx.size)
        if k == 0 or k == idx.size:
            return idx, idx[:0]
        part = np.argpartition(sq[idx], k - 1)
        return idx[part[:k]], idx[part[k:]]

    def _screened(self, rest: np.ndarray, sq: np.ndarray, exact: Callable[[np.ndarray], bool],
                  prefilter: Callable[[np.ndarray], np.ndarray] | None = None,
                  split: tuple[np.ndarray, np.ndarray] | None = None) -> bool:
        """``exact`` on all of ``rest``: the l2-nearest first, then ``prefilter``'s survivors.

        ``exact(idx)`` says whether every pair in ``idx`` passes; ``prefilter(idx)`` returns
        the members of ``idx`` that a cheaper sound test could not clear; ``split`` is
        ``_split(rest, sq)`` when already known.
        """
        if rest.size == 0:
            return True
        first, rest = self._split(rest, sq) if split is None else split
        if not exact(first):
            return False
        if prefilter is not None and rest.size:
            rest = prefilter(rest)
        rest = rest[np.argsort(sq[rest], kind="stable")]
        return all(exact(chunk) for chunk in _growing(rest))

    def _certify_l2(self, x: np.ndarray, a: int, da: float, other: np.ndarray, sq: np.ndarray,
                    eps: float) -> bool:
        pa = self.points[a]
        # Prefilter (sound): ||x-b|| - ||x-a|| > 2 eps implies the hyperplane test.
        low = self._l2_lower(x, sq, other)
        rest = other[~(low > (da + 2.0 * eps) * (1.0 + CERT_RTOL))]
        tol = max(CERT_RTOL, 16.0 * (x.size + 6) * _U)
        ax, apa = 2.0 * np.abs(x), np.abs(pa)

        def exact(idx: np.ndarray) -> bool:
            pb = self.points[idx]
            diff = pa[None, :] - pb
            num = np.einsum("ij,ij->i", diff, 2.0 * x[None, :] - pa[None, :] - pb)
            nrm = np.sqrt(np.einsum("ij,ij->i", diff, diff))
            mag = np.einsum("ij,ij->i", np.abs(diff), ax[None, :] + apa[None, :] + np.abs(pb))
            return bool(np.all(num - 2.0 * eps * nrm > tol * (mag + 2.0 * eps * nrm)))

        return self._screened(rest, sq, exact)

    def _certify_linf(self, x: np.ndarray, a: int, reach: float, other: np.ndarray,
                      sq: np.ndarray, lo: np.ndarray, hi: np.ndarray, eps: float,
                      split: tuple[np.ndarray, np.ndarray]) -> bool:
        pa = self.points[a]
        scale = max(float(np.max(np.abs(x))) + eps, self._absmax)
        tol = CERT_RTOL * scale
        scr = self._screen

        def exact(idx: np.ndarray) -> bool:
            pb = self.points[idx]
            t = np.max(np.maximum(np.maximum(lo[None, :] - pb, pb - hi[None, :]), 0.0), axis=1)
            i_lo = np.maximum(lo[None, :], pb - t[:, None])
            i_hi = np.minimum(hi[None, :], pb + t[:, None])
            m = np.max(np.maximum(np.abs(i_lo - pa[None, :]), np.abs(i_hi - pa[None, :])),
                       axis=1)
            return bool(np.all(m + tol < t))

        def prefilter(idx: np.ndarray) -> np.ndarray:
            # min over the ball of ||x'-b|| >= its value on the screen coordinates; above
            # reach = max over the ball of ||x'-a||, the pair is safe.
            pb = self.points[np.ix_(idx, scr)]
            t_low = np.max(np.maximum(np.maximum(lo[scr] - pb, pb - hi[scr]), 0.0), axis=1)
            return idx[~(t_low > reach + tol)]

        return self._screened(other, sq, exact, prefilter, split)

    @property
    def _absmax(self) -> float:
        if "_absmax_cache" not in self.__dict__:
            self._absmax_cache = float(np.max(np.abs(self.points))) if self.points.size else 0.0
        return self._absmax_cache

    def _certify_triangle(self, x: np.ndarray, da: float, other: np.ndarray, sq: np.ndarray,
                          eps: float) -> bool:
        if self.p == 0:
            r = math.floor(eps)
            db = self._distances(x[None, :], other)[0]
            return bool(np.all(db - da > 2 * r))
        # l1 >= l2: the Gram lower bound of the l2 distance is a lower bound of the l1 one.
        thr = (da + 2.0 * eps) * (1.0 + CERT_RTOL)
        rest = other[~(self._l2_lower(x, sq, other) > thr)]
        tol = max(CERT_RTOL, 4.0 * (x.size + 2) * _U)

        def exact(idx: np.ndarray) -> bool:
            return bool(np.all(self._distances(x[None, :], idx)[0] > (da + 2.0 * eps) * (1 + tol)))

        return self._screened(rest, sq, exact)


def _growing(idx: np.ndarray, first: int = 128):
    """Consecutive slices of ``idx`` of sizes 128, 512, 2048, ... (early exit on a failure)."""
    s, size = 0, first
    while s < idx.size:
        yield idx[s:s + size]
        s += size
        size *= 4


def held_out_estimate(train_points: Any, train_labels: Any, test_points: Any, test_labels: Any,
                      *, eps: Any, p: Any, time_limit: Any = None, box: Any = None,
                      progress: Callable[[int], Any] | None = None) -> HeldOutEstimate:
    """Certified robust error on the test sample of the pruned 1-NN fitted on the training sample.

    Parameters
    ----------
    train_points, train_labels : array_like, shapes (n, d) and (n,)
    test_points, test_labels : array_like, shapes (m, d) and (m,)
    eps : float
        Pruning and attack radius.
    p : {0, 1, 2, inf} or str
    time_limit : float, optional
        Seconds for the pruning solver (the best independent set found is kept past it).
    box : (lower, upper), optional
        Attacks stay in ``[lower, upper]^d`` (see :meth:`PrunedNearestNeighbor.certify`).
    progress : callable, optional
        Called with the number of test points certified so far after each block.

    Returns
    -------
    HeldOutEstimate

    Notes
    -----
    ``error = #{i : not certified(x_i, y_i)} / m``, with the Clopper-Pearson interval of a
    binomial proportion.  Since every certified point is robustly correct, ``error`` is at
    least the robust error of the classifier ``h`` on the test sample, and its expectation
    is at least ``R_eps(h) >= min_h R_eps(h)``, the population optimum (docs/theory.md).

    Examples
    --------
    >>> est = held_out_estimate([[0.0], [1.0]], [0, 1], [[-1.0], [0.45], [2.0]], [0, 0, 1],
    ...                         eps=0.25, p=2)
    >>> est.n_certified, round(est.error, 4)
    (2, 0.3333)
    """
    start = time.perf_counter()
    clf = PrunedNearestNeighbor(eps=eps, p=p, time_limit=time_limit)
    xt = _check_points(test_points, name="test_points")
    yt = check_labels(test_labels, xt.shape[0], name="test_labels")
    box = _check_box(box)  # before the (long) pruning
    clf.fit(train_points, train_labels)
    return _estimate(clf, xt, yt, box, progress, start)


def _estimate(clf: PrunedNearestNeighbor, xt: np.ndarray, yt: np.ndarray, box: Any,
              progress: Callable[[int], Any] | None, start: float) -> HeldOutEstimate:
    from scipy.stats import binomtest

    if xt.shape[1] != clf.points.shape[1]:
        raise InvalidInputError(f"test_points must have the training points' dimension "
                                f"{clf.points.shape[1]}, got {xt.shape[1]}")
    ok = clf.certify(xt, yt, eps=clf.eps, box=box, progress=progress)
    m = int(xt.shape[0])
    bad = m - int(ok.sum())
    ci = binomtest(bad, m).proportion_ci(confidence_level=0.95, method="exact")
    return HeldOutEstimate(
        error=bad / m, ci_low=float(ci.low), ci_high=float(ci.high), n_test=m,
        n_certified=m - bad, n_train=clf.n_train, n_kept=int(clf.kept.sum()),
        pruning_status=clf.pruning_status, seconds=time.perf_counter() - start,
    )


def held_out_curve(train_points: Any, train_labels: Any, test_points: Any, test_labels: Any,
                   *, eps: Any, p: Any, time_limit: Any = None, box: Any = None,
                   progress: Callable[[int], Any] | None = None,
                   phase: Callable[[str], Any] | None = None,
                   on_result: Callable[[float, HeldOutEstimate], Any] | None = None
                   ) -> tuple[HeldOutEstimate, ...]:
    """:func:`held_out_estimate` over an eps grid, building the training conflict graph once.

    The graph is built at the largest ``eps`` whose graph is not label-complete; at a
    smaller ``eps`` the pruning graph is its restriction to the pairs with
    ``||x_i - x_j||_p <= 2 eps (1 + 1e-12)`` (recomputed from coordinate differences), which
    contains the exact graph at ``eps``: the kept set is independent there, so the kept points
    stay robust.  The certificates do not depend on the pruning at all (docs/theory.md).

    Parameters
    ----------
    eps : sequence of float
        The grid (sorted, duplicates merged); other parameters as in
        :func:`held_out_estimate`.
    phase : callable, optional
        Called with a short message when a phase starts (``"graph"``, ``"eps=2 prune"``,
        ``"eps=2 certify"``).
    on_result : callable, optional
        Called with ``(eps, estimate)`` as soon as each estimate is finished (e.g. to save
        partial results of a long run).

    Returns
    -------
    tuple of HeldOutEstimate
        One per grid ``eps``, in increasing ``eps``; ``seconds`` of each row counts its own
        pruning and certification (the shared graph is charged to the largest eps).
    """
    grid = sorted({check_eps(e) for e in (eps if np.ndim(eps) else [eps])})
    if not grid:
        raise InvalidInputError("eps must hold at least one budget")
    p = parse_p(p)
    time_limit = check_time_limit(time_limit)
    x = _check_points(train_points, name="train_points")
    y = check_labels(train_labels, x.shape[0], name="train_labels")
    xt = _check_points(test_points, name="test_points")
    yt = check_labels(test_labels, xt.shape[0], name="test_labels")
    if xt.shape[1] != x.shape[1]:
        raise InvalidInputError(f"test_points must have the training points' dimension "
                                f"{x.shape[1]}, got {xt.shape[1]}")
    box = _check_box(box)
    say = phase if callable(phase) else (lambda _m: None)
    open_grid = [e for e in grid if not box_within_conflict(x, eps=e, p=p)]
    base = None
    graph_s = 0.0
    if open_grid:
        t0 = time.perf_counter()
        say(f"graph at eps={open_grid[-1]:g}")
        base = conflict_graph(FiniteDistribution(x, y), eps=open_grid[-1], p=p)
        graph_s = time.perf_counter() - t0
    out = []
    for e in grid:
        start = time.perf_counter()
        say(f"eps={e:g} prune")
        graph = None
        if base is not None and e in open_grid:
            graph = base
            if e != open_grid[-1]:
                graph = restrict_conflict_graph(base, x, eps=e)
        keep, status, solver = _prune(x, y, e, p, time_limit, graph)
        clf = PrunedNearestNeighbor(eps=e, p=p, time_limit=time_limit)._keep(
            x, y, keep, status, solver)
        say(f"eps={e:g} certify")
        est = _estimate(clf, xt, yt, box, progress, start)
        if e == (open_grid[-1] if open_grid else None):
            est = dataclasses.replace(est, seconds=est.seconds + graph_s)
        out.append(est)
        if on_result is not None:
            on_result(e, est)
    return tuple(out)
