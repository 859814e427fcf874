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

**The central threshold (why the work is O(1) in k).**  With ``F`` the cdf of
``J_+ ~ Bin(k, q)``, ``q = 1/2 - t``, and ``m = k - r``, symmetry gives
``P(J_- <= a + r) = 1 - F(m - 1 - a)``, so ``R(a) = 1 - [F(a) + F(m-1-a)]/2``,
which is symmetric about ``a = (m-1)/2``.  Its increment is
``R(a+1) - R(a) = [f(m-1-a) - f(a+1)]/2`` with ``f`` the pmf, and because the
binomial pmf is log-concave, ``log f(a+1) - log f(m-1-a)`` is non-decreasing
for ``a <= (m-3)/2``: on that half ``R`` rises then falls, so its minimum
over ``a`` is at an end -- the constant classifier (``R = 1/2``) or the
*central* threshold ``a_c = floor((k - r - 1)/2)``.  Hence

.. math:: R^* = \\min\\bigl(\\tfrac12,\\; R(a_c)\\bigr),\\qquad
          R^* < \\tfrac12 \\iff F(a_c) + F(k - r - 1 - a_c) > 1,

two binomial tails (``scipy.stats.binom``) in float mode, one exact pass over
``j <= a_c + 1`` in integer arithmetic in exact mode.  Chance at radius ``r``
is monotone in ``r``, so the feasible eps is a bisection over ``r``
(``O(log k)`` tail evaluations) or one exact pass.  The level DP and the
all-classifier integer program of the tests confirm the formula.

**Ties and accuracy.**  The conflict radius is computed *exactly* from the
float ``eps`` (rational arithmetic, closed balls: a distance equal to
``2 eps`` conflicts).  With a ``Fraction`` ``t`` every result is an exact
``Fraction``; with a float ``t`` the binomial tails are float64 values with
relative accuracy about ``1e-14`` (absolute ``1e-300`` where they underflow),
plus the rounding of ``1/2 - t`` to float64 (relative ``2^-53``), whose effect
grows like ``k 2^-53`` in the far tails of very large ``k``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any, Literal

import numpy as np
from scipy import stats

from optrobust.errors import InvalidInputError, NumericalError, ResourceLimitError
from optrobust.validation import (
    check_eps,
    check_finite_array,
    check_int,
    check_p,
    check_rng,
    check_sign_vector,
    check_t,
)

__all__ = [
    "MAX_ARRAY_DIM",
    "MAX_EXACT_WORK",
    "MAX_K",
    "MAX_SAMPLE_ENTRIES",
    "BernoulliModel",
    "BernoulliRobustSolution",
    "HammingThresholdClassifier",
    "conflict_radius",
    "level_dp_error",
    "threshold_errors",
]

Values = Literal["pm1", "01"]

#: Largest ``k`` in float mode: beyond ``2**53`` the binomial's ``k`` is not a float64.
MAX_K = 2**53
#: Exact (``Fraction``) mode costs about ``k**2 * log2(2 * denominator(t))`` bit operations
#: (one pass over ``k`` integers of ``k log2(2 den)`` bits); beyond this bound
#: :class:`~optrobust.errors.ResourceLimitError` is raised before the work (about 3 s).
MAX_EXACT_WORK = 10**10
#: Largest dimension ``d`` whose centre vectors a symmetric model builds as arrays (3 bytes
#: per coordinate, 8 for a classifier); the error rates themselves never need them.
MAX_ARRAY_DIM = 10**8
#: Largest ``n * d`` that :meth:`BernoulliModel.sample` draws (8 bytes per entry).
MAX_SAMPLE_ENTRIES = 2 * 10**8


def conflict_radius(eps: float, p: float, k: int, values: Values = "pm1") -> int:
    """Largest Hamming distance ``<= k`` at which two hypercube points conflict under ``B_p^eps``.

    Computed exactly in rational arithmetic from the float ``eps`` (so
    ``eps = 1.5`` under ``l2`` gives ``floor(2.25) = 2`` without rounding; a
    distance of exactly ``2 eps`` conflicts: closed balls).  Capped at ``k``
    (every two points conflict), so any finite ``eps`` is accepted.  For
    ``l_inf`` every two distinct points conflict once ``eps`` reaches half the
    cube's edge, which is recorded as ``r = k``.

    >>> conflict_radius(1.5, 2, 7), conflict_radius(1e300, 0, 7)
    (2, 7)
    """
    p = check_p(p)
    eps = check_eps(eps)
    k = check_int(k, name="k", minimum=0)
    if values not in ("pm1", "01"):
        raise InvalidInputError(f"values must be 'pm1' or '01', got {values!r}")
    e = Fraction(eps)  # exact value of the float
    scale = 1 if values == "pm1" else 2  # edge 2 (pm1) or 1 (01)
    if p == 0:
        return min(2 * math.floor(e), k)
    if p == math.inf:
        half_edge = Fraction(1) if values == "pm1" else Fraction(1, 2)
        return k if e >= half_edge else 0
    # Distance between points at Hamming distance m: edge * m**(1/p) with edge 2 (pm1) or 1 (01).
    # Conflict iff edge * m**(1/p) <= 2 eps  <=>  m <= (2 eps / edge)**p.
    if float(p).is_integer():
        bound = (e * scale) ** int(p)
        return min(math.floor(bound), k)
    x = (float(e) * scale) ** p  # non-integer p >= 1 (not used by the models): float power
    return k if not math.isfinite(x) else min(math.floor(x), k)


# ------------------------------------------------------------ binomial tails


def _check_k(k: int) -> None:
    if k > MAX_K:
        raise NumericalError(
            f"k must be <= 2**53 = {MAX_K} (the float64 binomial), got {k}")


def _check_exact_work(k: int, t: Fraction) -> None:
    """Raise before an exact pass whose cost exceeds :data:`MAX_EXACT_WORK`."""
    if k > 0:
        num, den = t.numerator, t.denominator
        work = k * k * (den + 2 * num).bit_length()
        if work > MAX_EXACT_WORK:
            raise ResourceLimitError(
                f"exact mode (a Fraction t) needs about k^2 * log2(2 * denominator) = {work:.2g} "
                f"bit operations, above the limit {MAX_EXACT_WORK:.0e}; give t as a float "
                "(binomial tails in float64, O(1) memory) or a smaller k")


class _ExactCdf:
    """Exact cdf of ``J_+ ~ Bin(k, 1/2 - t)`` for ``t = num/den``, one pass in integers.

    ``P(J_+ = j) = C(k, j) x^j y^(k-j) / (2 den)^k`` with ``x = den - 2 num`` and
    ``y = den + 2 num``; consecutive numerators satisfy
    ``N_{j+1} = N_j (k - j) x / ((j + 1) y)`` exactly.  Memory: O(1) integers.
    """

    def __init__(self, k: int, t: Fraction) -> None:
        self.k = k
        self.x = t.denominator - 2 * t.numerator
        self.y = t.denominator + 2 * t.numerator
        self.denom = (2 * t.denominator) ** k

    def numerators(self) -> Iterator[tuple[int, int, int]]:
        """Yield ``(j, N_j, sum_{i <= j} N_i)`` for ``j = 0..k``."""
        k, x, y = self.k, self.x, self.y
        n = y**k
        acc = n
        yield 0, n, acc
        for j in range(k):
            n = n * (k - j) * x // ((j + 1) * y)
            acc += n
            yield j + 1, n, acc

    def cdf_pair(self, a: int, b: int) -> tuple[Fraction, Fraction]:
        """``(F(a), F(b))`` for ``a <= b`` (``F(j) = 0`` for ``j < 0``, 1 for ``j >= k``)."""
        out: dict[int, Fraction] = {}
        for j in (a, b):
            if j < 0:
                out[j] = Fraction(0)
            elif j >= self.k:
                out[j] = Fraction(1)
        if len(out) < len({a, b}):
            for j, _, acc in self.numerators():
                if j in (a, b) and j not in out:
                    out[j] = Fraction(acc, self.denom)
                if j >= b:
                    break
        return out[a], out[b]

    def min_chance_s(self) -> int:
        """Smallest ``s >= 0`` with ``T(s) = F(floor(s/2)) + F(ceil(s/2)) > 1``.

        ``T(s) = F(floor(s/2)) + F(ceil(s/2))`` is non-decreasing in ``s``:
        ``T(2j) = 2 F(j)`` and ``T(2j+1) = F(j) + F(j+1)``.
        """
        d = self.denom
        prev = None
        for j, _, acc in self.numerators():
            if prev is not None and prev + acc > d:  # T(2j - 1)
                return 2 * j - 1
            if 2 * acc > d:  # T(2j)
                return 2 * j
            prev = acc
        return 2 * self.k  # not reached: T(2k) = 2 F(k) = 2 > 1


def _float_tails(k: int, q: float, a: int, b: int) -> tuple[float, float, float, float]:
    """``(F(a), F(b), S(a), S(b))`` for ``J ~ Bin(k, q)``, ``S = 1 - F`` (each accurate)."""
    def cdf(j: int) -> float:
        return 0.0 if j < 0 else 1.0 if j >= k else float(stats.binom.cdf(j, k, q))

    def sf(j: int) -> float:
        return 1.0 if j < 0 else 0.0 if j >= k else float(stats.binom.sf(j, k, q))

    return cdf(a), cdf(b), sf(a), sf(b)


def _central(k: int, r: int) -> tuple[int, int]:
    """The central threshold ``a_c = floor((k - r - 1)/2)`` and its mirror ``k - r - 1 - a_c``."""
    a = (k - r - 1) // 2
    return a, k - r - 1 - a


def _optimum(k: int, t: float | Fraction, r: int) -> tuple[float | Fraction, int]:
    """``(R*, a)``: the optimal robust error at conflict radius ``r`` and its threshold.

    ``a = k`` (the constant ``+1`` classifier) when ``R* = 1/2``.
    """
    exact = isinstance(t, Fraction)
    half: float | Fraction = Fraction(1, 2) if exact else 0.5
    if k == 0 or t == 0 or r >= k:
        return half, k
    a, b = _central(k, r)
    if t == Fraction(1, 2):  # J_+ = 0 surely: the central threshold a_c >= 0 is error-free
        return (Fraction(0) if exact else 0.0), a
    if isinstance(t, Fraction):
        _check_exact_work(k, t)
        ea, eb = _ExactCdf(k, t).cdf_pair(a, b)
        if ea + eb <= 1:
            return half, k
        return 1 - (ea + eb) / 2, a
    fa, _, sa, sb = _float_tails(k, 0.5 - float(t), a, b)
    if not fa > sb:  # F(a) + F(b) <= 1, decided without cancellation
        return half, k
    return min(0.5 * (sa + sb), math.nextafter(0.5, 0.0)), a


def _min_chance_radius(k: int, t: float | Fraction) -> int:
    """Smallest conflict radius ``r`` at which the optimal robust error is 1/2."""
    if k == 0 or t == 0:
        return 0
    if t == Fraction(1, 2):
        return k  # error 0 for every r < k
    if isinstance(t, Fraction):
        _check_exact_work(k, t)
        s = _ExactCdf(k, t).min_chance_s()
        # chance at r  <=>  T(k - r - 1) <= 1  <=>  k - r - 1 < s  <=>  r >= k - s
        return max(0, min(k, k - s))
    lo, hi = -1, k  # chance at r = k; not known at lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _optimum(k, t, mid)[0] == 0.5:
            hi = mid
        else:
            lo = mid
    return hi


def level_dp_error(k: int, t: float | Fraction, r: int) -> float | Fraction:
    """Exact optimum over *all* level sets by dynamic programming (an oracle for tests).

    Chooses robust ``+`` levels ``A`` and ``-`` levels ``B`` in ``{0..k}`` with
    ``|a - b| > r`` for all ``a in A, b in B``, maximizing ``P(J_+ in A)/2 +
    P(J_- in B)/2``; returns ``1 -`` that.  Chosen levels form alternating runs;
    ``best[T][j]`` is the best weight of a choice whose last run has type ``T``
    and ends at ``j``.  O(k) time and memory; exact with ``Fraction`` input.
    """
    k = check_int(k, name="k", minimum=0)
    r = check_int(r, name="r", minimum=0)
    t = check_t(t)
    if k > 10**6:
        raise ResourceLimitError(f"level_dp_error is an O(k)-memory oracle: k <= 10**6, got {k}")
    exact = isinstance(t, Fraction)
    q, pb = (Fraction(1, 2) - t, Fraction(1, 2) + t) if exact else (0.5 - t, 0.5 + t)
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
    # The constant classifier (all + levels) is a feasible choice of weight 1/2; in float
    # mode the pmf sum can fall an ulp short of it.
    return min(1 - top, Fraction(1, 2) if exact else 0.5)


def threshold_errors(k: int, t: float, r: int) -> np.ndarray:
    """``log R(a)`` for every threshold ``a = 0..k`` (deprecated: O(k) memory).

    .. deprecated:: 0.2
        The optimum is always at the central threshold (module docstring);
        use :meth:`BernoulliModel.robust_solution`.  Kept for one release.

    ``R(a) = 1/2 [P(J_+ > a) + P(J_+ >= k - a - r)]`` with ``J_+ ~ Bin(k, 1/2 - t)``;
    ``k <= 10**7``.
    """
    import warnings

    warnings.warn("threshold_errors is deprecated: the optimum is the central threshold; "
                  "use BernoulliModel.robust_solution", DeprecationWarning, stacklevel=2)
    k = check_int(k, name="k", minimum=0, maximum=10**7)
    r = check_int(r, name="r", minimum=0)
    q = 0.5 - float(check_t(t))
    a = np.arange(k + 1)
    upper = np.maximum(k - a - min(r, k), 0)  # P(J_+ >= upper) = P(J_+ > upper - 1)
    log_tail = np.where(upper <= 0, 0.0, stats.binom.logsf(upper - 1, k, q))
    return math.log(0.5) + np.logaddexp(stats.binom.logsf(a, k, q), log_tail)


# ---------------------------------------------------------------- classifier


@dataclass(frozen=True, kw_only=True)
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
        ``theta^(+1)`` in the model's value encoding (read-only).
    effective : ndarray of bool
        Mask of the ``k`` effective coordinates (read-only).
    a : int
        Largest robust ``+`` level.
    eps, p : float
        Budget and norm the classifier was built for.
    values : {"pm1", "01"}

    Notes
    -----
    For ``l1``/``l2`` the distance to the ``+`` region is computed in float64
    and compared with ``eps (1 + 1e-12)``, so that points exactly on the
    closed boundary (e.g. a cube point moved by exactly ``eps``) count as
    ``+1`` despite rounding.
    """

    theta_pos: np.ndarray
    effective: np.ndarray
    a: int
    eps: float
    p: float
    values: str

    @property
    def k(self) -> int:
        """Number of effective coordinates."""
        return int(np.count_nonzero(self.effective))

    @property
    def threshold(self) -> int:
        """The paper's threshold ``s`` for ``p = 0`` (``a + floor(eps)``, capped at ``k``)."""
        if self.p == 0:
            return min(self.a + math.floor(self.eps), self.k)
        return self.a

    def predict(self, X: Any) -> np.ndarray:
        """Labels in ``{+1, -1}`` for rows of ``X`` (any finite real vectors of length ``d``)."""
        X = check_finite_array(X, name="X")
        if X.ndim == 1:
            X = X[None, :]
        d = self.theta_pos.size
        if X.ndim != 2 or X.shape[-1] != d:
            raise InvalidInputError(f"X must have shape (n, {d}) or ({d},), got {X.shape}")
        k = self.k
        if self.a >= k:
            return np.ones(X.shape[0], dtype=int)
        th = self.theta_pos[self.effective].astype(float)
        lo, hi = (-1.0, 1.0) if self.values == "pm1" else (0.0, 1.0)
        other = lo + hi - th  # theta^(-1) on effective coordinates
        Z = X[:, self.effective]
        if self.p == 0:
            return np.where(np.count_nonzero(Z != th, axis=1) <= self.threshold, 1, -1)
        if self.p == math.inf:
            # a < k only happens below the chance budget (eps < half the edge): snap to the
            # cube (T(x) of Theorem 5) -- no l_inf perturbation that small flips a pixel.
            snapped = np.where(Z >= (lo + hi) / 2, hi, lo)
            return np.where(np.count_nonzero(snapped != th, axis=1) <= self.a, 1, -1)
        # Generic rule (l1, l2): the l_p distance from x to {cube points with J <= a} is <= eps.
        # Per coordinate: keep theta_pos (cost |x_i - th_i|^p) or flip (|x_i - other_i|^p);
        # flip the (at most a) coordinates with the largest savings; free coordinates snap.
        # Work in units of the largest |x| so that the p-th powers cannot overflow.
        pp = self.p
        scale = max(1.0, float(np.max(np.abs(X), initial=0.0)))
        rest = X[:, ~self.effective]
        keep = (np.abs(Z - th) / scale) ** pp
        flip = (np.abs(Z - other) / scale) ** pp
        free = (np.minimum(np.abs(rest - lo), np.abs(rest - hi)) / scale) ** pp
        saving = -np.sort(-np.maximum(keep - flip, 0.0), axis=1)
        total = keep.sum(axis=1) + free.sum(axis=1) - saving[:, : self.a].sum(axis=1)
        with np.errstate(over="ignore"):  # inf: farther than any finite eps
            dist = np.maximum(total, 0.0) ** (1.0 / pp) * scale
        return np.where(dist <= self.eps * (1 + 1e-12), 1, -1)


# ------------------------------------------------------------------- results


@dataclass(frozen=True, kw_only=True)
class BernoulliRobustSolution:
    """Result of :meth:`BernoulliModel.robust_solution`.

    Attributes
    ----------
    error : float or Fraction
        Optimal robust error over all classifiers (``Fraction`` in exact mode).
    a : int
        Largest robust ``+`` level (the central threshold ``floor((k - r - 1)/2)``,
        or ``a = k``, the constant ``+1``, when the error is 1/2).
    threshold : int
        The paper's threshold ``s`` for ``p = 0`` (``J <= s`` is labelled
        ``+1``); the largest robust ``+`` level ``a`` for other norms.
    radius : int
        Conflict radius ``r`` in Hamming distance.
    eps, p : float
    exact : bool
        Whether ``error`` is an exact ``Fraction`` (``t`` was a ``Fraction``).
    model : BernoulliModel
        The model solved (not part of equality or repr).
    classifier : HammingThresholdClassifier
        A classifier attaining ``error`` (built on first access; it needs the
        centre vectors, see :data:`MAX_ARRAY_DIM`).
    """

    error: float | Fraction
    a: int
    threshold: int
    radius: int
    eps: float
    p: float
    exact: bool
    model: BernoulliModel = field(repr=False, compare=False)

    @cached_property
    def classifier(self) -> HammingThresholdClassifier:
        m = self.model
        return HammingThresholdClassifier(
            theta_pos=m._encoded_theta_pos(), effective=m.effective, a=self.a, eps=self.eps,
            p=self.p, values=m.values)


# --------------------------------------------------------------------- model


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

    Notes
    -----
    Every error rate depends only on ``(k, t, values)`` and costs O(1) memory
    and ``O(log k)`` binomial tails in float mode (see the module docstring);
    :meth:`symmetric` models build their centre vectors only when a
    classifier, :meth:`sample` or ``theta_pos`` asks for them.

    Examples
    --------
    >>> b = BernoulliModel([1] * 50, [-1] * 50, t=0.3)
    >>> b.k, b.d == b.dim == 50, round(b.bayes_error(), 12) < 1e-3
    (50, True, True)
    >>> sol = b.robust_solution(eps=10, p=0)
    >>> sol.threshold, round(float(sol.error), 4)
    (24, 0.0458)
    >>> b.feasible_eps(p=0)
    16
    >>> BernoulliModel.symmetric(10**9, 0.01).feasible_eps(p=0)
    10000001

    References
    ----------
    Shaeiri, Nobahari & Rohban (2020), Definition 7, Theorems 3-5, Remark 2.
    """

    def __init__(self, theta_pos: Any, theta_neg: Any, t: Any, *, values: Values = "pm1") -> None:
        pos = check_sign_vector(theta_pos, name="theta_pos")
        neg = check_sign_vector(theta_neg, name="theta_neg")
        if pos.shape != neg.shape:
            raise InvalidInputError(
                f"theta_pos and theta_neg must have the same length, got "
                f"{pos.size} and {neg.size}"
            )
        self._setup(t, values, d=int(pos.size), k=int(np.count_nonzero(pos != neg)))
        self._arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = _readonly3(
            pos, neg, pos != neg)

    def _setup(self, t: Any, values: Any, *, d: int, k: int) -> None:
        self.t = check_t(t)
        if not isinstance(values, str) or values not in ("pm1", "01"):
            raise InvalidInputError(f"values must be 'pm1' or '01', got {values!r}")
        self.values: Values = values  # type: ignore[assignment]
        self._d = d
        self._k = k
        _check_k(k)

    @classmethod
    def symmetric(cls, k: int, t: Any, *, d: int | None = None,
                  values: Values = "pm1") -> BernoulliModel:
        """``theta_pos = +1``, ``theta_neg = -1`` on ``k`` coordinates (and equal on ``d - k``).

        O(1) memory: the centre vectors are built only if asked for.
        """
        k = check_int(k, name="k", minimum=0)
        d = k if d is None else check_int(d, name="d", minimum=max(k, 1))
        if d == 0:
            raise InvalidInputError("k must be >= 1 (or give d >= 1)")
        obj = cls.__new__(cls)
        obj._setup(t, values, d=d, k=k)
        obj._arrays = None
        return obj

    # ----------------------------------------------------------------- basics
    def _materialize(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The centre vectors and the effective mask, built on first use."""
        if self._arrays is not None:
            return self._arrays
        if self._d > MAX_ARRAY_DIM:
            raise ResourceLimitError(
                f"the centre vectors of a model with d = {self._d} coordinates exceed the "
                f"limit d <= {MAX_ARRAY_DIM:.0e} (MAX_ARRAY_DIM); error rates and feasible "
                "eps need no arrays")
        pos = np.ones(self._d, dtype=np.int8)
        neg = np.ones(self._d, dtype=np.int8)
        neg[: self._k] = -1
        arrays = _readonly3(pos, neg, pos != neg)
        self._arrays = arrays
        return arrays

    @property
    def theta_pos(self) -> np.ndarray:
        """``theta^(+1)`` in ``{-1, +1}^d`` (int8, read-only)."""
        return self._materialize()[0]

    @property
    def theta_neg(self) -> np.ndarray:
        """``theta^(-1)`` in ``{-1, +1}^d`` (int8, read-only)."""
        return self._materialize()[1]

    @property
    def effective(self) -> np.ndarray:
        """Mask of the effective coordinates ``theta_pos != theta_neg`` (read-only)."""
        return self._materialize()[2]

    @property
    def d(self) -> int:
        """Input dimension (also :attr:`dim`)."""
        return self._d

    @property
    def dim(self) -> int:
        """Input dimension, the name :class:`~optrobust.finite.FiniteDistribution` uses."""
        return self._d

    @property
    def k(self) -> int:
        """Number of effective dimensions ``||theta_pos - theta_neg||_0`` (paper Theorem 3)."""
        return self._k

    @property
    def exact(self) -> bool:
        """Whether results are exact ``Fraction`` (``t`` was given as a ``Fraction``)."""
        return isinstance(self.t, Fraction)

    def __repr__(self) -> str:
        return f"BernoulliModel(d={self.d}, k={self.k}, t={self.t}, values={self.values!r})"

    def _encoded_theta_pos(self) -> np.ndarray:
        th = self.theta_pos
        enc = th if self.values == "pm1" else ((th + 1) // 2).astype(np.int8)
        enc.flags.writeable = False
        return enc

    # ------------------------------------------------------------------ Bayes
    def bayes_error(self) -> float | Fraction:
        """Bayes error (paper Theorem 3, eqs. 9-10).

        Notes
        -----
        ``sum_{i < k/2} C(k,i) (1/2+t)^i (1/2-t)^(k-i) + [k even] 1/2 C(k,k/2) (1/4 - t^2)^(k/2)``,
        which is the robust error at conflict radius ``r = 0``: the central
        threshold ``a_c = floor((k-1)/2)`` gives
        ``1/2 [P(J_+ > a_c) + P(J_+ > k - 1 - a_c)]``.  Two binomial tails
        (``scipy.stats.binom``), or exact integers for a ``Fraction`` ``t``.
        """
        return _optimum(self._k, self.t, 0)[0]

    def bayes_classifier(self) -> HammingThresholdClassifier:
        """Bayes rule ``||x - theta_pos||_0 <= ||x - theta_neg||_0`` -> +1 (paper eq. 8)."""
        return HammingThresholdClassifier(
            theta_pos=self._encoded_theta_pos(), effective=self.effective, a=self.k // 2,
            eps=0.0, p=0, values=self.values)

    # ----------------------------------------------------------------- robust
    def robust_solution(self, *, eps: float, p: Any = 0) -> BernoulliRobustSolution:
        """Optimal robust error over all classifiers, with the threshold and a classifier.

        Parameters
        ----------
        eps : float
            Budget ``>= 0`` (any finite float); for ``p = 0`` it counts changed
            coordinates (``floor(eps)`` is what matters).
        p : {0, 1, 2, inf} or str

        Notes
        -----
        ``R* = min(1/2, R(a_c))`` with ``R(a) = 1/2 [P(J_+ > a) + P(J_- <= a + r)]``,
        the conflict radius ``r`` of :func:`conflict_radius` and the central
        threshold ``a_c = floor((k - r - 1)/2)`` (module docstring).  Whether
        ``R* < 1/2`` is decided as ``F(a_c) > P(J_+ > k - r - 1 - a_c)``,
        without cancellation.

        References
        ----------
        Paper Theorem 4 (eq. 12, ``p = 0``) and Theorem 5 (``p = inf``).
        """
        p = check_p(p)
        eps = check_eps(eps)
        k = self._k
        r = conflict_radius(eps, p, k, self.values)
        err, a = _optimum(k, self.t, r)
        threshold = min(a + math.floor(eps), k) if p == 0 else a
        return BernoulliRobustSolution(
            error=err, a=a, threshold=threshold, radius=r, eps=eps, p=p, exact=self.exact,
            model=self)

    def robust_error(self, *, eps: float, p: Any = 0) -> float | Fraction:
        """Optimal robust error (see :meth:`robust_solution`)."""
        return self.robust_solution(eps=eps, p=p).error

    def robust_classifier(self, *, eps: float, p: Any = 0) -> HammingThresholdClassifier:
        """A classifier attaining :meth:`robust_error`; ``.threshold`` is the paper's ``s``."""
        return self.robust_solution(eps=eps, p=p).classifier

    def min_chance_radius(self) -> int:
        """Smallest conflict radius ``r`` at which the optimal robust error is 1/2.

        Bisection over ``r`` with two binomial tails per step (``O(log k)``), or
        one exact pass in exact mode.
        """
        return _min_chance_radius(self._k, self.t)

    def feasible_eps(self, p: Any = 0) -> int | float:
        """Smallest ``eps`` at which the optimal robust error reaches 1/2.

        Balls are closed, so the minimum is attained.  ``p = 0``: the smallest
        integer ``e`` with ``2e >= r*`` (an ``int``, a number of coordinates);
        ``l1``/``l2``: ``(r*)^(1/p)`` (halved for ``{0,1}`` pixels); ``l_inf``:
        1 (``0.5`` for ``{0,1}``, paper Remark 2), or 0 if the Bayes error is
        already 1/2.  ``r*`` comes from :meth:`min_chance_radius`.
        """
        p = check_p(p)
        r_star = self.min_chance_radius()
        if r_star == 0:
            return 0 if p == 0 else 0.0
        if p == 0:
            return (r_star + 1) // 2
        if p == math.inf:
            return 1.0 if self.values == "pm1" else 0.5
        eps = r_star ** (1.0 / p)
        if self.values == "01":
            eps /= 2.0
        # Guard the float root against rounding below the exact radius.
        while conflict_radius(eps, p, self.k, self.values) < r_star:
            eps = math.nextafter(eps, math.inf)
        # ... and above it: the smallest float whose exact radius is r_star.
        while eps > 0 and conflict_radius(math.nextafter(eps, 0.0), p, self.k,
                                          self.values) >= r_star:
            eps = math.nextafter(eps, 0.0)
        return eps

    # --------------------------------------------------------------- sampling
    def sample(self, n: int, rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` samples ``(X, y)``: rows in ``{-1,1}^d`` (or ``{0,1}^d``), y in {+1,-1}.

        ``n * d`` is bounded by :data:`MAX_SAMPLE_ENTRIES` (checked before drawing).
        """
        n = check_int(n, name="n", minimum=0)
        if n * self.d > MAX_SAMPLE_ENTRIES:
            raise ResourceLimitError(
                f"sample(n) draws n * d = {n * self.d} entries, above the limit "
                f"{MAX_SAMPLE_ENTRIES:.0e} (MAX_SAMPLE_ENTRIES); draw in batches")
        gen = check_rng(rng)
        y = np.where(gen.random(n) < 0.5, 1, -1)
        centre = np.where(y[:, None] == 1, self.theta_pos, self.theta_neg)
        agree = gen.random((n, self.d)) < 0.5 + float(self.t)
        X = np.where(agree, centre, -centre).astype(float)
        if self.values == "01":
            X = (X + 1) / 2
        return X, y


def _readonly3(a: np.ndarray, b: np.ndarray,
               c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three arrays, made read-only (the model's invariants depend on them)."""
    for arr in (a, b, c):
        arr.flags.writeable = False
    return a, b, c
