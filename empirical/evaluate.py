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
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from empirical.attacks import untouched, with_normalization
from empirical.checkpoint import load_checkpoint
from empirical.data import build_data
from empirical.models import build_model
from empirical.threat import DEFAULT_BOX, THREAT_P_VALUES, UNSET, resolve_box
from optrobust.errors import InvalidInputError, InvalidTypeError
from optrobust.norms import parse_p

try:  # the public name (issue 12); the private module until it lands
    from optrobust.validation import check_int
except ImportError:  # pragma: no cover - depends on the checkout
    from optrobust._validation import check_int

__all__ = ["ATTACKS", "EvalResult", "LoadedRun", "evaluate", "load_run", "make_attack",
           "strong_attacks", "threat_p"]

#: Attack names understood by :func:`make_attack` (and ``evaluate --attack``).
ATTACKS = ("pgd", "fgsm", "noise", "autoattack")

AttackFn = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True, kw_only=True)
class EvalResult:
    """Accuracies on ``n`` samples.

    ``per_attack`` maps each attack name to its own robust accuracy;
    ``robust_accuracy`` is the per-sample worst case over all of them.  ``clean_correct``
    (bool, ``n``), ``per_sample`` (name -> bool ``n``: correct and not flipped by that
    attack) and ``robust_correct`` (their logical and) are the per-sample outcomes, on the
    CPU.
    """

    clean_accuracy: float
    robust_accuracy: float
    n: int
    per_attack: dict[str, float]
    clean_correct: torch.Tensor | None = field(default=None, repr=False, compare=False)
    per_sample: dict[str, torch.Tensor] = field(default_factory=dict, repr=False,
                                                compare=False)
    robust_correct: torch.Tensor | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, kw_only=True)
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


def threat_p(p: Any = UNSET, norm: Any = UNSET, *, default: Any = UNSET,
             where: str = "this function") -> float:
    """The threat-model exponent from ``p`` (or the deprecated ``norm=`` keyword).

    Accepts ``0, 2, math.inf`` and the strings ``"l0"``, ``"l2"``, ``"linf"``
    (:func:`optrobust.norms.parse_p`).  ``norm=`` still works for one release with a
    :class:`DeprecationWarning`.

    Raises
    ------
    InvalidInputError
        Neither or both given, or a norm outside ``{0, 2, inf}``.
    """
    if norm is not UNSET:
        warnings.warn(f"{where}: the keyword norm= is deprecated, use p= (the same values, "
                      "e.g. p='linf' or p=math.inf)", DeprecationWarning, stacklevel=3)
        if p is not UNSET:
            raise InvalidInputError(f"{where}: give p or the deprecated norm, not both")
        p = norm
    if p is UNSET:
        if default is UNSET:
            raise InvalidInputError(f"{where}: p (the threat-model norm) is required")
        p = default
    return parse_p(p, allowed=THREAT_P_VALUES, name="p")


def make_attack(name: str, *, eps: float, p: Any = UNSET, steps: int = 50,
                step_size: float | None = None, restarts: int = 1, box: Any = DEFAULT_BOX,
                lower: Any = UNSET, upper: Any = UNSET, force: bool = False,
                normalize: Any = None, seed: int = 0, norm: Any = UNSET) -> AttackFn:
    """An attack ``fn(model, x, y) -> x_adv`` built from :mod:`empirical.attacks`.

    Parameters
    ----------
    name : {"pgd", "fgsm", "noise", "autoattack"}
        ``noise`` is the paper's brute-force check: random sign perturbations of
        size ``eps`` (Appendix C, item 8), ``restarts`` draws per sample.
        ``autoattack``: ART's full ensemble (:func:`empirical.attacks.autoattack`).
    eps : float
        Budget (``math.inf`` for the unbounded PGD check, which then needs
        ``step_size``).
    p : {0, 2, inf} or {"l0", "l2", "linf"}
        The norm (default l_inf); ``norm=`` is the deprecated spelling.
    steps, step_size, restarts
        PGD settings; ``step_size=None`` gives ``2.5 * eps / steps``.
    box : (float, float) or None
        Valid inputs, default ``(0, 1)``; ``None`` for none (``lower=``/``upper=`` also
        accepted).
    force : bool
        Accept an l_inf ``eps`` at least the box width.
    normalize : (mean, std) or None
        The model's input normalization, applied inside the attacked function.
    seed : int
        Seeds the random starts (a fresh generator per call, so a call is
        repeatable).
    """
    from empirical import attacks

    q = threat_p(p, norm, default=math.inf, where="make_attack")
    if name not in ATTACKS:
        raise InvalidInputError(f"attack must be one of {', '.join(ATTACKS)}, got {name!r}")
    if isinstance(eps, bool) or not isinstance(eps, int | float) or math.isnan(eps) or eps < 0:
        raise InvalidInputError(f"eps must be a number >= 0 (or inf), got {eps!r}")
    steps = check_int(steps, name="steps", minimum=1)
    restarts = check_int(restarts, name="restarts", minimum=1)
    if step_size is None:
        if math.isinf(eps):
            raise InvalidInputError("step_size is required for the unbounded attack (eps=inf)")
        step_size = 2.5 * eps / steps
    elif not (math.isfinite(step_size) and step_size > 0):
        raise InvalidInputError(f"step_size must be a finite number > 0, got {step_size!r}")
    lo, hi = resolve_box(box, lower, upper)
    kw = {"box": (lo, hi) if (lo, hi) != (None, None) else None, "force": force,
          "normalize": normalize}

    def gen(x: torch.Tensor) -> torch.Generator:
        g = torch.Generator(device=x.device)
        g.manual_seed(seed)
        return g

    if name == "pgd":
        def fn(model, x, y):
            return attacks.pgd(model, x, y, eps=eps, p=q, steps=steps, step_size=step_size,
                               restarts=restarts, generator=gen(x), **kw)
    elif name == "fgsm":
        def fn(model, x, y):
            return attacks.fgsm(model, x, y, eps=eps, p=q, **kw)
    elif name == "noise":
        def fn(model, x, y):
            return attacks.random_noise(model, x, y, eps=eps, p=q, samples=restarts,
                                        generator=gen(x), **kw)
    else:
        def fn(model, x, y):
            return attacks.autoattack(model, x, y, eps=eps, p=q, seed=seed, **kw)
    return fn


def strong_attacks(x: torch.Tensor, *, eps: float, p: Any = UNSET, steps: int,
                   step_size: float | None = None, restarts: int = 1, seed: int = 0,
                   box: Any = DEFAULT_BOX, lower: Any = UNSET, upper: Any = UNSET,
                   normalize: Any = None, use_autoattack: bool = True,
                   autoattack_max_iter: int | None = 20, norm: Any = UNSET
                   ) -> dict[str, AttackFn]:
    """The strong evaluation of ``compare``, ``reproduce`` and ``audit``: PGD + AutoAttack.

    ``{"pgd": ...}`` (:func:`make_attack`) and, when ``use_autoattack``, the norm is l2 or
    l_inf, ART is installed (the optional ``autoattack`` extra) and ``x`` is image-shaped
    (ART's Square member needs ``(n, C, H, W)``), ``"autoattack"`` (ART's ensemble,
    :func:`empirical.attacks.autoattack`) with ``autoattack_max_iter`` iterations
    (``None``: ART's full budget, minutes per batch on a CPU).  ``p`` as in
    :func:`make_attack` (``norm=`` deprecated); the box defaults to ``(0, 1)``.  Feed the
    dict to :func:`evaluate`, which keeps the per-sample worst case.
    """
    q = threat_p(p, norm, where="strong_attacks")
    lo, hi = resolve_box(box, lower, upper)
    box_lh = (lo, hi) if (lo, hi) != (None, None) else None
    attacks: dict[str, AttackFn] = {
        "pgd": make_attack("pgd", eps=eps, p=q, steps=steps, step_size=step_size,
                           restarts=restarts, seed=seed, box=box_lh, normalize=normalize)}
    if use_autoattack and q in (2, math.inf) and x.dim() == 4:
        import importlib.util

        if importlib.util.find_spec("art") is not None:
            from empirical.attacks import autoattack

            def aa(model: nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
                return autoattack(model, xb, yb, eps=eps, p=q, max_iter=autoattack_max_iter,
                                  seed=seed, box=box_lh, normalize=normalize)

            attacks["autoattack"] = aa
    return attacks


def _model_device(model: nn.Module) -> torch.device:
    first = next(model.parameters(), None)
    if first is None:
        first = next(model.buffers(), None)
    return first.device if first is not None else torch.device("cpu")


def evaluate(model: nn.Module, x: Any, y: torch.Tensor | None = None,
             attacks: Mapping[str, AttackFn] | Sequence[tuple[str, AttackFn]] = (), *,
             batch_size: int = 256, device: str | torch.device | None = None,
             normalize: Any = None, progress: Any = None) -> EvalResult:
    """Clean accuracy and per-sample worst-case robust accuracy over ``attacks``.

    Parameters
    ----------
    model : nn.Module
        Evaluated in eval mode and left untouched (:func:`empirical.attacks.untouched`:
        every submodule's mode and every ``.grad`` restored).
    x, y : torch.Tensor
        Inputs and int64 labels; or ``x`` an iterable of ``(xb, yb)`` batches (a
        ``DataLoader``) and ``y=None``.
    attacks : mapping name -> fn(model, x, y) -> x_adv
        May be empty (then robust accuracy equals clean accuracy).
    batch_size : int
        Batch size for tensor inputs.
    device : optional
        Where the batches go; defaults to the model's device (the model is never moved).
    normalize : (mean, std) or None
        The model's input normalization: the model is called on ``(x - mean) / std`` and
        the attacks, given the wrapped model, perturb in pixel space.
    progress : callable or None
        ``progress(iterable, total=..., desc=...)`` (e.g. ``tqdm.tqdm``) wrapped around the
        batches.

    Notes
    -----
    An adversarial example is only counted if it is misclassified, so an
    attack can never raise accuracy; samples the model already gets wrong are
    not attacked.
    """
    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    items = list(attacks.items()) if isinstance(attacks, Mapping) else list(attacks)
    if isinstance(x, torch.Tensor):
        if not isinstance(y, torch.Tensor):
            raise InvalidTypeError(f"y must be a tensor of labels when x is a tensor; got "
                                   f"{type(y).__name__}")
        if len(x) != len(y) or len(x) == 0:
            raise InvalidInputError(f"x and y must be non-empty with equal lengths, got "
                                    f"{len(x)}, {len(y)}")
        batches: Any = ((x[s: s + batch_size], y[s: s + batch_size])
                        for s in range(0, len(x), batch_size))
        total: int | None = -(-len(x) // batch_size)
    else:
        if y is not None:
            raise InvalidInputError("pass y=None when x is a DataLoader of (x, y) batches")
        batches, total = x, (len(x) if hasattr(x, "__len__") else None)
    if device is None:
        device = _model_device(model)
    net = with_normalization(model, normalize)
    if progress is not None:
        batches = progress(batches, total=total, desc="batches")
    clean_parts: list[torch.Tensor] = []
    per_parts: dict[str, list[torch.Tensor]] = {name: [] for name, _ in items}
    with untouched(net):
        for xb, yb in batches:
            xb, yb = xb.to(device), yb.to(device)
            with torch.no_grad():
                ok = net(xb).argmax(1) == yb
            clean_parts.append(ok.cpu())
            for name, fn in items:
                good = ok.clone()
                if ok.any():
                    xa = fn(net, xb[ok], yb[ok])
                    with torch.no_grad():
                        good[ok] = net(xa).argmax(1) == yb[ok]
                per_parts[name].append(good.cpu())
    if not clean_parts:
        raise InvalidInputError("the data loader yielded no batches")
    clean_ok = torch.cat(clean_parts)
    per = {k: torch.cat(v) for k, v in per_parts.items()}
    robust = clean_ok.clone()
    for v in per.values():
        robust &= v
    n = len(clean_ok)
    return EvalResult(
        clean_accuracy=float(clean_ok.sum()) / n,
        robust_accuracy=float(robust.sum()) / n,
        n=n,
        per_attack={k: float(v.sum()) / n for k, v in per.items()},
        clean_correct=clean_ok, per_sample=per, robust_correct=robust,
    )
