"""``optrobust-empirical compare``: learned vs exact optimal robust error over an eps grid.

::

    optrobust-empirical compare --task gaussian-l2 --eps-grid 0.25,0.5,1.0 --out runs/cmp
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from empirical import choices
from empirical._cli_common import data_root, digits, out_dir, user_errors
from optrobust.parsing import CliError, parse_number_list

__all__ = ["register", "run"]


def register(sub: Any, add_common: Any) -> None:
    """Add the ``compare`` sub-command to ``sub`` (an argparse sub-parsers object)."""
    p = sub.add_parser("compare", help="learned vs exact optimal robust error over an eps grid",
                       description="Train each method at each budget, evaluate it, and set "
                                   "its robust error beside the exact optimum over all "
                                   "classifiers. Writes results.json, results.md, "
                                   "results.png into --out.")
    p.add_argument("--task", required=True, choices=choices.COMPARE_TASKS, metavar="TASK",
                   help=f"one of {', '.join(choices.COMPARE_TASKS)}")
    p.add_argument("--preset", choices=choices.PRESETS, default=None,
                   help="the paper's training settings per method on the full data set, "
                        "PGD evaluation 200 steps x 5 restarts (paper-mnist: MNIST tasks; "
                        "paper-cifar10: cifar10-linf); meant for a GPU")
    p.add_argument("--eps-grid", default=None, metavar="E1,E2,...",
                   help="comma-separated budgets such as 0.1,0.3 or 8/255 (default: the "
                        "task's grid)")
    p.add_argument("--out", required=True, type=out_dir,
                   help="output directory (finished runs are reused)")
    p.add_argument("--methods", default=",".join(choices.COMPARE_METHODS),
                   help=f"comma list of {', '.join(choices.COMPARE_METHODS)} "
                        f"(default: all three)")
    p.add_argument("--seed", type=int, default=0, help="seed of data, init and attacks "
                                                      "(default 0)")
    p.add_argument("--epochs", type=int, default=None,
                   help="override the task's (or preset's) epochs; extended trains half")
    p.add_argument("--train-size", type=int, default=None,
                   help="training subset (default: task's; with --preset: all)")
    p.add_argument("--test-size", type=int, default=None,
                   help="test subset (default: task's; with --preset: all)")
    p.add_argument("--data-root", type=data_root, default=None,
                   help="MNIST / CIFAR-10 root (default: $OPTROBUST_DATA_ROOT, else "
                        "shared/data beside the repository)")
    p.add_argument("--classes", type=digits, default=None, metavar="C1,C2,...",
                   help="image tasks: classes to keep, e.g. 0,1,2,3,4,5,6,7,8,9 (default: MNIST "
                        "3,7; CIFAR-10 all)")
    p.add_argument("--steps", type=int, default=None,
                   help="PGD evaluation steps (default: task's; with --preset 200)")
    p.add_argument("--restarts", type=int, default=None,
                   help="PGD evaluation restarts (default: task's; with --preset 5)")
    p.add_argument("--no-autoattack", action="store_true",
                   help="evaluate with PGD only (default: PGD and AutoAttack where available)")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """Run the comparison; returns (payload, text), the payload ``results.json``'s dict."""
    grid = None
    if args.eps_grid is not None:
        grid = parse_number_list(args.eps_grid, name="--eps-grid")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in choices.COMPARE_METHODS]
    if bad or not methods:
        raise CliError(f"--methods must be a comma list of "
                       f"{', '.join(choices.COMPARE_METHODS)}, got {args.methods!r}")
    for flag in ("epochs", "train_size", "test_size", "steps", "restarts"):
        v = getattr(args, flag)
        if v is not None and v < 1:
            raise CliError(f"--{flag.replace('_', '-')} must be an integer >= 1, got {v}")
    from empirical.compare import compare

    with user_errors():
        res = compare(args.task, args.out, eps_grid=grid, methods=methods, seed=args.seed,
                      device=args.device, epochs=args.epochs, train_size=args.train_size,
                      test_size=args.test_size, data_root=args.data_root,
                      classes=args.classes, eval_steps=args.steps,
                      eval_restarts=args.restarts, use_autoattack=not args.no_autoattack,
                      quiet=args.quiet, preset=args.preset)
    text = (Path(args.out) / "results.md").read_text()
    text += f"\nwritten: {args.out}/results.json, results.md, results.png\n"
    return res.to_dict(), text
