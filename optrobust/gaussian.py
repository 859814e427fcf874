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
the exact adversarial error of the linear classifier.  See ``docs/theory.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import linalg, optimize
from scipy.special import ndtr

from optrobust._validation import check_eps, check_finite_array, check_int, check_rng
from optrobust.norms import dual_exponent, lp_norm, parse_p

__all__ = ["GaussianModel", "GaussianRobustSolution", "LinearClassifier"]

_P_GAUSS = (1, 2, math.inf)


@dataclass(frozen=True)
class LinearClassifier:
    """``h(x) = +1`` if ``w . x - b >= 0`` else ``-1``; ``w = 0`` is the constant ``sign(-b)``.

    Attributes
    ----------
    w : ndarray of shape (d,)
        Normal vector.
    b : float
        Offset.
    """

    w: np.ndarray
    b: float

    def decision_function(self, X: Any) -> np.ndarray:
        """``w . x - b`` for each row of ``X``."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if X.shape[-1] != self.w.shape[0]:
            raise ValueError(f"X must have {self.w.shape[0]} columns, got {X.shape[-1]}")
        return X @ self.w - self.b

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
        X = np.atleast_2d(np.asarray(X, dtype=float))
        y = np.asarray(y, dtype=float).reshape(-1, 1)
        return -y * eps * _dual_direction(self.w, p)[None, :] * np.ones_like(X)

    def adversarial_error(self, model: GaussianModel, *, eps: float, p: float = 2) -> float:
        """Exact adversarial error of this classifier on ``model`` (no sampling).

        Notes
        -----
        With ``s = sqrt(w' Sigma w)`` and ``q`` the dual exponent,
        ``P(+ wrong) = Phi((b + eps ||w||_q - w . mu_+) / s)`` and
        ``P(- wrong) = Phi((w . mu_- - b + eps ||w||_q) / s)``; the error is their mean.
        """
        p = parse_p(p, allowed=_P_GAUSS)
        eps = check_eps(eps)
        s = math.sqrt(max(float(self.w @ model._cov_matvec(self.w)), 0.0))
        wq = float(lp_norm(self.w, dual_exponent(p)))
        if s == 0.0:  # constant classifier: one class is always wrong
            return 0.5
        e_pos = ndtr((self.b + eps * wq - self.w @ model.mu_pos) / s)
        e_neg = ndtr((self.w @ model.mu_neg - self.b + eps * wq) / s)
        return float(0.5 * (e_pos + e_neg))


def _dual_direction(w: np.ndarray, p: float) -> np.ndarray:
    """``u`` with ``||u||_p = 1`` and ``w . u = ||w||_q`` (zero vector if ``w = 0``)."""
    u = np.zeros_like(w, dtype=float)
    if not np.any(w):
        return u
    if p == 2:
        return w / np.linalg.norm(w)
    if p == math.inf:
        return np.sign(w).astype(float)
    i = int(np.argmax(np.abs(w)))  # p == 1
    u[i] = np.sign(w[i])
    return u


@dataclass(frozen=True)
class GaussianRobustSolution:
    """Optimal robust error of a :class:`GaussianModel` with its two-sided certificate.

    Attributes
    ----------
    error : float
        The optimal robust error (the classifier's exact adversarial error).
    lower_bound : float
        ``Phi(-||Delta - 2 z||_{Sigma^-1} / 2)`` for the attacker shift ``z``:
        no classifier has a smaller adversarial error.
    upper_bound : float
        Exact adversarial error of ``classifier`` (equal to ``error``).
    shift : ndarray
        The attacker's shift ``z`` (``||z||_p <= eps``): ``+`` samples move by
        ``-z``, ``-`` samples by ``+z``.
    classifier : LinearClassifier
        A classifier attaining ``upper_bound``.
    eps, p : float
        The budget and the norm.
    gap : float
        ``upper_bound - lower_bound`` (0 up to rounding; a certificate of optimality).
    """

    error: float
    lower_bound: float
    upper_bound: float
    shift: np.ndarray
    classifier: LinearClassifier
    eps: float
    p: float
    gap: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "gap", float(self.upper_bound - self.lower_bound))


class GaussianModel:
    """Equal-prior mixture of ``N(mu_pos, Sigma)`` (label +1) and ``N(mu_neg, Sigma)`` (label -1).

    Parameters
    ----------
    mu_pos, mu_neg : array_like of shape (d,)
        Class means (any two vectors; the paper's ``mu_neg = -mu_pos`` is not required).
    sigma : float or array_like of shape (d,), default 1.0
        Standard deviation: a scalar gives ``sigma**2 I``, a vector gives
        ``diag(sigma**2)``.  Ignored when ``cov`` is given.
    cov : array_like of shape (d, d), optional
        Shared covariance matrix (symmetric positive definite).

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
            raise ValueError("mu_pos must have at least one coordinate")
        if self.mu_pos.shape != self.mu_neg.shape:
            raise ValueError(
                f"mu_pos and mu_neg must have the same shape, got {self.mu_pos.shape} "
                f"and {self.mu_neg.shape}"
            )
        d = self.mu_pos.size
        self._diag: np.ndarray | None
        if cov is not None:
            C = check_finite_array(cov, name="cov", ndim=2)
            if C.shape != (d, d):
                raise ValueError(f"cov must have shape ({d}, {d}), got {C.shape}")
            if not np.allclose(C, C.T, rtol=1e-10, atol=1e-12):
                raise ValueError("cov must be symmetric")
            C = 0.5 * (C + C.T)
            try:
                self._chol = linalg.cholesky(C, lower=True)
            except linalg.LinAlgError:
                raise ValueError("cov must be positive definite") from None
            self.cov = C
            off_diagonal = np.count_nonzero(C - np.diag(np.diag(C)))
            self._diag = np.diag(C).copy() if off_diagonal == 0 else None
        else:
            s = check_finite_array(sigma, name="sigma")
            if s.ndim == 0:
                s = np.full(d, float(s))
            elif s.shape != (d,):
                raise ValueError(f"sigma must be a positive scalar or have shape ({d},)")
            if np.any(s <= 0):
                raise ValueError("sigma must be > 0")
            self._diag = s**2
            self.cov = np.diag(self._diag)
            self._chol = np.diag(s)
        self.delta = self.mu_pos - self.mu_neg

    # ----------------------------------------------------------------- basics
    @property
    def d(self) -> int:
        """Input dimension."""
        return int(self.mu_pos.size)

    def _cov_matvec(self, v: np.ndarray) -> np.ndarray:
        return self._diag * v if self._diag is not None else self.cov @ v

    def _cov_solve(self, v: np.ndarray) -> np.ndarray:
        if self._diag is not None:
            return v / self._diag
        return linalg.cho_solve((self._chol, True), v)

    def mahalanobis(self, v: Any) -> float:
        """``||v||_{Sigma^{-1}} = sqrt(v' Sigma^{-1} v)``."""
        v = np.asarray(v, dtype=float)
        return math.sqrt(max(float(v @ self._cov_solve(v)), 0.0))

    def __repr__(self) -> str:
        return f"GaussianModel(d={self.d}, mahalanobis_distance={self.mahalanobis(self.delta):.6g})"

    # ------------------------------------------------------------------ Bayes
    def bayes_error(self) -> float:
        """Bayes error ``Phi(-||mu_+ - mu_-||_{Sigma^{-1}} / 2)``.

        References
        ----------
        Paper Theorem 2 (isotropic case ``Phi(-||mu_1 - mu_-1||_2 / (2 sigma))``).
        """
        return float(ndtr(-0.5 * self.mahalanobis(self.delta)))

    def bayes_classifier(self) -> LinearClassifier:
        """Fisher's rule ``w = Sigma^{-1} Delta``, threshold at the midpoint of the means."""
        w = self._cov_solve(self.delta)
        return LinearClassifier(w=w, b=float(w @ (self.mu_pos + self.mu_neg) / 2))

    # ----------------------------------------------------------------- robust
    def feasible_eps(self, p: Any = 2) -> float:
        """Smallest ``eps`` with optimal robust error 1/2: ``||mu_+ - mu_-||_p / 2``.

        At this budget the attacker's shift ``z = Delta/2`` makes the classes
        identical; below it the linear certificate has a positive margin.  It
        does not depend on the covariance.
        """
        p = parse_p(p, allowed=_P_GAUSS)
        return float(lp_norm(self.delta, p)) / 2.0

    def robust_solution(self, *, eps: float, p: Any = 2) -> GaussianRobustSolution:
        """Optimal robust error with attacker shift and optimal classifier (a certificate).

        Parameters
        ----------
        eps : float
            Perturbation budget, ``>= 0``.
        p : {1, 2, inf} or str
            The norm.

        Notes
        -----
        ``D = min_{||z||_p <= eps} ||Delta - 2z||_{Sigma^{-1}}`` is a convex
        problem.  It is solved in closed form for a diagonal covariance
        (``p = inf``: clipping; ``p = 1``: exact water-filling; ``p = 2``: a
        one-dimensional secular equation), and for a full covariance by a
        secular equation in the eigenbasis (``p = 2``), bounded least squares
        (``p = inf``) or SLSQP (``p = 1``).  Whatever the solver's accuracy,
        ``lower_bound`` and ``upper_bound`` are each valid; ``gap`` shows how
        tight they are.
        """
        p = parse_p(p, allowed=_P_GAUSS, name="p")
        eps = check_eps(eps)
        c = self.delta / 2.0
        if float(lp_norm(c, p)) <= eps:
            z = c.copy()
            const = LinearClassifier(w=np.zeros(self.d), b=0.0)  # always +1
            return GaussianRobustSolution(0.5, 0.5, 0.5, z, const, eps, p)
        z = self._attacker_shift(c, eps, p)
        r = c - z
        D = 2.0 * self.mahalanobis(r)
        lower = float(ndtr(-0.5 * D))
        w = self._cov_solve(2.0 * r)
        clf = LinearClassifier(w=w, b=float(w @ (self.mu_pos + self.mu_neg) / 2))
        upper = clf.adversarial_error(self, eps=eps, p=p)
        return GaussianRobustSolution(upper, lower, upper, z, clf, eps, p)

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

    def _attacker_shift(self, c: np.ndarray, eps: float, p: float) -> np.ndarray:
        """``argmin_{||z||_p <= eps} (c - z)' Sigma^{-1} (c - z)`` with ``||c||_p > eps``."""
        if eps == 0.0:
            return np.zeros_like(c)
        if p == 2:
            if self._diag is not None:
                lam, coords, V = self._diag, c, None
            else:
                lam, V = linalg.eigh(self.cov)
                coords = V.T @ c

            def excess(mu: float) -> float:
                with np.errstate(over="ignore"):
                    return float(np.sum((coords / (1.0 + mu * lam)) ** 2)) - eps**2

            with np.errstate(over="ignore", divide="ignore"):
                hi = (np.linalg.norm(coords) / eps - 1.0) / float(np.min(lam)) + 1e-300
            if not math.isfinite(hi):
                hi = np.finfo(float).max / 2
            mu = optimize.brentq(excess, 0.0, max(hi, 1e-300) * 1.0000001, xtol=1e-300,
                                 rtol=4 * np.finfo(float).eps, maxiter=500)
            with np.errstate(over="ignore"):
                zc = coords / (1.0 + mu * lam)
            z = zc if V is None else V @ zc
        elif p == math.inf:
            if self._diag is not None:
                z = np.clip(c, -eps, eps)
            else:
                A = linalg.solve_triangular(self._chol, np.eye(self.d), lower=True)
                res = optimize.lsq_linear(A, A @ c, bounds=(-eps, eps), method="bvls",
                                          tol=1e-15)
                z = np.clip(res.x, -eps, eps)
        else:  # p == 1
            z = self._l1_shift(c, eps)
        # Keep the shift feasible whatever rounding did (the lower bound needs it).
        nz = float(lp_norm(z, p))
        if nz > eps:
            z = z * (eps / nz)
        return z

    def _l1_shift(self, c: np.ndarray, eps: float) -> np.ndarray:
        if self._diag is not None:
            s = self._diag
            # |z_i| = max(|c_i| - tau s_i / 2, 0); find tau with sum |z_i| = eps exactly.
            brk = 2.0 * np.abs(c) / s
            order = np.argsort(-brk)
            ca, sa = np.cumsum(np.abs(c)[order]), np.cumsum(s[order])
            tau = 0.0
            for m in range(len(order)):
                tau = 2.0 * (ca[m] - eps) / sa[m]
                nxt = brk[order[m + 1]] if m + 1 < len(order) else 0.0
                if tau >= nxt:
                    break
            mag = np.maximum(np.abs(c) - tau * s / 2.0, 0.0)
            return np.sign(c) * mag
        d = self.d
        Sinv = linalg.cho_solve((self._chol, True), np.eye(d))

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
        # Polish: solve the KKT system exactly on the support and sign pattern found.
        scale = max(float(np.max(np.abs(z))), 1e-300)
        support = np.flatnonzero(np.abs(z) > 1e-7 * scale)
        if support.size:
            sg = np.sign(z[support])
            m = support.size
            K = np.zeros((m + 1, m + 1))
            K[:m, :m] = Sinv[np.ix_(support, support)]
            K[:m, m] = sg  # unknown u = tau / 2 with (Sigma^-1 r)_I = u sign(z_I)
            K[m, :m] = sg
            rhs = np.concatenate([(Sinv @ c)[support], [eps]])
            try:
                sol = np.linalg.solve(K, rhs)
            except np.linalg.LinAlgError:
                return z
            zp = np.zeros(d)
            zp[support] = sol[:m]
            grad = Sinv @ (c - zp)
            tau2 = sol[m]
            if (np.all(np.sign(zp[support]) == sg) and tau2 >= 0
                    and np.all(np.abs(grad) <= tau2 * (1 + 1e-9) + 1e-12)):
                return zp
        return z

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
