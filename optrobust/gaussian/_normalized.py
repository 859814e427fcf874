"""Normalized coordinates of the Gaussian problem.

The constants of the numerical contract, input validation, exact power-of-two scalings,
norms without under- or overflow, and :class:`Candidate` (a solver's output in normalized
coordinates), shared by the modules of :mod:`optrobust.gaussian`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from optrobust.gaussian.results import LinearClassifier

P_GAUSS = (1, 2, math.inf)

#: Relative tolerance of the certificate on the margin ``D/2``: a result is returned only
#: when ``upper_bound - lower_bound <= rtol * upper_bound`` with
#: ``rtol = GAUSSIAN_RTOL * max(1, (D/2)^2)`` -- a relative error ``delta`` of the margin
#: moves ``Phi(-D/2)`` by the relative amount ``(D/2)^2 delta`` in the tail.
GAUSSIAN_RTOL = 1e-9

#: Largest (estimated) condition number of a full covariance that is solved;
#: beyond it :class:`~optrobust.errors.NumericalError` is raised.
GAUSSIAN_MAX_CONDITION = 1e13
EPS = float(np.finfo(float).eps)


# ---------------------------------------------------------------- validation


def ldexp(x: Any, e: int) -> Any:
    """``x * 2**e`` without overflow warnings (inf on overflow, 0 on underflow)."""
    with np.errstate(over="ignore", under="ignore"):
        out = np.ldexp(np.asarray(x, dtype=float), int(max(min(e, 10**6), -(10**6))))
    return float(out) if np.ndim(out) == 0 else out


def power_of_two_exponent(m: float) -> int:
    """``e`` with ``2**(e-1) <= m < 2**e`` (``m > 0``)."""
    return math.frexp(m)[1]


def norm2(x: np.ndarray) -> float:
    """Euclidean norm without underflow or overflow of the squares."""
    big = float(np.max(np.abs(x))) if x.size else 0.0
    if big == 0.0 or not math.isfinite(big):
        return big
    return big * float(np.linalg.norm(x / big))


def norm_p(x: np.ndarray, p: float) -> float:
    """``||x||_p`` of a normalized vector (entries <= 1): exactly rounded sum for l1."""
    if p == 1:
        return math.fsum(np.abs(x).tolist())
    if p == 2:
        return norm2(x)
    return float(np.max(np.abs(x))) if x.size else 0.0



@dataclass(frozen=True, kw_only=True)
class Candidate:
    """A solver's output in normalized coordinates: shift, residual ``c - z``, dual ``w``."""

    z: np.ndarray
    r: np.ndarray
    w: np.ndarray
    method: str


class NormalizedModel:
    """What the solver and certificate mixins read from a ``GaussianModel``.

    Declarations for type checkers only: ``GaussianModel`` sets and defines all of them
    (``Delta/2 = 2^_ec _c``, ``Sigma = 4^_h S0`` or ``4^_h diag(_v)``).
    """

    _c: np.ndarray
    _ec: int
    _h: int
    _S0: np.ndarray | None
    _L0: np.ndarray | None
    _v: np.ndarray
    _eig: tuple[np.ndarray, np.ndarray] | None
    _accurate: bool

    if TYPE_CHECKING:
        @property
        def d(self) -> int: ...

        @property
        def _is_diagonal(self) -> bool: ...

        def _margin(self, r: np.ndarray) -> float: ...

        def _sigma_norm_normalized(self, w: np.ndarray) -> float: ...

        def _classifier(self, w: np.ndarray) -> LinearClassifier: ...

        def _S0_extended(self) -> np.ndarray: ...
