"""Clean and robust accuracy, with the per-sample worst case over several attacks.

A sample counts as robustly correct when the model classifies it correctly
*and* every attack in the list fails on it:

    robust_acc = (1/n) * sum_i  1[f(x_i) = y_i]  *  prod_a 1[f(A_a(x_i)) = y_i].

This is the standard "worst case over attacks" (as in AutoAttack's
reporting); it is never larger than the accuracy under any single attack.

References
----------
Paper, Section 3.1.3 (evaluation by PGD with 200 steps) and Appendix C
(checklist: FGSM weaker than PGD, restarts, more steps, random noise,
transfer attacks).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from empirical.checkpoint import load_checkpoint
from empirical.config import NORMS
from empirical.data import build_data
from empirical.models import build_model

__all__ = ["ATTACKS", "EvalResult", "LoadedRun", "evaluate", "load_run", "make_attack",
           "strong_attacks"]

#: Attack names understood by :func:`make_attack` (and ``evaluate --attack``).
ATTACKS = ("pgd", "fgsm", "noise", "autoattack")

AttackFn = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class EvalResult:
    """Accuracies on ``n`` samples.

    ``per_attack`` maps each attack name to its own robust accuracy;
    ``robust_accuracy`` is the per-sample worst case over all of them.
    """

    clean_accuracy: float
    robust_accuracy: float
    n: int
    per_attack: dict[str, float]


@dataclass(frozen=True)
class LoadedRun:
    """A trained model rebuilt from a checkpoint, with its data."""

    model: nn.Module
    config: dict[str, Any]
    bundle: Any
    epoch: int


def load_run(checkpoint: str, *, device: str | torch.device = "cpu",
             data_overrides: Mapping[str, Any] | None = None) -> LoadedRun:
    """Rebuild model and data of a run from its ``checkpoint.pt`` / ``best.pt``.

    Parameters
    ----------
    checkpoint : str
        Path written by :func:`empirical.train.train`.
    device : str or torch.device
        Where to put the model.
    data_overrides : mapping, optional
        :class:`empirical.data.DataSpec` fields to change (e.g. ``test_size``,
        ``data_root``).

    Raises
    ------
    FileNotFoundError
        Missing checkpoint or data files.
    """
    from empirical.train import config_from_dict

    ckpt = load_checkpoint(checkpoint)
    cfg_dict = dict(ckpt["config"])
    if data_overrides:
        cfg_dict["data"] = {**cfg_dict["data"], **dict(data_overrides)}
    cfg = config_from_dict(cfg_dict)
    bundle = build_data(cfg.data)
    model = build_model(cfg.model, input_shape=tuple(bundle.input_shape),
                        num_classes=bundle.num_classes)
    model.load_state_dict(ckpt["model"])
    model.to(device).eval()
    return LoadedRun(model=model, config=cfg.to_dict(), bundle=bundle, epoch=int(ckpt["epoch"]))


def make_attack(name: str, *, eps: float, norm: str = "linf", steps: int = 50,
                step_size: float | None = None, restarts: int = 1,
                lower: float | None = None, upper: float | None = None,
                seed: int = 0) -> AttackFn:
    """An attack ``fn(model, x, y) -> x_adv`` built from :mod:`empirical.attacks`.

    Parameters
    ----------
    name : {"pgd", "fgsm", "noise", "autoattack"}
        ``noise`` is the paper's brute-force check: random sign perturbations of
        size ``eps`` (Appendix C, item 8), ``restarts`` draws per sample.
    eps : float
        Budget (``math.inf`` for the unbounded PGD check, which then needs
        ``step_size``).
    norm : {"l0", "l2", "linf"}
    steps, step_size, restarts
        PGD settings; ``step_size=None`` gives ``2.5 * eps / steps``.
    lower, upper : float or None
        Box of valid inputs.
    seed : int
        Seeds the random starts (a fresh generator per call, so a call is
        repeatable).
    """
    from empirical import attacks

    if name not in ATTACKS:
        raise ValueError(f"attack must be one of {', '.join(ATTACKS)}, got {name!r}")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")
    if not isinstance(eps, int | float) or math.isnan(eps) or eps < 0:
        raise ValueError(f"eps must be a number >= 0 (or inf), got {eps!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if isinstance(restarts, bool) or not isinstance(restarts, int) or restarts < 1:
        raise ValueError(f"restarts must be an integer >= 1, got {restarts!r}")
    if step_size is None:
        if math.isinf(eps):
            raise ValueError("step_size is required for the unbounded attack (eps=inf)")
        step_size = 2.5 * eps / steps
    elif not (math.isfinite(step_size) and step_size > 0):
        raise ValueError(f"step_size must be a finite number > 0, got {step_size!r}")
    p = NORMS[norm]
    box = {"lower": lower, "upper": upper}

    def gen(x: torch.Tensor) -> torch.Generator:
        g = torch.Generator(device=x.device)
        g.manual_seed(seed)
        return g

    if name == "pgd":
        def fn(model, x, y):
            return attacks.pgd(model, x, y, eps=eps, p=p, steps=steps, step_size=step_size,
                               restarts=restarts, generator=gen(x), **box)
    elif name == "fgsm":
        def fn(model, x, y):
            return attacks.fgsm(model, x, y, eps=eps, p=p, **box)
    elif name == "noise":
        def fn(model, x, y):
            return attacks.random_noise(model, x, y, eps=eps, p=p, samples=restarts,
                                        generator=gen(x), **box)
    else:
        aa_box = {k: v for k, v in box.items() if v is not None}

        def fn(model, x, y):
            return attacks.autoattack(model, x, y, eps=eps, p=p, seed=seed, **aa_box)
    return fn


def strong_attacks(x: torch.Tensor, *, eps: float, norm: str, steps: int,
                   step_size: float | None = None, restarts: int = 1, seed: int = 0,
                   lower: float | None = None, upper: float | None = None,
                   use_autoattack: bool = True, autoattack_max_iter: int | None = 20
                   ) -> dict[str, AttackFn]:
    """The strong evaluation of ``compare`` and ``reproduce``: PGD, plus AutoAttack if possible.

    ``{"pgd": ...}`` (:func:`make_attack`) and, when ``use_autoattack``, the norm is l2 or
    l_inf, ART is installed (the optional ``autoattack`` extra) and ``x`` is image-shaped
    (ART's Square member needs ``(n, C, H, W)``), ``"autoattack"`` with ``autoattack_max_iter``
    iterations (its full budget takes minutes per batch on a CPU).  Feed the dict to
    :func:`evaluate`, which keeps the per-sample worst case.
    """
    attacks: dict[str, AttackFn] = {
        "pgd": make_attack("pgd", eps=eps, norm=norm, steps=steps, step_size=step_size,
                           restarts=restarts, seed=seed, lower=lower, upper=upper)}
    if use_autoattack and norm in ("linf", "l2") and x.dim() == 4:
        import importlib.util

        if importlib.util.find_spec("art") is not None:
            from empirical.attacks import autoattack

            p, box = NORMS[norm], {"lower": lower, "upper": upper}

            def aa(model: nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
                return autoattack(model, xb, yb, eps=eps, p=p, max_iter=autoattack_max_iter,
                                  seed=seed, **box)

            attacks["autoattack"] = aa
    return attacks


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
             attacks: Mapping[str, AttackFn] | Sequence[tuple[str, AttackFn]], *,
             batch_size: int = 256, device: str | torch.device | None = None) -> EvalResult:
    """Clean accuracy and per-sample worst-case robust accuracy over ``attacks``.

    Parameters
    ----------
    model : nn.Module
        Evaluated in eval mode (its mode is restored afterwards).
    x, y : torch.Tensor
        Inputs and int64 labels.
    attacks : mapping name -> fn(model, x, y) -> x_adv
        May be empty (then robust accuracy equals clean accuracy).
    batch_size : int
    device : optional
        Defaults to the model's device.

    Notes
    -----
    An adversarial example is only counted if it is misclassified, so an
    attack can never raise accuracy; samples the model already gets wrong are
    not attacked.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must be non-empty with equal lengths, got {len(x)}, {len(y)}")
    items = list(attacks.items()) if isinstance(attacks, Mapping) else list(attacks)
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    clean_ok = torch.zeros(len(x), dtype=torch.bool)
    per = {name: torch.zeros(len(x), dtype=torch.bool) for name, _ in items}
    try:
        for s in range(0, len(x), batch_size):
            xb, yb = x[s : s + batch_size].to(device), y[s : s + batch_size].to(device)
            with torch.no_grad():
                ok = model(xb).argmax(1) == yb
            clean_ok[s : s + len(xb)] = ok.cpu()
            for name, fn in items:
                good = ok.clone()
                if ok.any():
                    xa = fn(model, xb[ok], yb[ok])
                    with torch.no_grad():
                        good[ok] = model(xa).argmax(1) == yb[ok]
                per[name][s : s + len(xb)] = good.cpu()
    finally:
        model.train(was_training)
    robust = clean_ok.clone()
    for v in per.values():
        robust &= v
    n = len(x)
    return EvalResult(
        clean_accuracy=float(clean_ok.sum()) / n,
        robust_accuracy=float(robust.sum()) / n,
        n=n,
        per_attack={k: float(v.sum()) / n for k, v in per.items()},
    )
