"""GaussianModel's numerical contract (issue 10): a correct number or a named error.

Oracles are independent of the library: mpmath at 50 digits, either closed forms that hold in
the near-feasible regime (checked in mpmath before use) or, for d = 2, the exact minimum of the
convex quadratic over each edge of the l1 / l_inf sphere.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from scipy.special import ndtri

from optrobust import GaussianModel
from optrobust.errors import (
    InvalidInputError,
    InvalidTypeError,
    NumericalError,
    OptrobustError,
    SolverError,
)
from optrobust.gaussian import GAUSSIAN_MAX_CONDITION, GAUSSIAN_RTOL

mp = mpmath.mp
mp.dps = 50
NORMS = (1, 2, math.inf)


def rotated_cov(d: int, cond: float, seed: int) -> np.ndarray:
    """``Q diag(logspace(0, -log10 cond)) Q'`` with a random rotation ``Q``."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (Q * np.logspace(0.0, -math.log10(cond), d)) @ Q.T


def kinds(seed: int = 0) -> dict[str, GaussianModel]:
    rng = np.random.default_rng(seed)
    mp_, mn_ = np.array([1.0, -2.0, 3.0]), np.array([0.5, 0.25, -0.125])
    return {
        "iso": GaussianModel(mp_, mn_, sigma=0.7),
        "diag": GaussianModel(mp_, mn_, sigma=[0.5, 1.0, 2.0]),
        "full": GaussianModel(mp_, mn_, cov=rotated_cov(3, 1e3, seed)),
        "full8": GaussianModel(rng.standard_normal(8), rng.standard_normal(8),
                               cov=rotated_cov(8, 1e6, seed + 1)),
    }


def assert_certified(sol) -> None:
    """The certificate closes: gap <= rtol * upper with rtol = GAUSSIAN_RTOL max(1, m^2),
    m = Phi^-1(1 - upper) the classifier's margin (docs/theory.md)."""
    assert sol.lower_bound <= sol.error <= sol.upper_bound <= 0.5
    assert sol.gap <= sol.rtol * sol.upper_bound * (1 + 1e-9) + 1e-300
    if sol.upper_bound > 1e-300:
        m = -float(ndtri(sol.upper_bound))
        assert GAUSSIAN_RTOL <= sol.rtol <= GAUSSIAN_RTOL * max(1.0, m * m) * (1 + 1e-6)


# ------------------------------------------------------------------ mpmath oracles


def _mp_model(g: GaussianModel):
    c = [(mp.mpf(float(a)) - mp.mpf(float(b))) / 2 for a, b in zip(g.mu_pos, g.mu_neg, strict=True)]
    S = mp.matrix([[mp.mpf(float(x)) for x in row] for row in g.cov])
    return c, S


def _quad(S_inv, r) -> mpmath.mpf:
    n = len(r)
    return mp.fsum(r[i] * S_inv[i, j] * r[j] for i in range(n) for j in range(n))


def oracle_near_feasible(g: GaussianModel, eps: float, p: float):
    """Exact optimum when the near-feasible structure holds (checked here), else None.

    p = inf, unique largest |c_i| and the others strictly inside: m = (|c_i| - eps)/sqrt(S_ii).
    p = 1, c without zeros and z = c - lam S sign(c) keeping the signs of c:
    m = (||c||_1 - eps) / sqrt(s' S s).  p = 2: the secular equation solved in mpmath.
    """
    c, S = _mp_model(g)
    d, e = len(c), mp.mpf(eps)
    if p == math.inf:
        a = [abs(x) for x in c]
        i = max(range(d), key=lambda k: a[k])
        w = (a[i] - e) / S[i, i] * mp.sign(c[i])
        if any(abs(c[j] - S[j, i] * w) > e for j in range(d) if j != i):
            return None
        return (a[i] - e) / mp.sqrt(S[i, i])
    if p == 1:
        if any(x == 0 for x in c):
            return None
        s = [mp.sign(x) for x in c]
        sSs = mp.fsum(s[i] * S[i, j] * s[j] for i in range(d) for j in range(d))
        lam = (mp.fsum(abs(x) for x in c) - e) / sSs
        z = [c[i] - lam * mp.fsum(S[i, j] * s[j] for j in range(d)) for i in range(d)]
        if any(z[i] * s[i] < 0 for i in range(d)):
            return None
        return lam * mp.sqrt(sSs)
    lam, V = mp.eigsy(S)
    x = [mp.fsum(V[j, i] * c[j] for j in range(d)) for i in range(d)]

    def f(mu):
        return mp.sqrt(mp.fsum((x[i] / (1 + mu * lam[i])) ** 2 for i in range(d))) - e

    hi = (mp.sqrt(mp.fsum(t**2 for t in x)) / e - 1) / min(lam) * 2
    mu = mp.findroot(f, (mp.mpf(0), hi), solver="anderson")
    return mu * mp.sqrt(mp.fsum(lam[i] * (x[i] / (1 + mu * lam[i])) ** 2 for i in range(d)))


def oracle_edges_2d(g: GaussianModel, eps: float, p: float) -> mpmath.mpf:
    """d = 2, eps < feasible: min over the 4 edges of the l1 / l_inf sphere (exact per edge)."""
    c, S = _mp_model(g)
    S_inv = S**-1
    e = mp.mpf(eps)
    if p == 1:
        verts = [(e, 0), (0, e), (-e, 0), (0, -e)]
    else:
        verts = [(e, e), (-e, e), (-e, -e), (e, -e)]
    best = None
    for k in range(4):
        a, b = verts[k], verts[(k + 1) % 4]
        r0 = [c[0] - a[0], c[1] - a[1]]
        dv = [b[0] - a[0], b[1] - a[1]]
        t = _bilinear(S_inv, dv, r0) / _quad(S_inv, dv)
        t = min(max(t, mp.mpf(0)), mp.mpf(1))
        q = _quad(S_inv, [r0[0] - t * dv[0], r0[1] - t * dv[1]])
        best = q if best is None else min(best, q)
    return mp.sqrt(best)


def _bilinear(S_inv, u, v) -> mpmath.mpf:
    return mp.fsum(u[i] * S_inv[i, j] * v[j] for i in range(2) for j in range(2))


# --------------------------------------------------------------- the issue's examples


def test_issue_example_l1_just_below_feasible():
    """Issue 10: this returned 0.679 (> 1/2). Exact: m = (3 - eps)/sqrt(3), error Phi(-m)."""
    g = GaussianModel([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    eps = 2.9999999999999996
    assert eps < g.feasible_eps(1) == 3.0
    sol = g.robust_solution(eps=eps, p=1)
    # c = (1/2, 1, 3/2), water level lam = (3 - eps)/3, r = lam (1, 1, 1): m = lam sqrt(3).
    exact = float(mp.ncdf(-(3 - mp.mpf(eps)) / 3 * mp.sqrt(3)))
    assert abs(sol.error - exact) <= 1.2e-16 and sol.error < 0.5
    assert sol.lower_bound <= sol.error <= sol.upper_bound <= 0.5


def test_issue_example_l2_just_below_feasible():
    """Issue 10: this raised scipy's 'f(a) and f(b) must have different signs'."""
    g = GaussianModel([0.1, 0.2], [0.0, 0.0], sigma=0.5)
    eps = 0.11180339887498938
    exact = mp.ncdf(-(mp.sqrt(mp.mpf(0.1) ** 2 + mp.mpf(0.2) ** 2) / 2 - mp.mpf(eps)) / 0.5)
    err = g.robust_error(eps=eps, p=2)
    assert err <= 0.5
    assert abs(err - float(exact)) <= 1e-16


# ------------------------------------------------------------- near-feasible sweep


@pytest.mark.parametrize("kind", ["iso", "diag", "full", "full8"])
@pytest.mark.parametrize("p", NORMS)
def test_near_feasible_sweep(kind, p):
    """eps = feasible (1 - 10^-k), k = 1..16: bayes <= error <= 1/2, non-decreasing in eps,
    exactly 1/2 at and beyond feasible_eps, and equal to the mpmath optimum wherever the
    near-feasible closed form applies (it does for every large k here)."""
    g = kinds()[kind]
    fe = g.feasible_eps(p)
    prev, checked = g.bayes_error(), 0
    for k in range(1, 17):
        eps = fe * (1 - 10.0**-k)
        sol = g.robust_solution(eps=eps, p=p)
        assert prev - 1e-15 <= sol.error <= 0.5
        assert_certified(sol)
        m = oracle_near_feasible(g, eps, p)
        if m is not None:
            exact = float(mp.ncdf(-m))
            assert abs(sol.error - exact) <= 1e-9 * (0.5 - exact) + 1e-15, (k, sol.error, exact)
            checked += 1
        prev = sol.error
    assert checked >= 8
    for eps in (fe, fe * (1 + 1e-16), 2 * fe, 1e300):
        assert g.robust_error(eps=eps, p=p) == 0.5
    assert g.robust_error(eps=math.nextafter(fe, 0), p=p) <= 0.5


# ---------------------------------------------------------------- scale invariance


@pytest.mark.parametrize("kind", ["iso", "diag", "full", "full8"])
@pytest.mark.parametrize("p", NORMS)
def test_scale_invariance_sweep(kind, p):
    """(s mu, s^2 Sigma, s eps) for s = 10^k, k = -150..150: the same optimum (issue 10 saw the
    third digit change at s <= 1e-4 for full-covariance l1, NaN/1.0 beyond 1e150)."""
    g = kinds()[kind]
    base = {frac: g.robust_error(eps=frac * g.feasible_eps(p), p=p) for frac in (0.1, 0.6, 0.99)}
    for k in range(-150, 151, 15):
        s = 10.0**k
        if kind in ("iso", "diag"):
            sig = np.sqrt(np.diag(g.cov))
            h = GaussianModel(g.mu_pos * s, g.mu_neg * s, sigma=sig * s)
        else:
            h = GaussianModel(g.mu_pos * s, g.mu_neg * s, cov=g.cov * s * s)
        assert math.isclose(h.bayes_error(), g.bayes_error(), rel_tol=1e-12)
        for frac, ref in base.items():
            got = h.robust_error(eps=frac * g.feasible_eps(p) * s, p=p)
            assert math.isclose(got, ref, rel_tol=1e-9, abs_tol=1e-15), (s, frac, got, ref)


# ----------------------------------------------------- exact 2-D oracle, conditioning


@pytest.mark.parametrize("p", [1, math.inf])
@pytest.mark.parametrize("cond", [1.0, 1e3, 1e6, 1e9, 1e12])
def test_two_dimensional_edge_oracle(p, cond):
    """d = 2, full covariance of condition number up to 1e12: the optimum equals the exact
    minimum over the edges of the l_p sphere (mpmath), or a NumericalError is raised."""
    rng = np.random.default_rng(int(cond) % 997 + (p == 1))
    for trial in range(4):
        g = GaussianModel(rng.standard_normal(2), rng.standard_normal(2),
                          cov=rotated_cov(2, cond, trial))
        for frac in (0.05, 0.4, 0.8, 0.999):
            eps = frac * g.feasible_eps(p)
            try:
                err = g.robust_error(eps=eps, p=p)
            except NumericalError:
                continue
            exact = float(mp.ncdf(-oracle_edges_2d(g, eps, p)))
            assert math.isclose(err, exact, rel_tol=1e-7, abs_tol=1e-300), (frac, err, exact)


@pytest.mark.parametrize("p", NORMS)
def test_conditioning_sweep_certified_or_named_error(p):
    """Condition numbers 1..1e12 (d = 6): the certificate closes to its tolerance, the
    classifier's own adversarial error agrees, bayes <= error <= 1/2 and monotone."""
    rng = np.random.default_rng(7)
    certified = 0
    for cond in (1.0, 1e2, 1e4, 1e6, 1e8, 1e10, 1e12):
        g = GaussianModel(rng.standard_normal(6), rng.standard_normal(6),
                          cov=rotated_cov(6, cond, int(math.log10(cond))))
        prev = g.bayes_error()
        for frac in (0.0, 0.2, 0.5, 0.8, 0.99, 1 - 1e-9):
            try:
                sol = g.robust_solution(eps=frac * g.feasible_eps(p), p=p)
            except NumericalError as exc:
                assert "could not be certified" in str(exc)
                continue
            certified += 1
            assert_certified(sol)
            assert prev - 1e-12 * prev <= sol.error <= 0.5
            prev = sol.error
    assert certified >= 35


def test_condition_number_beyond_the_limit_is_a_named_error():
    g = GaussianModel([1.0, 0.0, 0.5], [0.0, 1.0, 0.0], cov=rotated_cov(3, 1e15, 1))
    assert g.condition_number > GAUSSIAN_MAX_CONDITION
    for call in (lambda: g.robust_error(eps=0.1, p=1), g.bayes_error):
        with pytest.raises(NumericalError, match="condition number"):
            call()


# -------------------------------------------------- large full covariance: two methods


def _scipy_optimum(g: GaussianModel, eps: float, p: float) -> float:
    """Independent general-purpose solve: BVLS (l_inf) or SLSQP on split variables (l1)."""
    from scipy import linalg, optimize

    c = (g.mu_pos - g.mu_neg) / 2
    L = np.linalg.cholesky(g.cov)
    A = linalg.solve_triangular(L, np.eye(g.d), lower=True)
    if p == math.inf:
        z = optimize.lsq_linear(A, A @ c, bounds=(-eps, eps), method="bvls", tol=1e-15).x
    else:
        d, Q = g.d, A.T @ A

        def f(v):
            r = c - (v[:d] - v[d:])
            return float(r @ Q @ r), np.concatenate([-2 * Q @ r, 2 * Q @ r])

        x0 = np.full(2 * d, eps / (2 * d))
        cons = [{"type": "ineq", "fun": lambda v: eps - v.sum(), "jac": lambda v: -np.ones(2 * d)}]
        v = optimize.minimize(f, x0, jac=True, method="SLSQP", bounds=[(0, None)] * (2 * d),
                              constraints=cons, options={"ftol": 1e-15, "maxiter": 2000}).x
        z = v[:d] - v[d:]
        z *= min(1.0, eps / np.abs(z).sum())
    z = np.clip(z, -eps, eps)
    return float(mp.ncdf(-np.linalg.norm(A @ (c - z))))


@pytest.mark.parametrize("p", [1, math.inf])
def test_active_set_agrees_with_a_general_purpose_solver(p):
    """d = 30: the active-set KKT solution equals scipy's BVLS / SLSQP optimum (which, being a
    feasible attacker shift, is also a lower bound the certificate must not beat)."""
    rng = np.random.default_rng(2)
    A = rng.standard_normal((30, 30)) / 5
    g = GaussianModel(rng.standard_normal(30) * 0.3, rng.standard_normal(30) * 0.3,
                      cov=A @ A.T + 0.05 * np.eye(30))
    for frac in (0.1, 0.5):
        eps = frac * g.feasible_eps(p)
        sol = g.robust_solution(eps=eps, p=p)
        assert sol.method == "active set"
        other = _scipy_optimum(g, eps, p)
        assert other <= sol.upper_bound * (1 + 1e-9)
        assert math.isclose(sol.error, other, rel_tol=1e-6)


def test_fallbacks_and_failure_are_explicit(monkeypatch):
    """When the cold-started active set fails, the homotopy (then the continuation, then BVLS)
    is used; if no candidate's certificate closes, NumericalError -- never a silent value."""
    g = GaussianModel([1.0, -0.5, 0.3], [0.0, 0.2, -0.4], cov=rotated_cov(3, 1e4, 3))
    ref = g.robust_error(eps=0.3, p=math.inf)
    calls = {"n": 0}
    original = GaussianModel._linf_pdas

    def flaky(self, c, eps, s, max_iter, full_swaps):
        calls["n"] += 1
        if calls["n"] == 1:
            raise SolverError("forced")
        return original(self, c, eps, s, max_iter, full_swaps)

    monkeypatch.setattr(GaussianModel, "_linf_pdas", flaky)
    assert math.isclose(g.robust_error(eps=0.3, p=math.inf), ref, rel_tol=1e-12)
    assert calls["n"] >= 2  # the homotopy's pattern was polished

    def broken(self, c, eps, s, max_iter, full_swaps):
        raise SolverError("forced")

    monkeypatch.setattr(GaussianModel, "_linf_pdas", broken)
    sol = g.robust_solution(eps=0.3, p=math.inf)
    assert sol.method == "bvls" and math.isclose(sol.error, ref, rel_tol=1e-7)

    monkeypatch.setattr(GaussianModel, "_bvls_shift", lambda self, c, eps: np.zeros_like(c))
    with pytest.raises(NumericalError, match="could not be certified"):
        g.robust_error(eps=0.3, p=math.inf)


# ------------------------------------------------------------- extremes and types


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (([1e300, -1e300], [-1e300, 1e300]), {}),
        (([1.7e308], [-1.7e308]), {}),
        (([1.0], [-1.0]), {"sigma": 1e-80}),
        (([1e-300, 0.0], [-1e-300, 1e-300]), {"sigma": 1e-300}),
        (([1e150, 2e150], [0.0, 0.0]), {"cov": [[1e300, 5e299], [5e299, 1e300]]}),
        (([1.0, 2.0], [0.0, 0.0]), {"sigma": [1e-100, 1e40]}),
    ],
)
def test_extreme_scales_give_a_number_in_range(args, kwargs):
    """Issue 10: OverflowError, brentq RuntimeError, NaN at these inputs. Now: a value in
    [bayes, 1/2] with a closed certificate (compared with the model rescaled to unit size)."""
    g = GaussianModel(*args, **kwargs)
    for p in NORMS:
        fe = g.feasible_eps(p)
        for frac in (0.0, 0.5, 0.999, 1.0):
            sol = g.robust_solution(eps=frac * fe, p=p)
            assert g.bayes_error() <= sol.error <= 0.5
            assert math.isfinite(sol.error)
            assert_certified(sol)


def test_extreme_values_match_closed_forms():
    g = GaussianModel([1e-300], [-1e-300], sigma=1e-300)
    assert math.isclose(g.robust_error(eps=0.5e-300, p=2), float(mp.ncdf(-0.5)), rel_tol=1e-14)
    g = GaussianModel([1.0], [-1.0], sigma=1e-80)  # Phi(-1e80) = 0 to float precision
    assert g.robust_error(eps=0.5, p=1) == 0.0 and g.bayes_error() == 0.0
    assert g.robust_error(eps=1.0, p=1) == 0.5


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"sigma": "1"}, InvalidTypeError, "sigma"),
        ({"sigma": True}, InvalidTypeError, "sigma"),
        ({"sigma": 1j}, InvalidTypeError, "sigma"),
        ({"sigma": [1.0, "a"]}, InvalidTypeError, "sigma"),
        ({"sigma": float("nan")}, InvalidInputError, "sigma"),
        ({"sigma": float("inf")}, InvalidInputError, "sigma"),
        ({"sigma": [1.0, 2.0, 3.0]}, InvalidInputError, "sigma"),
        ({"cov": [[1.0, 0.0], [0.0, True]]}, InvalidTypeError, "cov"),
        ({"cov": [[1.0, 0.0], [0.0, 1j]]}, InvalidTypeError, "cov"),
        ({"cov": [[1.0, 0.0], [0.0, float("nan")]]}, InvalidInputError, "cov"),
        ({"cov": [[0.0, 0.0], [0.0, 0.0]]}, InvalidInputError, "cov"),
        ({"mu_pos": ["1", "2"]}, InvalidTypeError, "mu_pos"),
        ({"mu_pos": [True, False]}, InvalidTypeError, "mu_pos"),
        ({"mu_pos": [1 + 0j, 0.0]}, InvalidTypeError, "mu_pos"),
        ({"mu_pos": [float("inf"), 0.0]}, InvalidInputError, "mu_pos"),
        ({"mu_pos": [10**400, 0.0]}, InvalidInputError, "mu_pos"),
        ({"mu_neg": [[0.0, 0.0]]}, InvalidInputError, "mu_neg"),
        ({"mu_neg": "00"}, InvalidTypeError, "mu_neg"),
        ({"sigma": [1e-200, 1e200]}, NumericalError, "sigma"),
    ],
)
def test_bad_input_is_a_named_error(kwargs, error, match):
    args = {"mu_pos": [1.0, 0.0], "mu_neg": [0.0, 0.0], **kwargs}
    with pytest.raises(error, match=match):
        GaussianModel(args.pop("mu_pos"), args.pop("mu_neg"), **args)


def test_classifier_rejects_nan_and_wrong_types():
    clf = GaussianModel([1.0, 0.0], [-1.0, 0.0]).robust_classifier(eps=0.2, p=2)
    with pytest.raises(InvalidInputError, match="X"):
        clf.predict([[float("nan"), 0.0]])
    with pytest.raises(InvalidTypeError, match="X"):
        clf.predict([["a", "b"]])
    with pytest.raises(InvalidInputError, match="columns"):
        clf.predict([[0.0, 0.0, 0.0]])


def test_results_are_frozen_keyword_dataclasses_and_dim():
    g = GaussianModel([1.0, 0.0], [-1.0, 0.0])
    assert g.dim == g.d == 2
    sol = g.robust_solution(eps=0.3, p=1)
    with pytest.raises(TypeError):
        type(sol)(sol.error, sol.lower_bound, sol.upper_bound)  # positional: rejected
    with pytest.raises(AttributeError):
        sol.error = 0.0  # type: ignore[misc]
    assert isinstance(sol, object) and sol.rtol == GAUSSIAN_RTOL


def test_every_failure_is_an_optrobust_error():
    """A grid of awkward but valid inputs: each gives a number in range or an OptrobustError."""
    rng = np.random.default_rng(11)
    for _ in range(30):
        d = int(rng.integers(1, 5))
        scale = 10.0 ** rng.uniform(-150, 150)
        cond = 10.0 ** rng.uniform(0, 14)
        g = GaussianModel(rng.standard_normal(d) * scale, rng.standard_normal(d) * scale,
                          cov=rotated_cov(d, cond, int(rng.integers(100))) * scale**2
                          if d > 1 else None)
        for p in NORMS:
            eps = float(rng.uniform(0, 1.2)) * g.feasible_eps(p)
            try:
                err = g.robust_error(eps=eps, p=p)
            except OptrobustError:
                continue
            assert g.bayes_error() <= err <= 0.5


@pytest.mark.parametrize("p", [1, math.inf])
def test_ill_conditioned_paths_agree(monkeypatch, p):
    """d = 40, condition number 1e8: with the cold-started active set disabled, the path
    following (homotopy / continuation with updated Cholesky factors) reaches the same
    certified optimum, which for l_inf also matches scipy's BVLS."""
    import optrobust.gaussian._full as full_solvers  # (the iteration limit is internal)

    rng = np.random.default_rng(8)
    g = GaussianModel(rng.standard_normal(40) * 1e-3, rng.standard_normal(40) * 1e-3,
                      cov=rotated_cov(40, 1e8, 8))
    eps = 0.3 * g.feasible_eps(p)
    ref = g.robust_solution(eps=eps, p=p)
    monkeypatch.setattr(full_solvers, "_DIRECT_ITERATIONS", 1)
    h = GaussianModel(g.mu_pos, g.mu_neg, cov=g.cov)
    sol = h.robust_solution(eps=eps, p=p)
    assert sol.method == "active set"
    assert_certified(sol)
    assert math.isclose(sol.error, ref.error, rel_tol=1e-9)
    if p == math.inf:  # (SLSQP does not converge at this conditioning; BVLS does)
        assert math.isclose(sol.error, _scipy_optimum(g, eps, p), rel_tol=1e-5)
