"""The Gaussian model: two classes with a shared covariance, exact Bayes and robust error.

The method and its numerical contract are described in :mod:`optrobust.gaussian`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import linalg
from scipy.linalg import lapack
from scipy.special import ndtr

from optrobust.errors import InvalidInputError, NumericalError, ResourceLimitError, SolverError
from optrobust.gaussian._certificate import CertificateMixin
from optrobust.gaussian._diagonal import DiagonalSolversMixin
from optrobust.gaussian._full import FullCovarianceSolversMixin
from optrobust.gaussian._normalized import (
    GAUSSIAN_MAX_CONDITION,
    GAUSSIAN_RTOL,
    P_GAUSS,
    Candidate,
    ldexp,
    norm2,
    norm_p,
    power_of_two_exponent,
)
from optrobust.gaussian.results import GaussianRobustSolution, LinearClassifier
from optrobust.norms import parse_p
from optrobust.validation import check_eps, check_finite_array, check_int, check_rng

#: Largest ``n * d`` that :meth:`GaussianModel.sample` draws at once (1.6 GB of float64).
MAX_SAMPLE_ENTRIES = 2 * 10**8

__all__ = ["GaussianModel"]

# Smallest normalized variance of a diagonal covariance (ratio of the smallest to
# the largest variance): below it 1/variance is not representable.
_MIN_NORMALIZED_VARIANCE = 1e-290
# A budget below this (in units of max |Delta_i| / 2) changes the optimum by less than 1e-140
# relative (the normalized Mahalanobis norms are below 1e145): it is solved as eps = 0.
_NEGLIGIBLE_EPS = 1e-290
# Dimension up to which the slow, robust fallback solvers (BVLS, SLSQP) are tried.
_FALLBACK_MAX_DIM = 300
# Condition number from which residuals and certificate use doubled precision (Dot2).
_ACCURATE_FROM_CONDITION = 1e6


class GaussianModel(CertificateMixin, DiagonalSolversMixin, FullCovarianceSolversMixin):
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
        self.mu_pos = check_finite_array(mu_pos, name="mu_pos", ndim=1)
        self.mu_neg = check_finite_array(mu_neg, name="mu_neg", ndim=1)
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
            C = check_finite_array(cov, name="cov", ndim=2)
            if C.shape != (d, d):
                raise InvalidInputError(f"cov must have shape ({d}, {d}), got {C.shape}")
            top = float(np.max(np.diag(C)))
            if top <= 0.0:
                raise InvalidInputError("cov must be positive definite (its diagonal is not > 0)")
            self._h = (power_of_two_exponent(top) + 1) // 2
            S0 = ldexp(C, -2 * self._h)
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
            s = check_finite_array(sigma, name="sigma")
            if s.ndim == 0:
                s = np.full(d, float(s))
            elif s.shape != (d,):
                raise InvalidInputError(f"sigma must be a positive scalar or have shape ({d},)")
            if np.any(s <= 0):
                raise InvalidInputError("sigma must be > 0")
            self._h = power_of_two_exponent(float(np.max(s)))
            self._set_diagonal(ldexp(s, -self._h), name="sigma")
            with np.errstate(over="ignore", under="ignore"):
                self.cov = np.diag(s**2)
        with np.errstate(over="ignore"):
            self.delta = ldexp(self._c, self._ec + 1)

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
        e1 = power_of_two_exponent(top)
        diff = ldexp(self.mu_pos, -e1) - ldexp(self.mu_neg, -e1)
        big = float(np.max(np.abs(diff)))
        if big == 0.0:
            return np.zeros(self.mu_pos.size), 0
        e2 = power_of_two_exponent(big)
        return ldexp(diff, -e2), e1 + e2 - 1

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
        return ldexp(L0, self._h)

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
            return norm2(x / self._tau)
        y = linalg.solve_triangular(self._L0, x, lower=True, check_finite=False)
        return norm2(y)

    def _sigma_norm_normalized(self, w: np.ndarray) -> float:
        """``sqrt(w' Sigma~ w)``."""
        if self._is_diagonal:
            return norm2(self._tau * w)
        return norm2(self._L0.T @ w)

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
        v = check_finite_array(v, name="v", ndim=1)
        if v.shape != (self.d,):
            raise InvalidInputError(f"v must have shape ({self.d},), got {v.shape}")
        self._check_conditioning()
        top = float(np.max(np.abs(v)))
        if top == 0.0:
            return 0.0
        e = power_of_two_exponent(top)
        m = self._mahalanobis_normalized(ldexp(v, -e))
        out = ldexp(m, e - self._h)
        if not math.isfinite(out):
            raise NumericalError("mahalanobis: the value exceeds the float64 range")
        return out

    def __repr__(self) -> str:
        try:
            dist = f"{self._margin(self._c.copy()) * 2:.6g}"
        except NumericalError:
            dist = "?"
        return f"GaussianModel(d={self.d}, mahalanobis_distance={dist})"

    def _margin(self, r: np.ndarray) -> float:
        """``||r||_{Sigma^{-1}}`` in the user's units for a normalized residual ``r``."""
        return ldexp(self._mahalanobis_normalized(r), self._ec - self._h)

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
        p = parse_p(p, allowed=P_GAUSS, name="p")
        out = ldexp(norm_p(self._c, p), self._ec)
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
        p = parse_p(p, allowed=P_GAUSS, name="p")
        eps = check_eps(eps)
        self._check_conditioning()
        c = self._c
        eps_n = ldexp(eps, -self._ec)
        if not np.any(c) or eps_n >= norm_p(c, p):
            z = ldexp(c, self._ec)
            return GaussianRobustSolution(
                error=0.5, lower_bound=0.5, upper_bound=0.5, shift=z,
                classifier=self._constant_classifier(), eps=eps, p=p, method="feasible")
        if eps_n <= _NEGLIGIBLE_EPS:
            # eps <= 1e-290 ||Delta||: the optimum differs from Bayes by < 1e-140 (relative).
            cands = [Candidate(z=np.zeros(self.d), r=c.copy(), w=self._solve(c), method="bayes")]
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
                yield Candidate(z=cand.z, r=cand.r, w=cand.w, method=name)
            except SolverError:
                r = c - z
                yield Candidate(z=z, r=r, w=self._solve(r), method=name)

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

    def _S0_extended(self) -> np.ndarray:
        """The normalized covariance in long double (cached), for refinement residuals."""
        if self._S0_ld is None:
            self._S0_ld = self._S0.astype(np.longdouble)
        return self._S0_ld

    # --------------------------------------------------------------- sampling
    def sample(self, n: int, rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` labelled samples ``(X, y)``; ``y`` in ``{+1, -1}`` with probability 1/2.

        ``n * d`` is bounded by :data:`MAX_SAMPLE_ENTRIES` (checked before drawing).

        Examples
        --------
        >>> X, y = GaussianModel([1.0], [-1.0]).sample(4, rng=0)
        >>> X.shape, sorted(set(y.tolist())) <= [-1, 1]
        ((4, 1), True)
        """
        n = check_int(n, name="n", minimum=0)
        if n * self.d > MAX_SAMPLE_ENTRIES:
            raise ResourceLimitError(
                f"n * d = {n} * {self.d} exceeds MAX_SAMPLE_ENTRIES = {MAX_SAMPLE_ENTRIES} "
                "(float64 entries drawn at once); draw the sample in smaller batches")
        gen = check_rng(rng)
        y = np.where(gen.random(n) < 0.5, 1, -1)
        noise = gen.standard_normal((n, self.d)) @ self._chol.T
        X = np.where(y[:, None] == 1, self.mu_pos, self.mu_neg) + noise
        return X, y
