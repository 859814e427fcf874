"""Input checks shared by the whole library.

Every check raises :class:`ValueError` (or :class:`TypeError` for a wrong
type) whose message starts with the parameter's name and states the accepted
range, so that the CLI can print it as one line.  Nothing here uses ``assert``.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction
from typing import Any

import numpy as np

from optrobust.errors import InvalidInputError, InvalidTypeError

__all__ = [
    "check_eps",
    "check_finite_array",
    "check_int",
    "check_probability",
    "check_rng",
    "check_sign_vector",
    "check_t",
]


def _is_real_scalar(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_eps(eps: Any, *, name: str = "eps") -> float:
    """Return ``eps`` as a float after checking ``0 <= eps < inf``.

    ``Fraction`` and numpy scalars are accepted.  ``NaN``, negative and
    infinite budgets raise ``ValueError``.
    """
    if isinstance(eps, np.generic):
        eps = eps.item()
    if not _is_real_scalar(eps):
        raise InvalidTypeError(f"{name} must be a real number >= 0, got {type(eps).__name__}")
    value = float(eps)
    if math.isnan(value) or value < 0 or math.isinf(value):
        raise InvalidInputError(f"{name} must be a finite real number >= 0, got {eps!r}")
    return value


def check_t(t: Any, *, name: str = "t") -> float | Fraction:
    """Check a Bernoulli bias ``0 <= t <= 1/2``; keep ``Fraction`` exact."""
    if isinstance(t, np.generic):
        t = t.item()
    if not _is_real_scalar(t):
        raise InvalidTypeError(f"{name} must be a real number in [0, 1/2], got {type(t).__name__}")
    if isinstance(t, Fraction):
        if not (0 <= t <= Fraction(1, 2)):
            raise InvalidInputError(f"{name} must lie in [0, 1/2], got {t}")
        return t
    value = float(t)
    if math.isnan(value) or not (0.0 <= value <= 0.5):
        raise InvalidInputError(f"{name} must lie in [0, 1/2], got {t!r}")
    return value


def check_probability(value: Any, *, name: str) -> float:
    """Check ``0 <= value <= 1``."""
    if not _is_real_scalar(value) and not isinstance(value, np.generic):
        raise InvalidTypeError(
            f"{name} must be a real number in [0, 1], got {type(value).__name__}")
    v = float(value)
    if math.isnan(v) or not (0.0 <= v <= 1.0):
        raise InvalidInputError(f"{name} must lie in [0, 1], got {value!r}")
    return v


def check_int(value: Any, *, name: str, minimum: int = 0, maximum: int | None = None) -> int:
    """Check an integer in ``[minimum, maximum]`` (bools are rejected)."""
    if isinstance(value, np.integer):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidTypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and <= {maximum}"
        raise InvalidInputError(f"{name} must be an integer >= {minimum}{upper}, got {value}")
    return value


def check_finite_array(
    value: Any, *, name: str, ndim: int | None = None, dtype: Any = float
) -> np.ndarray:
    """Convert to a numpy array, rejecting NaN/inf and a wrong number of dimensions."""
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be a numeric array: {exc}") from None
    if ndim is not None and arr.ndim != ndim:
        raise InvalidInputError(f"{name} must be a {ndim}-dimensional array, got shape {arr.shape}")
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{name} must contain only finite values (no NaN or inf)")
    return arr


def check_sign_vector(value: Any, *, name: str) -> np.ndarray:
    """Check a non-empty 1-d vector with entries in {-1, +1}; return it as int8."""
    arr = check_finite_array(value, name=name, ndim=1)
    if arr.size == 0:
        raise InvalidInputError(f"{name} must have at least one coordinate")
    if not np.all(np.isin(arr, (-1.0, 1.0))):
        raise InvalidInputError(f"{name} must have every entry in {{-1, +1}}")
    return arr.astype(np.int8)


def check_rng(rng: Any) -> np.random.Generator:
    """Turn ``None``, an int seed or a ``Generator`` into a ``Generator``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        if rng is not None and int(rng) < 0:
            raise InvalidInputError(
                f"rng must be a non-negative seed or a numpy Generator, got {rng}")
        return np.random.default_rng(rng)
    raise InvalidTypeError(
        f"rng must be None, an int seed or a numpy Generator, got {type(rng).__name__}")
