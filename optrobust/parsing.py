"""Parsing of user-typed values, shared by both packages and both CLIs.

Numbers are read with :class:`fractions.Fraction` (``0.3``, ``8/255``,
``inf``), never ``eval``.  The threat-model norm is one option spelled
``--norm`` or ``--p`` (same destination ``norm``), parsed with
:func:`optrobust.norms.parse_p`.  Every failure raises :class:`CliError`, a
:class:`~optrobust.errors.InvalidInputError` whose message names the option.

>>> parse_number("8/255", name="--eps") == 8 / 255
True
>>> parse_number_list("1,2, 3", name="--eps")
[1.0, 2.0, 3.0]
>>> parse_int("1e9", name="--k"), parse_int_list("9007199254740993", name="--k")
(1000000000, [9007199254740993])
"""

from __future__ import annotations

import argparse
import math
import re
from fractions import Fraction
from typing import Any

from optrobust.errors import InvalidInputError

__all__ = [
    "DEFAULT_DOMAIN",
    "CliError",
    "add_domain_option",
    "add_norm_option",
    "parse_int",
    "parse_int_list",
    "parse_number",
    "parse_number_list",
]

#: The one default of ``domain`` in the whole library: the paper's Definition 5
#: (a classifier is a function on all of R^d).  ``"support"`` is asked for explicitly.
DEFAULT_DOMAIN = "continuous"


class CliError(InvalidInputError):
    """A user error the CLI reports as one line with exit status 2."""


#: Fraction("1e999999999") would build a billion-digit integer: exponents beyond this
#: are read as floats instead (inf or 0 after rounding).
_MAX_EXACT_EXPONENT = 400
_EXPONENT = re.compile(r"[eE]\s*([+-]?\d+)\s*$")


def _show(text: Any) -> str:
    """``repr(text)``, shortened to keep an error message on one readable line."""
    r = repr(text)
    return r if len(r) <= 60 else r[:45] + "..." + r[-10:]


def _huge_exponent(s: str) -> bool:
    m = _EXPONENT.search(s)
    return m is not None and abs(int(m.group(1)[:12])) > _MAX_EXACT_EXPONENT


def parse_number(text: str, *, name: str) -> float:
    """Parse ``'0.3'``, ``'8/255'``, ``'inf'`` with :class:`fractions.Fraction`, never eval."""
    s = str(text).strip()
    if s.lower() in ("inf", "+inf", "infinity", "+infinity"):
        return math.inf
    if s.lower() in ("-inf", "-infinity"):
        return -math.inf
    if _huge_exponent(s):
        try:
            value = float(s)
        except ValueError:
            raise CliError(
                f"{name} must be a number such as 0.3 or 8/255, got {_show(text)}") from None
        if math.isinf(value):
            raise CliError(f"{name} is too large for a float64: {_show(text)}")
        return value
    try:
        return float(Fraction(s))
    except (ValueError, ZeroDivisionError):
        raise CliError(f"{name} must be a number such as 0.3 or 8/255, got {_show(text)}") from None
    except OverflowError:
        raise CliError(f"{name} is too large for a float64: {_show(text)}") from None


def parse_number_list(text: str, *, name: str) -> list[float]:
    """Parse a comma-separated list of numbers (each as in :func:`parse_number`)."""
    items = [t for t in str(text).split(",") if t.strip()]
    if not items:
        raise CliError(f"{name} must be a comma-separated list of numbers, got {_show(text)}")
    return [parse_number(t, name=name) for t in items]


def parse_int(text: str, *, name: str) -> int:
    """Parse an integer exactly (``'50'``, ``'1e9'``); no float rounding.

    ``'9007199254740993'`` stays that integer (a float would round it to ``2**53``).
    """
    s = str(text).strip()
    try:
        if _huge_exponent(s):
            raise ValueError(s)
        value = Fraction(s)
    except (ValueError, ZeroDivisionError):
        raise CliError(f"{name} must be an integer such as 50 or 1e6, got {_show(text)}") from None
    if value.denominator != 1:
        raise CliError(f"{name} must be an integer, got {_show(text)}")
    if abs(value.numerator) > 10**100:
        raise CliError(f"{name} is too large: {_show(text)}")
    return int(value)


def parse_int_list(text: str, *, name: str) -> list[int]:
    """Parse a comma-separated list of integers (each as in :func:`parse_int`)."""
    items = [t for t in str(text).split(",") if t.strip()]
    if not items:
        raise CliError(f"{name} must be a comma-separated list of integers, got {_show(text)}")
    return [parse_int(t, name=name) for t in items]


def add_norm_option(parser: argparse.ArgumentParser, *, default: str | None,
                    choices: str = "l0, l1, l2, linf") -> None:
    """Add the threat-model norm as ``--norm`` with the alias ``--p`` (dest ``norm``).

    ``default=None`` makes the option required.  The default shows in ``--help``.
    """
    kw: dict[str, Any] = {"dest": "norm", "metavar": "NORM"}
    numbers = ", ".join(c.strip()[1:] for c in choices.split(",") if c.strip().startswith("l"))
    also = f" (also {numbers})" if numbers else ""
    if default is None:
        kw["required"] = True
        text = f"threat-model norm: {choices}{also}; required"
    else:
        kw["default"] = default
        text = f"threat-model norm: {choices}{also}; default {default}"
    parser.add_argument("--norm", "--p", help=text, **kw)


def add_domain_option(parser: argparse.ArgumentParser, *,
                      default: str = DEFAULT_DOMAIN) -> None:
    """Add ``--domain continuous|support`` with the library's one default, shown in ``--help``."""
    parser.add_argument(
        "--domain", choices=("continuous", "support"), default=default,
        help="continuous: classifiers on all of R^d (Definition 5); support: inputs and "
             f"perturbations on the support points only (Lemma 1); default {default}")
