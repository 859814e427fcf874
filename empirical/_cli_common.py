"""The pieces every ``optrobust-empirical`` sub-command shares (imports no torch).

argparse types (numbers through :func:`optrobust.parsing.parse_number`, norms through
:func:`optrobust.norms.parse_p`), the common options (``--json``, ``--device``,
``--threads``, ``--quiet``) and :func:`user_errors`.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from optrobust.errors import OptrobustError
from optrobust.parsing import CliError, parse_number

__all__ = ["add_common", "at_least", "auto_threads", "data_root", "digits", "finite_number",
           "norm_name", "number", "out_dir", "positive_int", "threads_option", "user_errors"]

_MAX_AUTO_THREADS = 8


# ------------------------------------------------------------ argparse types (no torch)

def number(text: str) -> float:
    """``0.3``, ``8/255``, ``inf`` through :func:`optrobust.parsing.parse_number`."""
    try:
        return parse_number(text, name="value")
    except CliError:
        raise argparse.ArgumentTypeError(
            f"expected a number such as 0.3 or 8/255, got {text!r}") from None


def finite_number(text: str) -> float:
    """A finite :func:`number`."""
    v = number(text)
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return v


def at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an integer ``>= low``."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            v = low - 1
        if v < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
        return v

    parse.__name__ = f"integer >= {low}"
    return parse


positive_int = at_least(1)


def digits(text: str) -> tuple[int, ...]:
    """``3,7`` -> ``(3, 7)`` (the ``--classes`` of ``train`` and ``compare``)."""
    try:
        return tuple(int(c) for c in text.split(",") if c.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected digits such as 3,7, got {text!r}") from None


def norm_name(text: str) -> str:
    """``l0|l2|linf`` (also ``0``, ``2``, ``inf``) -> ``"l0"``, ``"l2"`` or ``"linf"``."""
    from optrobust.norms import norm_name as name_of
    from optrobust.norms import parse_p

    try:
        return name_of(parse_p(text, allowed=(0, 2, math.inf), name="--norm"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected l0, l2 or linf (also 0, 2, inf), got {text!r}") from None


def data_root(text: str) -> str:
    """A ``--data-root`` as typed, made absolute against the current directory.

    Only a root left out means the default location (``DataSpec``'s default value); a
    relative root the user types is taken relative to where the command runs.
    """
    return str(Path(text).expanduser().resolve())


def out_dir(text: str) -> str:
    """An output directory that exists or can be created (checked before any work)."""
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} exists and is not a directory")
    ancestor = path
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(
            f"cannot write {text!r}: {ancestor} is not a writable directory")
    return text


def threads_option(text: str) -> int | None:
    if text == "auto":
        return None
    return positive_int(text)


def auto_threads() -> int:
    """torch's CPU thread count when ``--threads`` is not given.

    ``OMP_NUM_THREADS`` if set; else the cores this process may use minus the current
    one-minute load average (rounded up), shared among the ``LOCAL_WORLD_SIZE`` processes
    ``torchrun`` starts on the machine, between 1 and 8.  On a loaded 2-core machine
    this is 1: there torch's own default (2 threads) made one ``evaluate`` 6x slower
    (57-61 s against 8.6-9.7 s, docs/benchmarks.md).
    """
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) >= 1:
        return int(env)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        load = 0.0
    local = os.environ.get("LOCAL_WORLD_SIZE", "1")  # torchrun: processes on this machine
    share = int(local) if local.isdigit() and int(local) >= 1 else 1
    return max(1, min(_MAX_AUTO_THREADS, (cpus - math.ceil(load)) // share))


def add_common(p: argparse.ArgumentParser) -> None:
    """The options every sub-command has: ``--json``, ``--device``, ``--threads``, ``--quiet``."""
    g = p.add_argument_group("common")
    g.add_argument("--json", action="store_true", help="print one JSON object")
    g.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="auto (default: cuda when available, else cpu), cpu or cuda")
    g.add_argument("--threads", type=threads_option, default=None, metavar="N",
                   help="torch CPU threads, N >= 1 or auto (default auto: $OMP_NUM_THREADS "
                        "if set, else the idle cores now, 1 to 8; 1 on a busy machine)")
    g.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")


@contextmanager
def user_errors() -> Iterator[None]:
    """Name a missing file the operating system reports (``FileNotFoundError``) as a user error.

    Argument checks in the library raise its own error types, which pass through
    unchanged; a plain ``ValueError``/``TypeError``/``KeyError`` is a bug and is not caught.
    """
    try:
        yield
    except OptrobustError:
        raise
    except FileNotFoundError as exc:
        raise CliError(" ".join(str(exc).split())) from exc


