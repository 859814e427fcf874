"""``optrobust-empirical`` (also ``python -m empirical``): the frame of the experiment CLI.

Each sub-command lives in its own module with a ``register(sub, add_common)`` function and
a ``run(args) -> (payload, text)`` function; this frame builds the parser, sets torch's
thread count, runs the command and prints ``text`` (or ``payload`` with ``--json``).

=========== ================================ ==========================================
command     module                           does
=========== ================================ ==========================================
train       :mod:`empirical._cli_train`      train one model (standard, PGD, ...)
evaluate    :mod:`empirical._cli_evaluate`   clean/robust accuracy, Appendix-C checklist
compare     :mod:`empirical._cli_compare`    learned vs exact optimal robust error
landscape   :mod:`empirical._cli_landscape`  loss landscapes and saliency maps
reproduce   :mod:`empirical._cli_reproduce`  the paper's Figures 1, 2, 7 and Table 1
limits      :mod:`empirical._cli_limits`     exact robust-error limits of a data set
audit       :mod:`empirical._cli_audit`      audit any model against the exact optimum
=========== ================================ ==========================================

``--help`` and every argument error are answered without importing torch.  User errors
(the library's :class:`~optrobust.errors.OptrobustError` and the training loop's
``DivergenceError``) exit with status 2 and one line on stderr; anything else is a bug
and surfaces with its traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from empirical._cli_common import add_common, auto_threads
from optrobust.errors import OptrobustError

__all__ = ["build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


_add_common = add_common  # the name the sub-command registrations below use


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of ``optrobust-empirical`` (imports no torch)."""
    from empirical import (
        _cli_audit,
        _cli_compare,
        _cli_evaluate,
        _cli_landscape,
        _cli_limits,
        _cli_reproduce,
        _cli_train,
    )

    parser = _Parser(prog="optrobust-empirical",
                     description="Adversarial training and robustness evaluation (PyTorch). "
                                 "Run 'optrobust-empirical COMMAND --help' for a command's "
                                 "options.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    # One line per sub-command (its module's register(sub, add_common)), in --help order.
    _cli_train.register(sub, _add_common)
    _cli_evaluate.register(sub, _add_common)
    _cli_compare.register(sub, _add_common)
    _cli_landscape.register(sub, _add_common)
    _cli_reproduce.register(sub, _add_common)
    _cli_limits.register(sub, _add_common)
    _cli_audit.register(sub, _add_common)
    return parser


def _is_user_error(exc: BaseException) -> bool:
    if isinstance(exc, OptrobustError):
        return True
    train = sys.modules.get("empirical.train")  # loaded by then if it raised
    return train is not None and isinstance(exc, train.DivergenceError)


@contextmanager
def _torch_threads(n: int | None) -> Iterator[int]:
    """Set torch's intra-op threads for one command; restored afterwards."""
    import torch

    before = torch.get_num_threads()
    n = auto_threads() if n is None else n
    torch.set_num_threads(n)
    try:
        yield n
    finally:
        torch.set_num_threads(before)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 success, 2 bad input or failed run)."""
    args = build_parser().parse_args(argv)
    try:
        with _torch_threads(args.threads):
            payload, text = args.func(args)
    except Exception as exc:
        if not _is_user_error(exc):
            raise
        msg = " ".join(str(exc).split()) or type(exc).__name__
        sys.stderr.write(f"optrobust-empirical {args.command}: error: {msg}\n")
        return 2
    if int(os.environ.get("RANK", "0")) != 0:  # torchrun: only rank 0 reports
        return 0
    if args.json:
        from empirical.checkpoint import json_safe

        sys.stdout.write(json.dumps(json_safe(payload)) + "\n")
    else:
        sys.stdout.write(text.rstrip("\n") + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
