"""The multi-dimensional Bernoulli model: exact Bayes and optimal robust error.

Model (paper Definition 7): ``y`` is ``+1`` or ``-1`` with probability 1/2 and,
independently for each coordinate, ``x_i = theta^(y)_i`` with probability
``1/2 + t`` and ``-theta^(y)_i`` otherwise (``0 <= t <= 1/2``).  Only the ``k``
*effective* coordinates where ``theta^(+1)`` and ``theta^(-1)`` differ carry
information.  With ``values="01"`` the pixels are ``(x + 1) / 2`` in ``{0, 1}``
(MNIST-like), which halves every distance.

Everything reduces to ``J``, the number of effective coordinates on which
``x`` disagrees with ``theta^(+1)``:  ``J | y=+1 ~ Bin(k, 1/2 - t)`` and
``J | y=-1 ~ Bin(k, 1/2 + t)``.

Robust error (continuous domain: the classifier is defined on all of ``R^d``).
Two hypercube points of different labels *conflict* (their closed balls meet)
iff their Hamming distance is at most a radius ``r`` fixed by the norm:

=========  ===========================  ==============================
norm       ``values="pm1"``             ``values="01"``
=========  ===========================  ==============================
``l0``     ``r = 2 floor(eps)``         ``r = 2 floor(eps)``
``l1``     ``r = floor(eps)``           ``r = floor(2 eps)``
``l2``     ``r = floor(eps**2)``        ``r = floor(4 eps**2)``
``linf``   ``r = k if eps >= 1 else 0`` ``r = k if eps >= 1/2 else 0``
=========  ===========================  ==============================

A classifier is robustly correct on a set of (point, label) pairs iff no two of
them conflict, so the optimum is a maximum-weight independent set.  Averaging
over the coordinate permutations that fix ``theta`` (the set-packing LP of a
bipartite graph is integral) shows it depends only on *levels* ``J``: robust
``+`` levels ``A`` and ``-`` levels ``B`` with ``|a - b| > r``.  The optimum is
a threshold, ``A = {0..a}`` and ``B = {a+r+1..k}``, with error

.. math:: R(a) = \\tfrac12 [P(J_+ > a) + P(J_- \\le a + r)],\\qquad
          R^* = \\min(\\tfrac12, \\min_{0 \\le a \\le k} R(a)).

This is the paper's eq. (12) with ``s = a + eps`` (``p = 0``) *except* that the
paper ranges ``s`` over ``{0..k}`` without the constant classifiers; see
``docs/errata.md``.  :func:`level_dp_error` solves the level problem over *all*
level sets by dynamic programming (an independent exact oracle; the tests
also compare with an integer program over all classifiers on ``{-1,1}^k``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import numpy as np
from scipy import stats

from optrobust._validation import (
    check_eps,
    check_int,
    check_rng,
    check_sign_vector,
    check_t,
)
from optrobust.norms import parse_p

__all__ = [
    "BernoulliModel",
    "BernoulliRobustSolution",
    "HammingThresholdClassifier",
    "conflict_radius",
    "level_dp_error",
    "threshold_errors",
]

Values = Literal["pm1", "01"]


def conflict_radius(eps: float, p: float, k: int, values: Values = "pm1") -> int:
    """Largest Hamming distance at which two hypercube points conflict under ``B_p^eps``.

    Computed exactly in rational arithmetic from the float ``eps`` (so
    ``eps = 1.5`` under ``l2`` gives ``floor(2.25) = 2`` without rounding).
    For ``l_inf`` every two distinct points conflict once ``eps`` reaches half
    the cube's edge, which is recorded as ``r = k``.
    """
    e = Fraction(eps)  # exact value of the float
    scale = 1 if values == "pm1" else 2  # pm1 edge 2, 01 edge 1: compare m^(1/p) <= eps*scale/...
    if p == 0:
        return int(2 * math.floor(e))
    if p == math.inf:
        half_edge = Fraction(1) if values == "pm1" else Fraction(1, 2)
        return k if e >= half_edge else 0
    # Distance between points at Hamming distance m: edge * m**(1/p) with edge 2 (pm1) or 1 (01).
    # Conflict iff edge * m**(1/p) <= 2 eps  <=>  m <= (2 eps / edge)**p.
    bound = (e * scale) ** int(p) if float(p).is_integer() else Fraction((float(e) * scale) ** p)
    return int(min(math.floor(bound), k))


def _as_probs(t: float | Fraction) -> tuple[Any, Any]:
    """``(q, pbar) = (1/2 - t, 1/2 + t)`` as floats or Fractions."""
    if isinstance(t, Fraction):
        return Fraction(1, 2) - t, Fraction(1, 2) + t
    return 0.5 - t, 0.5 + t


def _window(k: int, t: float, r: int) -> tuple[int, int]:
    """Thresholds ``a`` outside which ``R(a) >= 1/2`` to within float precision.

    ``R(a) < 1/2`` needs ``P(J_+ <= a) > 0`` and ``P(J_- > a + r) > 0`` beyond
    ``exp(-1250)`` (Chernoff), i.e. ``a >= k q - 50 sigma`` and
    ``a + r <= k (1 - q) + 50 sigma``; restricting the vectorized pass to this
    window is exact in float64 and makes large ``k`` with small ``t`` cheap.
    """
    q = 0.5 - t
    sigma = math.sqrt(k * q * (1 - q))
    lo = max(0, math.floor(k * q - 50 * sigma - 50))
    hi = min(k, math.ceil(k * (1 - q) + 50 * sigma + 50) - r)
    return lo, max(lo, hi)


def threshold_errors(k: int, t: float, r: int) -> np.ndarray:
    """``log R(a)`` for every threshold ``a = 0..k`` (vectorized, log space).

    ``R(a) = 1/2 [P(J_+ > a) + P(J_- <= a + r)]`` with ``J_+ ~ Bin(k, 1/2 - t)``
    and ``J_- ~ Bin(k, 1/2 + t)``; by symmetry ``P(J_- <= a + r) =
    P(J_+ >= k - a - r)``, so only one binomial is evaluated (two tail passes).
    Outside :func:`_window` the value is ``log(1/2)`` (``R(a) >= 1/2`` there to
    float precision, and the optimum is capped at 1/2 anyway).
    """
    q = 0.5 - t
    out = np.full(k + 1, math.log(0.5))
    lo, hi = _window(k, t, r)
    a = np.arange(lo, hi + 1)
    log_sf = stats.binom.logsf(a, k, q)  # log P(J_+ > a)
    upper = k - a - r  # P(J_+ >= upper) = P(J_+ > upper - 1)
    log_tail = np.where(upper <= 0, 0.0, stats.binom.logsf(upper - 1, k, q))
    out[lo : hi + 1] = math.log(0.5) + np.logaddexp(log_sf, log_tail)
    return out


def _exact_threshold_errors(k: int, t: Fraction, r: int) -> list[Fraction]:
    q, pb = _as_probs(t)
    pmf_pos = [math.comb(k, j) * q**j * pb ** (k - j) for j in range(k + 1)]
    cdf = []
    acc = Fraction(0)
    for v in pmf_pos:
        acc += v
        cdf.append(acc)
    out = []
    for a in range(k + 1):
        sf_pos = 1 - cdf[a]
        lo = k - a - r  # P(J_- <= a + r) = P(J_+ >= k - a - r)
        tail = Fraction(1) if lo <= 0 else 1 - cdf[lo - 1]
        out.append((sf_pos + tail) / 2)
    return out


def level_dp_error(k: int, t: float | Fraction, r: int) -> float | Fraction:
    """Exact optimum over *all* level sets by dynamic programming (an oracle).

    Chooses robust ``+`` levels ``A`` and ``-`` levels ``B`` in ``{0..k}`` with
    ``|a - b| > r`` for all ``a in A, b in B``, maximizing ``P(J_+ in A)/2 +
    P(J_- in B)/2``; returns ``1 -`` that.  Chosen levels form alternating runs;
    ``best[T][j]`` is the best weight of a choice whose last run has type ``T``
    and ends at ``j``.  O(k) time; exact with ``Fraction`` input.
    """
    q, pb = _as_probs(t)
    exact = isinstance(t, Fraction)
    if exact:
        w_pos = [math.comb(k, j) * q**j * pb ** (k - j) / 2 for j in range(k + 1)]
        w_neg = [math.comb(k, j) * pb**j * q ** (k - j) / 2 for j in range(k + 1)]
        zero: Any = Fraction(0)
    else:
        w_pos = list(stats.binom.pmf(np.arange(k + 1), k, q) / 2)
        w_neg = list(stats.binom.pmf(np.arange(k + 1), k, pb) / 2)
        zero = 0.0
    best = {0: [zero] * (k + 1), 1: [zero] * (k + 1)}
    prefmax = {0: [zero] * (k + 1), 1: [zero] * (k + 1)}
    w = {0: w_pos, 1: w_neg}
    for j in range(k + 1):
        for T in (0, 1):
            other = 1 - T
            start = zero
            if j - r - 1 >= 0:
                start = prefmax[other][j - r - 1]
            extend = best[T][j - 1] if j >= 1 else zero
            best[T][j] = w[T][j] + max(extend, start)
        for T in (0, 1):
            prefmax[T][j] = max(best[T][j], prefmax[T][j - 1] if j else zero)
    top = max(prefmax[0][k], prefmax[1][k])
    return 1 - top


@dataclass(frozen=True)
class HammingThresholdClassifier:
    """Robust classifier for the Bernoulli model (continuous domain, any ``p``).

    ``+1`` on the union of the closed ``l_p`` balls of radius ``eps`` around the
    hypercube points with ``J <= a`` (at most ``a`` effective coordinates
    disagreeing with ``theta^(+1)``), ``-1`` elsewhere.  For ``p = 0`` this is
    the paper's rule ``J(x) <= s`` with ``s = a + floor(eps)``; for ``eps = 0``
    it is ``J(x) <= a`` on the cube.  ``a = k`` is the constant ``+1``.

    Attributes
    ----------
    theta_pos : ndarray
        ``theta^(+1)`` in the model's value encoding.
    effective : ndarray of bool
        Mask of the ``k`` effective coordinates.
    a : int
        Largest robust ``+`` level.
    eps, p : float
        Budget and norm the classifier was built for.
    values : {"pm1", "01"}
    """

    theta_pos: np.ndarray
    effective: np.ndarray
    a: int
    eps: float
    p: float
    values: str

    @property
    def threshold(self) -> int:
        """The paper's threshold ``s`` for ``p = 0`` (``a + floor(eps)``, capped at ``k``)."""
        k = int(self.effective.sum())
        if self.p == 0:
            return min(self.a + math.floor(self.eps), k)
        return self.a

    def predict(self, X: Any) -> np.ndarray:
        """Labels in ``{+1, -1}`` for rows of ``X`` (any real vectors of length ``d``)."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        d = self.theta_pos.size
        if X.shape[-1] != d:
            raise ValueError(f"X must have {d} columns, got {X.shape[-1]}")
        k = int(self.effective.sum())
        if self.a >= k:
            return np.ones(X.shape[0], dtype=int)
        th = self.theta_pos[self.effective].astype(float)
        lo, hi = (-1.0, 1.0) if self.values == "pm1" else (0.0, 1.0)
        other = lo + hi - th  # theta^(-1) on effective coordinates
        Z = X[:, self.effective]
        if self.p == 0:
            s = self.a + math.floor(self.eps)
            return np.where(np.count_nonzero(Z != th, axis=1) <= s, 1, -1)
        if self.p == math.inf:
            # a < k only happens below the chance budget (eps < half the edge): snap to the
            # cube (T(x) of Theorem 5) -- no l_inf perturbation that small flips a pixel.
            snapped = np.where(Z >= (lo + hi) / 2, hi, lo)
            return np.where(np.count_nonzero(snapped != th, axis=1) <= self.a, 1, -1)
        # Generic rule (l1, l2): the l_p distance from x to {cube points with J <= a} is <= eps.
        # Per coordinate: keep theta_pos (cost |x_i - th_i|^p) or flip (|x_i - other_i|^p);
        # flip the (at most a) coordinates with the largest savings; free coordinates snap.
        pp = self.p
        rest = X[:, ~self.effective]
        keep = np.abs(Z - th) ** pp
        flip = np.abs(Z - other) ** pp
        free = np.minimum(np.abs(rest - lo), np.abs(rest - hi)) ** pp
        saving = -np.sort(-np.maximum(keep - flip, 0.0), axis=1)
        total = keep.sum(axis=1) + free.sum(axis=1) - saving[:, : self.a].sum(axis=1)
        dist = np.maximum(total, 0.0) ** (1.0 / pp)
        return np.where(dist <= self.eps * (1 + 1e-12), 1, -1)


@dataclass(frozen=True)
class BernoulliRobustSolution:
    """Result of :meth:`BernoulliModel.robust_solution`.

    Attributes
    ----------
    error : float or Fraction
        Optimal robust error over all classifiers (``Fraction`` in exact mode).
    threshold : int
        The paper's threshold ``s`` for ``p = 0`` (``J <= s`` is labelled
        ``+1``); the largest robust ``+`` level ``a`` for other norms.
    a : int
        Largest robust ``+`` level (``a = k`` means the constant ``+1``).
    radius : int
        Conflict radius ``r`` in Hamming distance.
    classifier : HammingThresholdClassifier
    eps, p : float
    """

    error: float | Fraction
    threshold: int
    a: int
    radius: int
    classifier: HammingThresholdClassifier
    eps: float
    p: float


class BernoulliModel:
    """Uniform mixture of two multivariate Bernoulli distributions (paper Definition 7).

    Parameters
    ----------
    theta_pos, theta_neg : array_like of shape (d,)
        Centres in ``{-1, +1}^d`` (always given in ``+-1``, whatever ``values``).
    t : float or Fraction
        Bias, ``0 <= t <= 1/2``; a ``Fraction`` enables the exact mode.
    values : {"pm1", "01"}, default "pm1"
        Pixel encoding of samples and classifiers: ``+-1`` or ``{0, 1}``.

    Examples
    --------
    >>> b = BernoulliModel([1] * 50, [-1] * 50, t=0.3)
    >>> b.k, round(b.bayes_error(), 12) < 1e-3
    (50, True)
    >>> sol = b.robust_solution(eps=10, p=0)
    >>> sol.threshold, round(float(sol.error), 4)
    (24, 0.0458)
    >>> b.feasible_eps(p=0)
    16

    References
    ----------
    Shaeiri, Nobahari & Rohban (2020), Definition 7, Theorems 3-5, Remark 2.
    """

    def __init__(self, theta_pos: Any, theta_neg: Any, t: Any, *, values: Values = "pm1") -> None:
        self.theta_pos = check_sign_vector(theta_pos, name="theta_pos")
        self.theta_neg = check_sign_vector(theta_neg, name="theta_neg")
        if self.theta_pos.shape != self.theta_neg.shape:
            raise ValueError(
                f"theta_pos and theta_neg must have the same length, got "
                f"{self.theta_pos.size} and {self.theta_neg.size}"
            )
        self.t = check_t(t)
        if values not in ("pm1", "01"):
            raise ValueError(f"values must be 'pm1' or '01', got {values!r}")
        self.values: Values = values
        self.effective = self.theta_pos != self.theta_neg

    @classmethod
    def symmetric(cls, k: int, t: Any, *, d: int | None = None, values: Values = "pm1"):
        """``theta_pos = +1``, ``theta_neg = -1`` on ``k`` coordinates (and equal on ``d - k``)."""
        k = check_int(k, name="k", minimum=0)
        d = k if d is None else check_int(d, name="d", minimum=max(k, 1))
        if d == 0:
            raise ValueError("k must be >= 1 (or give d >= 1)")
        pos = np.ones(d, dtype=int)
        neg = np.ones(d, dtype=int)
        neg[:k] = -1
        return cls(pos, neg, t, values=values)

    # ----------------------------------------------------------------- basics
    @property
    def d(self) -> int:
        """Input dimension."""
        return int(self.theta_pos.size)

    @property
    def k(self) -> int:
        """Number of effective dimensions ``||theta_pos - theta_neg||_0`` (paper Theorem 3)."""
        return int(self.effective.sum())

    @property
    def exact(self) -> bool:
        """Whether results are exact ``Fraction`` (``t`` was given as a ``Fraction``)."""
        return isinstance(self.t, Fraction)

    def __repr__(self) -> str:
        return f"BernoulliModel(d={self.d}, k={self.k}, t={self.t}, values={self.values!r})"

    def _encode(self, theta: np.ndarray) -> np.ndarray:
        return theta.astype(float) if self.values == "pm1" else (theta + 1) / 2.0

    # ------------------------------------------------------------------ Bayes
    def bayes_error(self) -> float | Fraction:
        """Bayes error (paper Theorem 3, eqs. 9-10).

        Notes
        -----
        ``sum_{i < k/2} C(k,i) (1/2+t)^i (1/2-t)^(k-i) + [k even] 1/2 C(k,k/2) (1/4 - t^2)^(k/2)``.
        Computed as a binomial tail (``scipy.stats.binom``), or exactly for a
        ``Fraction`` ``t``.
        """
        k, t = self.k, self.t
        if isinstance(t, Fraction):
            q, pb = _as_probs(t)
            tot = sum(math.comb(k, i) * pb**i * q ** (k - i) for i in range(k + 1) if 2 * i < k)
            if k % 2 == 0:
                tot += Fraction(1, 2) * math.comb(k, k // 2) * (pb * q) ** (k // 2)
            return Fraction(tot)
        pb = 0.5 + t
        below = math.ceil(k / 2) - 1  # i < k/2
        val = float(stats.binom.cdf(below, k, pb)) if below >= 0 else 0.0
        if k % 2 == 0:
            val += 0.5 * float(stats.binom.pmf(k // 2, k, pb))
        return val

    def bayes_classifier(self) -> HammingThresholdClassifier:
        """Bayes rule ``||x - theta_pos||_0 <= ||x - theta_neg||_0`` -> +1 (paper eq. 8)."""
        return HammingThresholdClassifier(
            self._encode(self.theta_pos), self.effective.copy(), self.k // 2, 0.0, 0, self.values
        )

    # ----------------------------------------------------------------- robust
    def robust_solution(self, *, eps: float, p: Any = 0) -> BernoulliRobustSolution:
        """Optimal robust error over all classifiers, with the threshold and a classifier.

        Parameters
        ----------
        eps : float
            Budget ``>= 0``; for ``p = 0`` it counts changed coordinates
            (``floor(eps)`` is what matters).
        p : {0, 1, 2, inf} or str

        Notes
        -----
        ``R* = min(1/2, min_a R(a))``, ``R(a) = 1/2 [P(J_+ > a) + P(J_- <= a + r)]``
        with the conflict radius ``r`` of :func:`conflict_radius`; the minimum
        over ``a`` is vectorized over all ``k + 1`` thresholds in log space.

        References
        ----------
        Paper Theorem 4 (eq. 12, ``p = 0``) and Theorem 5 (``p = inf``).
        """
        p = parse_p(p)
        eps = check_eps(eps)
        k, t = self.k, self.t
        r = conflict_radius(eps, p, k, self.values)
        if isinstance(t, Fraction):
            errs = _exact_threshold_errors(k, t, r)
            a = min(range(k + 1), key=lambda i: (errs[i], abs(2 * i + r + 1 - k)))
            err: float | Fraction = min(errs[a], Fraction(1, 2))
        else:
            logs = threshold_errors(k, float(t), r)
            m = float(np.min(logs))
            cand = np.flatnonzero(logs <= m)
            centre = (k - r - 1) / 2.0
            a = int(cand[np.argmin(np.abs(cand - centre))])
            # Decide "chance or not" with the exact-sign test, so that the value agrees
            # with feasible_eps even where the float sum rounds to 1/2.
            if self._chance_at_radius(r):
                err = 0.5
            else:
                err = min(math.exp(m), math.nextafter(0.5, 0.0))
        if err >= 0.5:
            a = k  # the constant +1 classifier attains 1/2
            err = Fraction(1, 2) if isinstance(t, Fraction) else 0.5
        clf = HammingThresholdClassifier(
            self._encode(self.theta_pos), self.effective.copy(), a, eps, p, self.values
        )
        return BernoulliRobustSolution(err, clf.threshold, a, r, clf, eps, p)

    def robust_error(self, *, eps: float, p: Any = 0) -> float | Fraction:
        """Optimal robust error (see :meth:`robust_solution`)."""
        return self.robust_solution(eps=eps, p=p).error

    def robust_classifier(self, *, eps: float, p: Any = 0) -> HammingThresholdClassifier:
        """A classifier attaining :meth:`robust_error`; ``.threshold`` is the paper's ``s``."""
        return self.robust_solution(eps=eps, p=p).classifier

    def _chance_at_radius(self, r: int) -> bool:
        """Whether the optimum is 1/2 at conflict radius ``r`` (an exact-sign test).

        ``R(a) < 1/2`` iff ``P(J <= a) > P(J >= k - a - r)`` for ``J ~ Bin(k, 1/2 - t)``,
        compared in log space so that it stays reliable when both tails are tiny.
        """
        k, t = self.k, self.t
        if isinstance(t, Fraction):
            errs = _exact_threshold_errors(k, t, r)
            return min(errs) >= Fraction(1, 2)
        q = 0.5 - float(t)
        lo, hi = _window(k, float(t), r)
        a = np.arange(lo, hi + 1)
        lhs = stats.binom.logcdf(a, k, q)
        upper = k - a - r
        rhs = np.where(upper <= 0, 0.0, stats.binom.logsf(upper - 1, k, q))
        return not bool(np.any(lhs > rhs))

    def min_chance_radius(self) -> int:
        """Smallest conflict radius ``r`` at which the optimal robust error is 1/2 (bisection)."""
        k = self.k
        if self._chance_at_radius(0):
            return 0
        lo, hi = 0, k  # chance at r = k: every + level conflicts with every - level
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._chance_at_radius(mid):
                hi = mid
            else:
                lo = mid
        return hi

    def feasible_eps(self, p: Any = 0) -> float:
        """Smallest ``eps`` at which the optimal robust error reaches 1/2.

        Balls are closed, so the minimum is attained.  ``p = 0``: the smallest
        integer ``e`` with ``2e >= r*``; ``l1``/``l2``: ``(r*)^(1/p)`` (halved
        for ``{0,1}`` pixels); ``l_inf``: 1 (``0.5`` for ``{0,1}``, paper
        Remark 2), or 0 if the Bayes error is already 1/2.  ``r*`` comes from
        :meth:`min_chance_radius` (bisection, ``O(k log k)``).
        """
        p = parse_p(p)
        r_star = self.min_chance_radius()
        if r_star == 0:
            return 0 if p == 0 else 0.0
        if p == 0:
            return int(math.ceil(r_star / 2))
        if p == math.inf:
            return 1.0 if self.values == "pm1" else 0.5
        eps = r_star ** (1.0 / p)
        if self.values == "01":
            eps /= 2.0
        # Guard the float root against rounding below the exact radius.
        while conflict_radius(eps, p, self.k, self.values) < r_star:
            eps = math.nextafter(eps, math.inf)
        return eps

    # --------------------------------------------------------------- sampling
    def sample(self, n: int, rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` samples ``(X, y)``: rows in ``{-1,1}^d`` (or ``{0,1}^d``), y in {+1,-1}."""
        n = check_int(n, name="n", minimum=0)
        gen = check_rng(rng)
        y = np.where(gen.random(n) < 0.5, 1, -1)
        centre = np.where(y[:, None] == 1, self.theta_pos, self.theta_neg)
        agree = gen.random((n, self.d)) < 0.5 + float(self.t)
        X = np.where(agree, centre, -centre).astype(float)
        if self.values == "01":
            X = (X + 1) / 2
        return X, y
