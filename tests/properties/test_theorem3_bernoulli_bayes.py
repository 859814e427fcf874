"""Theorem 3: Bayes classifier and Bayes error of the Bernoulli model."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from optrobust import BernoulliModel
from optrobust.testing.models import bernoulli_models


def _paper_eq_9_10(k: int, t: Fraction) -> Fraction:
    pb, q = Fraction(1, 2) + t, Fraction(1, 2) - t
    s = sum(math.comb(k, i) * pb**i * q ** (k - i) for i in range(k // 2 + 1))
    if k % 2 == 0:
        s -= Fraction(1, 2) * math.comb(k, k // 2) * pb ** (k // 2) * q ** (k // 2)
    return s


@given(bernoulli_models(exact=True, max_k=40))
def test_bayes_error_equals_paper_formula(b):
    """Statement (paper Theorem 3, eqs. 9-10): the Bayes error is
    sum_{i<=k/2} C(k,i)(1/2+t)^i(1/2-t)^(k-i) minus half the middle term when k is even.
    Checked exactly with Fractions."""
    assert b.bayes_error() == _paper_eq_9_10(b.k, b.t)


@given(st.integers(1, 7), st.fractions(0, Fraction(1, 2)), st.integers(0, 2))
def test_bayes_classifier_attains_enumerated_error(k, t, extra):
    """Statement (paper Theorem 3, eq. 8): h(x) = +1 iff ||x - theta+||_0 <= ||x - theta-||_0
    is Bayes optimal.  Oracle: enumerate the whole cube, min over labels per point."""
    b = BernoulliModel.symmetric(k, t, d=k + extra)
    pts = np.array(list(itertools.product((-1, 1), repeat=k + extra)))
    pb, q = Fraction(1, 2) + t, Fraction(1, 2) - t
    pred = b.bayes_classifier().predict(pts)
    err = Fraction(0)
    best = Fraction(0)
    for x, h in zip(pts, pred, strict=True):
        a_pos = int((x == b.theta_pos).sum())
        a_neg = int((x == b.theta_neg).sum())
        d = k + extra
        w_pos = pb**a_pos * q ** (d - a_pos) / 2
        w_neg = pb**a_neg * q ** (d - a_neg) / 2
        err += w_neg if h == 1 else w_pos
        best += min(w_pos, w_neg)
    assert err == best == b.bayes_error()
