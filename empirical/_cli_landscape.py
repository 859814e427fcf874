"""``optrobust-empirical landscape``: the paper's loss-landscape and saliency figures.

::

    optrobust-empirical landscape --checkpoint runs/g/checkpoint.pt --eps 0.3,0.4 --out runs/land

The work is :func:`empirical.landscape.run_landscape`; this module only parses.
"""

from __future__ import annotations

import argparse
from typing import Any

from empirical import choices
from empirical._cli_common import at_least, finite_number, norm_name, out_dir, user_errors
from optrobust.parsing import CliError, parse_number_list

__all__ = ["register", "run"]


def register(sub: Any, add_common: Any) -> None:
    """Add the ``landscape`` sub-command to ``sub`` (an argparse sub-parsers object)."""
    p = sub.add_parser("landscape", help="loss along init->final weights, input loss surface, "
                                         "saliency maps (PNGs + landscape.json)")
    p.add_argument("--checkpoint", required=True, help="the trained run's checkpoint.pt")
    p.add_argument("--init-from", metavar="CKPT",
                   help="weights at alpha=0 (default: the run's own initial weights)")
    p.add_argument("--eps", default=None, metavar="E1,E2,...",
                   help="comma list of budgets, e.g. 0.3,0.4 (interpolation: each; surface: "
                        "the largest; saliency at the smallest, perturbation at the largest); "
                        "default: the eps the run was trained at")
    p.add_argument("--norm", "--p", dest="norm", type=norm_name, metavar="NORM",
                   help="threat-model norm: l0, l2, linf (also 0, 2, inf); default: the "
                        "norm the run was trained with")
    p.add_argument("--out", required=True, type=out_dir, help="output directory")
    p.add_argument("--kind", default=",".join(choices.LANDSCAPE_KINDS),
                   help=f"comma list of {', '.join(choices.LANDSCAPE_KINDS)} (default: all)")
    p.add_argument("--compare", default="", metavar="CKPT2,CKPT3",
                   help="more checkpoints shown in the surface and saliency plots")
    p.add_argument("--alphas", type=at_least(2), default=21,
                   help="points on the weight segment, >= 2 (default 21)")
    p.add_argument("--samples", type=at_least(1), default=512,
                   help="training samples of the interpolation (default 512)")
    p.add_argument("--steps", type=at_least(1), default=20, help="PGD steps (default 20)")
    p.add_argument("--grid", type=at_least(2), default=21,
                   help="surface points per axis, >= 2 (default 21)")
    p.add_argument("--extent", type=finite_number, default=1.0,
                   help="surface axes span +-extent*eps (default 1; the paper's MNIST "
                        "plots: 0.5)")
    p.add_argument("--index", type=at_least(0), default=0,
                   help="first test sample shown (default 0)")
    p.add_argument("--images", type=at_least(1), default=2,
                   help="test samples in the saliency plot (default 2)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of PGD starts and random directions (default 0)")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """Parse the lists, then :func:`empirical.landscape.run_landscape`."""
    kinds = [k.strip() for k in args.kind.split(",") if k.strip()]
    if not kinds or set(kinds) - set(choices.LANDSCAPE_KINDS):
        raise CliError(f"--kind must be a comma list of {', '.join(choices.LANDSCAPE_KINDS)}, "
                       f"got {args.kind!r}")
    if args.eps is None:
        from empirical.checkpoint import load_checkpoint, trained_eps

        ckpt = load_checkpoint(args.checkpoint)
        if ckpt["config"].get("method") == "standard":
            raise CliError("--eps is required: the checkpoint is a standard (non-adversarial) "
                           "run, so it has no training budget to default to")
        eps = [trained_eps(ckpt)]
    else:
        eps = parse_number_list(args.eps, name="--eps")
    if min(eps) < 0 or max(eps) == float("inf"):
        raise CliError(f"--eps must list finite budgets >= 0, e.g. 0.3,0.4; got {args.eps!r}")
    if args.extent <= 0:
        raise CliError(f"--extent must be > 0, got {args.extent}")
    from empirical._distributed import resolve_device
    from empirical.landscape import run_landscape

    with user_errors():
        res = run_landscape(args.checkpoint, args.out, eps=eps, p=args.norm, kinds=kinds,
                            init_from=args.init_from, compare=args.compare.split(","),
                            alphas=args.alphas, samples=args.samples, steps=args.steps,
                            grid=args.grid, extent=args.extent, index=args.index,
                            images=args.images, seed=args.seed,
                            device=resolve_device(args.device, 0))
    return res.to_dict(), res.to_text()
