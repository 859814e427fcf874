"""GaussianModel: known values, certificate, Monte Carlo with the exact worst-case attack."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from optrobust import GaussianModel
from optrobust.gaussian import LinearClassifier


def _phi(x: float) -> float:
    return float(mpmath.ncdf(x))


# ---------------------------------------------------------------- known values


@pytest.mark.parametrize(("dist", "sigma", "eps"), [(2.0, 1.0, 0.5), (3.0, 0.7, 1.2), (1.0, 2.0, 0.1)])
def test_theorem2_isotropic_l2(dist, sigma, eps):
    """Paper Theorem 2 for eps < ||Delta||/2: Phi((2 eps - ||Delta||) / (2 sigma)) (mpmath)."""
    g = GaussianModel([dist / 2, 0.0, 0.0], [-dist / 2, 0.0, 0.0], sigma=sigma)
    assert math.isclose(g.bayes_error(), _phi(-dist / (2 * sigma)), rel_tol=1e-13)
    assert math.isclose(g.robust_error(eps=eps, p=2), _phi((2 * eps - dist) / (2 * sigma)),
                        rel_tol=1e-12)


def test_beyond_feasible_eps_is_half_not_papers_formula():
    """Theorem 2's formula exceeds 1/2 past ||Delta||/2; the optimum is 1/2 (constant classifier)."""
    g = GaussianModel([1.0], [-1.0])
    assert _phi((2 * 1.5 - 2) / 2) > 0.5
    assert g.robust_error(eps=1.5, p=2) == 0.5
    assert g.feasible_eps(2) == 1.0


def test_linf_diagonal_closed_form():
    # Delta = (2, 0.5), sigma = (1, 0.5), eps = 0.2: z = clip(Delta/2) = (0.2, 0.2);
    # D^2 = ((2 - 0.4)/1)^2 + ((0.5 - 0.4)/0.5)^2 = 2.56 + 0.04 = 2.6.
    g = GaussianModel([1.0, 0.25], [-1.0, -0.25], sigma=[1.0, 0.5])
    assert math.isclose(g.robust_error(eps=0.2, p="linf"), _phi(-math.sqrt(2.6) / 2), rel_tol=1e-12)


def test_l1_diagonal_closed_form():
    # Isotropic, Delta = (2, 1): l1 budget 0.3 is spent on the largest coordinate first
    # (water-filling): z = (0.3, 0) -> D = ||(1.4, 1)||_2.
    g = GaussianModel([1.0, 0.5], [-1.0, -0.5])
    assert math.isclose(g.robust_error(eps=0.3, p=1), _phi(-math.hypot(1.4, 1.0) / 2), rel_tol=1e-12)
    # Budget 1.2: water level where |c_i| - tau/2 sum to 1.2: c = (1, .5) -> z = (0.85, 0.35).
    assert math.isclose(g.robust_error(eps=1.2, p=1), _phi(-math.hypot(0.3, 0.3) / 2), rel_tol=1e-12)


def test_full_covariance_l2_matches_whitened_search():
    """l2 with a full covariance: compare with a brute-force search over the eps-sphere (d=2)."""
    cov = np.array([[1.0, 0.6], [0.6, 0.5]])
    g = GaussianModel([1.0, 0.2], [-0.5, -0.3], cov=cov)
    eps = 0.4
    ang = np.linspace(0, 2 * np.pi, 200001)
    Z = eps * np.stack([np.cos(ang), np.sin(ang)], axis=1)
    R = g.delta - 2 * Z
    D = np.sqrt(np.einsum("ij,ij->i", R @ np.linalg.inv(cov), R)).min()
    assert math.isclose(g.robust_error(eps=eps, p=2), _phi(-D / 2), rel_tol=1e-7)


# ------------------------------------------------------------ the certificate


@pytest.mark.parametrize("p", [1, 2, math.inf])
def test_certificate_halves_agree_full_covariance(p):
    rng = np.random.default_rng(3)
    for _ in range(10):
        d = int(rng.integers(1, 6))
        A = rng.standard_normal((d, d))
        g = GaussianModel(rng.standard_normal(d), rng.standard_normal(d), cov=A @ A.T + 0.2 * np.eye(d))
        for frac in (0.0, 0.25, 0.6, 0.95):
            sol = g.robust_solution(eps=frac * g.feasible_eps(p), p=p)
            assert abs(sol.gap) < 1e-9
            assert sol.lower_bound <= sol.error + 1e-12
            assert float(np.linalg.norm(sol.shift, ord=p)) <= sol.eps * (1 + 1e-12) + 1e-15
            # The classifier's error, evaluated independently, is the stated one.
            assert math.isclose(sol.classifier.adversarial_error(g, eps=sol.eps, p=p), sol.error,
                                rel_tol=1e-12)


# --------------------------------------------- Monte Carlo with the exact attack


@pytest.mark.parametrize("p", [1, 2, math.inf])
def test_monte_carlo_exact_worst_case_attack(p):
    """Sample, attack the returned classifier with its exact worst-case perturbation
    (delta = -y eps argmax_{||u||_p<=1} w.u), and compare the error within 5 SE."""
    g = GaussianModel([0.8, -0.2, 0.5], [-0.4, 0.3, 0.1], sigma=[1.0, 0.6, 0.8])
    eps = 0.35 * g.feasible_eps(p)
    clf = g.robust_classifier(eps=eps, p=p)
    X, y = g.sample(200_000, rng=11)
    delta = clf.worst_case_perturbation(X, y, eps=eps, p=p)
    assert np.all(np.linalg.norm(delta, ord=p, axis=1) <= eps * (1 + 1e-12))
    emp = float(np.mean(clf.predict(X + delta) != y))
    exact = g.robust_error(eps=eps, p=p)
    se = math.sqrt(exact * (1 - exact) / len(y))
    assert abs(emp - exact) < 5 * se
    # The attack is a worst case: random perturbations of the same size do no better.
    rnd = np.random.default_rng(0).standard_normal(X.shape)
    rnd *= eps / np.linalg.norm(rnd, ord=p, axis=1, keepdims=True)
    assert float(np.mean(clf.predict(X + rnd) != y)) <= emp + 5 * se


def test_bayes_classifier_monte_carlo():
    g = GaussianModel([1.0, 1.0], [0.0, -1.0], cov=[[1.0, 0.3], [0.3, 2.0]])
    X, y = g.sample(200_000, rng=5)
    emp = float(np.mean(g.bayes_classifier().predict(X) != y))
    se = math.sqrt(g.bayes_error() * (1 - g.bayes_error()) / len(y))
    assert abs(emp - g.bayes_error()) < 5 * se


def test_constant_classifier_past_feasible_eps():
    g = GaussianModel([1.0], [-1.0])
    sol = g.robust_solution(eps=2.0, p=2)
    assert sol.error == 0.5 and isinstance(sol.classifier, LinearClassifier)
    assert np.all(sol.classifier.predict(np.array([[-5.0], [5.0]])) == 1)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([1.0], [1.0, 2.0]), {}, "same shape"),
        (([1.0, float("nan")], [0.0, 0.0]), {}, "mu_pos"),
        (([1.0], [0.0]), {"sigma": 0.0}, "sigma"),
        (([1.0], [0.0]), {"sigma": -1.0}, "sigma"),
        (([1.0, 0.0], [0.0, 0.0]), {"cov": [[1.0, 2.0], [2.0, 1.0]]}, "positive definite"),
        (([1.0, 0.0], [0.0, 0.0]), {"cov": [[1.0, 0.1], [0.0, 1.0]]}, "symmetric"),
        (([1.0, 0.0], [0.0, 0.0]), {"cov": [[1.0]]}, "cov must have shape"),
        (([], []), {}, "at least one"),
    ],
)
def test_bad_model_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        GaussianModel(*args, **kwargs)


def test_bad_eps_and_norm():
    g = GaussianModel([1.0], [-1.0])
    with pytest.raises(ValueError, match="eps"):
        g.robust_error(eps=-0.1, p=2)
    with pytest.raises(ValueError, match="p must be"):
        g.robust_error(eps=0.1, p=0)
    with pytest.raises(ValueError, match="p must be"):
        g.robust_error(eps=0.1, p="l3")
    with pytest.raises(ValueError, match="n must be"):
        g.sample(-1)
