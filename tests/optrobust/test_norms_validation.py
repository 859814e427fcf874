"""norms.parse_p and the shared input checks."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from optrobust.errors import InvalidInputError, InvalidTypeError
from optrobust.norms import dual_exponent, lp_distance, norm_name, parse_p
from optrobust.validation import (
    check_eps,
    check_finite_array,
    check_int,
    check_p,
    check_probability,
    check_rng,
    check_sign_vector,
    check_t,
)


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


def test_validation_is_public_and_the_private_alias_still_works():
    import optrobust._validation as old
    import optrobust.validation as new

    assert old.check_eps is new.check_eps and old.check_finite_array is new.check_finite_array


@pytest.mark.parametrize(
    ("value", "err"),
    [(["1", "2"], InvalidTypeError), ([True, False], InvalidTypeError),
     ([1 + 2j], InvalidTypeError), ([[1.0], [1.0, 2.0]], InvalidInputError),
     ([10**400], InvalidInputError), ([1.0, math.nan], InvalidInputError),
     ([Fraction(1, 2), "x"], InvalidTypeError), ([Fraction(1, 2), True], InvalidTypeError),
     ([1.0, True], InvalidTypeError), ([[1, 2], [3, True]], InvalidTypeError)],
)
def test_check_finite_array_rejects_non_reals(value, err):
    """Strings were converted ('1' -> 1.0), booleans taken as 0/1, complex parts dropped."""
    with pytest.raises(err, match="x must"):
        check_finite_array(value, name="x")


def test_check_finite_array_accepts_reals_of_every_kind():
    assert check_finite_array([Fraction(1, 2), np.float32(2), 3], name="x").tolist() == [0.5, 2, 3]
    assert check_finite_array(np.arange(3), name="x", ndim=1).dtype == float
    assert check_finite_array(2**70, name="x") == float(2**70)


@pytest.mark.parametrize(
    ("bad", "err"),
    [("l7", InvalidInputError), (True, InvalidTypeError), (1j, InvalidTypeError),
     (None, InvalidTypeError), (0.5, InvalidInputError), (math.nan, InvalidInputError)],
)
def test_check_p_named_errors(bad, err):
    with pytest.raises(err, match="--norm"):
        check_p(bad, name="--norm")
    assert check_p("l_inf") == math.inf and check_p(np.int64(2)) == 2
    for huge in (10**400, Fraction(10**400, 3)):  # float(p) overflows: a named error
        with pytest.raises(InvalidInputError, match="too large"):
            check_p(huge)


@pytest.mark.parametrize("fn", [check_eps, check_t])
def test_scalars_beyond_float64_are_named_errors(fn):
    for bad in (10**400, Fraction(10**400, 3)):
        with pytest.raises(InvalidInputError):
            fn(bad)
    for bad in ("0.3", True, 0.3j, None, [0.3]):
        with pytest.raises(InvalidTypeError):
            fn(bad)
    with pytest.raises(InvalidTypeError):
        check_probability(np.bool_(True), name="q")
    assert check_probability(np.float64(0.25), name="q") == 0.25


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf, "5", True, 1j, [1.0]])
def test_check_time_limit_refuses_everything_but_positive_finite_seconds(bad):
    """One time-limit check for the solver, dataset_limits, the held-out estimate and audit."""
    from optrobust.errors import InvalidInputError
    from optrobust.validation import check_time_limit

    with pytest.raises(InvalidInputError, match="time_limit"):
        check_time_limit(bad)
    assert check_time_limit(None) is None and check_time_limit(np.float32(2.5)) == 2.5
