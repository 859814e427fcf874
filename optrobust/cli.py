"""Command-line interface: ``optrobust`` (and ``python -m optrobust``).

Sub-commands are registered by small modules, one per capability:

* ``limits`` and ``table``   -- :mod:`optrobust._cli_limits`
* ``exact``                  -- :mod:`optrobust._cli_exact`
* ``hardness``               -- :mod:`optrobust._cli_hardness`

Each module exposes ``register(subparsers)`` which adds its parsers and sets
``func`` on them; ``func(args)`` returns a JSON-able payload (printed with
``--json``) and a human-readable text.  The modules are imported plainly when
the parser is built; each keeps its heavy imports inside its functions, so
``--help`` and argument errors stay fast.

Exit status: 0 on success; 2 with one line on stderr for a usage error
(argparse) or any :class:`~optrobust.errors.OptrobustError` (bad input,
unrepresentable scale, resource bound, solver failure -- the library raises
these at their source); 130 on Ctrl-C.  Any other exception is a bug and
surfaces as a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from optrobust.errors import OptrobustError
from optrobust.parsing import CliError, parse_number, parse_number_list

# parse_number, parse_number_list and CliError live in optrobust.parsing; re-exported here
# for the sub-command modules and callers that imported them from optrobust.cli.
__all__ = ["CliError", "build_parser", "main", "parse_number", "parse_number_list"]


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _json_default(obj: Any) -> Any:
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, Fraction):
        return float(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def _finite_or_str(obj: Any) -> Any:
    """JSON has no inf/NaN: write them as strings."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return "inf" if obj > 0 else ("-inf" if obj < 0 else "nan")
    if isinstance(obj, dict):
        return {k: _finite_or_str(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite_or_str(v) for v in obj]
    return obj


def build_parser() -> argparse.ArgumentParser:
    """The ``optrobust`` parser with every sub-command registered."""
    # Imported here, not at module level: each sub-command module imports optrobust.parsing
    # (and, for older ones, optrobust.cli), so a module-level import would be a cycle.
    from optrobust import _cli_exact, _cli_hardness, _cli_limits

    parser = _Parser(
        prog="optrobust",
        description="Exact optimal (robust) error rates and feasible-eps limits.",
    )
    from optrobust import __version__

    parser.add_argument("--version", action="version", version=f"optrobust {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for mod in (_cli_limits, _cli_exact, _cli_hardness):
        mod.register(sub)
    return parser


def _fail(command: str, exc: BaseException) -> int:
    """Write ``optrobust COMMAND: error: MESSAGE`` as one line; return exit status 2."""
    msg = " ".join(str(exc).split()) or type(exc).__name__
    sys.stderr.write(f"optrobust {command}: error: {msg}\n")
    return 2


_NEGATIVE_VALUE = re.compile(r"^-(\d|\.\d)")


def _glue_negative_values(argv: Sequence[str]) -> list[str]:
    """Let ``--mu-neg -1,0`` mean ``--mu-neg=-1,0`` (argparse would read an option)."""
    out: list[str] = []
    it = list(argv)
    i = 0
    while i < len(it):
        tok = it[i]
        if (tok.startswith("--") and "=" not in tok and i + 1 < len(it)
                and _NEGATIVE_VALUE.match(it[i + 1])):
            out.append(f"{tok}={it[i + 1]}")
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 success, 2 bad input)."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(_glue_negative_values(argv))
    try:
        payload, text = args.func(args)
    except OptrobustError as exc:
        return _fail(args.command, exc)
    except KeyboardInterrupt:
        sys.stderr.write(f"optrobust {args.command}: interrupted\n")
        return 130
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(_finite_or_str(payload), default=_json_default) + "\n")
    else:
        sys.stdout.write(text.rstrip("\n") + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
