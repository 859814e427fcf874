"""norms.parse_p and the shared input checks."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from optrobust._validation import check_eps, check_int, check_rng, check_sign_vector, check_t
from optrobust.norms import dual_exponent, lp_distance, norm_name, parse_p


@pytest.mark.parametrize(
    ("spec", "want"),
    [("l0", 0), ("L1", 1), ("l2", 2), ("linf", math.inf), ("inf", math.inf), (0, 0), (2.0, 2),
     (math.inf, math.inf), ("ℓ2", 2)],
)
def test_parse_p(spec, want):
    assert parse_p(spec) == want


@pytest.mark.parametrize("spec", ["l3", "", "2x", 3, -1, float("nan"), None, True])
def test_parse_p_rejects(spec):
    with pytest.raises(ValueError, match="p must be"):
        parse_p(spec)


def test_parse_p_any_real_when_allowed():
    assert parse_p(3.5, allowed=None) == 3.5
    with pytest.raises(ValueError):
        parse_p(0.5, allowed=None)


def test_dual_and_names_and_distance():
    assert dual_exponent(3) == 1.5
    assert [norm_name(p) for p in (0, 1, 2, math.inf)] == ["l0", "l1", "l2", "linf"]
    a, b = np.array([0.0, 3.0, -4.0]), np.zeros(3)
    assert lp_distance(a, b, 0) == 2 and lp_distance(a, b, 1) == 7
    assert lp_distance(a, b, 2) == 5 and lp_distance(a, b, math.inf) == 4


def test_checks():
    assert check_eps(Fraction(8, 255)) == 8 / 255
    assert check_t(Fraction(1, 3)) == Fraction(1, 3)
    with pytest.raises(TypeError, match="eps"):
        check_eps("0.3")
    with pytest.raises(ValueError, match="eps"):
        check_eps(math.inf)
    with pytest.raises(ValueError, match="k must be"):
        check_int(-1, name="k")
    with pytest.raises(TypeError, match="k must be an integer"):
        check_int(True, name="k")
    with pytest.raises(ValueError, match="theta"):
        check_sign_vector([], name="theta")
    assert isinstance(check_rng(3), np.random.Generator)
    with pytest.raises(ValueError, match="rng"):
        check_rng(-3)
