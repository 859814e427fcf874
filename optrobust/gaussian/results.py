"""Results of :class:`~optrobust.gaussian.GaussianModel`: a linear classifier, the optimum."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import ndtr

from optrobust._validation import check_eps
from optrobust.errors import InvalidInputError, NumericalError
from optrobust.gaussian._normalized import GAUSSIAN_RTOL, P_GAUSS, ldexp
from optrobust.norms import dual_exponent, lp_norm, parse_p
from optrobust.validation import check_finite_array

if TYPE_CHECKING:
    from optrobust.gaussian.model import GaussianModel

__all__ = ["GaussianRobustSolution", "LinearClassifier"]


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
        X = np.atleast_2d(check_finite_array(X, name="X"))
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
        p = parse_p(p, allowed=P_GAUSS)
        eps = check_eps(eps)
        X = self._check_X(X)
        y = check_finite_array(y, name="y").reshape(-1, 1)
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
        p = parse_p(p, allowed=P_GAUSS)
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
        e_pos = ndtr(ldexp(a_pos / s[1], -s[0]))
        e_neg = ndtr(ldexp(a_neg / s[1], -s[0]))
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
