"""``optrobust-empirical`` (also ``python -m empirical``): train and evaluate.

::

    optrobust-empirical train --data gaussian --dim 10 --distance 3 --sigma 1 \\
        --train-size 4000 --test-size 2000 --model mlp --method adversarial \\
        --eps 0.5 --norm l2 --epochs 3 --out runs/g --seed 0 [--resume] [--device cpu]
    optrobust-empirical evaluate --checkpoint runs/g/checkpoint.pt --attack pgd \\
        --eps 0.5 --norm l2 --steps 50 [--restarts R] [--checklist] --json
    optrobust-empirical compare --task gaussian-l2 --eps-grid 0.25,0.5,1.0 --out runs/cmp
    optrobust-empirical landscape --checkpoint runs/g/checkpoint.pt --eps 0.3,0.4 --out runs/land
    optrobust-empirical reproduce --setup mnist --experiment all --out runs/paper

Bad arguments, missing files and a diverging loss exit with status 2 and one
line on stderr; no traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _number(text: str) -> float:
    """``0.3``, ``8/255``, ``inf`` through :class:`fractions.Fraction` (never eval)."""
    from optrobust.cli import CliError, parse_number

    try:
        return parse_number(text, name="value")
    except CliError:
        msg = f"expected a number such as 0.3 or 8/255, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def _finite_number(text: str) -> float:
    v = _number(text)
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return v


def _digits(text: str) -> tuple[int, ...]:
    """``3,7`` -> ``(3, 7)`` (the ``--classes`` of ``train`` and ``compare``)."""
    try:
        return tuple(int(c) for c in text.split(",") if c.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected digits such as 3,7, got {text!r}") from None


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")


def _add_train(sub: Any) -> None:
    p = sub.add_parser("train", help="train a model (standard/adversarial/extended/iterative)")
    g = p.add_argument_group("data")
    g.add_argument("--data", choices=("mnist", "cifar10", "gaussian", "bernoulli"))
    g.add_argument("--data-root", default=None, help="default ../shared/data")
    g.add_argument("--download", action="store_true", default=None)
    g.add_argument("--train-size", type=int)
    g.add_argument("--test-size", type=int)
    g.add_argument("--binarize", action="store_true", default=None)
    g.add_argument("--classes", type=_digits,
                   help="subset of classes, e.g. 3,7")
    g.add_argument("--dim", type=int)
    g.add_argument("--distance", type=_finite_number)
    g.add_argument("--sigma", type=_finite_number)
    g.add_argument("--k", type=int)
    g.add_argument("--t", type=_finite_number)
    g = p.add_argument_group("training")
    g.add_argument("--preset", choices=("paper-mnist", "paper-cifar10"))
    g.add_argument("--model")
    g.add_argument("--method", choices=("standard", "adversarial", "extended", "iterative"),
                   default="standard")
    g.add_argument("--eps", type=_finite_number, help="target budget (0.3 or 8/255)")
    g.add_argument("--norm", choices=("l0", "l2", "linf"))
    g.add_argument("--epochs", type=int)
    g.add_argument("--batch-size", type=int)
    g.add_argument("--optimizer", choices=("adam", "sgd"))
    g.add_argument("--lr", type=_finite_number)
    g.add_argument("--momentum", type=_finite_number)
    g.add_argument("--weight-decay", type=_finite_number)
    g.add_argument("--lr-milestones", type=lambda s: tuple(int(m) for m in s.split(",") if m))
    g.add_argument("--pgd-steps", type=int,
                   help="default 10; with only --pgd-step-size: 2.5*eps/step (paper)")
    g.add_argument("--pgd-step-size", type=_finite_number)
    g.add_argument("--no-random-start", dest="random_start", action="store_false", default=None)
    g.add_argument("--eps-start", type=_finite_number, help="iterative: first epoch's eps")
    g.add_argument("--eps-increment", type=_finite_number, help="iterative: eps growth/epoch")
    g.add_argument("--stop-on-rise", type=_finite_number, metavar="FACTOR",
                   help="iterative: stop when the training adversarial loss grows > FACTOR x")
    g.add_argument("--init-from", metavar="CKPT", help="extended: start from these weights")
    g.add_argument("--carry-optimizer", action="store_true", default=None)
    g.add_argument("--augment", action="store_true", default=None)
    g.add_argument("--eval-size", type=int, help="test samples checked every epoch")
    g.add_argument("--seed", type=int)
    g.add_argument("--out", required=True, help="run directory")
    g.add_argument("--resume", action="store_true")
    g.add_argument("--stop-after", type=int, help="return after this many epochs (resumable)")
    _add_common(p)
    p.set_defaults(func=_cmd_train)


def _add_evaluate(sub: Any) -> None:
    p = sub.add_parser(
        "evaluate", help="clean and robust accuracy of a trained checkpoint",
        description="Clean and robust accuracy of a trained checkpoint on its test set, or "
                    "with --checklist the Appendix C sanity checks of the evaluation.")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--attack", default="pgd",
                   help="pgd|fgsm|noise|autoattack, or a comma list (per-sample worst case); "
                        "not used by --checklist")
    p.add_argument("--eps", type=_number, required=True,
                   help="budget; inf = unbounded (--checklist needs a finite eps)")
    p.add_argument("--norm", choices=("l0", "l2", "linf"), default="linf")
    p.add_argument("--steps", type=int, default=50,
                   help="PGD steps (default 50); --checklist: steps of its reference PGD, "
                        "x4 for the more-steps and unbounded checks")
    p.add_argument("--step-size", type=_finite_number,
                   help="PGD step (default 2.5*eps/steps); not accepted with --checklist, "
                        "which always uses 2.5*eps/steps")
    p.add_argument("--restarts", type=int, default=1,
                   help="PGD random restarts (default 1); --checklist: restarts of its "
                        "reference PGD, x5 for the more-restarts check")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--test-size", type=int,
                   help="override the run's test-set size (--checklist: the n samples checked)")
    p.add_argument("--data-root", help="override the run's data root")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the attacks (--checklist: also of its surrogate model)")
    g = p.add_argument_group("checklist")
    g.add_argument("--checklist", action="store_true",
                   help="run the Appendix C sanity checks instead (PASS/FAIL/SKIP table)")
    g.add_argument("--autoattack", choices=("auto", "off", "on"), default=None,
                   help="AutoAttack gap check: auto (default; runs when ART is installed and "
                        "the inputs are images), off, or on (required: exit 2 if impossible)")
    g.add_argument("--autoattack-iter", type=int, metavar="N",
                   help="iterations of the reduced AutoAttack, N >= 1 (default 20)")
    g.add_argument("--transfer-from", metavar="CKPT",
                   help="source model of the transfer (black-box) check: another run's "
                        "checkpoint trained on the same data, or 'off' to skip the check; "
                        "default: a surrogate MLP fitted to the checked samples")
    g.add_argument("--tol", type=_finite_number, metavar="TOL",
                   help="accuracy tolerance of the comparisons, in [0, 1) (default 0.02; "
                        "never below 1/n)")
    _add_common(p)
    p.set_defaults(func=_cmd_evaluate)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of ``optrobust-empirical``."""
    parser = _Parser(prog="optrobust-empirical",
                     description="Adversarial training and robustness evaluation (PyTorch).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    _add_train(sub)
    _add_evaluate(sub)
    _add_compare(sub)
    _add_landscape(sub)
    from empirical._cli_reproduce import register as _add_reproduce

    _add_reproduce(sub, _add_common)
    return parser


def _add_compare(sub: Any) -> None:
    p = sub.add_parser("compare", help="learned vs exact optimal robust error over an eps grid")
    p.add_argument("--task", required=True,
                   help="gaussian-l2, gaussian-linf, bernoulli-l0, bernoulli-linf, "
                        "mnist-linf, mnist-l2 or cifar10-linf")
    p.add_argument("--preset", choices=("paper-mnist", "paper-cifar10"), default=None,
                   help="the paper's training settings per method on the full data set, "
                        "PGD evaluation 200 steps x 5 restarts (paper-mnist: MNIST tasks; "
                        "paper-cifar10: cifar10-linf); meant for a GPU")
    p.add_argument("--eps-grid", default=None,
                   help="comma-separated budgets such as 0.1,0.3 or 8/255 (default: task's)")
    p.add_argument("--out", required=True, help="output directory (finished runs are reused)")
    p.add_argument("--methods", default="adversarial,extended,iterative")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None,
                   help="override the task's (or preset's) epochs; extended trains half")
    p.add_argument("--train-size", type=int, default=None,
                   help="training subset (default: task's; with --preset: all)")
    p.add_argument("--test-size", type=int, default=None,
                   help="test subset (default: task's; with --preset: all)")
    p.add_argument("--data-root", default=None,
                   help="MNIST / CIFAR-10 root (default ../shared/data)")
    p.add_argument("--classes", type=_digits, default=None,
                   help="image tasks: classes to keep, e.g. 0,1,2,3,4,5,6,7,8,9 (default: MNIST "
                        "3,7; CIFAR-10 all)")
    p.add_argument("--steps", type=int, default=None,
                   help="PGD evaluation steps (default: task's; with --preset 200)")
    p.add_argument("--restarts", type=int, default=None,
                   help="PGD evaluation restarts (default: task's; with --preset 5)")
    p.add_argument("--no-autoattack", action="store_true", help="PGD only")
    _add_common(p)
    p.set_defaults(func=_cmd_compare)


def _cmd_compare(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from pathlib import Path

    from empirical.compare import compare

    grid = None
    if args.eps_grid is not None:
        try:
            grid = [_finite_number(t) for t in args.eps_grid.split(",") if t.strip()]
        except argparse.ArgumentTypeError as exc:
            raise ValueError(f"--eps-grid: {exc}") from None
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    for flag in ("epochs", "train_size", "test_size", "steps", "restarts"):
        v = getattr(args, flag)
        if v is not None and v < 1:
            raise ValueError(f"--{flag.replace('_', '-')} must be an integer >= 1, got {v}")
    res = compare(args.task, args.out, eps_grid=grid, methods=methods, seed=args.seed,
                  device=args.device, epochs=args.epochs, train_size=args.train_size,
                  test_size=args.test_size, data_root=args.data_root, classes=args.classes,
                  eval_steps=args.steps, eval_restarts=args.restarts,
                  use_autoattack=not args.no_autoattack, quiet=args.quiet, preset=args.preset)
    text = (Path(args.out) / "results.md").read_text()
    text += f"\nwritten: {args.out}/results.json, results.md, results.png\n"
    return res, text


def _add_landscape(sub: Any) -> None:
    p = sub.add_parser("landscape", help="loss along init->final weights, input loss surface, "
                                         "saliency maps (PNGs + landscape.json)")
    p.add_argument("--checkpoint", required=True, help="the trained run's checkpoint.pt")
    p.add_argument("--init-from", metavar="CKPT",
                   help="weights at alpha=0 (default: the run's own initial weights)")
    p.add_argument("--eps", required=True,
                   help="comma list of budgets, e.g. 0.3,0.4 (interpolation: each; surface: "
                        "the largest; saliency at the smallest, perturbation at the largest)")
    p.add_argument("--norm", choices=("l0", "l2", "linf"), help="default: the run's norm")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--kind", default="interpolation,surface,saliency")
    p.add_argument("--compare", default="", metavar="CKPT2,CKPT3",
                   help="more checkpoints shown in the surface and saliency plots")
    p.add_argument("--alphas", type=int, default=21, help="points on the weight segment")
    p.add_argument("--samples", type=int, default=512, help="training samples (interpolation)")
    p.add_argument("--steps", type=int, default=20, help="PGD steps")
    p.add_argument("--grid", type=int, default=21, help="surface points per axis")
    p.add_argument("--extent", type=_finite_number, default=1.0,
                   help="surface axes span +-extent*eps (the paper's MNIST plots: 0.5)")
    p.add_argument("--index", type=int, default=0, help="first test sample shown")
    p.add_argument("--images", type=int, default=2, help="test samples in the saliency plot")
    p.add_argument("--seed", type=int, default=0)
    _add_common(p)
    p.set_defaults(func=_cmd_landscape)


def _cmd_landscape(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from pathlib import Path

    from empirical import landscape as land
    from empirical._distributed import _resolve_device
    from empirical.checkpoint import load_checkpoint, write_json
    from empirical.evaluate import load_run
    from empirical.models import build_model

    kinds = [k.strip() for k in args.kind.split(",") if k.strip()]
    if not kinds or set(kinds) - {"interpolation", "surface", "saliency"}:
        raise ValueError("--kind must be a comma list of interpolation, surface, saliency")
    try:
        eps = [_finite_number(t) for t in args.eps.split(",") if t.strip()]
    except argparse.ArgumentTypeError as exc:
        raise ValueError(f"--eps: {exc}") from None
    if not eps or min(eps) < 0:
        raise ValueError("--eps must list budgets >= 0, e.g. 0.3,0.4")
    for name, low in (("alphas", 2), ("samples", 1), ("steps", 1), ("grid", 2), ("images", 1),
                      ("index", 0)):
        if getattr(args, name) < low:
            raise ValueError(f"--{name} must be an integer >= {low}")
    if args.extent <= 0:
        raise ValueError("--extent must be > 0")
    device = _resolve_device(args.device, 0)
    run = load_run(args.checkpoint, device=device)
    b, norm = run.bundle, args.norm or run.config["norm"]
    if "surface" in kinds and norm == "l0":
        raise ValueError("--kind surface needs --norm l2 or linf, not l0")
    models: dict[str, Any] = {}
    for path, r in [(args.checkpoint, run)] + [
            (c, None) for c in args.compare.split(",") if c.strip()]:
        r = r or load_run(path.strip(), device=device)
        if tuple(r.bundle.input_shape) != tuple(b.input_shape):
            raise ValueError(f"--compare: {path} has inputs {tuple(r.bundle.input_shape)}, "
                             f"the checkpoint {tuple(b.input_shape)}")
        name = f"{Path(path).parent.name}: {r.config['method']}" + (
            "" if r.config["method"] == "standard" else f" eps={r.config['eps']:.3g}")
        models[name if name not in models else f"{name} #{len(models)}"] = r.model
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {"checkpoint": args.checkpoint, "eps": eps, "norm": norm,
                               "kinds": kinds, "files": []}
    lines = []
    x_test, y_test = b.test.tensors
    if args.index >= len(x_test):
        raise ValueError(f"--index must be < the test-set size {len(x_test)}")
    if "interpolation" in kinds:
        theta0 = (load_checkpoint(args.init_from)["model"] if args.init_from
                  else land.initial_state(args.checkpoint))
        x, y = (t[: args.samples].to(device) for t in b.train.tensors)
        curve = land.interpolation_curve(
            theta0, load_checkpoint(args.checkpoint)["model"],
            lambda: build_model(run.config["model"], input_shape=tuple(b.input_shape),
                                num_classes=b.num_classes),
            x, y, eps_list=eps, norm=norm, alphas=args.alphas, steps=args.steps,
            lower=b.lower, upper=b.upper, seed=args.seed)
        src = args.init_from or ("init_from of the run" if run.config.get("init_from")
                                 else "seed-rebuilt initial weights")
        land.plot_interpolation(curve, out / "interpolation.png",
                                title=f"{next(iter(models))}\nfrom {src} to final weights")
        payload["interpolation"] = {**curve, "init": src}
        payload["files"].append(str(out / "interpolation.png"))
        ends = ", ".join(f"eps={e:.3g}: {v[0]:.3f} -> {v[-1]:.3f}"
                         for e, v in curve["adv_loss"].items())
        lines.append(f"interpolation ({args.alphas} points, n={len(x)}): {ends}")
    if "surface" in kinds:
        e, i = max(eps), args.index
        surf = {n: land.input_loss_surface(m, x_test[i].to(device), int(y_test[i]), eps=e,
                                           grid=args.grid, norm=norm, extent=args.extent,
                                           lower=b.lower, upper=b.upper, seed=args.seed)
                for n, m in models.items()}
        land.plot_surfaces(surf, out / "surface.png", eps=e, extent=args.extent,
                           title=f"Loss around test sample {i} ({norm}, eps={e:.3g})")
        payload["surface"] = {"eps": e, "index": i, "extent": args.extent, "grid": args.grid,
                              "loss": {n: s.tolist() for n, s in surf.items()}}
        payload["files"].append(str(out / "surface.png"))
        lines.append("surface max loss: " + ", ".join(f"{n}: {s.max():.3f}"
                                                      for n, s in surf.items()))
    if "saliency" in kinds:
        sl = slice(args.index, args.index + args.images)
        xs, ys = x_test[sl].to(device), y_test[sl].to(device)
        maps = land.interpretability_maps(models, xs, ys, eps=min(eps), attack_eps=max(eps),
                                          norm=norm, steps=args.steps, lower=b.lower,
                                          upper=b.upper, seed=args.seed)
        land.plot_maps(xs.cpu(), maps, out / "saliency.png", eps=min(eps), attack_eps=max(eps))
        payload["saliency"] = {"eps": min(eps), "attack_eps": max(eps), "index": args.index,
                               "models": {n: land.map_summary(m) for n, m in maps.items()}}
        payload["files"].append(str(out / "saliency.png"))
        lines.append("saliency top-10% mass: " + ", ".join(
            f"{n}: {s['saliency_top10_mass']:.3f}"
            for n, s in payload["saliency"]["models"].items()))
    write_json(out / "landscape.json", payload)
    payload["files"].append(str(out / "landscape.json"))
    return payload, "\n".join(lines + ["written: " + ", ".join(payload["files"])])


_DATA_ARGS = ("data_root", "download", "train_size", "test_size", "binarize", "classes",
              "dim", "distance", "sigma", "k", "t")
_CFG_ARGS = ("model", "eps", "norm", "epochs", "batch_size", "optimizer", "lr", "momentum",
             "weight_decay", "lr_milestones", "pgd_steps", "pgd_step_size", "random_start",
             "eps_start", "eps_increment", "stop_on_rise", "init_from", "carry_optimizer",
             "augment", "eval_size", "seed")


def _cmd_train(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
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
    kwargs = apply_preset(args.preset, args.method, explicit)
    if "name" not in kwargs["data"]:
        raise ValueError("--data is required (mnist, cifar10, gaussian, bernoulli) or a --preset")
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
    text = (f"trained {result.epochs_completed} epoch(s) into {result.out_dir}; "
            f"final test clean acc {final.get('test_clean_acc')}, "
            f"adv acc {final.get('test_adv_acc')}")
    if result.stopped:
        text += (f"; stopped at epoch {result.stopped['epoch']} (loss rise), kept epoch "
                 f"{result.stopped['final_epoch']} (eps={result.stopped['final_eps']:.4g})")
    return payload, text


def _cmd_evaluate(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    import torch

    from empirical._distributed import _resolve_device
    from empirical.evaluate import evaluate, load_run, make_attack

    names = [a.strip() for a in args.attack.split(",") if a.strip()]
    if not names:
        raise ValueError("--attack must name at least one attack")
    if args.test_size is not None and args.test_size < 1:
        raise ValueError("--test-size must be an integer >= 1")
    only_checklist = {"--autoattack": args.autoattack, "--autoattack-iter": args.autoattack_iter,
                      "--transfer-from": args.transfer_from, "--tol": args.tol}
    if args.checklist:
        if args.step_size is not None:
            raise ValueError("--step-size is not used by --checklist (its PGD step is "
                             "2.5*eps/steps); leave it out")
        if args.autoattack_iter is not None and args.autoattack_iter < 1:
            raise ValueError(f"--autoattack-iter must be an integer >= 1; got "
                             f"{args.autoattack_iter}")
        if args.tol is not None and not 0 <= args.tol < 1:
            raise ValueError(f"--tol must be a number in [0, 1); got {args.tol}")
        if args.transfer_from == "":
            raise ValueError("--transfer-from must be a checkpoint path or 'off'")
    else:
        given = [k for k, v in only_checklist.items() if v is not None]
        if given:
            raise ValueError(f"{', '.join(given)} can only be used with --checklist")
    device = _resolve_device(args.device, 0)
    overrides = {}
    if args.test_size is not None:
        overrides["test_size"] = args.test_size
    if args.data_root is not None:
        overrides["data_root"] = args.data_root
    run = load_run(args.checkpoint, device=device, data_overrides=overrides)
    bundle = run.bundle
    x, y = bundle.test.tensors
    if args.checklist:
        from empirical.checklist import ACC_TOL, load_source_model, run_checklist

        source: Any = None
        if args.transfer_from == "off":
            source = "off"
        elif args.transfer_from is not None:
            source = load_source_model(args.transfer_from,
                                       input_shape=tuple(bundle.input_shape),
                                       num_classes=bundle.num_classes,
                                       data=run.config["data"], device=device)
        cl = run_checklist(run.model, x.to(device), y.to(device), eps=args.eps, norm=args.norm,
                           lower=bundle.lower, upper=bundle.upper, steps=args.steps,
                           restarts=args.restarts, seed=args.seed,
                           transfer_source=source, autoattack=args.autoattack or "auto",
                           autoattack_max_iter=args.autoattack_iter or 20,
                           acc_tol=ACC_TOL if args.tol is None else args.tol)
        payload = {**cl.to_dict(), "checkpoint": args.checkpoint, "epoch": run.epoch,
                   "transfer_from": args.transfer_from}
        return payload, cl.to_text()
    attacks = {n: make_attack(n, eps=args.eps, norm=args.norm, steps=args.steps,
                              step_size=args.step_size, restarts=args.restarts,
                              lower=bundle.lower, upper=bundle.upper, seed=args.seed)
               for n in names}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(args.seed)
        res = evaluate(run.model, x, y, attacks, batch_size=args.batch_size, device=device)
    payload = {
        "clean_accuracy": res.clean_accuracy,
        "robust_accuracy": res.robust_accuracy,
        "n": res.n,
        "attack": ",".join(names),
        "eps": args.eps,
        "norm": args.norm,
        "steps": args.steps,
        "restarts": args.restarts,
        "per_attack": res.per_attack,
        "checkpoint": args.checkpoint,
        "epoch": run.epoch,
    }
    text = (f"n={res.n} clean accuracy {res.clean_accuracy:.4f}, robust accuracy "
            f"{res.robust_accuracy:.4f} ({','.join(names)}, {args.norm}, eps={args.eps:.4g})")
    return payload, text


def _json_safe(obj: Any) -> Any:
    from empirical.checkpoint import json_safe

    return json_safe(obj)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 success, 2 bad input or failed run)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        from empirical.train import DivergenceError

        payload, text = args.func(args)
    except (ValueError, TypeError, OSError, KeyError, ImportError, DivergenceError) as exc:
        msg = str(exc) if not isinstance(exc, KeyError) else f"missing key {exc}"
        msg = " ".join(msg.split()) or type(exc).__name__
        sys.stderr.write(f"optrobust-empirical {args.command}: error: {msg}\n")
        return 2
    if int(os.environ.get("RANK", "0")) != 0:  # torchrun: only rank 0 reports
        return 0
    if args.json:
        sys.stdout.write(json.dumps(_json_safe(payload)) + "\n")
    else:
        sys.stdout.write(text.rstrip("\n") + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
