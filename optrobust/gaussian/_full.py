"""Full-covariance solvers for ``p in {1, inf}`` (a mixin of ``GaussianModel``).

Exact active-set (KKT) methods on the dual, the ``l_inf`` homotopy, a continuation in
``eps`` with warm starts, and the BVLS / SLSQP fallbacks, in normalized coordinates.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg, optimize

from optrobust.errors import SolverError
from optrobust.gaussian._accurate import UpdatedCholesky, accurate_matvec, refine, refine_with
from optrobust.gaussian._normalized import EPS, Candidate, NormalizedModel

# Active-set iterations with full swaps before the number of swaps is limited.
_FULL_SWAP_ITERATIONS = 4
_SWAP_DECAY = 0.5
# Largest dimension for the l_inf homotopy (each of its ~4d events copies O(d^2) data;
# beyond this the warm-started continuation was faster in bench measurements).
_HOMOTOPY_MAX_DIM = 600
# Active-set iterations of the first, cold-started attempt.
_DIRECT_ITERATIONS = 15
# Iterations allowed per warm-started continuation step (a step that needs more is halved).
_CONTINUATION_ITERATIONS = 8


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



class FullCovarianceSolversMixin(NormalizedModel):
    """Active sets and fallbacks of :class:`~optrobust.gaussian.GaussianModel`."""

    def _linf_active_set(self, c: np.ndarray, eps: float,
                         z0: np.ndarray | None) -> Candidate:
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
                      s: np.ndarray) -> Candidate:
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
                   full_swaps: int) -> tuple[Candidate, np.ndarray]:
        S, d = self._S0, self.d
        tol = 8 * EPS
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
                return Candidate(z=z, r=r, w=w, method="active set"), s
            keep_w, keep_a = _limited_swaps(
                it, full_swaps, np.abs(w[wrong]) * np.diag(S)[wrong], np.abs(g[add]) - eps)
            s[wrong[keep_w]] = 0.0
            s[add[keep_a]] = np.sign(g[add[keep_a]])
        raise SolverError("l_inf active set did not converge")

    def _l1_active_set(self, c: np.ndarray, eps: float,
                       z0: np.ndarray | None) -> Candidate:
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
                 full_swaps: int) -> tuple[Candidate, np.ndarray]:
        S, d = self._S0, self.d
        tol = 8 * EPS
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
                return Candidate(z=z, r=r, w=w, method="active set"), s
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
