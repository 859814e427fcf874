"""The two-sided certificate of a Gaussian candidate (a mixin of ``GaussianModel``).

The lower bound is the Bayes error after the attacker's shift, the upper bound the exact
adversarial error of the dual classifier; both in the user's units.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg
from scipy.special import log_ndtr, ndtr

from optrobust.gaussian._accurate import accurate_dot, accurate_matvec
from optrobust.gaussian._normalized import (
    EPS,
    GAUSSIAN_RTOL,
    Candidate,
    NormalizedModel,
    ldexp,
    norm2,
    norm_p,
    power_of_two_exponent,
)
from optrobust.gaussian.results import GaussianRobustSolution


class CertificateMixin(NormalizedModel):
    """Certificate of :class:`~optrobust.gaussian.GaussianModel` (uses its normalized data)."""

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
        return ldexp(math.sqrt(q) * math.sqrt(big_r) * math.sqrt(big_y), self._ec - self._h)

    def _certify(self, cand: Candidate, eps: float, eps_n: float,
                 p: float) -> tuple[GaussianRobustSolution, float] | None:
        """Both bounds of a candidate, in the user's units; ``None`` if it is unusable."""
        z, r, w = cand.z, cand.r, cand.w
        if not (np.all(np.isfinite(z)) and np.all(np.isfinite(r)) and np.all(np.isfinite(w))):
            return None
        big = float(np.max(np.abs(w)))
        if big == 0.0:
            return None
        w = ldexp(w, -power_of_two_exponent(big))  # exact rescaling to max |w_i| < 1
        nz = norm_p(z, p)
        if nz > eps_n:
            # Pull the shift back into the ball (the lower bound needs a feasible z).  Beyond
            # rounding, the stable residual no longer matches: recompute r = c - z.
            recompute = nz > eps_n * (1.0 + 1e-12)
            while nz > eps_n:
                z = z * (eps_n / nz * (1.0 - 2 * EPS))
                nz = norm_p(z, p)
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
                hold = math.fsum((w * z).tolist() + [-eps_n * norm2(w)])
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
        m_up = ldexp(num / w_sigma, self._ec - self._h)
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
            shift=ldexp(z, self._ec), classifier=self._classifier(w), eps=eps, p=p,
            method=cand.method,
            # The smaller (classifier's) margin sets the tolerance, so a wrong lower
            # bound cannot loosen its own check.
            rtol=GAUSSIAN_RTOL * max(1.0, min(max(m_up, 0.0), m_low, 1e150) ** 2))
        return sol, rel
