"""The l_p norms used for perturbation budgets.

Inside the library ``p`` is one of ``0, 1, 2`` or ``math.inf`` (some
functions accept any real ``p >= 1``); strings such as ``"linf"`` are accepted
only at the boundary through :func:`parse_p`.

Conventions (DESIGN.md): balls are closed, ``B_p^eps(x) = {x' : ||x - x'||_p
<= eps}``, and for ``p = 0`` the "norm" counts the non-zero coordinates.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from optrobust.errors import InvalidInputError

__all__ = [
    "DOMAINS",
    "P_VALUES",
    "check_domain",
    "dual_exponent",
    "lp_distance",
    "lp_norm",
    "norm_name",
    "parse_p",
]

#: The exponents every part of the library understands.
P_VALUES: tuple[float, ...] = (0, 1, 2, math.inf)

#: Where the classifier and the perturbations of a finite problem live: ``"continuous"``
#: (all of R^d, the paper's Definition 5; the default, ``optrobust.parsing.DEFAULT_DOMAIN``)
#: or ``"support"`` (the support points only, as in the proof of Lemma 1).
DOMAINS: tuple[str, ...] = ("continuous", "support")


def check_domain(domain: Any, *, name: str = "domain") -> str:
    """Validate a domain name (one of :data:`DOMAINS`); raise ``InvalidInputError`` otherwise.

    >>> check_domain("support")
    'support'
    """
    if not isinstance(domain, str) or domain not in DOMAINS:
        raise InvalidInputError(f"{name} must be one of {', '.join(DOMAINS)}; got {domain!r}")
    return domain

_NAMES = {
    "l0": 0,
    "0": 0,
    "l1": 1,
    "1": 1,
    "l2": 2,
    "2": 2,
    "linf": math.inf,
    "l_inf": math.inf,
    "inf": math.inf,
    "infinity": math.inf,
    "max": math.inf,
}


def parse_p(p: Any, *, allowed: tuple[float, ...] | None = P_VALUES, name: str = "p") -> float:
    """Normalize a norm specification to ``0, 1, 2`` or ``math.inf``.

    Parameters
    ----------
    p : int, float or str
        ``0, 1, 2, math.inf`` or one of ``"l0", "l1", "l2", "linf", "inf"``.
    allowed : tuple or None
        The exponents the caller supports; ``None`` accepts any real
        ``p >= 1`` as well as 0 and inf.
    name : str
        Parameter name used in the error message.

    Returns
    -------
    float or int
        ``0``, ``1``, ``2`` (ints) or ``math.inf``; other real ``p >= 1`` as float.

    Raises
    ------
    InvalidInputError
        If ``p`` is not one of the accepted values (a ``ValueError``).

    Examples
    --------
    >>> parse_p("linf")
    inf
    >>> parse_p("l2")
    2
    """
    accepted = (
        "0, 1, 2, inf (or 'l0', 'l1', 'l2', 'linf')"
        if allowed is None or set(allowed) == set(P_VALUES)
        else ", ".join(norm_name(a) for a in allowed)
    )
    value: float
    if isinstance(p, str):
        key = p.strip().lower().replace("ℓ", "l")
        if key not in _NAMES:
            raise InvalidInputError(f"{name} must be one of {accepted}; got {p!r}")
        value = _NAMES[key]
    elif isinstance(p, numbers.Real) and not isinstance(p, bool):
        try:
            value = float(p)
        except OverflowError:  # an int or Fraction beyond float64: not an accepted exponent
            raise InvalidInputError(f"{name} must be one of {accepted}; got a number beyond "
                                    "float64") from None
        if math.isnan(value):
            raise InvalidInputError(f"{name} must be one of {accepted}; got nan")
        if value.is_integer():
            value = int(value)
    else:
        raise InvalidInputError(f"{name} must be one of {accepted}; got {p!r}")
    if allowed is None:
        if value == 0 or value == math.inf or value >= 1:
            return value
        raise InvalidInputError(f"{name} must be 0, inf or a real number >= 1; got {p!r}")
    if value not in allowed:
        raise InvalidInputError(f"{name} must be one of {accepted}; got {p!r}")
    return value


def norm_name(p: float) -> str:
    """Short name of a norm: ``'l0'``, ``'l1'``, ``'l2'``, ``'linf'``."""
    if p == math.inf:
        return "linf"
    if float(p).is_integer():
        return f"l{int(p)}"
    return f"l{p:g}"


def dual_exponent(p: float) -> float:
    """Hölder conjugate ``q`` with ``1/p + 1/q = 1`` (``p >= 1``).

    >>> dual_exponent(1), dual_exponent(2), dual_exponent(math.inf)
    (inf, 2, 1)
    """
    if p == 1:
        return math.inf
    if p == math.inf:
        return 1
    if p == 2:
        return 2
    if p < 1:
        raise InvalidInputError(f"p must be >= 1 for a dual norm; got {p!r}")
    return p / (p - 1.0)


def lp_norm(x: Any, p: float, axis: int = -1) -> np.ndarray:
    """``||x||_p`` along ``axis``; ``p = 0`` counts non-zero entries."""
    x = np.asarray(x, dtype=float)
    if p == 0:
        return np.count_nonzero(x, axis=axis).astype(float)
    if p == math.inf:
        return np.max(np.abs(x), axis=axis, initial=0.0)
    if p == 1:
        return np.sum(np.abs(x), axis=axis)
    if p == 2:
        return np.sqrt(np.sum(x * x, axis=axis))
    return np.sum(np.abs(x) ** p, axis=axis) ** (1.0 / p)


def lp_distance(a: Any, b: Any, p: float) -> np.ndarray:
    """``||a - b||_p`` with broadcasting over leading axes."""
    return lp_norm(np.asarray(a, dtype=float) - np.asarray(b, dtype=float), p)
