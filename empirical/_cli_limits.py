"""``optrobust-empirical limits``: where robust learning on MNIST / CIFAR-10 becomes impossible.

::

    optrobust-empirical limits --dataset mnist --norm l2 \\
        --eps-grid 1,2,3,4,5 --out runs/limits-l2
    optrobust-empirical limits --dataset mnist --classes 3,7 --train-size 2000 \\
        --test-size 1000 --norm linf --eps-grid 0.1,0.2,0.3,0.4,0.5 --out runs/limits-37

The work is :func:`empirical.limits.run_limits`; this module only parses.
"""

from __future__ import annotations

import argparse
import math
import shlex
from pathlib import Path
from typing import Any

from empirical._cli_common import data_root, digits, finite_number, positive_int, user_errors
from optrobust.parsing import CliError, add_norm_option, parse_number_list

__all__ = ["register", "run"]


def register(sub: Any, add_common: Any) -> None:
    """Add the ``limits`` sub-command to ``sub`` (an argparse sub-parsers object)."""
    p = sub.add_parser(
        "limits", help="optimal robust error of a real data set over an eps grid "
                       "(exact or certified), with a held-out estimate (results.json, "
                       "results.md, limits.png)",
        description="For each eps: the optimal robust error of the test sample over all "
                    "deterministic classifiers (exact, or a certified interval when the "
                    "time limit stops the solver) and the certified robust error of "
                    "adversarial pruning + 1-NN fitted on the training sample (a held-out "
                    "estimate, 95% Clopper-Pearson interval); together they bracket the "
                    "population limit.")
    p.add_argument("--dataset", choices=("mnist", "cifar10"), required=True, help="data set")
    p.add_argument("--data-root", type=data_root, default=None,
                   help="folder in torchvision's layout: MNIST/raw/ or cifar-10-batches-py/ "
                        "(default: $OPTROBUST_DATA_ROOT, else shared/data beside the "
                        "repository)")
    p.add_argument("--classes", type=digits, default=None,
                   help="comma list of classes, e.g. 3,7 (default: all ten)")
    p.add_argument("--train-size", type=positive_int, default=None,
                   help="stratified training subset (default: the whole split)")
    p.add_argument("--test-size", type=positive_int, default=None,
                   help="stratified test subset (default: the whole split)")
    add_norm_option(p, default="l2", choices="l1, l2, linf")
    p.add_argument("--eps-grid", required=True, metavar="E1,E2,...",
                   help="comma list of budgets in pixel units, e.g. 1,2,3 (l2) or "
                        "0.1,0.3 or 8/255 (linf)")
    p.add_argument("--time-limit", type=finite_number, default=600.0, metavar="SECONDS",
                   help="seconds per eps for each independent-set solve (default 600); past "
                        "it the row is a certified interval")
    p.add_argument("--no-held-out", dest="held_out", action="store_false",
                   help="skip the held-out estimate (test-sample bounds only)")
    p.add_argument("--seed", type=int, default=0, help="seed of the subsets (default 0)")
    p.add_argument("--out", required=True, help="output folder")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """Check the arguments, then :func:`empirical.limits.run_limits`."""
    from optrobust.norms import parse_p

    eps = parse_number_list(args.eps_grid, name="--eps-grid")
    if min(eps) < 0 or not all(math.isfinite(e) for e in eps):
        raise CliError(f"--eps-grid must list finite budgets >= 0, got {args.eps_grid!r}")
    if args.time_limit <= 0:
        raise CliError(f"--time-limit must be a number of seconds > 0, got {args.time_limit}")
    if args.seed < 0:
        raise CliError(f"--seed must be an integer >= 0, got {args.seed}")
    p = parse_p(args.norm, allowed=(1, 2, math.inf), name="--norm")  # a named error itself
    from empirical.data import default_data_root
    from empirical.limits import run_limits

    if args.data_root is None:
        args.data_root = str(default_data_root())
    with user_errors():
        payload = run_limits(
            dataset=args.dataset, data_root=args.data_root, p=p, eps_grid=eps, out=args.out,
            classes=args.classes, train_size=args.train_size, test_size=args.test_size,
            seed=args.seed, time_limit=args.time_limit, held_out=args.held_out,
            progress=not args.quiet, command=_command(args))
    out = Path(args.out)
    text = (out / "results.md").read_text()
    text += f"\nwritten: {out / 'results.json'}, {out / 'results.md'}, {out / 'limits.png'}\n"
    return payload, text


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces this run (recorded in the outputs)."""
    parts = ["optrobust-empirical", "limits", "--dataset", args.dataset,
             "--data-root", args.data_root]
    if args.classes is not None:
        parts += ["--classes", ",".join(map(str, args.classes))]
    for flag, value in (("--train-size", args.train_size), ("--test-size", args.test_size)):
        if value is not None:
            parts += [flag, str(value)]
    parts += ["--norm", args.norm, "--eps-grid", args.eps_grid,
              "--time-limit", f"{args.time_limit:g}", "--seed", str(args.seed),
              "--out", args.out]
    if not args.held_out:
        parts.append("--no-held-out")
    return shlex.join(parts)
