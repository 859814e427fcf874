"""``optrobust-empirical train``: train one model and write its run directory.

::

    optrobust-empirical train --data gaussian --dim 10 --distance 3 --sigma 1 \\
        --train-size 4000 --test-size 2000 --model mlp --method adversarial \\
        --eps 0.5 --norm l2 --epochs 3 --out runs/g --seed 0 [--resume]

Options left out take the ``--preset``'s value, else the default shown in ``--help``
(the defaults of :class:`empirical.config.TrainConfig` and :class:`empirical.data.DataSpec`;
a test checks that the two agree).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from empirical import choices
from empirical._cli_common import data_root, digits, finite_number, norm_name, out_dir, user_errors
from optrobust.parsing import CliError

__all__ = ["SHOWN_DEFAULTS", "register"]

#: The defaults ``--help`` shows; equal to the dataclass defaults (checked by a test).
SHOWN_DEFAULTS: dict[str, Any] = {
    "model": "mlp", "norm": "linf", "epochs": 3, "batch_size": 128, "optimizer": "adam",
    "lr": 1e-3, "momentum": 0.9, "weight_decay": 0.0, "pgd_steps": 10, "seed": 0,
    "dim": 10, "distance": 3.0, "sigma": 1.0, "k": 50, "t": 0.3,
}

_DATA_ARGS = ("data_root", "download", "train_size", "test_size", "binarize", "classes",
              "dim", "distance", "sigma", "k", "t")
_CFG_ARGS = ("model", "eps", "norm", "epochs", "batch_size", "optimizer", "lr", "momentum",
             "weight_decay", "lr_milestones", "pgd_steps", "pgd_step_size", "random_start",
             "eps_start", "eps_increment", "stop_on_rise", "init_from", "carry_optimizer",
             "augment", "eval_size", "seed")


def _d(name: str) -> str:
    return f"(default {SHOWN_DEFAULTS[name]}, or the preset's)"


def _milestones(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(m) for m in text.split(",") if m.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected epochs such as 30,60, got {text!r}") from None


def register(sub: Any, add_common: Any) -> None:
    """Add the ``train`` sub-command to ``sub`` (an argparse sub-parsers object)."""
    p = sub.add_parser(
        "train", help="train a model (standard/adversarial/extended/iterative)",
        description="Train one model; writes config.json, metrics.jsonl, checkpoint.pt and "
                    "best.pt into --out. Options left out take the --preset's value, else "
                    "the default shown.")
    g = p.add_argument_group("data")
    g.add_argument("--data", choices=choices.DATA_NAMES,
                   help="data set: " + ", ".join(choices.DATA_NAMES)
                        + " (required unless a --preset names it)")
    g.add_argument("--data-root", type=data_root, default=None,
                   help="folder holding MNIST/raw/ or cifar-10-batches-py/ (default: "
                        "$OPTROBUST_DATA_ROOT, else shared/data beside the repository)")
    g.add_argument("--download", action="store_true", default=None,
                   help="let torchvision download missing MNIST/CIFAR-10 files (needs network)")
    g.add_argument("--train-size", type=int, metavar="N",
                   help="stratified training subset (default: all images; 10000 synthetic)")
    g.add_argument("--test-size", type=int, metavar="N",
                   help="stratified test subset (default: all images; 2000 synthetic)")
    g.add_argument("--binarize", action="store_true", default=None,
                   help="images: threshold the pixels at 1/2 to {0, 1}")
    g.add_argument("--classes", type=digits, metavar="C1,C2,...",
                   help="images: keep these classes, e.g. 3,7 (default: all)")
    g.add_argument("--dim", type=int, help=f"gaussian/bernoulli: input dimension {_d('dim')}")
    g.add_argument("--distance", type=finite_number,
                   help=f"gaussian: ||mu+ - mu-||_2 {_d('distance')}")
    g.add_argument("--sigma", type=finite_number,
                   help=f"gaussian: noise standard deviation {_d('sigma')}")
    g.add_argument("--k", type=int,
                   help=f"bernoulli: effective dimensions (coordinates where the classes "
                        f"differ) {_d('k')}")
    g.add_argument("--t", type=finite_number,
                   help=f"bernoulli: bias in (0, 1/2] {_d('t')}")
    g = p.add_argument_group("training")
    g.add_argument("--preset", choices=choices.PRESETS,
                   help="the paper's settings (data, model, optimizer, epochs per method)")
    g.add_argument("--model", choices=choices.MODEL_NAMES,
                   help=f"network: {', '.join(choices.MODEL_NAMES)} {_d('model')}")
    g.add_argument("--method", choices=choices.METHODS, default="standard",
                   help="standard, adversarial (PGD), extended (from --init-from at a larger "
                        "eps) or iterative (eps grows per epoch); default standard")
    g.add_argument("--eps", type=finite_number,
                   help="target budget, e.g. 0.3 or 8/255 (required for adversarial methods)")
    g.add_argument("--norm", "--p", dest="norm", type=norm_name, metavar="NORM",
                   help=f"threat-model norm: l0, l2, linf (also 0, 2, inf) {_d('norm')}")
    g.add_argument("--epochs", type=int, help=f"training epochs {_d('epochs')}")
    g.add_argument("--batch-size", type=int, help=f"mini-batch size {_d('batch_size')}")
    g.add_argument("--optimizer", choices=("adam", "sgd"),
                   help=f"adam or sgd {_d('optimizer')}")
    g.add_argument("--lr", type=finite_number, help=f"learning rate {_d('lr')}")
    g.add_argument("--momentum", type=finite_number,
                   help=f"sgd momentum {_d('momentum')}")
    g.add_argument("--weight-decay", type=finite_number,
                   help=f"L2 weight decay {_d('weight_decay')}")
    g.add_argument("--lr-milestones", type=_milestones, metavar="E1,E2,...",
                   help="epochs at which the learning rate drops 10x (default: none)")
    g.add_argument("--pgd-steps", type=int,
                   help=f"PGD steps per training batch {_d('pgd_steps')}; with only "
                        "--pgd-step-size: 2.5*eps/step (the paper's rule)")
    g.add_argument("--pgd-step-size", type=finite_number,
                   help="PGD step (default 2.5*eps/steps)")
    g.add_argument("--no-random-start", dest="random_start", action="store_false",
                   default=None, help="start PGD at the clean input (default: a random start)")
    g.add_argument("--eps-start", type=finite_number, help="iterative: first epoch's eps")
    g.add_argument("--eps-increment", type=finite_number, help="iterative: eps growth/epoch")
    g.add_argument("--stop-on-rise", type=finite_number, metavar="FACTOR",
                   help="iterative: stop when the training adversarial loss grows > FACTOR x")
    g.add_argument("--init-from", metavar="CKPT", help="extended: start from these weights")
    g.add_argument("--carry-optimizer", action="store_true", default=None,
                   help="extended: also take the optimizer state from --init-from")
    g.add_argument("--augment", action="store_true", default=None,
                   help="images: random crop (pad 4) and horizontal flip")
    g.add_argument("--eval-size", type=int, metavar="N",
                   help="test samples evaluated after every epoch (default: all)")
    g.add_argument("--seed", type=int, help=f"seed of data subset, init and PGD {_d('seed')}")
    g = p.add_argument_group("run")
    g.add_argument("--out", required=True, type=out_dir, help="run directory (created)")
    g.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last finished epoch")
    g.add_argument("--stop-after", type=int, metavar="N",
                   help="return after N epochs of this call (the run stays resumable)")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """Build the config from ``args``, train, and report (payload, text)."""
    from empirical.data import DataSpec
    from empirical.train import TrainConfig, apply_preset, train

    data = {k: getattr(args, k) for k in _DATA_ARGS if getattr(args, k) is not None}
    if args.data is not None:
        data["name"] = args.data
    explicit: dict[str, Any] = {k: getattr(args, k) for k in _CFG_ARGS
                                if getattr(args, k) is not None}
    if "pgd_step_size" in explicit and "pgd_steps" not in explicit:
        explicit["pgd_steps"] = None  # step size alone: the paper's steps = 2.5 * eps / step
    explicit["data"] = data
    if not args.resume and (Path(args.out) / "checkpoint.pt").exists():
        raise CliError(f"--out {args.out} already holds a run; pass --resume or another --out")
    with user_errors(), _download_hint(not args.download):
        kwargs = apply_preset(args.preset, args.method, explicit)
        if "name" not in kwargs["data"]:
            raise CliError("--data is required (mnist, cifar10, gaussian, bernoulli) or a "
                           "--preset")
        kwargs["data"] = DataSpec(**kwargs["data"])
        config = TrainConfig(**kwargs)
        result = train(config, args.out, resume=args.resume, device=args.device,
                       quiet=args.quiet or args.json, stop_after=args.stop_after)
    final = result.final or {}
    payload = {
        "out": result.out_dir,
        "epochs_completed": result.epochs_completed,
        "best_epoch": result.best_epoch,
        "stopped": result.stopped,
        "final": final,
        "checkpoint": f"{result.out_dir}/checkpoint.pt",
    }
    return payload, summary(result.out_dir, result.epochs_completed, final, result.stopped)


@contextmanager
def _download_hint(offer: bool) -> Iterator[None]:
    """Missing image files: name the ``--download`` flag (only if not already given)."""
    from empirical.errors import MissingFileError

    try:
        yield
    except MissingFileError as exc:
        if offer and "download=True" in str(exc):
            raise MissingFileError(str(exc).replace("(download=True)", "(--download)")) from None
        raise


def summary(out: str, epochs: int, final: dict[str, Any], stopped: dict[str, Any] | None) -> str:
    """One line on the finished run; the adversarial accuracy only where there is one.

    >>> summary("runs/s", 2, {"test_clean_acc": 0.91, "test_adv_acc": None}, None).endswith(
    ...     "clean acc 0.9100 (standard training: no adversarial evaluation)")
    True
    """
    clean, adv = final.get("test_clean_acc"), final.get("test_adv_acc")
    text = f"trained {epochs} epoch(s) into {out}"
    if clean is not None:
        text += f"; final test clean acc {clean:.4f}"
    if adv is not None:
        text += f", adv acc {adv:.4f} (eps={final.get('eps', float('nan')):.4g})"
    elif clean is not None:
        text += " (standard training: no adversarial evaluation)"
    if stopped:
        text += (f"; stopped at epoch {stopped['epoch']} (loss rise), kept epoch "
                 f"{stopped['final_epoch']} (eps={stopped['final_eps']:.4g})")
    return text
