"""Deprecated private alias of :mod:`optrobust.validation` (kept so that old imports work)."""

from __future__ import annotations

from optrobust.validation import (  # noqa: F401
    check_eps,
    check_finite_array,
    check_int,
    check_p,
    check_probability,
    check_rng,
    check_sign_vector,
    check_t,
)

__all__ = [
    "check_eps",
    "check_finite_array",
    "check_int",
    "check_p",
    "check_probability",
    "check_rng",
    "check_sign_vector",
    "check_t",
]
