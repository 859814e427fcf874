"""``optrobust-empirical reproduce``: the paper's Figures 1, 2, 7 and Table 1 at a chosen scale.

::

    optrobust-empirical reproduce --setup mnist --experiment all --out runs/paper
    optrobust-empirical reproduce --setup bernoulli --experiment figure1,table1 --out runs/bern
    optrobust-empirical reproduce --setup paper-mnist --device cuda --out runs/paper-full
"""

from __future__ import annotations

import argparse
from typing import Any

from empirical import choices
from empirical._cli_common import data_root, out_dir, positive_int, user_errors
from optrobust.parsing import CliError, parse_number, parse_number_list

__all__ = ["register", "run"]


def register(sub: Any, add_common: Any) -> None:
    """Add the ``reproduce`` sub-command to ``sub`` (an argparse sub-parsers object)."""
    p = sub.add_parser("reproduce", help="the paper's Figures 1, 2, 7 and Table 1 "
                                         "(training loss curves, extended/iterative training, "
                                         "accuracy under PGD-200 and AutoAttack)")
    p.add_argument("--setup", choices=choices.SETUPS, default="mnist",
                   help="mnist (default): CPU scale (10 digits, 2000/500 images, small CNN, "
                        "about 35 minutes on one core); mnist-long: 30 epochs at the same "
                        "scale; paper-mnist: the paper's full settings (GPU); bernoulli: "
                        "synthetic l_inf data with an exact optimum (feasible eps 1)")
    p.add_argument("--experiment", default="all",
                   help=f"comma list of {', '.join(choices.EXPERIMENTS)}, or all (default)")
    p.add_argument("--out", required=True, type=out_dir,
                   help="output directory (finished runs are reused)")
    p.add_argument("--seed", type=int, default=0, help="seed of every run (default 0)")
    p.add_argument("--data-root", type=data_root, default=None,
                   help="MNIST root (default: $OPTROBUST_DATA_ROOT, else shared/data beside "
                        "the repository)")
    p.add_argument("--train-size", type=positive_int, default=None,
                   help="training images (default: the setup's)")
    p.add_argument("--test-size", type=positive_int, default=None,
                   help="test images (default: the setup's)")
    p.add_argument("--epochs", type=positive_int, default=None,
                   help="epochs of adversarial training from scratch (setup's default)")
    p.add_argument("--figure1-eps", default=None,
                   help="comma list: the budgets of Figure 1 (default: the setup's)")
    p.add_argument("--figure2-pairs", default=None, metavar="A:B,...",
                   help="extended-training pairs of Figure 2 (and Table 1), e.g. 0.3:0.4,0.35:0.45")
    p.add_argument("--no-autoattack", action="store_true", help="Table 1: PGD-200 only")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """Check the lists, then :func:`empirical.reproduce.reproduce`; returns (payload, text)."""
    from pathlib import Path

    names = [e.strip() for e in args.experiment.split(",") if e.strip()]
    experiments = choices.EXPERIMENTS if names == ["all"] else tuple(names)
    bad = [e for e in experiments if e not in choices.EXPERIMENTS]
    if bad or not experiments:
        raise CliError(f"--experiment must be 'all' or a comma list of "
                       f"{', '.join(choices.EXPERIMENTS)}, got {args.experiment!r}")
    fig1 = None
    if args.figure1_eps is not None:
        fig1 = tuple(float(v) for v in parse_number_list(args.figure1_eps, name="--figure1-eps"))
    pairs = None
    if args.figure2_pairs is not None:
        pairs = tuple(_pair(t) for t in args.figure2_pairs.split(",") if t.strip())
    from empirical._distributed import resolve_device
    from empirical.reproduce import reproduce

    device = str(resolve_device(args.device, 0))
    with user_errors():
        res = reproduce(args.setup, args.out, experiments=experiments, seed=args.seed,
                        device=device, data_root=args.data_root, train_size=args.train_size,
                        test_size=args.test_size, epochs=args.epochs, figure1_eps=fig1,
                        figure2_pairs=pairs, use_autoattack=not args.no_autoattack,
                        quiet=args.quiet)
    out = Path(args.out)
    lines = [f"reproduce ({res.setup}): {', '.join(experiments)} in {res.seconds:g} s"]
    if res.table1 is not None:
        lines += ["", (out / "table1.md").read_text()]
    written = sorted(p.name for p in out.iterdir() if p.suffix in (".png", ".json", ".md"))
    lines.append(f"written in {out}: {', '.join(written)}")
    return res.to_dict(), "\n".join(lines)


def _pair(text: str) -> tuple[float, float]:
    parts = text.split(":")
    if len(parts) != 2:
        raise CliError(f"--figure2-pairs: expected A:B such as 0.3:0.4, got {text.strip()!r}")
    a, b = (float(parse_number(v, name="--figure2-pairs")) for v in parts)
    return a, b
