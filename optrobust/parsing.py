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
"""

from __future__ import annotations

import argparse
import math
from fractions import Fraction
from typing import Any

from optrobust.errors import InvalidInputError

__all__ = [
    "DEFAULT_DOMAIN",
    "CliError",
    "add_domain_option",
    "add_norm_option",
    "parse_number",
    "parse_number_list",
]

#: The one default of ``domain`` in the whole library: the paper's Definition 5
#: (a classifier is a function on all of R^d).  ``"support"`` is asked for explicitly.
DEFAULT_DOMAIN = "continuous"


class CliError(InvalidInputError):
    """A user error the CLI reports as one line with exit status 2."""


def parse_number(text: str, *, name: str) -> float:
    """Parse ``'0.3'``, ``'8/255'``, ``'inf'`` with :class:`fractions.Fraction`, never eval."""
    s = str(text).strip()
    if s.lower() in ("inf", "+inf", "infinity"):
        return math.inf
    try:
        return float(Fraction(s))
    except (ValueError, ZeroDivisionError):
        raise CliError(f"{name} must be a number such as 0.3 or 8/255, got {text!r}") from None
    except OverflowError:
        raise CliError(f"{name} is too large for a float64: {text!r}") from None


def parse_number_list(text: str, *, name: str) -> list[float]:
    """Parse a comma-separated list of numbers (each as in :func:`parse_number`)."""
    items = [t for t in str(text).split(",") if t.strip()]
    if not items:
        raise CliError(f"{name} must be a comma-separated list of numbers, got {text!r}")
    return [parse_number(t, name=name) for t in items]


def add_norm_option(parser: argparse.ArgumentParser, *, default: str | None,
                    choices: str = "l0, l1, l2, linf") -> None:
    """Add the threat-model norm as ``--norm`` with the alias ``--p`` (dest ``norm``).

    ``default=None`` makes the option required.  The default shows in ``--help``.
    """
    kw: dict[str, Any] = {"dest": "norm", "metavar": "NORM"}
    if default is None:
        kw["required"] = True
        text = f"threat-model norm: {choices} (also 0, 1, 2, inf); required"
    else:
        kw["default"] = default
        text = f"threat-model norm: {choices} (also 0, 1, 2, inf); default {default}"
    parser.add_argument("--norm", "--p", help=text, **kw)


def add_domain_option(parser: argparse.ArgumentParser, *,
                      default: str = DEFAULT_DOMAIN) -> None:
    """Add ``--domain continuous|support`` with the library's one default, shown in ``--help``."""
    parser.add_argument(
        "--domain", choices=("continuous", "support"), default=default,
        help="continuous: classifiers on all of R^d (Definition 5); support: inputs and "
             f"perturbations on the support points only (Lemma 1); default {default}")
