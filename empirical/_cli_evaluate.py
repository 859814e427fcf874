"""``optrobust-empirical evaluate``: clean and robust accuracy of a trained checkpoint.

::

    optrobust-empirical evaluate --checkpoint runs/g/checkpoint.pt --attack pgd,fgsm --json
    optrobust-empirical evaluate --checkpoint runs/g/checkpoint.pt --eps 0.5 --checklist

The threat model defaults to the run's own: ``--norm`` is the norm the checkpoint was
trained with and ``--eps`` its target budget, so a run trained at l2 is evaluated at l2
unless asked otherwise (the output names both, and says where they came from).
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from empirical import choices
from empirical._cli_common import (
    data_root,
    finite_number,
    norm_name,
    number,
    positive_int,
    user_errors,
)
from optrobust.parsing import CliError

__all__ = ["register", "run", "threat_model"]


def register(sub: Any, add_common: Any) -> None:
    """Add the ``evaluate`` sub-command to ``sub`` (an argparse sub-parsers object)."""
    p = sub.add_parser(
        "evaluate", help="clean and robust accuracy of a trained checkpoint",
        description="Clean and robust accuracy of a trained checkpoint on its test set, or "
                    "with --checklist the Appendix C sanity checks of the evaluation. The "
                    "norm and eps default to the run's own (read from the checkpoint).")
    p.add_argument("--checkpoint", required=True, metavar="CKPT",
                   help="a run's checkpoint.pt or best.pt (written by train)")
    p.add_argument("--attack", default="pgd",
                   help=f"{'|'.join(choices.ATTACKS)}, or a comma list (per-sample worst "
                        "case); default pgd; not used by --checklist")
    p.add_argument("--eps", type=number, default=None,
                   help="budget, e.g. 0.3 or 8/255; inf = unbounded (needs --step-size); "
                        "default: the run's training eps")
    p.add_argument("--norm", "--p", dest="norm", type=norm_name, default=None, metavar="NORM",
                   help="threat-model norm: l0, l2, linf (also 0, 2, inf); default: the "
                        "norm the run was trained with")
    p.add_argument("--steps", type=positive_int, default=50,
                   help="PGD steps (default 50); --checklist: steps of its reference PGD, "
                        "x4 for the more-steps and unbounded checks")
    p.add_argument("--step-size", type=finite_number,
                   help="PGD step (default 2.5*eps/steps); not accepted with --checklist, "
                        "which always uses 2.5*eps/steps")
    p.add_argument("--restarts", type=positive_int, default=1,
                   help="PGD random restarts (default 1); --checklist: restarts of its "
                        "reference PGD, x5 for the more-restarts check")
    p.add_argument("--batch-size", type=positive_int, default=256,
                   help="evaluation batch size (default 256)")
    p.add_argument("--test-size", type=positive_int, metavar="N",
                   help="override the run's test-set size (--checklist: the n samples checked)")
    p.add_argument("--data-root", type=data_root, help="override the run's data root")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the attacks (--checklist: also of its surrogate model); "
                        "default 0")
    g = p.add_argument_group("checklist")
    g.add_argument("--checklist", action="store_true",
                   help="run the Appendix C sanity checks instead (PASS/FAIL/SKIP table)")
    g.add_argument("--autoattack", choices=("auto", "off", "on"), default=None,
                   help="AutoAttack gap check: auto (default; runs when ART is installed and "
                        "the inputs are images), off, or on (required: exit 2 if impossible)")
    g.add_argument("--autoattack-iter", type=positive_int, metavar="N",
                   help="iterations of the reduced AutoAttack, N >= 1 (default 20)")
    g.add_argument("--transfer-from", metavar="CKPT",
                   help="source model of the transfer (black-box) check: another run's "
                        "checkpoint trained on the same data, or 'off' to skip the check; "
                        "default: a surrogate MLP fitted to the checked samples")
    g.add_argument("--tol", type=finite_number, metavar="TOL",
                   help="accuracy tolerance of the comparisons, in [0, 1) (default 0.02; "
                        "never below 1/n)")
    add_common(p)
    p.set_defaults(func=run)


def _check_args(args: argparse.Namespace) -> list[str]:
    names = [a.strip() for a in args.attack.split(",") if a.strip()]
    if not names:
        raise CliError("--attack must name at least one attack")
    only_checklist = {"--autoattack": args.autoattack, "--autoattack-iter": args.autoattack_iter,
                      "--transfer-from": args.transfer_from, "--tol": args.tol}
    if args.checklist:
        if args.step_size is not None:
            raise CliError("--step-size is not used by --checklist (its PGD step is "
                           "2.5*eps/steps); leave it out")
        if args.tol is not None and not 0 <= args.tol < 1:
            raise CliError(f"--tol must be a number in [0, 1); got {args.tol}")
        if args.transfer_from == "":
            raise CliError("--transfer-from must be a checkpoint path or 'off'")
    else:
        given = [k for k, v in only_checklist.items() if v is not None]
        if given:
            raise CliError(f"{', '.join(given)} can only be used with --checklist")
    return names


def threat_model(args: argparse.Namespace, config: dict[str, Any],
                 eps_trained: float) -> tuple[float, str, str]:
    """``(eps, norm, source)``: the options given, else the run's own training threat model.

    ``source`` says which came from the checkpoint (shown in the output).
    """
    norm = args.norm if args.norm is not None else config["norm"]
    eps = args.eps
    taken = [] if args.norm is not None else ["norm"]
    if eps is None:
        if config.get("method") == "standard" or eps_trained <= 0:
            raise CliError("--eps is required: the checkpoint is a standard (non-adversarial) "
                           "run, so it has no training budget to default to")
        eps = eps_trained
        taken.append("eps")
    source = f"{' and '.join(taken)} from the checkpoint" if taken else "as given"
    return eps, norm, source


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """Evaluate (or check) the checkpoint; returns (payload, text)."""
    names = _check_args(args)
    import torch

    from empirical._distributed import resolve_device
    from empirical.evaluate import evaluate, load_run, make_attack

    device = resolve_device(args.device, 0)
    overrides = {}
    if args.test_size is not None:
        overrides["test_size"] = args.test_size
    if args.data_root is not None:
        overrides["data_root"] = args.data_root
    with user_errors():
        run_ = load_run(args.checkpoint, device=device, data_overrides=overrides)
    eps_trained = float(run_.config.get("eps") or 0.0)
    if args.eps is None:
        from empirical.checkpoint import load_checkpoint, trained_eps

        eps_trained = trained_eps(load_checkpoint(args.checkpoint))
    eps, norm, source = threat_model(args, run_.config, eps_trained)
    bundle = run_.bundle
    x, y = bundle.test.tensors
    if args.checklist:
        return _checklist(args, run_, x, y, eps, norm, device)
    attacks = {n: make_attack(n, eps=eps, p=norm, steps=args.steps, step_size=args.step_size,
                              restarts=args.restarts, lower=bundle.lower, upper=bundle.upper,
                              seed=args.seed)
               for n in names}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(args.seed)
        res = evaluate(run_.model, x, y, attacks, batch_size=args.batch_size, device=device)
    payload = {
        "clean_accuracy": res.clean_accuracy,
        "robust_accuracy": res.robust_accuracy,
        "n": res.n,
        "attack": ",".join(names),
        "eps": eps,
        "norm": norm,
        "threat_model_source": source,
        "trained_eps": eps_trained,
        "trained_norm": run_.config["norm"],
        "steps": args.steps,
        "restarts": args.restarts,
        "per_attack": res.per_attack,
        "checkpoint": args.checkpoint,
        "epoch": run_.epoch,
    }
    eps_text = "inf" if math.isinf(eps) else f"{eps:.4g}"
    text = (f"n={res.n} clean accuracy {res.clean_accuracy:.4f}, robust accuracy "
            f"{res.robust_accuracy:.4f} ({','.join(names)}, {norm}, eps={eps_text}; {source})")
    return payload, text


def _checklist(args: argparse.Namespace, run_: Any, x: Any, y: Any, eps: float, norm: str,
               device: Any) -> tuple[dict[str, Any], str]:
    from empirical.checklist import ACC_TOL, load_source_model, run_checklist

    bundle = run_.bundle
    source: Any = None
    if args.transfer_from == "off":
        source = "off"
    elif args.transfer_from is not None:
        with user_errors():
            source = load_source_model(args.transfer_from,
                                       input_shape=tuple(bundle.input_shape),
                                       num_classes=bundle.num_classes,
                                       data=run_.config["data"], device=device)
    cl = run_checklist(run_.model, x.to(device), y.to(device), eps=eps, p=norm,
                       lower=bundle.lower, upper=bundle.upper, steps=args.steps,
                       restarts=args.restarts, seed=args.seed,
                       transfer_source=source, autoattack=args.autoattack or "auto",
                       autoattack_max_iter=args.autoattack_iter or 20,
                       acc_tol=ACC_TOL if args.tol is None else args.tol)
    payload = {**cl.to_dict(), "checkpoint": args.checkpoint, "epoch": run_.epoch,
               "transfer_from": args.transfer_from}
    return payload, cl.to_text()
