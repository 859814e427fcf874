"""Accurate linear algebra kernels for ill-conditioned solves (no torch, numpy/scipy only).

Error-free transformations (exact products, compensated sums), mixed-precision iterative
refinement and a Cholesky factor updated as rows and columns come and go.  Used by
:mod:`optrobust.gaussian` to certify optima of ill-conditioned covariances.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import linalg
from scipy.linalg import lapack

from optrobust.errors import SolverError

__all__ = [
    "UpdatedCholesky",
    "accurate_dot",
    "accurate_matvec",
    "refine",
    "refine_with",
    "two_prod",
]

_EPS = float(np.finfo(float).eps)
_SPLIT = 134217729.0  # 2^27 + 1 (Dekker's splitting constant for float64)


def two_prod(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a * b = p + e`` elementwise (Dekker 1971; Ogita, Rump & Oishi 2005).

    Exact when nothing overflows (``|a|, |b| < 1e300``) and the error term does not
    underflow (``|a b| > 1e-290``); below that the error is at most ``1e-300`` absolute.
    """
    p = a * b
    t = _SPLIT * a
    ah = t - (t - a)
    al = a - ah
    t = _SPLIT * b
    bh = t - (t - b)
    bl = b - bh
    e = al * bl - (((p - ah * bh) - al * bh) - ah * bl)
    return p, e


def accurate_matvec(S: np.ndarray, x: np.ndarray, minus: np.ndarray | None = None) -> np.ndarray:
    """``S x - minus`` as if computed in twice the working precision (Dot2, row-wise).

    Exact products (:func:`two_prod`) summed with error-free transformations, vectorized
    over rows: the result is accurate to about ``u |S x - minus| + u^2 cond``, so residuals
    of systems with condition numbers up to ``1/u`` keep their digits (Ogita, Rump & Oishi,
    "Accurate sum and dot product", SIAM J. Sci. Comput. 26, 2005).
    """
    P, E = two_prod(S, x[None, :])
    if minus is not None:
        P = np.concatenate([P, -minus[:, None]], axis=1)
        E = np.concatenate([E, np.zeros((S.shape[0], 1))], axis=1)
    total = P[:, 0].copy()
    comp = E.sum(axis=1)
    for j in range(1, P.shape[1]):
        t = total + P[:, j]
        z = t - total
        comp += (total - (t - z)) + (P[:, j] - z)
        total = t
    return total + comp


def accurate_dot(a: np.ndarray, b: np.ndarray) -> float:
    """``a . b`` correctly rounded (exact products, exactly rounded sum)."""
    p, e = two_prod(a, b)
    return math.fsum(np.concatenate([p, e]).tolist())


def refine(M: np.ndarray, factor: Any, rhs: np.ndarray, x: np.ndarray,
            steps: int = 5) -> np.ndarray:
    """Mixed-precision iterative refinement of ``M x = rhs`` (``M``, ``rhs`` in long double).

    The residual is formed in extended precision and the correction solved with the
    float64 Cholesky ``factor`` (Higham, Accuracy and Stability of Numerical Algorithms,
    Section 12.1): the solution becomes accurate to about float64 rounding as long as
    ``cond(M) u < 1``, where plain Cholesky loses a factor ``cond(M)``.
    """
    for _ in range(steps):
        res = rhs - M @ x.astype(np.longdouble)
        dx = linalg.cho_solve(factor, res.astype(float), check_finite=False)
        x = x + dx
        if not np.max(np.abs(dx)) > 2 * _EPS * np.max(np.abs(x)):
            break
    return x


def refine_with(residual: Any, factor: Any, x: np.ndarray, steps: int = 5) -> np.ndarray:
    """Iterative refinement with a caller-supplied accurate residual ``rhs - M x``."""
    for _ in range(steps):
        dx = linalg.cho_solve(factor, residual(x), check_finite=False)
        x = x + dx
        if not np.max(np.abs(dx)) > 2 * _EPS * np.max(np.abs(x)):
            break
    return x


class UpdatedCholesky:
    """Upper-triangular ``R`` with ``R' R = M``, updated as rows/columns of ``M`` come and go.

    Appending costs one triangular solve; deleting re-triangularizes with Givens rotations
    (``scipy.linalg.qr_delete``; Golub & Van Loan, Matrix Computations, Section 6.5).
    """

    def __init__(self, capacity: int) -> None:
        self.R = np.zeros((capacity, capacity))
        self.n = 0

    def append(self, col: np.ndarray, diag: float) -> None:
        """Add a last row/column ``(col, diag)`` of ``M``."""
        n = self.n
        if n:
            ell, info = lapack.dtrtrs(self.R[:n, :n], col, lower=0, trans=1)
            if info != 0:
                raise SolverError("updated Cholesky factor is singular")
            rest = diag - float(ell @ ell)
        else:
            ell, rest = np.zeros(0), diag
        if not rest > 1e-14 * abs(diag):
            raise SolverError("updated Cholesky factor lost positive definiteness")
        self.R[:n, n] = ell
        self.R[n, :n] = 0.0
        self.R[n, n] = math.sqrt(rest)
        self.n = n + 1

    def delete(self, k: int) -> None:
        """Remove row/column ``k`` of ``M`` (``R`` minus column ``k``, re-triangularized)."""
        n = self.n
        _, R1 = linalg.qr_delete(np.eye(n), self.R[:n, :n], k, 1, which="col",
                                 check_finite=False)
        self.R[:n, :n] = 0.0
        self.R[:n - 1, :n - 1] = R1[:n - 1]
        self.n = n - 1

    def solve(self, b: np.ndarray) -> np.ndarray:
        x, info = lapack.dpotrs(self.R[:self.n, :self.n], b, lower=0)
        if info != 0:
            raise SolverError("updated Cholesky solve failed")
        return x
