"""The library's own error types.

Every error a *user* can cause (a bad argument, an input the float64 arithmetic
cannot represent, a problem too large for the machine, a solver that did not
converge) is raised as a subclass of :class:`OptrobustError`.  The CLIs map
exactly these to exit status 2 with one line on stderr; any other exception is
a bug and surfaces as a traceback (and in the tests).

Each class also derives from the matching built-in (``ValueError``,
``TypeError``, ``ArithmeticError``, ``MemoryError``, ``RuntimeError``,
``ImportError``), so code that catches the built-in keeps working.

>>> issubclass(InvalidInputError, ValueError) and issubclass(InvalidInputError, OptrobustError)
True
"""

from __future__ import annotations

__all__ = [
    "InvalidInputError",
    "InvalidTypeError",
    "MissingDependencyError",
    "NumericalError",
    "OptrobustError",
    "ResourceLimitError",
    "SolverError",
]


class OptrobustError(Exception):
    """Base class of every error the library raises on purpose."""


class InvalidInputError(OptrobustError, ValueError):
    """A value outside its accepted range; the message names the parameter and the range."""


class InvalidTypeError(OptrobustError, TypeError):
    """A value of the wrong type; the message names the parameter and the accepted types."""


class NumericalError(OptrobustError, ArithmeticError):
    """The input is valid but its answer cannot be certified in float64 (scale, conditioning)."""


class ResourceLimitError(OptrobustError, MemoryError):
    """The problem is larger than the stated bound on memory or work; raised before the work."""


class SolverError(OptrobustError, RuntimeError):
    """A solver failed to converge or returned a result that did not pass its check."""


class MissingDependencyError(OptrobustError, ImportError):
    """An optional dependency (an extra such as ``optrobust[plot]``) is not installed."""
