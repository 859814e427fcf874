"""Hypothesis strategies generating exactly the assumptions of the model theorems."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from optrobust.bernoulli import BernoulliModel
from optrobust.gaussian import GaussianModel

__all__ = ["bernoulli_models", "gaussian_models", "norms"]

_coord = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


@st.composite
def gaussian_models(draw, *, max_dim: int = 5, isotropic: bool = False) -> GaussianModel:
    """Two Gaussians with a shared covariance (isotropic, diagonal or full), any means."""
    d = draw(st.integers(1, max_dim))
    mu_pos = np.array(draw(st.lists(_coord, min_size=d, max_size=d)))
    mu_neg = np.array(draw(st.lists(_coord, min_size=d, max_size=d)))
    kind = "iso" if isotropic else draw(st.sampled_from(["iso", "diag", "full"]))
    if kind == "iso":
        return GaussianModel(mu_pos, mu_neg, sigma=draw(st.floats(0.2, 3.0)))
    if kind == "diag":
        s = draw(st.lists(st.floats(0.2, 3.0), min_size=d, max_size=d))
        return GaussianModel(mu_pos, mu_neg, sigma=np.array(s))
    entries = draw(st.lists(st.floats(-1.5, 1.5), min_size=d * d, max_size=d * d))
    A = np.array(entries).reshape(d, d)
    return GaussianModel(mu_pos, mu_neg, cov=A @ A.T + 0.3 * np.eye(d))


@st.composite
def bernoulli_models(draw, *, max_k: int = 60, exact: bool = False, max_extra: int = 3):
    """Bernoulli models with random centres, ``k >= 1`` effective dims, ``0 <= t <= 1/2``."""
    k = draw(st.integers(1, max_k))
    extra = draw(st.integers(0, max_extra))
    if exact:
        den = draw(st.integers(1, 20))
        t = Fraction(draw(st.integers(0, den)), 2 * den)
    else:
        # In float64, 1/2 +- t equals 1/2 for t < 2**-54: such t are indistinguishable from 0
        # (use a Fraction for them); generate t = 0 or t >= 1e-12.
        t = draw(st.one_of(st.sampled_from([0.0, 0.5]), st.floats(1e-12, 0.5)))
    signs = np.array(draw(st.lists(st.sampled_from([-1, 1]), min_size=k + extra,
                                   max_size=k + extra)))
    theta_neg = signs.copy()
    theta_neg[:k] *= -1
    perm = np.array(draw(st.permutations(range(k + extra))))
    values = draw(st.sampled_from(["pm1", "01"]))
    return BernoulliModel(signs[perm], theta_neg[perm], t, values=values)


def norms(*, include_l0: bool = True):
    """The library's exponents."""
    base = [1, 2, math.inf]
    return st.sampled_from(([0] if include_l0 else []) + base)
