"""Solvers in a diagonal basis (a mixin of ``GaussianModel``, normalized coordinates).

A diagonal covariance: ``l_inf`` clipping and ``l1`` water-filling in closed form; any
covariance: the ``l2`` secular equation, diagonal in the covariance's eigenbasis.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg, optimize

from optrobust.errors import NumericalError
from optrobust.gaussian._normalized import (
    EPS,
    GAUSSIAN_MAX_CONDITION,
    Candidate,
    NormalizedModel,
    norm2,
)


class DiagonalSolversMixin(NormalizedModel):
    """Closed forms and the secular equation of :class:`~optrobust.gaussian.GaussianModel`."""

    def _linf_diagonal(self, c: np.ndarray, eps: float) -> Candidate:
        """``z = clip(c, -eps, eps)``, ``r_i = sign(c_i) (|c_i| - eps)_+`` (exact)."""
        r = np.sign(c) * np.maximum(np.abs(c) - eps, 0.0)
        z = np.sign(c) * np.minimum(np.abs(c), eps)
        return Candidate(z=z, r=r, w=r / self._v, method="closed form")

    def _l1_diagonal(self, c: np.ndarray, eps: float) -> Candidate:
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
        return Candidate(z=z, r=r, w=r / v, method="closed form")

    def _eigen(self) -> tuple[np.ndarray, np.ndarray]:
        if self._eig is None:
            lam, V = linalg.eigh(self._S0, check_finite=False)
            self._eig = (np.maximum(lam, float(np.max(lam)) / GAUSSIAN_MAX_CONDITION / 10), V)
        return self._eig

    def _l2_secular(self, c: np.ndarray, eps: float) -> Candidate:
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
        nx = norm2(c)  # ||V'c|| = ||c||: the same rounding as the feasibility test eps < ||c||

        def z_of(mu: float) -> np.ndarray:
            return x / (1.0 + mu * lam)

        mu = 0.0
        for _ in range(200):
            zc = z_of(mu)
            nz = norm2(zc)
            psi = 1.0 / nz - 1.0 / eps if mu > 0 else (eps - nx) / (nx * eps)
            u = zc / nz
            dpsi = float(np.sum(lam * u**2 / (1.0 + mu * lam))) / nz
            if not (math.isfinite(psi) and math.isfinite(dpsi)) or dpsi <= 0:
                break
            step = -psi / dpsi
            if step <= abs(mu) * 4 * EPS or not math.isfinite(mu + step):
                if step > 0 and math.isfinite(mu + step):
                    mu += step
                break
            mu += step
        if not math.isfinite(mu):
            raise NumericalError("the l2 secular equation overflowed; eps is too small for "
                                 "this model's scale")
        zc = z_of(mu)
        nz = norm2(zc)
        if not nz <= eps * (1 + 1e-6):
            # Newton stopped early: bracket the root and refine (||z(mu)|| is decreasing).
            def f(t: float) -> float:
                return norm2(z_of(t)) - eps

            hi = max(2.0 * mu, 1.0)
            while f(hi) > 0:
                hi *= 2.0
                if not math.isfinite(hi):
                    raise NumericalError("the l2 secular equation has no bracket in float64")
            mu = optimize.brentq(f, mu, hi, xtol=1e-300, rtol=4 * EPS, maxiter=500)
            zc = z_of(mu)
            nz = norm2(zc)
        if nz > eps:  # Newton approaches the root from below in mu: rescale onto the sphere
            zc = zc * (eps / nz)
        rc = mu * lam * zc
        wc = mu * zc
        if V is None:
            return Candidate(z=zc, r=rc, w=wc, method="secular")
        return Candidate(z=V @ zc, r=V @ rc, w=V @ wc, method="secular")
