"""Accurate kernels (optrobust.gaussian._accurate): exact products, Dot2 sums, updated Cholesky."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy import linalg

from optrobust.gaussian._accurate import (
    UpdatedCholesky,
    accurate_dot,
    accurate_matvec,
    refine_with,
    two_prod,
)

# No underflow of the error term and no overflow of the splitting (Dekker's conditions).
_moderate = st.floats(1e-100, 1e100) | st.floats(-1e100, -1e-100) | st.just(0.0)


@given(_moderate, _moderate)
def test_two_prod_is_exact(a, b):
    """Statement: p + e = a * b exactly when nothing under- or overflows (Dekker 1971),
    checked in rational arithmetic."""
    p, e = two_prod(np.array([a]), np.array([b]))
    assert Fraction(float(p[0])) + Fraction(float(e[0])) == Fraction(a) * Fraction(b)


def test_accurate_matvec_and_dot_match_rational_arithmetic():
    """An ill-conditioned residual S x - b (|S x| ~ 1e9, result ~ 1e-6): correct to ~1e-20,
    where float64 and long double lose most digits."""
    rng = np.random.default_rng(0)
    S, x = rng.standard_normal((20, 20)), rng.standard_normal(20) * 1e9
    b = S @ x
    exact = [sum(Fraction(S[i, j]) * Fraction(x[j]) for j in range(20)) - Fraction(b[i])
             for i in range(20)]
    got = accurate_matvec(S, x, b)
    assert max(abs(float(Fraction(g) - e)) for g, e in zip(got, exact, strict=True)) < 1e-19
    exact_dot = sum(Fraction(u) * Fraction(v) for u, v in zip(S[0], x, strict=True))
    assert accurate_dot(S[0], x) == float(exact_dot)


def test_updated_cholesky_append_delete_solve():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((30, 30))
    M = A @ A.T + np.eye(30)
    chol, idx = UpdatedCholesky(30), []
    for i in [3, 7, 1, 9, 12, 4, 20, 0]:
        chol.append(M[idx, i], float(M[i, i]))
        idx.append(i)
    for k in [2, 0, 4]:
        chol.delete(k)
        idx.pop(k)
    R = chol.R[:chol.n, :chol.n]
    assert np.allclose(np.triu(R), R)
    assert np.allclose(R.T @ R, M[np.ix_(idx, idx)], rtol=1e-13, atol=1e-13)
    b = rng.standard_normal(len(idx))
    assert np.allclose(M[np.ix_(idx, idx)] @ chol.solve(b), b)


def test_refinement_recovers_digits_lost_to_conditioning():
    """cond 1e10: plain Cholesky loses ~6 digits; refinement with a doubled-precision
    residual recovers the exact solution (mpmath, 50 digits) to ~1e-15 relative
    (Higham, Accuracy and Stability of Numerical Algorithms, Section 12.1)."""
    import mpmath

    rng = np.random.default_rng(2)
    Q, _ = np.linalg.qr(rng.standard_normal((12, 12)))
    M = (Q * np.logspace(0, -10, 12)) @ Q.T
    M = 0.5 * (M + M.T)
    b = rng.standard_normal(12)
    with mpmath.workdps(50):
        exact = mpmath.lu_solve(mpmath.matrix(M.tolist()), mpmath.matrix(b.tolist()))
        exact = np.array([float(v) for v in exact])
    fac = linalg.cho_factor(M, lower=True)
    x0 = linalg.cho_solve(fac, b)
    x1 = refine_with(lambda x: -accurate_matvec(M, x, b), fac, x0)
    scale = np.max(np.abs(exact))
    err0 = np.max(np.abs(x0 - exact)) / scale
    err1 = np.max(np.abs(x1 - exact)) / scale
    assert err1 < 1e-14 and err1 < err0 / 100
