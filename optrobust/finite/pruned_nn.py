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

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial.distance import cdist

from optrobust.validation import check_eps, check_finite_array
from optrobust.errors import InvalidInputError, InvalidTypeError
from optrobust.finite.conflict import conflict_graph
from optrobust.finite.distribution import FiniteDistribution
from optrobust.norms import parse_p

__all__ = ["HeldOutEstimate", "PrunedNearestNeighbor", "held_out_estimate"]

#: Relative safety margin of every float64 comparison of the certificate (docs/theory.md).
CERT_RTOL = 1e-9
_CHUNK_BYTES = 64 * 2**20
_SCREEN_COLS = 48
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
    arr = check_finite_array(points, name=name)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise InvalidInputError(f"{name} must be an (n, d) array, got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InvalidInputError(f"{name} must hold at least one point of dimension >= 1, "
                                f"got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def _check_labels(labels: Any, n: int, *, name: str) -> np.ndarray:
    lab = np.asarray(labels)
    if lab.ndim != 1:
        raise InvalidInputError(f"{name} must be a 1-d array of integers, got shape {lab.shape}")
    if lab.shape[0] != n:
        raise InvalidInputError(f"{name} must have one entry per point: got {lab.shape[0]} "
                                f"labels for {n} points")
    if lab.dtype.kind == "b":
        raise InvalidTypeError(f"{name} must be integers, got booleans")
    if lab.dtype.kind in "iu":
        return lab.astype(np.int64)
    try:
        labf = lab.astype(np.float64)
    except (TypeError, ValueError):
        raise InvalidTypeError(f"{name} must be integers, got dtype {lab.dtype}") from None
    if not np.all(np.isfinite(labf)) or not np.all(labf == np.round(labf)):
        raise InvalidInputError(f"{name} must be integers (finite, no fractional part)")
    return labf.astype(np.int64)


def _check_time_limit(time_limit: Any) -> float | None:
    if time_limit is None:
        return None
    value = check_eps(time_limit, name="time_limit")
    if value <= 0:
        raise InvalidInputError(f"time_limit must be a number of seconds > 0 or None, "
                                f"got {time_limit!r}")
    return value


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
           time_limit: float | None) -> tuple[np.ndarray, str, str]:
    """A (maximum-weight, when exact) independent set of the training conflict graph."""
    dist = FiniteDistribution(points, labels)
    graph = conflict_graph(dist, eps=eps, p=p, domain="continuous")
    try:
        from optrobust.finite.solvers import solve_independent_set
    except ImportError:  # the time-limited solver is not available: solve exactly
        solve_independent_set = None
    if graph.n_edges == 0:
        keep, status, solver = np.ones(dist.n, dtype=bool), "exact", "none"
    elif solve_independent_set is not None:
        res = solve_independent_set(graph, time_limit=time_limit,
                                    integer_weights=dist.integer_weights())
        keep, status, solver = np.asarray(res.robust, dtype=bool), str(res.status), res.solver
    else:
        from optrobust.finite.solvers import max_weight_independent_set

        keep, solver = max_weight_independent_set(graph, integer_weights=dist.integer_weights())
        status = "exact"
    if not graph.is_independent(keep):  # pragma: no cover - the solvers check their sets
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
        self.time_limit = _check_time_limit(time_limit)
        self._fitted = False

    def fit(self, points: Any, labels: Any) -> PrunedNearestNeighbor:
        """Prune ``(points, labels)`` to an independent set of its conflict graph at ``eps``."""
        x = _check_points(points, name="train_points")
        y = _check_labels(labels, x.shape[0], name="train_labels")
        keep, status, solver = _prune(x, y, self.eps, self.p, self.time_limit)
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
            which is sound for the restricted one (a larger set of attacks).
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
        lab = _check_labels(y, x.shape[0], name="y")
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
        sq = bn[:, None] + self._sqnorm[None, :] - 2.0 * (blk @ self.points.T)
        return sq

    def _gram_band(self, xn: float) -> np.ndarray:
        d = self.points.shape[1]
        return 4.0 * (d + 4) * _U * (xn + self._sqnorm) + 1e-300

    def _certify_one(self, x: np.ndarray, label: int, sq: np.ndarray, eps: float,
                     box: tuple[float, float] | None) -> bool:
        same = self._by_label.get(label)
        if same is None:
            return False
        if len(self._by_label) == 1:
            return True  # a constant classifier: every input gets this label
        other = np.flatnonzero(self.labels != label)
        p = self.p
        if p == 2:
            a = int(same[np.argmin(sq[same])])
            return self._certify_l2(x, a, other, sq, eps)
        # Candidates for a: the l2-nearest same-label points; keep the best for the test.
        cand = same[np.argsort(sq[same], kind="stable")[:16]]
        if p == math.inf:
            lo, hi = x - eps, x + eps
            if box is not None:
                lo, hi = np.maximum(lo, box[0]), np.minimum(hi, box[1])
                if np.any(lo > hi):  # x outside the box by more than eps: the ball is empty
                    return True
            reach = np.max(np.maximum(np.abs(lo - self.points[cand]),
                                      np.abs(hi - self.points[cand])), axis=1)
            a = int(cand[np.argmin(reach)])
            return self._certify_linf(x, a, other, sq, lo, hi, float(reach.min()), eps)
        dist = self._distances(x[None, :], cand)[0]
        a = int(cand[np.argmin(dist)])
        return self._certify_triangle(x, a, float(dist.min()), other, sq, eps)

    def _certify_l2(self, x: np.ndarray, a: int, other: np.ndarray, sq: np.ndarray,
                    eps: float) -> bool:
        pa = self.points[a]
        da = float(np.sqrt(np.sum((x - pa) ** 2)))
        # Prefilter (sound): ||x-b|| - ||x-a|| > 2 eps implies the hyperplane test.
        xn = float(x @ x)
        low = np.sqrt(np.maximum(sq[other] - self._gram_band(xn)[other], 0.0))
        rest = other[~(low > (da + 2.0 * eps) * (1.0 + CERT_RTOL))]
        if rest.size == 0:
            return True
        rest = rest[np.argsort(sq[rest], kind="stable")]
        d = x.size
        tol = max(CERT_RTOL, 16.0 * (d + 6) * _U)
        for chunk in _growing(rest):
            pb = self.points[chunk]
            diff = pa[None, :] - pb
            mid = 2.0 * x[None, :] - pa[None, :] - pb
            num = np.einsum("ij,ij->i", diff, mid)
            nrm = np.sqrt(np.einsum("ij,ij->i", diff, diff))
            mag = np.einsum("ij,ij->i", np.abs(diff),
                            2.0 * np.abs(x)[None, :] + np.abs(pa)[None, :] + np.abs(pb))
            ok = num - 2.0 * eps * nrm > tol * (mag + 2.0 * eps * nrm)
            if not np.all(ok):
                return False
        return True

    def _certify_linf(self, x: np.ndarray, a: int, other: np.ndarray, sq: np.ndarray,
                      lo: np.ndarray, hi: np.ndarray, reach: float, eps: float) -> bool:
        pa = self.points[a]
        scr = self._screen
        # Prefilter (sound): min over the ball of ||x'-b|| >= its value on the screen
        # coordinates; above reach = max over the ball of ||x'-a||, the pair is safe.
        pb_s = self.points[np.ix_(other, scr)]
        t_low = np.max(np.maximum(np.maximum(lo[scr] - pb_s, pb_s - hi[scr]), 0.0), axis=1)
        scale = max(float(np.max(np.abs(x))) + eps, float(np.max(np.abs(pa))),
                    float(self._absmax))
        tol = CERT_RTOL * scale
        rest = other[~(t_low > reach + tol)]
        if rest.size == 0:
            return True
        rest = rest[np.argsort(sq[rest], kind="stable")]
        for chunk in _growing(rest):
            pb = self.points[chunk]
            t = np.max(np.maximum(np.maximum(lo[None, :] - pb, pb - hi[None, :]), 0.0), axis=1)
            i_lo = np.maximum(lo[None, :], pb - t[:, None])
            i_hi = np.minimum(hi[None, :], pb + t[:, None])
            m = np.max(np.maximum(np.abs(i_lo - pa[None, :]), np.abs(i_hi - pa[None, :])),
                       axis=1)
            if not np.all(m + tol < t):
                return False
        return True

    @property
    def _absmax(self) -> float:
        if not hasattr(self, "_absmax_cache"):
            self._absmax_cache = float(np.max(np.abs(self.points))) if self.points.size else 0.0
        return self._absmax_cache

    def _certify_triangle(self, x: np.ndarray, a: int, da: float, other: np.ndarray,
                          sq: np.ndarray, eps: float) -> bool:
        if self.p == 0:
            r = math.floor(eps)
            db = self._distances(x[None, :], other)[0]
            return bool(np.all(db - da > 2 * r))
        # l1 >= l2: the Gram lower bound of the l2 distance is a lower bound of the l1 one.
        xn = float(x @ x)
        low = np.sqrt(np.maximum(sq[other] - self._gram_band(xn)[other], 0.0))
        thr = (da + 2.0 * eps) * (1.0 + CERT_RTOL)
        rest = other[~(low > thr)]
        if rest.size == 0:
            return True
        rest = rest[np.argsort(sq[rest], kind="stable")]
        tol = max(CERT_RTOL, 4.0 * (x.size + 2) * _U)
        for chunk in _growing(rest):
            db = self._distances(x[None, :], chunk)[0]
            if not np.all(db > (da + 2.0 * eps) * (1.0 + tol)):
                return False
        return True


def _growing(idx: np.ndarray, first: int = 32):
    """Consecutive slices of ``idx`` of sizes 32, 128, 512, ... (early exit on a failure)."""
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
    from scipy.stats import binomtest

    start = time.perf_counter()
    clf = PrunedNearestNeighbor(eps=eps, p=p, time_limit=time_limit)
    xt = _check_points(test_points, name="test_points")
    yt = _check_labels(test_labels, xt.shape[0], name="test_labels")
    clf.fit(train_points, train_labels)
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
