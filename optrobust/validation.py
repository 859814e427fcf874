"""Input checks shared by the whole library (public: both packages use them).

Every check raises :class:`~optrobust.errors.InvalidInputError` (a
``ValueError``) or :class:`~optrobust.errors.InvalidTypeError` (a
``TypeError``) whose message starts with the parameter's name and states the
accepted range, so that a CLI can print it as one line.  Booleans, strings and
complex numbers are never taken for real numbers.  Nothing here uses ``assert``.

>>> check_eps(0.25)
0.25
>>> check_p("linf")
inf
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction
from typing import Any

import numpy as np

from optrobust.errors import InvalidInputError, InvalidTypeError, OptrobustError
from optrobust.norms import P_VALUES, parse_p

__all__ = [
    "check_eps",
    "check_finite_array",
    "check_int",
    "check_p",
    "check_probability",
    "check_rng",
    "check_sign_vector",
    "check_time_limit",
    "check_t",
]


def _is_real_scalar(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _to_float(value: Any, *, name: str, accepted: str) -> float:
    """``float(value)`` with an over-large int or Fraction reported by name."""
    try:
        return float(value)
    except OverflowError:
        raise InvalidInputError(
            f"{name} must be {accepted}, got a number too large for a float64") from None


def check_eps(eps: Any, *, name: str = "eps") -> float:
    """Return ``eps`` as a float after checking ``0 <= eps < inf``.

    ``Fraction`` and numpy scalars are accepted.  ``NaN``, negative and
    infinite budgets raise :class:`InvalidInputError`; non-numbers (also
    booleans, strings, complex) raise :class:`InvalidTypeError`.
    """
    if isinstance(eps, np.generic):
        eps = eps.item()
    if not _is_real_scalar(eps):
        raise InvalidTypeError(f"{name} must be a real number >= 0, got {type(eps).__name__}")
    value = _to_float(eps, name=name, accepted="a finite real number >= 0")
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
    value = _to_float(t, name=name, accepted="a real number in [0, 1/2]")
    if math.isnan(value) or not (0.0 <= value <= 0.5):
        raise InvalidInputError(f"{name} must lie in [0, 1/2], got {t!r}")
    return value


def check_probability(value: Any, *, name: str) -> float:
    """Check ``0 <= value <= 1``."""
    if isinstance(value, np.generic):
        value = value.item()
    if not _is_real_scalar(value):
        raise InvalidTypeError(
            f"{name} must be a real number in [0, 1], got {type(value).__name__}")
    v = _to_float(value, name=name, accepted="a real number in [0, 1]")
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


def check_p(p: Any, *, allowed: tuple[float, ...] | None = P_VALUES, name: str = "p") -> float:
    """:func:`optrobust.norms.parse_p` whose failures are :class:`InvalidInputError`.

    Accepts ``0, 1, 2, math.inf`` and the names ``"l0", "l1", "l2", "linf"``
    (and real ``p >= 1`` with ``allowed=None``); booleans, complex numbers and
    other objects are rejected with a message naming ``name``.
    """
    if isinstance(p, np.generic):
        p = p.item()
    if isinstance(p, bool) or not (isinstance(p, str) or isinstance(p, numbers.Real)):
        raise InvalidTypeError(
            f"{name} must be a norm such as 0, 1, 2, inf or 'l0', 'l1', 'l2', 'linf', "
            f"got {type(p).__name__}")
    if not isinstance(p, str):
        try:
            float(p)
        except OverflowError:  # 10**400 is no exponent the library knows
            raise InvalidInputError(
                f"{name} must be one of 0, 1, 2, inf (or 'l0', 'l1', 'l2', 'linf'); "
                "got a number too large for a float64") from None
    try:
        return parse_p(p, allowed=allowed, name=name)
    except OptrobustError:
        raise
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None


def _reject_non_real(raw: np.ndarray, *, name: str) -> None:
    """Booleans, strings, complex numbers and non-numeric objects are not real numbers."""
    kind = raw.dtype.kind
    if kind == "b":
        raise InvalidTypeError(f"{name} must be an array of real numbers, got booleans")
    if kind in "USV":
        raise InvalidTypeError(f"{name} must be an array of real numbers, got strings")
    if kind == "c":
        raise InvalidTypeError(f"{name} must be an array of real numbers, got complex numbers")
    if kind == "O":
        for item in raw.flat:
            if isinstance(item, np.generic):
                item = item.item()
            if not _is_real_scalar(item):
                raise InvalidTypeError(
                    f"{name} must be an array of real numbers, got an entry of type "
                    f"{type(item).__name__}")
    elif kind not in "iuf":
        raise InvalidTypeError(f"{name} must be an array of real numbers, got dtype {raw.dtype}")


def _holds_bool(value: Any) -> bool:
    """Whether a nested list/tuple holds a bool (numpy turns ``[1.0, True]`` into numbers)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, bool | np.bool_):
            return True
    return False


def check_finite_array(
    value: Any, *, name: str, ndim: int | None = None, dtype: Any = float,
    exact_integers: bool = False,
) -> np.ndarray:
    """Convert to a numpy array of real numbers, rejecting NaN/inf and a wrong ``ndim``.

    Booleans, strings, complex numbers and ragged nesting raise a named error
    (they used to be converted silently: ``"1"`` became ``1.0``).  With
    ``exact_integers=True`` integer entries that float64 cannot hold exactly (beyond
    2^53: ``2**60`` and ``2**60 + 1`` are one float) are refused instead of rounded.
    """
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be a numeric array: {exc}") from None
    _reject_non_real(raw, name=name)
    if raw.dtype.kind in "iuf" and isinstance(value, list | tuple) and _holds_bool(value):
        raise InvalidTypeError(f"{name} must be an array of real numbers, got booleans")
    try:
        arr = raw.astype(dtype, copy=False)
    except OverflowError:
        raise InvalidInputError(
            f"{name} must contain only finite values; an entry exceeds float64") from None
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be a numeric array: {exc}") from None
    if exact_integers and raw.dtype.kind in "iuO" and raw.size and _rounds_integers(raw, arr):
        raise InvalidInputError(f"{name} has integers beyond 2^53 that float64 cannot "
                                "represent exactly")
    if ndim is not None and arr.ndim != ndim:
        raise InvalidInputError(f"{name} must be a {ndim}-dimensional array, got shape {arr.shape}")
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{name} must contain only finite values (no NaN or inf)")
    return arr


def _rounds_integers(raw: np.ndarray, arr: np.ndarray) -> bool:
    """Whether converting the integer entries of ``raw`` to ``arr`` changed one of them."""
    if raw.dtype.kind in "iu":
        if int(np.max(np.abs(raw.astype(object)))) <= 2**53:
            return False
        return bool(np.any(arr.astype(object) != raw.astype(object)))
    return any(isinstance(v, numbers.Integral) and math.isfinite(f) and int(f) != int(v)
               for v, f in zip(raw.ravel().tolist(), arr.ravel().tolist(), strict=True))


def check_time_limit(value: Any, *, name: str = "time_limit") -> float | None:
    """A wall-clock limit: ``None`` (no limit) or a finite number of seconds ``> 0``.

    Anything else (a string, a boolean, NaN, inf, ``<= 0``) is an
    :class:`~optrobust.errors.InvalidInputError` naming the parameter.
    """
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    ok = _is_real_scalar(value)
    seconds = float(value) if ok else math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise InvalidInputError(f"{name} must be a finite number of seconds > 0 or None, "
                                f"got {value!r}")
    return seconds


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
        return np.random.default_rng(None if rng is None else int(rng))
    raise InvalidTypeError(
        f"rng must be None, an int seed or a numpy Generator, got {type(rng).__name__}")
