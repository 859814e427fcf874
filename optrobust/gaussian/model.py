"""Two Gaussian classes with a shared covariance: exact Bayes and optimal robust error.

The model (paper Definition 6, generalized): ``y`` is ``+1`` or ``-1`` with
probability 1/2 each and ``x | y ~ N(mu_y, Sigma)`` in ``R^d``, with arbitrary
means and one covariance ``Sigma`` shared by both classes (isotropic
``sigma**2 I``, diagonal, or full).

The optimal robust error over *all* (measurable, deterministic) classifiers
under a closed ``l_p`` ball of radius ``eps`` is, for ``p`` in ``{1, 2, inf}``,

.. math::

    R^*_{p,\\epsilon} = \\Phi\\left(-\\tfrac12 D\\right), \\qquad
    D = \\min_{\\|z\\|_p \\le \\epsilon} \\|\\Delta - 2z\\|_{\\Sigma^{-1}},
    \\qquad \\Delta = \\mu_+ - \\mu_-,

and it is attained by the linear classifier
``sign(w . x - w . (mu_+ + mu_-)/2)`` with ``w = Sigma^{-1} (Delta - 2 z*)``.
Both halves of this statement are returned as a certificate (see
:class:`GaussianRobustSolution`): the *lower bound* comes from an attacker that
shifts every ``+`` sample by ``-z`` and every ``-`` sample by ``+z`` (no
classifier can beat the Bayes error of the shifted pair), the *upper bound* is
the exact adversarial error of the linear classifier.  See ``docs/theory.md``
("Numerical guarantees: Gaussian").

Numerics.  Everything is solved in normalized coordinates: ``c = Delta/2`` and
the covariance are scaled by exact powers of two (``c = 2^e_c c~`` with
``max |c~|`` in ``[1/2, 1)``, ``Sigma = 4^h Sigma~`` with ``max diag Sigma~`` in
``[1/4, 1]``), so the answer is invariant under ``(s mu, s^2 Sigma, s eps)``.
The minimization is solved in its dual form
``min_w 1/2 w' Sigma~ w - c~ . w + eps~ ||w||_q`` (no inverse of ``Sigma``):
closed forms for a diagonal covariance, a monotone Newton iteration on the
secular equation for ``p = 2``, and an exact active-set (KKT) method for a full
covariance with ``p in {1, inf}``.  The residual ``r = c - z`` is computed
without cancellation (``r = Sigma w`` or ``c_i - eps s_i``), so the
near-feasible regime ``eps -> feasible_eps`` tends to 1/2 from below.  A result
is accepted only when its certificate closes, ``(upper - lower) <= rtol * upper``
with ``rtol = GAUSSIAN_RTOL max(1, (D/2)^2)`` (the margin ``D/2`` certified to
``GAUSSIAN_RTOL``); otherwise a slower method is tried, and then
:class:`~optrobust.errors.NumericalError`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import linalg, optimize
from scipy.linalg import lapack
from scipy.special import log_ndtr, ndtr

from optrobust._validation import check_eps, check_int, check_rng
from optrobust.errors import InvalidInputError, InvalidTypeError, NumericalError, SolverError
from optrobust.gaussian._accurate import (
    UpdatedCholesky,
    accurate_dot,
    accurate_matvec,
    refine,
    refine_with,
)
from optrobust.norms import dual_exponent, lp_norm, parse_p

__all__ = [
    "GAUSSIAN_MAX_CONDITION",
    "GAUSSIAN_RTOL",
    "GaussianModel",
    "GaussianRobustSolution",
    "LinearClassifier",
]

_P_GAUSS = (1, 2, math.inf)

#: Relative tolerance of the certificate on the margin ``D/2``: a result is returned only
#: when ``upper_bound - lower_bound <= rtol * upper_bound`` with
#: ``rtol = GAUSSIAN_RTOL * max(1, (D/2)^2)`` -- a relative error ``delta`` of the margin
#: moves ``Phi(-D/2)`` by the relative amount ``(D/2)^2 delta`` in the tail.
GAUSSIAN_RTOL = 1e-9

#: Largest (estimated) condition number of a full covariance that is solved;
#: beyond it :class:`~optrobust.errors.NumericalError` is raised.
GAUSSIAN_MAX_CONDITION = 1e13

# Smallest normalized variance of a diagonal covariance (ratio of the smallest to
# the largest variance): below it 1/variance is not representable.
_MIN_NORMALIZED_VARIANCE = 1e-290
_EPS = float(np.finfo(float).eps)
# A budget below this (in units of max |Delta_i| / 2) changes the optimum by less than 1e-140
# relative (the normalized Mahalanobis norms are below 1e145): it is solved as eps = 0.
_NEGLIGIBLE_EPS = 1e-290
# Dimension up to which the slow, robust fallback solvers (BVLS, SLSQP) are tried.
_FALLBACK_MAX_DIM = 300
# Active-set iterations with full swaps before the number of swaps is limited.
_FULL_SWAP_ITERATIONS = 4
_SWAP_DECAY = 0.5
# Largest dimension for the l_inf homotopy (each of its ~4d events copies O(d^2) data;
# beyond this the warm-started continuation was faster in bench measurements).
_HOMOTOPY_MAX_DIM = 600
# Condition number from which residuals and certificate use doubled precision (Dot2).
_ACCURATE_FROM_CONDITION = 1e6
# Active-set iterations of the first, cold-started attempt.
_DIRECT_ITERATIONS = 15
# Iterations allowed per warm-started continuation step (a step that needs more is halved).
_CONTINUATION_ITERATIONS = 8


# ---------------------------------------------------------------- validation


def _real_array(value: Any, *, name: str, ndim: int | None = None) -> np.ndarray:
    """``value`` as a finite float64 array; strings, booleans and complex numbers are rejected."""
    if isinstance(value, (str, bytes)):
        raise InvalidTypeError(f"{name} must be real numbers, got a string {value!r}")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be a numeric array: {exc}") from None
    kind = raw.dtype.kind
    if kind in "iuf" and isinstance(value, (list, tuple)) and _has_bool(value):
        kind = "b"  # numpy turns [1.0, True] into numbers
    if kind == "b":
        raise InvalidTypeError(f"{name} must be real numbers, got booleans")
    if kind == "c":
        raise InvalidTypeError(f"{name} must be real numbers, got complex values")
    if kind in "USV":
        raise InvalidTypeError(f"{name} must be real numbers, got strings")
    if kind == "O":
        for item in raw.ravel():
            if isinstance(item, np.generic):
                item = item.item()
            if not isinstance(item, numbers.Real) or isinstance(item, bool):
                raise InvalidTypeError(
                    f"{name} must be real numbers, got {type(item).__name__}")
    if kind not in "iufO":
        raise InvalidTypeError(f"{name} must be real numbers, got dtype {raw.dtype}")
    try:
        arr = np.asarray(raw, dtype=float)
    except OverflowError:
        raise InvalidInputError(
            f"{name} must be finite float64 values (|x| <= {np.finfo(float).max:.3g})") from None
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be a numeric array: {exc}") from None
    if ndim is not None and arr.ndim != ndim:
        raise InvalidInputError(f"{name} must be a {ndim}-dimensional array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{name} must contain only finite values (no NaN or inf)")
    return arr


def _has_bool(value: Any) -> bool:
    """Whether a nested list/tuple holds a ``bool`` (or ``numpy.bool_``)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, (bool, np.bool_)):
            return True
    return False


def _ldexp(x: Any, e: int) -> Any:
    """``x * 2**e`` without overflow warnings (inf on overflow, 0 on underflow)."""
    with np.errstate(over="ignore", under="ignore"):
        out = np.ldexp(np.asarray(x, dtype=float), int(max(min(e, 10**6), -(10**6))))
    return float(out) if np.ndim(out) == 0 else out


def _power_of_two_exponent(m: float) -> int:
    """``e`` with ``2**(e-1) <= m < 2**e`` (``m > 0``)."""
    return math.frexp(m)[1]


def _norm2(x: np.ndarray) -> float:
    """Euclidean norm without underflow or overflow of the squares."""
    big = float(np.max(np.abs(x))) if x.size else 0.0
    if big == 0.0 or not math.isfinite(big):
        return big
    return big * float(np.linalg.norm(x / big))


def _norm_p(x: np.ndarray, p: float) -> float:
    """``||x||_p`` of a normalized vector (entries <= 1): exactly rounded sum for l1."""
    if p == 1:
        return math.fsum(np.abs(x).tolist())
    if p == 2:
        return _norm2(x)
    return float(np.max(np.abs(x))) if x.size else 0.0


def _limited_swaps(it: int, full: int, drop: np.ndarray,
                   add: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the violators to swap at active-set iteration ``it``.

    All of them for the first ``full`` iterations (primal-dual active set); then only the
    largest ``total / 2^(it - full + 1)`` violations, at least one, which damps the
    oscillation of full swaps on ill-conditioned problems.
    """
    total = drop.size + add.size
    if it < full or total <= 1:
        return np.arange(drop.size), np.arange(add.size)
    budget = max(1, int(total * _SWAP_DECAY ** (it - full + 1)))
    mags = np.concatenate([drop, add])
    top = np.argsort(-mags, kind="stable")[:budget]
    return top[top < drop.size], top[top >= drop.size] - drop.size


# ---------------------------------------------------------------- classifier


@dataclass(frozen=True, kw_only=True)
class LinearClassifier:
    """``h(x) = +1`` if ``w . x - b >= 0`` else ``-1``; ``w = 0`` is the constant ``sign(-b)``.

    Attributes
    ----------
    w : ndarray of shape (d,)
        Normal vector (returned by :class:`GaussianModel` scaled to ``max |w_i| = 1``).
    b : float
        Offset.
    """

    w: np.ndarray
    b: float

    def _check_X(self, X: Any) -> np.ndarray:
        X = np.atleast_2d(_real_array(X, name="X"))
        if X.shape[-1] != self.w.shape[0]:
            raise InvalidInputError(f"X must have {self.w.shape[0]} columns, got {X.shape[-1]}")
        return X

    def decision_function(self, X: Any) -> np.ndarray:
        """``w . x - b`` for each row of ``X`` (finite real numbers)."""
        X = self._check_X(X)
        with np.errstate(over="ignore", invalid="ignore"):
            out = X @ self.w - self.b
        if not np.all(np.isfinite(out)):
            raise NumericalError("decision values w . x - b overflow float64 for this X")
        return out

    def predict(self, X: Any) -> np.ndarray:
        """Labels in ``{+1, -1}`` (ties go to ``+1``)."""
        return np.where(self.decision_function(X) >= 0, 1, -1)

    def worst_case_perturbation(self, X: Any, y: Any, *, eps: float, p: float = 2) -> np.ndarray:
        """The exact worst-case perturbation ``delta`` with ``||delta||_p <= eps``.

        It minimizes the margin ``y (w . (x + delta) - b)``, i.e.
        ``delta = -y eps u`` where ``u`` attains ``max_{||u||_p <= 1} w . u = ||w||_q``.
        """
        p = parse_p(p, allowed=_P_GAUSS)
        eps = check_eps(eps)
        X = self._check_X(X)
        y = _real_array(y, name="y").reshape(-1, 1)
        return -y * eps * _dual_direction(self.w, p)[None, :] * np.ones_like(X)

    def adversarial_error(self, model: GaussianModel, *, eps: float, p: float = 2) -> float:
        """Exact adversarial error of this classifier on ``model`` (no sampling).

        Notes
        -----
        With ``s = sqrt(w' Sigma w)`` and ``q`` the dual exponent,
        ``P(+ wrong) = Phi((b + eps ||w||_q - w . mu_+) / s)`` and
        ``P(- wrong) = Phi((w . mu_- - b + eps ||w||_q) / s)``; the error is their mean.
        Evaluated with ``w`` scaled to ``max |w_i| = 1`` (the classifier is unchanged).
        """
        p = parse_p(p, allowed=_P_GAUSS)
        eps = check_eps(eps)
        if self.w.shape != (model.d,):
            raise InvalidInputError(f"w must have shape ({model.d},), got {self.w.shape}")
        big = float(np.max(np.abs(self.w))) if self.w.size else 0.0
        if big == 0.0:  # constant classifier: one class is always wrong
            return 0.5
        w = self.w / big
        b = self.b / big
        s = model._sigma_norm(w)  # (log2-scale, mantissa) of sqrt(w' Sigma w)
        wq = float(lp_norm(w, dual_exponent(p)))
        with np.errstate(over="ignore", invalid="ignore"):
            a_pos = (b + eps * wq - w @ model.mu_pos)
            a_neg = (w @ model.mu_neg - b + eps * wq)
        if not (math.isfinite(a_pos) and math.isfinite(a_neg)):
            raise NumericalError("the classifier's margins overflow float64 on this model")
        e_pos = ndtr(_ldexp(a_pos / s[1], -s[0]))
        e_neg = ndtr(_ldexp(a_neg / s[1], -s[0]))
        return float(0.5 * (e_pos + e_neg))


def _dual_direction(w: np.ndarray, p: float) -> np.ndarray:
    """``u`` with ``||u||_p = 1`` and ``w . u = ||w||_q`` (zero vector if ``w = 0``)."""
    u = np.zeros_like(w, dtype=float)
    if not np.any(w):
        return u
    if p == 2:
        return w / np.linalg.norm(w / np.max(np.abs(w))) / np.max(np.abs(w))
    if p == math.inf:
        return np.sign(w).astype(float)
    i = int(np.argmax(np.abs(w)))  # p == 1
    u[i] = np.sign(w[i])
    return u


# ------------------------------------------------------------------ solution


@dataclass(frozen=True, kw_only=True)
class GaussianRobustSolution:
    """Optimal robust error of a :class:`GaussianModel` with its two-sided certificate.

    Attributes
    ----------
    error : float
        The optimal robust error: the classifier's exact adversarial error, clipped
        to ``[bayes_error, 1/2]`` (clipping only ever moves it by rounding).
    lower_bound : float
        ``Phi(-||Delta - 2 z||_{Sigma^-1} / 2)`` for the attacker shift ``z``:
        no classifier has a smaller adversarial error.
    upper_bound : float
        Exact adversarial error of ``classifier`` (``>= error``).
    shift : ndarray
        The attacker's shift ``z`` (``||z||_p <= eps``): ``+`` samples move by
        ``-z``, ``-`` samples by ``+z``.
    classifier : LinearClassifier
        A classifier attaining ``upper_bound``.
    eps, p : float
        The budget and the norm.
    method : str
        How the shift was found: ``"feasible"`` (``eps >= feasible_eps``, error 1/2),
        ``"bayes"`` (``eps = 0``), ``"closed form"``, ``"secular"``, ``"active set"``,
        or a fallback ``"bvls"`` / ``"slsqp"`` (each polished and re-certified).
    rtol : float
        The relative tolerance the certificate was checked against,
        ``GAUSSIAN_RTOL * max(1, (D/2)^2)`` (``D/2`` the smaller of the two bounds'
        margins, the classifier's).
    gap : float
        ``upper_bound - lower_bound`` (``<= rtol * upper_bound``).
    """

    error: float
    lower_bound: float
    upper_bound: float
    shift: np.ndarray
    classifier: LinearClassifier
    eps: float
    p: float
    method: str = "closed form"
    rtol: float = GAUSSIAN_RTOL
    gap: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "gap", float(self.upper_bound - self.lower_bound))


@dataclass(frozen=True, kw_only=True)
class _Candidate:
    """A solver's output in normalized coordinates: shift, residual ``c - z``, dual ``w``."""

    z: np.ndarray
    r: np.ndarray
    w: np.ndarray
    method: str


# --------------------------------------------------------------------- model


class GaussianModel:
    """Equal-prior mixture of ``N(mu_pos, Sigma)`` (label +1) and ``N(mu_neg, Sigma)`` (label -1).

    Parameters
    ----------
    mu_pos, mu_neg : array_like of shape (d,)
        Class means (any two finite real vectors; ``mu_neg = -mu_pos`` is not required).
    sigma : float or array_like of shape (d,), default 1.0
        Standard deviation: a scalar gives ``sigma**2 I``, a vector gives
        ``diag(sigma**2)``.  Ignored when ``cov`` is given.
    cov : array_like of shape (d, d), optional
        Shared covariance matrix (symmetric positive definite).

    Raises
    ------
    InvalidTypeError
        Strings, booleans or complex numbers for a mean, ``sigma`` or ``cov``.
    InvalidInputError
        NaN/inf, wrong shapes, ``sigma <= 0``, a covariance that is not symmetric
        positive definite.
    NumericalError
        Standard deviations whose ratio exceeds about ``1e145`` (not representable).

    Attributes
    ----------
    mu_pos, mu_neg, delta, cov : ndarray
        The means, ``mu_pos - mu_neg`` and the covariance, in the user's units.
    condition_number : float
        2-norm condition number of the covariance: exact for a diagonal one; for a full
        one LAPACK's 1-norm estimate (an upper bound up to the estimator's slack), replaced
        by the exact eigenvalue ratio when it exceeds ``GAUSSIAN_MAX_CONDITION``.  Solving
        raises :class:`NumericalError` beyond ``GAUSSIAN_MAX_CONDITION`` (full covariance).

    Examples
    --------
    >>> g = GaussianModel([1.0, 0.0], [-1.0, 0.0], sigma=1.0)
    >>> round(g.bayes_error(), 6), round(g.robust_error(eps=0.5, p=2), 6)
    (0.158655, 0.308538)
    >>> g.feasible_eps(p=2)
    1.0

    References
    ----------
    Shaeiri, Nobahari & Rohban (2020), Definition 6 and Theorem 2 (isotropic l2
    case only); Bhagoji, Cullina & Mittal (2019), "Lower bounds on adversarial
    robustness from optimal transport"; Dan, Wei & Ravikumar (2020).
    """

    def __init__(self, mu_pos: Any, mu_neg: Any, sigma: Any = 1.0, *, cov: Any = None) -> None:
        self.mu_pos = _real_array(mu_pos, name="mu_pos", ndim=1)
        self.mu_neg = _real_array(mu_neg, name="mu_neg", ndim=1)
        if self.mu_pos.size == 0:
            raise InvalidInputError("mu_pos must have at least one coordinate")
        if self.mu_pos.shape != self.mu_neg.shape:
            raise InvalidInputError(
                f"mu_pos and mu_neg must have the same shape, got {self.mu_pos.shape} "
                f"and {self.mu_neg.shape}"
            )
        d = self.mu_pos.size
        self._c, self._ec = self._normalized_half_difference()
        self._S0: np.ndarray | None = None  # normalized full covariance (None if diagonal)
        self._L0: np.ndarray | None = None  # its Cholesky factor
        self._eig: tuple[np.ndarray, np.ndarray] | None = None
        self._S0_ld: np.ndarray | None = None
        self._accurate = False  # doubled-precision residuals (ill-conditioned full cov)
        if cov is not None:
            C = _real_array(cov, name="cov", ndim=2)
            if C.shape != (d, d):
                raise InvalidInputError(f"cov must have shape ({d}, {d}), got {C.shape}")
            top = float(np.max(np.diag(C)))
            if top <= 0.0:
                raise InvalidInputError("cov must be positive definite (its diagonal is not > 0)")
            self._h = (_power_of_two_exponent(top) + 1) // 2
            S0 = _ldexp(C, -2 * self._h)
            if not np.allclose(S0, S0.T, rtol=1e-10, atol=1e-12):
                raise InvalidInputError("cov must be symmetric")
            S0 = 0.5 * (S0 + S0.T)
            self.cov = C
            if np.count_nonzero(S0 - np.diag(np.diag(S0))) == 0:
                self._set_diagonal(np.sqrt(np.diag(S0)), name="cov")
            else:
                try:
                    L0 = linalg.cholesky(S0, lower=True)
                except linalg.LinAlgError:
                    raise InvalidInputError("cov must be positive definite") from None
                self._S0, self._L0 = S0, L0
                anorm = float(np.max(np.sum(np.abs(S0), axis=0)))
                rcond, info = lapack.dpocon(L0, anorm, uplo="L")
                # kappa_2 <= kappa_1 for a symmetric matrix: LAPACK's cheap 1-norm estimate
                # settles most cases; above the limit, the exact kappa_2 from the eigenvalues.
                kappa = math.inf if info != 0 or rcond <= 0 else 1.0 / rcond
                if kappa > GAUSSIAN_MAX_CONDITION:
                    ev = linalg.eigvalsh(S0, check_finite=False)
                    kappa = float(ev[-1] / ev[0]) if ev[0] > 0 else math.inf
                self.condition_number = kappa
                self._accurate = kappa > _ACCURATE_FROM_CONDITION
                self._tau = None
        else:
            s = _real_array(sigma, name="sigma")
            if s.ndim == 0:
                s = np.full(d, float(s))
            elif s.shape != (d,):
                raise InvalidInputError(f"sigma must be a positive scalar or have shape ({d},)")
            if np.any(s <= 0):
                raise InvalidInputError("sigma must be > 0")
            self._h = _power_of_two_exponent(float(np.max(s)))
            self._set_diagonal(_ldexp(s, -self._h), name="sigma")
            with np.errstate(over="ignore", under="ignore"):
                self.cov = np.diag(s**2)
        with np.errstate(over="ignore"):
            self.delta = _ldexp(self._c, self._ec + 1)

    def _set_diagonal(self, tau: np.ndarray, *, name: str) -> None:
        """Diagonal covariance ``4^h diag(tau^2)`` with ``max tau`` in ``[1/2, 1]``."""
        v = tau**2
        if float(np.min(v)) < _MIN_NORMALIZED_VARIANCE:
            raise NumericalError(
                f"{name}: the ratio of the largest to the smallest variance exceeds "
                f"{1 / _MIN_NORMALIZED_VARIANCE:.0e}; not representable in float64")
        self._tau = tau
        self._v = v
        self.condition_number = float(np.max(v) / np.min(v))

    def _normalized_half_difference(self) -> tuple[np.ndarray, int]:
        """``(mu_pos - mu_neg)/2 = 2^e c`` with ``max |c|`` in ``[1/2, 1)`` (exact scalings)."""
        top = max(float(np.max(np.abs(self.mu_pos))), float(np.max(np.abs(self.mu_neg))))
        if top == 0.0:
            return np.zeros(self.mu_pos.size), 0
        e1 = _power_of_two_exponent(top)
        diff = _ldexp(self.mu_pos, -e1) - _ldexp(self.mu_neg, -e1)
        big = float(np.max(np.abs(diff)))
        if big == 0.0:
            return np.zeros(self.mu_pos.size), 0
        e2 = _power_of_two_exponent(big)
        return _ldexp(diff, -e2), e1 + e2 - 1

    # ----------------------------------------------------------------- basics
    @property
    def d(self) -> int:
        """Input dimension."""
        return int(self.mu_pos.size)

    @property
    def dim(self) -> int:
        """Input dimension (same as :attr:`d`, the name :class:`FiniteDistribution` uses)."""
        return self.d

    @property
    def _chol(self) -> np.ndarray:
        """Cholesky factor of the covariance in the user's units (for sampling)."""
        L0 = self._L0 if self._L0 is not None else np.diag(self._tau)
        return _ldexp(L0, self._h)

    @property
    def _is_diagonal(self) -> bool:
        return self._S0 is None

    def _check_conditioning(self) -> None:
        if not self._is_diagonal and not self.condition_number <= GAUSSIAN_MAX_CONDITION:
            raise NumericalError(
                f"cov has condition number about {self.condition_number:.1e} > "
                f"{GAUSSIAN_MAX_CONDITION:.0e} (GAUSSIAN_MAX_CONDITION); its optimum cannot "
                "be certified in float64")

    def _mahalanobis_normalized(self, x: np.ndarray) -> float:
        """``||x||_{Sigma~^{-1}}`` for a vector of moderate size."""
        if self._is_diagonal:
            return _norm2(x / self._tau)
        y = linalg.solve_triangular(self._L0, x, lower=True, check_finite=False)
        return _norm2(y)

    def _sigma_norm_normalized(self, w: np.ndarray) -> float:
        """``sqrt(w' Sigma~ w)``."""
        if self._is_diagonal:
            return _norm2(self._tau * w)
        return _norm2(self._L0.T @ w)

    def _sigma_norm(self, w: np.ndarray) -> tuple[int, float]:
        """``sqrt(w' Sigma w) = 2^e m`` as ``(e, m)`` for ``max |w_i| <= 1``."""
        return self._h, self._sigma_norm_normalized(w)

    def mahalanobis(self, v: Any) -> float:
        """``||v||_{Sigma^{-1}} = sqrt(v' Sigma^{-1} v)``.

        Raises
        ------
        NumericalError
            If the value exceeds the float64 range.
        """
        v = _real_array(v, name="v", ndim=1)
        if v.shape != (self.d,):
            raise InvalidInputError(f"v must have shape ({self.d},), got {v.shape}")
        self._check_conditioning()
        top = float(np.max(np.abs(v)))
        if top == 0.0:
            return 0.0
        e = _power_of_two_exponent(top)
        m = self._mahalanobis_normalized(_ldexp(v, -e))
        out = _ldexp(m, e - self._h)
        if not math.isfinite(out):
            raise NumericalError("mahalanobis: the value exceeds the float64 range")
        return out

    def __repr__(self) -> str:
        try:
            dist = f"{self._margin(self._c.copy()) * 2:.6g}"
        except NumericalError:
            dist = "?"
        return f"GaussianModel(d={self.d}, mahalanobis_distance={dist})"

    def _margin_refined(self, r: np.ndarray, y0: np.ndarray) -> float:
        """``||r||_{Sigma^-1} = sqrt(r . y)``, ``Sigma~ y = r`` refined from a guess ``y0``.

        One step of refinement with an extended-precision residual makes ``y`` accurate
        to float64 rounding, so the norm does not lose the factor ``sqrt(cond)`` of a
        plain triangular solve (it matters from condition numbers of about 1e10).
        """
        if not np.all(np.isfinite(y0)):
            return self._margin(r)
        y = y0
        for _ in range(3 if self._accurate else 1):
            if self._accurate:
                res = -accurate_matvec(self._S0, y, r)
            else:
                Sl = self._S0_extended()
                res = (r.astype(np.longdouble) - Sl @ y.astype(np.longdouble)).astype(float)
            y = y + linalg.cho_solve((self._L0, True), res, check_finite=False)
        big_r, big_y = float(np.max(np.abs(r))), float(np.max(np.abs(y)))
        if big_r == 0.0 or big_y == 0.0:
            return self._margin(r)
        q = accurate_dot(r / big_r, y / big_y)
        if not q > 0:
            return self._margin(r)
        return _ldexp(math.sqrt(q) * math.sqrt(big_r) * math.sqrt(big_y), self._ec - self._h)

    def _margin(self, r: np.ndarray) -> float:
        """``||r||_{Sigma^{-1}}`` in the user's units for a normalized residual ``r``."""
        return _ldexp(self._mahalanobis_normalized(r), self._ec - self._h)

    # ------------------------------------------------------------------ Bayes
    def bayes_error(self) -> float:
        """Bayes error ``Phi(-||mu_+ - mu_-||_{Sigma^{-1}} / 2)``.

        References
        ----------
        Paper Theorem 2 (isotropic case ``Phi(-||mu_1 - mu_-1||_2 / (2 sigma))``).
        """
        self._check_conditioning()
        if not np.any(self._c):
            return 0.5
        return float(ndtr(-self._margin(self._c)))

    def bayes_classifier(self) -> LinearClassifier:
        """Fisher's rule ``w = Sigma^{-1} Delta``, threshold at the midpoint of the means."""
        self._check_conditioning()
        if not np.any(self._c):
            return self._constant_classifier()
        return self._classifier(self._solve(self._c))

    def _solve(self, x: np.ndarray) -> np.ndarray:
        """``Sigma~^{-1} x``."""
        if self._is_diagonal:
            return x / self._v
        return linalg.cho_solve((self._L0, True), x, check_finite=False)

    def _classifier(self, w: np.ndarray) -> LinearClassifier:
        w = np.asarray(w, dtype=float)
        big = float(np.max(np.abs(w)))
        w = w / big if big > 0 else w
        with np.errstate(over="ignore", invalid="ignore"):
            b = float(w @ (0.5 * self.mu_pos) + w @ (0.5 * self.mu_neg))
        if not math.isfinite(b):
            raise NumericalError("the classifier's offset w . (mu_+ + mu_-)/2 overflows float64")
        return LinearClassifier(w=w, b=b)

    def _constant_classifier(self) -> LinearClassifier:
        return LinearClassifier(w=np.zeros(self.d), b=0.0)  # always +1

    # ----------------------------------------------------------------- robust
    def feasible_eps(self, p: Any = 2) -> float:
        """Smallest ``eps`` with optimal robust error 1/2: ``||mu_+ - mu_-||_p / 2``.

        At this budget the attacker's shift ``z = Delta/2`` makes the classes
        identical; below it the linear certificate has a positive margin.  It
        does not depend on the covariance.  ``robust_error`` is exactly 1/2 for
        every ``eps >= feasible_eps(p)`` and below 1/2 (up to rounding) before.
        """
        p = parse_p(p, allowed=_P_GAUSS, name="p")
        out = _ldexp(_norm_p(self._c, p), self._ec)
        if not math.isfinite(out):
            raise NumericalError(
                "feasible_eps: ||mu_pos - mu_neg||_p / 2 exceeds the float64 range")
        return out

    def robust_solution(self, *, eps: float, p: Any = 2) -> GaussianRobustSolution:
        """Optimal robust error with attacker shift and optimal classifier (a certificate).

        Parameters
        ----------
        eps : float
            Perturbation budget, ``>= 0``.
        p : {1, 2, inf} or str
            The norm.

        Returns
        -------
        GaussianRobustSolution
            ``error`` in ``[bayes_error, 1/2]``, exactly 1/2 iff ``eps >=
            feasible_eps(p)``, with ``upper_bound - lower_bound <= rtol * upper_bound``
            (``rtol`` reported on the result, ``GAUSSIAN_RTOL max(1, (D/2)^2)``).

        Raises
        ------
        NumericalError
            If the covariance is too ill-conditioned or the certificate does not
            close even with the fallback solvers.

        Notes
        -----
        In normalized coordinates ``D/2 = min_{||z||_p <= eps} ||c - z||_{Sigma^{-1}}``
        (``c = Delta/2``), solved through its dual ``w = Sigma^{-1}(c - z)``:
        diagonal covariance -- ``p = inf`` clipping, ``p = 1`` exact water-filling,
        ``p = 2`` secular equation; full covariance -- ``p = 2`` secular equation in
        the eigenbasis, ``p in {1, inf}`` an active-set method solving the KKT system
        exactly on the support (fallbacks: BVLS / SLSQP, then polished).  See
        docs/theory.md, "Numerical guarantees: Gaussian".
        """
        p = parse_p(p, allowed=_P_GAUSS, name="p")
        eps = check_eps(eps)
        self._check_conditioning()
        c = self._c
        eps_n = _ldexp(eps, -self._ec)
        if not np.any(c) or eps_n >= _norm_p(c, p):
            z = _ldexp(c, self._ec)
            return GaussianRobustSolution(
                error=0.5, lower_bound=0.5, upper_bound=0.5, shift=z,
                classifier=self._constant_classifier(), eps=eps, p=p, method="feasible")
        if eps_n <= _NEGLIGIBLE_EPS:
            # eps <= 1e-290 ||Delta||: the optimum differs from Bayes by < 1e-140 (relative).
            cands = [_Candidate(z=np.zeros(self.d), r=c.copy(), w=self._solve(c), method="bayes")]
        else:
            cands = self._candidates(c, eps_n, p)
        best: tuple[GaussianRobustSolution, float] | None = None
        self._last_solver_failure = ""
        for cand in cands:
            out = self._certify(cand, eps, eps_n, p)
            if out is None:
                continue
            if out[1] <= out[0].rtol:
                return out[0]
            if best is None or out[1] < best[1]:
                best = out
        failure = getattr(self, "_last_solver_failure", "")
        detail = (f"no usable candidate: {failure or 'non-finite or infeasible'}"
                  if best is None else
                  f"relative gap {best[1]:.2e}, upper {best[0].upper_bound:.6g}")
        raise NumericalError(
            f"the Gaussian optimum at eps={eps!r}, p={p} could not be certified to "
            f"GAUSSIAN_RTOL {GAUSSIAN_RTOL:.0e} ({detail}); condition number about "
            f"{self.condition_number:.1e}")

    def _candidates(self, c: np.ndarray, eps: float, p: float):
        """Yield candidate solutions, fast method first, then the robust fallbacks."""
        if p == 2:
            yield self._l2_secular(c, eps)
            return
        if self._is_diagonal:
            yield self._linf_diagonal(c, eps) if p == math.inf else self._l1_diagonal(c, eps)
            return
        fast = self._linf_active_set if p == math.inf else self._l1_active_set
        try:
            yield fast(c, eps, None)
        except SolverError as exc:
            self._last_solver_failure = str(exc)
        if self.d <= _FALLBACK_MAX_DIM:
            z = self._bvls_shift(c, eps) if p == math.inf else self._slsqp_shift(c, eps)
            name = "bvls" if p == math.inf else "slsqp"
            try:
                cand = fast(c, eps, z)
                yield _Candidate(z=cand.z, r=cand.r, w=cand.w, method=name)
            except SolverError:
                r = c - z
                yield _Candidate(z=z, r=r, w=self._solve(r), method=name)

    def _certify(self, cand: _Candidate, eps: float, eps_n: float,
                 p: float) -> tuple[GaussianRobustSolution, float] | None:
        """Both bounds of a candidate, in the user's units; ``None`` if it is unusable."""
        z, r, w = cand.z, cand.r, cand.w
        if not (np.all(np.isfinite(z)) and np.all(np.isfinite(r)) and np.all(np.isfinite(w))):
            return None
        big = float(np.max(np.abs(w)))
        if big == 0.0:
            return None
        w = _ldexp(w, -_power_of_two_exponent(big))  # exact rescaling to max |w_i| < 1
        nz = _norm_p(z, p)
        if nz > eps_n:
            # Pull the shift back into the ball (the lower bound needs a feasible z).  Beyond
            # rounding, the stable residual no longer matches: recompute r = c - z.
            recompute = nz > eps_n * (1.0 + 1e-12)
            while nz > eps_n:
                z = z * (eps_n / nz * (1.0 - 2 * _EPS))
                nz = _norm_p(z, p)
            if recompute:
                r = self._c - z
        # Lower bound: the attacker's shift z gives margin ||c - z||_{Sigma^-1}.
        m_low = self._margin(r) if self._is_diagonal else self._margin_refined(r, cand.w)
        # Upper bound: the classifier w has margin (w.c - eps ||w||_q) / ||w||_Sigma, evaluated
        # as (w.r + (w.z - eps ||w||_q)) / ||w||_Sigma (no cancellation near feasibility).
        if self._is_diagonal:
            if p == math.inf:
                hold = math.fsum((np.abs(w) * (np.sign(w) * z - eps_n)).tolist())
            elif p == 1:
                hold = math.fsum((w * z).tolist() + [-eps_n * float(np.max(np.abs(w)))])
            else:
                hold = math.fsum((w * z).tolist() + [-eps_n * _norm2(w)])
            num = math.fsum((w * r).tolist()) + hold
            w_sigma = self._sigma_norm_normalized(w)
        else:
            # Extended precision: w is large along the covariance's small eigenvectors, and
            # w . r, w' Sigma w cancel by up to sqrt(cond) in float64.
            wl, zl, el = w.astype(np.longdouble), z.astype(np.longdouble), np.longdouble(eps_n)
            if p == math.inf:
                hold_l = np.sum(np.abs(wl) * (np.sign(wl) * zl - el))
            elif p == 1:
                hold_l = wl @ zl - el * np.max(np.abs(wl))
            else:
                hold_l = wl @ zl - el * np.sqrt(wl @ wl)
            num = float(wl @ r.astype(np.longdouble) + hold_l)
            if self._accurate:
                w_sigma = math.sqrt(max(accurate_dot(w, accurate_matvec(self._S0, w)), 0.0))
            else:
                w_sigma = math.sqrt(max(float(wl @ (self._S0_extended() @ wl)), 0.0))
        if not w_sigma > 0:
            return None
        m_up = _ldexp(num / w_sigma, self._ec - self._h)
        lower = float(ndtr(-m_low))
        upper = min(float(ndtr(-m_up)), 0.5)
        # Relative gap (upper - lower) / upper from log-probabilities (exact in the far tail).
        if upper == 0.0:
            rel = 0.0
        else:
            lg = float(log_ndtr(-m_low)) - float(log_ndtr(-max(m_up, 0.0)))
            rel = max(-math.expm1(lg), 0.0) if not math.isnan(lg) else math.inf
        bayes = float(ndtr(-self._margin(self._c)))
        error = min(max(upper, bayes), 0.5)
        sol = GaussianRobustSolution(
            error=error, lower_bound=min(lower, error), upper_bound=max(upper, error),
            shift=_ldexp(z, self._ec), classifier=self._classifier(w), eps=eps, p=p,
            method=cand.method,
            # The smaller (classifier's) margin sets the tolerance, so a wrong lower
            # bound cannot loosen its own check.
            rtol=GAUSSIAN_RTOL * max(1.0, min(max(m_up, 0.0), m_low, 1e150) ** 2))
        return sol, rel

    def robust_error(self, *, eps: float, p: Any = 2) -> float:
        """Optimal robust error over all classifiers, ``Phi(-D/2)`` (see :meth:`robust_solution`).

        References
        ----------
        Paper Theorem 2 states ``Phi((2 eps - ||Delta||_2) / (2 sigma))`` for the
        isotropic l2 case; that formula exceeds 1/2 when ``eps > ||Delta||_2 / 2``,
        where the true optimum is 1/2 (docs/errata.md).
        """
        return self.robust_solution(eps=eps, p=p).error

    def robust_classifier(self, *, eps: float, p: Any = 2) -> LinearClassifier:
        """A classifier attaining :meth:`robust_error` (linear; constant past ``feasible_eps``)."""
        return self.robust_solution(eps=eps, p=p).classifier

    # ------------------------------------------------------- solvers (normalized)
    def _linf_diagonal(self, c: np.ndarray, eps: float) -> _Candidate:
        """``z = clip(c, -eps, eps)``, ``r_i = sign(c_i) (|c_i| - eps)_+`` (exact)."""
        r = np.sign(c) * np.maximum(np.abs(c) - eps, 0.0)
        z = np.sign(c) * np.minimum(np.abs(c), eps)
        return _Candidate(z=z, r=r, w=r / self._v, method="closed form")

    def _l1_diagonal(self, c: np.ndarray, eps: float) -> _Candidate:
        """Water-filling: ``r_i = sign(c_i) min(|c_i|, lam v_i)``, ``sum(|c_i|-lam v_i)_+ = eps``.

        The breakpoints ``|c_i| / v_i`` are sorted; on the final support ``S``,
        ``lam = (sum_S |c_i| - eps) / sum_S v_i`` is evaluated with an exactly
        rounded sum, so ``lam -> 0`` without cancellation as ``eps -> ||c||_1``.
        """
        v, a = self._v, np.abs(c)
        brk = a / v
        order = np.argsort(-brk, kind="stable")
        ca, sv = np.cumsum(a[order]), np.cumsum(v[order])
        lam = 0.0
        m = len(order)
        for m in range(1, len(order) + 1):
            lam = (ca[m - 1] - eps) / sv[m - 1]
            nxt = brk[order[m]] if m < len(order) else 0.0
            if lam >= nxt:
                break
        S = order[:m]
        lam = max(math.fsum(a[S].tolist() + [-eps]) / math.fsum(v[S].tolist()), 0.0)
        r = np.sign(c) * np.minimum(a, lam * v)
        z = np.sign(c) * np.maximum(a - lam * v, 0.0)
        return _Candidate(z=z, r=r, w=r / v, method="closed form")

    def _S0_extended(self) -> np.ndarray:
        """The normalized covariance in long double (cached), for refinement residuals."""
        if self._S0_ld is None:
            self._S0_ld = self._S0.astype(np.longdouble)
        return self._S0_ld

    def _eigen(self) -> tuple[np.ndarray, np.ndarray]:
        if self._eig is None:
            lam, V = linalg.eigh(self._S0, check_finite=False)
            self._eig = (np.maximum(lam, float(np.max(lam)) / GAUSSIAN_MAX_CONDITION / 10), V)
        return self._eig

    def _l2_secular(self, c: np.ndarray, eps: float) -> _Candidate:
        """``z = (I + mu Sigma)^{-1} c`` with ``||z||_2 = eps``, ``r = mu Sigma z``, ``w = mu z``.

        ``psi(mu) = 1/||z(mu)|| - 1/eps`` is concave and increasing (trust-region
        secular equation, More & Sorensen 1983), so Newton's method from
        ``mu = 0`` converges monotonically from below; the root is then
        bracketed and refined by ``brentq`` if Newton stalls.
        """
        if self._is_diagonal:
            lam, V, x = self._v, None, c
        else:
            lam, V = self._eigen()
            x = V.T @ c
        nx = _norm2(c)  # ||V'c|| = ||c||: the same rounding as the feasibility test eps < ||c||

        def z_of(mu: float) -> np.ndarray:
            return x / (1.0 + mu * lam)

        mu = 0.0
        for _ in range(200):
            zc = z_of(mu)
            nz = _norm2(zc)
            psi = 1.0 / nz - 1.0 / eps if mu > 0 else (eps - nx) / (nx * eps)
            u = zc / nz
            dpsi = float(np.sum(lam * u**2 / (1.0 + mu * lam))) / nz
            if not (math.isfinite(psi) and math.isfinite(dpsi)) or dpsi <= 0:
                break
            step = -psi / dpsi
            if step <= abs(mu) * 4 * _EPS or not math.isfinite(mu + step):
                if step > 0 and math.isfinite(mu + step):
                    mu += step
                break
            mu += step
        if not math.isfinite(mu):
            raise NumericalError("the l2 secular equation overflowed; eps is too small for "
                                 "this model's scale")
        zc = z_of(mu)
        nz = _norm2(zc)
        if not nz <= eps * (1 + 1e-6):
            # Newton stopped early: bracket the root and refine (||z(mu)|| is decreasing).
            def f(t: float) -> float:
                return _norm2(z_of(t)) - eps

            hi = max(2.0 * mu, 1.0)
            while f(hi) > 0:
                hi *= 2.0
                if not math.isfinite(hi):
                    raise NumericalError("the l2 secular equation has no bracket in float64")
            mu = optimize.brentq(f, mu, hi, xtol=1e-300, rtol=4 * _EPS, maxiter=500)
            zc = z_of(mu)
            nz = _norm2(zc)
        if nz > eps:  # Newton approaches the root from below in mu: rescale onto the sphere
            zc = zc * (eps / nz)
        rc = mu * lam * zc
        wc = mu * zc
        if V is None:
            return _Candidate(z=zc, r=rc, w=wc, method="secular")
        return _Candidate(z=V @ zc, r=V @ rc, w=V @ wc, method="secular")

    def _linf_active_set(self, c: np.ndarray, eps: float,
                         z0: np.ndarray | None) -> _Candidate:
        """Active set for ``min_w 1/2 w' S w - c.w + eps ||w||_1`` (dual of the l_inf problem).

        On the active set ``A`` with signs ``s``: ``S_AA w_A = c_A - eps s_A``,
        ``w = 0`` elsewhere, so ``z = c - S w`` has ``z_A = eps s_A`` and
        ``r_A = c_A - eps s_A`` exactly.  Optimal iff ``sign(w_A) = s_A`` and
        ``|z_i| <= eps`` off ``A``; violators are swapped (primal-dual active set).
        If that does not settle: the exact homotopy (:meth:`_linf_homotopy`, ``d <= 600``),
        then a continuation in ``eps`` from ``feasible_eps`` (where ``A`` is empty)
        with warm starts.  The settled system is refined in extended precision.
        """
        s = np.where(np.abs(c) > eps, np.sign(c), 0.0)  # exact when S is diagonal
        if z0 is not None:
            s = np.where(np.abs(z0) >= eps * (1 - 1e-9), np.sign(z0), 0.0)
        try:
            return self._linf_pdas(c, eps, s, _DIRECT_ITERATIONS, _DIRECT_ITERATIONS)[0]
        except SolverError:
            pass
        if self.d <= _HOMOTOPY_MAX_DIM:
            try:
                s = self._linf_homotopy(c, eps)
                return self._linf_pdas(c, eps, s, _DIRECT_ITERATIONS, _FULL_SWAP_ITERATIONS)[0]
            except SolverError:
                pass
        fe = float(np.max(np.abs(c)))
        return self._continuation(self._linf_pdas, c, eps, fe, np.zeros(self.d))

    def _linf_homotopy(self, c: np.ndarray, eps: float) -> np.ndarray:
        """Signs of the active set at ``eps``, following the piecewise-linear path ``w(eps)``.

        From ``eps = ||c||_inf`` (``w = 0``) down to the target: on the active set
        ``dw_A/d(-eps) = u = S_AA^{-1} s_A`` and off it ``dz/d(-eps) = -S u``; the next
        event is the first coordinate whose ``|z_i|`` reaches the shrinking budget (it
        joins ``A``) or whose ``w_i`` reaches 0 (it leaves).  This is the homotopy of
        Osborne, Presnell & Turlach (2000) / LARS-lasso (Efron et al. 2004) for the dual;
        one updated Cholesky factor, so each event costs ``O(d^2)``.  The exact KKT solve
        (:meth:`_linf_pdas`) then polishes the final pattern.
        """
        S, d = self._S0, self.d
        chol = UpdatedCholesky(d)
        A: list[int] = []
        s = np.zeros(d)
        w = np.zeros(d)
        e = float(np.max(np.abs(c)))
        z = c.copy()
        just: int | None = None
        for step in range(8 * d + 100):
            if step % 50 == 49:  # refresh against drift
                z = c - S @ w
            if not A:
                i = int(np.argmax(np.abs(z)))
                A.append(i)
                s[i] = np.sign(z[i])
                chol.append(np.zeros(0), float(S[i, i]))
            sA = s[A]
            u = np.zeros(d)
            u[A] = chol.solve(sA)
            a = S @ u
            gap = e - eps
            if gap <= 0:
                break
            free = np.ones(d, dtype=bool)
            free[A] = False
            with np.errstate(divide="ignore", invalid="ignore"):
                d_pos = np.where(free & (1 - a > 0), (e - z) / (1 - a), np.inf)
                d_neg = np.where(free & (1 + a > 0), (e + z) / (1 + a), np.inf)
                d_drop = np.full(d, np.inf)
                Aa = np.array(A)
                ratio = -w[Aa] / u[Aa]
                d_drop[Aa] = np.where(ratio > 0, ratio, np.inf)
            if just is not None:
                d_pos[just] = d_neg[just] = d_drop[just] = np.inf
            d_pos = np.maximum(d_pos, 0.0)
            d_neg = np.maximum(d_neg, 0.0)
            cands = (float(np.min(d_pos)), float(np.min(d_neg)), float(np.min(d_drop)), gap)
            k = int(np.argmin(cands))
            delta = cands[k]
            w += delta * u
            z -= delta * a
            e -= delta
            if k == 3:
                break
            if k == 2:
                i = int(np.argmin(d_drop))
                pos = A.index(i)
                chol.delete(pos)
                A.pop(pos)
                s[i] = 0.0
                w[i] = 0.0
            else:
                i = int(np.argmin(d_pos if k == 0 else d_neg))
                s[i] = 1.0 if k == 0 else -1.0
                chol.append(S[A, i], float(S[i, i]))
                A.append(i)
            just = i
        else:
            raise SolverError("l_inf homotopy did not reach the target budget")
        return s

    def _continuation(self, step, c: np.ndarray, eps: float, fe: float,
                      s: np.ndarray) -> _Candidate:
        """Follow ``eps`` from ``fe`` down to the target, warm-started; halve steps on failure."""
        done, h = 0.0, 1.0 / 16
        cand = None
        while done < 1.0:
            t = min(1.0, done + h)
            e = eps if t >= 1.0 else fe - t * (fe - eps)
            try:
                cand, s_new = step(c, e, s.copy(), _CONTINUATION_ITERATIONS, _FULL_SWAP_ITERATIONS)
            except SolverError:
                h /= 2
                if h < 1.0 / 4096:
                    raise
                continue
            s, done, h = s_new, t, min(1.5 * h, 0.25)
        assert cand is not None
        return cand

    def _linf_pdas(self, c: np.ndarray, eps: float, s: np.ndarray, max_iter: int,
                   full_swaps: int) -> tuple[_Candidate, np.ndarray]:
        S, d = self._S0, self.d
        tol = 8 * _EPS
        for it in range(max_iter):
            A = np.flatnonzero(s)
            w = np.zeros(d)
            fac = None
            if A.size:
                try:
                    fac = linalg.cho_factor(S[np.ix_(A, A)], lower=True)
                except linalg.LinAlgError:
                    raise SolverError("active-set block not positive definite") from None
                w[A] = linalg.cho_solve(fac, c[A] - eps * s[A], check_finite=False)
            Sw = S @ w
            g = c - Sw
            wrong = A[w[A] * s[A] < 0]
            out = np.abs(g) > eps * (1 + tol)
            out[A] = False
            add = np.flatnonzero(out)
            if wrong.size == 0 and add.size == 0 and fac is not None:
                # Settled: refine w_A with extended-precision residuals, then re-check.
                Sl = self._S0_extended()
                if self._accurate:
                    def residual(xa: np.ndarray, A: np.ndarray = A) -> np.ndarray:
                        full = np.zeros(d)
                        full[A] = xa
                        return -accurate_matvec(S, full, c)[A] - eps * s[A]

                    w[A] = refine_with(residual, fac, w[A])
                else:
                    rhs = c[A].astype(np.longdouble) - np.longdouble(eps) * s[A]
                    w[A] = refine(Sl[np.ix_(A, A)], fac, rhs, w[A])
                Sw = (accurate_matvec(S, w) if self._accurate else
                      (Sl @ w.astype(np.longdouble)).astype(float))
                g = c - Sw
                wrong = A[w[A] * s[A] < 0]
                out = np.abs(g) > eps * (1 + tol)
                out[A] = False
                add = np.flatnonzero(out)
            if wrong.size == 0 and add.size == 0:
                r = Sw.copy()
                r[A] = c[A] - eps * s[A]
                z = c - r
                z[A] = eps * s[A]
                return _Candidate(z=z, r=r, w=w, method="active set"), s
            keep_w, keep_a = _limited_swaps(
                it, full_swaps, np.abs(w[wrong]) * np.diag(S)[wrong], np.abs(g[add]) - eps)
            s[wrong[keep_w]] = 0.0
            s[add[keep_a]] = np.sign(g[add[keep_a]])
        raise SolverError("l_inf active set did not converge")

    def _l1_active_set(self, c: np.ndarray, eps: float,
                       z0: np.ndarray | None) -> _Candidate:
        """Active set for ``min_w 1/2 w' S w - c.w + eps ||w||_inf`` (dual of the l1 problem).

        ``J`` (signs ``s``) is where ``|w_i| = lam = ||w||_inf``, ``F`` the rest.  KKT:
        ``z = c - S w`` vanishes on ``F`` and ``s . z_J = eps`` with ``s_i z_i >= 0``.
        For fixed ``(J, s)`` the unknowns ``(w_F, lam)`` solve the SPD system
        ``T' S T x = T' c - eps e_lam`` with ``w = T x``; violators (``|w_i| > lam`` on
        ``F``, ``s_i z_i < 0`` on ``J``) are swapped until none is left.  If that does
        not settle, a continuation in ``eps`` from ``feasible_eps`` (where
        ``J = supp(c)`` with ``s = sign(c)``) follows the solution path.
        """
        if z0 is None:
            z0 = self._diag_l1_guess(c, eps)
        s = np.where(np.abs(z0) > 0, np.sign(z0), 0.0)
        if not np.any(s):
            i = int(np.argmax(np.abs(c)))
            s[i] = np.sign(c[i])
        try:
            return self._l1_pdas(c, eps, s, _DIRECT_ITERATIONS, _DIRECT_ITERATIONS)[0]
        except SolverError:
            pass
        fe = math.fsum(np.abs(c).tolist())
        return self._continuation(self._l1_pdas, c, eps, fe, np.sign(c))

    def _l1_pdas(self, c: np.ndarray, eps: float, s: np.ndarray, max_iter: int,
                 full_swaps: int) -> tuple[_Candidate, np.ndarray]:
        S, d = self._S0, self.d
        tol = 8 * _EPS
        for it in range(max_iter):
            if not np.any(s):
                raise SolverError("l1 active set emptied")
            J = np.flatnonzero(s)
            F = np.flatnonzero(s == 0)
            sJ = s[J]
            SJs = S[:, J] @ sJ  # S T e_lam
            M = np.empty((F.size + 1, F.size + 1))
            M[:F.size, :F.size] = S[np.ix_(F, F)]
            M[:F.size, F.size] = SJs[F]
            M[F.size, :F.size] = SJs[F]
            M[F.size, F.size] = float(sJ @ SJs[J])
            rhs = np.concatenate([c[F], [math.fsum((sJ * c[J]).tolist() + [-eps])]])
            try:
                fac = linalg.cho_factor(M, lower=True)
            except linalg.LinAlgError:
                raise SolverError("active-set block not positive definite") from None
            x = linalg.cho_solve(fac, rhs, check_finite=False)
            lam = float(x[-1])
            if not lam > 0:
                raise SolverError("active set gave a non-positive dual norm")
            w = np.zeros(d)
            w[J] = lam * sJ
            w[F] = x[:-1]
            Sw = S @ w
            zJ = c[J] - Sw[J]
            wrong = J[sJ * zJ < -tol * eps]
            over = F[np.abs(w[F]) > lam * (1 + tol)]
            if wrong.size == 0 and over.size == 0:
                # Settled: refine (w_F, lam) with extended-precision residuals, re-check.
                Sl = self._S0_extended()
                cl = c.astype(np.longdouble)
                if self._accurate:
                    def residual(xv: np.ndarray, J: np.ndarray = J, F: np.ndarray = F,
                                 sJ: np.ndarray = sJ) -> np.ndarray:
                        full = np.zeros(d)
                        full[J] = xv[-1] * sJ
                        full[F] = xv[:-1]
                        gv = -accurate_matvec(S, full, c)  # c - S w, doubled precision
                        return np.concatenate(
                            [gv[F], [math.fsum((sJ * gv[J]).tolist() + [-eps])]])

                    x = refine_with(residual, fac, x)
                else:
                    SJl = Sl[:, J] @ sJ.astype(np.longdouble)
                    Ml = np.empty((F.size + 1, F.size + 1), dtype=np.longdouble)
                    Ml[:F.size, :F.size] = Sl[np.ix_(F, F)]
                    Ml[:F.size, F.size] = SJl[F]
                    Ml[F.size, :F.size] = SJl[F]
                    Ml[F.size, F.size] = sJ.astype(np.longdouble) @ SJl[J]
                    rl = np.concatenate([cl[F], [sJ.astype(np.longdouble) @ cl[J] - eps]])
                    x = refine(Ml, fac, rl, x)
                lam = float(x[-1])
                w[J] = lam * sJ
                w[F] = x[:-1]
                if self._accurate:
                    Sw = accurate_matvec(S, w)
                    zJ = c[J] - Sw[J]
                else:
                    Swl = Sl @ w.astype(np.longdouble)
                    Sw = Swl.astype(float)
                    zJ = (cl[J] - Swl[J]).astype(float)
                wrong = J[sJ * zJ < -tol * eps]
                over = F[np.abs(w[F]) > lam * (1 + tol)]
            if wrong.size == 0 and over.size == 0 and lam > 0:
                r = c.copy()
                r[J] = Sw[J]
                z = np.zeros(d)
                z[J] = sJ * np.maximum(sJ * zJ, 0.0)
                return _Candidate(z=z, r=r, w=w, method="active set"), s
            keep_w, keep_o = _limited_swaps(
                it, full_swaps, -(sJ * zJ)[np.isin(J, wrong)],
                (np.abs(w[over]) - lam) * np.diag(S)[over])
            s[wrong[keep_w]] = 0.0
            s[over[keep_o]] = np.sign(w[over[keep_o]])
        raise SolverError("l1 active set did not converge")

    def _diag_l1_guess(self, c: np.ndarray, eps: float) -> np.ndarray:
        """Water-filling with the diagonal of ``S`` (the exact answer when ``S`` is diagonal)."""
        v, a = np.diag(self._S0), np.abs(c)
        brk = a / v
        order = np.argsort(-brk, kind="stable")
        ca, sv = np.cumsum(a[order]), np.cumsum(v[order])
        lam = 0.0
        for m in range(1, len(order) + 1):
            lam = (ca[m - 1] - eps) / sv[m - 1]
            nxt = brk[order[m]] if m < len(order) else 0.0
            if lam >= nxt:
                break
        return np.sign(c) * np.maximum(a - max(lam, 0.0) * v, 0.0)

    def _bvls_shift(self, c: np.ndarray, eps: float) -> np.ndarray:
        """Fallback for l_inf: bounded-variable least squares on ``L^{-1}(c - z)``."""
        A = linalg.solve_triangular(self._L0, np.eye(self.d), lower=True)
        res = optimize.lsq_linear(A, A @ c, bounds=(-eps, eps), method="bvls", tol=1e-15)
        return np.clip(res.x, -eps, eps)

    def _slsqp_shift(self, c: np.ndarray, eps: float) -> np.ndarray:
        """Fallback for l1: SLSQP on the split variables ``z = u - v``, ``u, v >= 0``."""
        d = self.d
        Sinv = linalg.cho_solve((self._L0, True), np.eye(d))

        def f(v: np.ndarray) -> tuple[float, np.ndarray]:
            r = c - (v[:d] - v[d:])
            g = Sinv @ r
            return float(r @ g), np.concatenate([-2 * g, 2 * g])

        x0 = np.concatenate([np.maximum(c, 0), np.maximum(-c, 0)])
        x0 *= eps / max(float(np.sum(x0)), 1e-300)
        res = optimize.minimize(
            f, x0, jac=True, method="SLSQP", bounds=[(0, None)] * (2 * d),
            constraints=[{"type": "ineq", "fun": lambda v: eps - np.sum(v),
                          "jac": lambda v: -np.ones_like(v)}],
            options={"ftol": 1e-15, "maxiter": 1000},
        )
        v = np.maximum(res.x, 0)
        z = v[:d] - v[d:]
        n1 = float(np.sum(np.abs(z)))
        return z * (eps / n1) if n1 > eps else z

    # --------------------------------------------------------------- sampling
    def sample(self, n: int, rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` labelled samples ``(X, y)``; ``y`` in ``{+1, -1}`` with probability 1/2.

        Examples
        --------
        >>> X, y = GaussianModel([1.0], [-1.0]).sample(4, rng=0)
        >>> X.shape, sorted(set(y.tolist())) <= [-1, 1]
        ((4, 1), True)
        """
        n = check_int(n, name="n", minimum=0)
        gen = check_rng(rng)
        y = np.where(gen.random(n) < 0.5, 1, -1)
        noise = gen.standard_normal((n, self.d)) @ self._chol.T
        X = np.where(y[:, None] == 1, self.mu_pos, self.mu_neg) + noise
        return X, y
