"""Hostile inputs and the outcome rule of the fuzz suite.

The rule (issue 10, docs/reliability.md): every public call gets either a
*correct number* -- checked here against a property that every correct answer
satisfies (an error rate in [0, 1/2], ``bayes <= robust``, an independent set
that is independent, ...) -- or a named :class:`~optrobust.errors.OptrobustError`.
Any other exception, and any value failing its property, is a failure.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from optrobust.errors import OptrobustError


class _Opaque:
    """An object of no numeric kind."""

    def __repr__(self) -> str:
        return "<opaque>"


#: Scalars: NaN, inf, huge, tiny, wrong types, booleans, complex, numpy kinds.
SCALARS: dict[str, Any] = {
    "nan": math.nan,
    "inf": math.inf,
    "-inf": -math.inf,
    "float_max": sys.float_info.max,
    "1e300": 1e300,
    "int_10^400": 10**400,
    "2^63": 2**63,
    "denormal": 5e-324,
    "1e-300": 1e-300,
    "-1": -1,
    "-1e-300": -1e-300,
    "0": 0,
    "-0.0": -0.0,
    "0.5": 0.5,
    "1": 1,
    "2.5": 2.5,
    "7": 7,
    "fraction_1/3": Fraction(1, 3),
    "fraction_huge": Fraction(10**400, 3),
    "np_float32": np.float32(0.25),
    "np_int64": np.int64(3),
    "np_nan": np.float64("nan"),
    "str_0.3": "0.3",
    "str_empty": "",
    "str_linf": "linf",
    "bytes": b"1",
    "None": None,
    "True": True,
    "False": False,
    "np_bool": np.bool_(True),
    "complex": 1 + 2j,
    "complex_real": 1 + 0j,
    "list_[0.3]": [0.3],
    "dict": {},
    "object": _Opaque(),
}


def arrays(shape: tuple[int, ...], base: Any) -> dict[str, Any]:
    """Hostile arrays for a parameter whose valid value has ``shape`` (``base`` is valid)."""
    base = np.asarray(base, dtype=float)
    nan = base.copy()
    nan.flat[0] = math.nan
    inf = base.copy()
    inf.flat[-1] = math.inf
    out: dict[str, Any] = {
        "empty": np.empty((0,) + shape[1:]),
        "empty_list": [],
        "scalar": 1.0,
        "extra_dim": base[None, ...],
        "flat": base.ravel() if base.ndim > 1 else base[:, None],
        "one_shorter": base[:-1] if len(shape) else base,
        "ragged": [[1.0], [1.0, 2.0]],
        "with_nan": nan,
        "with_inf": inf,
        "times_1e300": base * 1e300,
        "times_1e-300": base * 1e-300,
        "times_1e154": base * 1e154,
        "float_max": np.full(shape, sys.float_info.max),
        "strings": base.astype(str),
        "booleans": np.ones(shape, dtype=bool),
        "bool_list": [True] * (shape[0] if shape else 1),
        "complex": base.astype(complex) + 1j,
        "objects": np.array([_Opaque()] * (shape[0] if shape else 1), dtype=object),
        "int_10^400": [10**400] * (shape[0] if shape else 1),
        "None": None,
        "str": "1,2",
        "int64_max": np.full(shape, np.iinfo(np.int64).max),
        "float32": base.astype(np.float32),
        "fractions": np.array([Fraction(1, 3)] * base.size, dtype=object).reshape(shape),
    }
    return out


def outcome(call: Callable[[], Any], check: Callable[[Any], None]) -> str:
    """Run ``call``; return ``"value"`` (checked) or ``"named error"``; fail otherwise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            result = call()
        except OptrobustError as exc:
            msg = str(exc)
            assert msg.strip(), f"{type(exc).__name__} without a message"
            return "named error"
        except Exception as exc:  # noqa: BLE001 - the point of the suite
            raise AssertionError(f"raw {type(exc).__name__}: {exc}") from exc
    try:
        check(result)
    except AssertionError:
        raise
    except Exception as exc:  # noqa: BLE001 - a result the property cannot even read
        raise AssertionError(f"result fails its check with {type(exc).__name__}: {exc}") from exc
    return "value"


def is_rate(x: Any, *, hi: float = 0.5) -> None:
    """An error rate: a real number in [0, hi] (Fractions allowed)."""
    assert isinstance(x, float | int | Fraction | np.floating), type(x)
    assert not isinstance(x, bool)
    assert 0 <= x <= hi, x
