"""Gradient attacks inside an l_p ball: PGD (restarts, targeted, unbounded, l0), FGSM,
random sign noise, transfer, and an AutoAttack adapter.

Every function returns a perturbed batch ``x_adv`` of the same shape as ``x`` that has been
verified with :meth:`empirical.threat.LpBall.check` (``RuntimeError`` otherwise); the model's
train/eval mode is restored on exit.  The attacks run the model in eval mode.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from empirical.threat import LpBall

__all__ = ["autoattack", "fgsm", "pgd", "random_noise", "transfer"]


class _EvalMode:
    """Context manager: model in eval mode, original mode restored in ``finally``."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def __enter__(self) -> nn.Module:
        self.was_training = self.model.training
        self.model.eval()
        return self.model

    def __exit__(self, *exc: object) -> None:
        self.model.train(self.was_training)


def _check_inputs(x: torch.Tensor, y: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError("x and y must be torch tensors")
    if y.dim() != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(f"y must be a 1-d tensor of {x.shape[0]} labels; got shape "
                         f"{tuple(y.shape)}")


def _check_positive_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return value


def _better(score: torch.Tensor, success: torch.Tensor, best_score: torch.Tensor,
            best_success: torch.Tensor) -> torch.Tensor:
    """Lexicographic (success, score) improvement mask."""
    return (success & ~best_success) | ((success == best_success) & (score > best_score))


def _select(mask: torch.Tensor, new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
    return torch.where(mask.reshape((-1,) + (1,) * (new.dim() - 1)), new, old)


def _keep_best(cand: torch.Tensor, score: torch.Tensor, success: torch.Tensor,
               best_x: torch.Tensor, best_score: torch.Tensor, best_success: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per sample, keep ``cand`` where it improves on the best so far (see :func:`_better`)."""
    improved = _better(score, success, best_score, best_success)
    return (_select(improved, cand, best_x), torch.where(improved, score, best_score),
            best_success | success)


def _run_pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ball: LpBall, *,
             steps: int, step_size: float, random_start: bool, target: torch.Tensor | None,
             generator: torch.Generator | None
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One PGD run; returns the best iterate per sample, its score and success flag.

    Untargeted: score = CE(f(x'), y), success = misclassified.  Targeted: score =
    -CE(f(x'), target), success = predicted == target.
    """
    x_adv = ball.random_init(x, generator) if random_start else x.clone()
    best_x = x_adv
    best_score = torch.full((x.shape[0],), -math.inf, device=x.device)
    best_success = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    labels = y if target is None else target
    sign = 1.0 if target is None else -1.0
    for it in range(steps + 1):
        need_grad = it < steps
        if need_grad:
            x_adv = x_adv.detach().requires_grad_(True)
            logits = model(x_adv)
        else:
            with torch.no_grad():
                logits = model(x_adv)
        losses = F.cross_entropy(logits, labels, reduction="none")
        with torch.no_grad():
            pred = logits.argmax(dim=1)
            success = pred != y if target is None else pred == target
            score = sign * losses.detach()
            best_x, best_score, best_success = _keep_best(
                x_adv.detach(), score, success, best_x, best_score, best_success)
        if not need_grad:
            break
        (grad,) = torch.autograd.grad(sign * losses.sum(), x_adv)
        with torch.no_grad():
            z = ball.step(x_adv.detach(), grad, step_size)
            if ball.p == 0:
                x_adv = ball.project(z, x, priority=grad * (z - x))
            else:
                x_adv = ball.project(z, x)
    return best_x.detach(), best_score, best_success


def pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, eps: float, p: Any,
        steps: int, step_size: float, random_start: bool = True, restarts: int = 1,
        targeted: Any = None, lower: float | None = None, upper: float | None = None,
        generator: torch.Generator | None = None) -> torch.Tensor:
    """Projected gradient ascent on the cross-entropy loss inside ``B_p^eps(x) ∩ box``.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a batch to logits; run in eval mode, its mode restored on exit.
    x, y : torch.Tensor
        Inputs (batch first) and int64 class labels.
    eps : float
        Radius; ``math.inf`` for the unbounded attack; for ``p = 0`` a number of coordinates.
    p : {0, 2, inf} or {"l0", "l2", "linf"}
        The norm.
    steps : int
        Gradient steps per run (``>= 0``).
    step_size : float
        Step length (l_inf: per coordinate; l_2: Euclidean); for ``p = 0`` the number of
        coordinates changed per step.
    random_start : bool
        Start from :meth:`LpBall.random_init` instead of ``x``.
    restarts : int
        Independent runs; per sample the best one is kept (see Notes).
    targeted : None, int, tensor or "all"
        ``None``: untargeted.  An int or a tensor of labels: minimize the cross-entropy to
        that target.  ``"all"`` (or ``True``): a targeted run for every class ``c != y`` and,
        per sample, the result with the highest untargeted loss (Gowal et al. 2019; the
        paper's Appendix C item 7).
    lower, upper : float or None
        Box bounds (images: 0 and 1).
    generator : torch.Generator or None
        Source of randomness for the random starts.

    Returns
    -------
    torch.Tensor
        ``x_adv``, verified to be in the ball and the box.

    Notes
    -----
    Each run is the iteration ``x_{t+1} = Proj(step(x_t, grad_x loss(x_t)))`` of Madry et
    al. with :class:`empirical.threat.LpBall` operations.  Per sample the returned point is
    the best of all iterates of all restarts (all targets) in the lexicographic order
    (attack succeeded, loss): a misclassifying iterate beats any correctly classified one,
    and among equals the higher loss wins.  Tracking uses the logits of the forward pass
    that the gradient needs anyway, plus one final forward per run.  Hence, with the same
    ``generator`` seed, more steps or more restarts never return a point that is better for
    the model.

    References
    ----------
    .. [1] Madry et al. (2018), "Towards deep learning models resistant to adversarial
       attacks".  Source paper, Section 3.1.1 (signed PGD with random start) and
       Appendix C (restarts, targeted, unbounded checks).
    """
    _check_inputs(x, y)
    ball = LpBall(eps, p, lower, upper)
    steps = _check_positive_int(steps, "steps", 0)
    restarts = _check_positive_int(restarts, "restarts", 1)
    if isinstance(step_size, bool) or not isinstance(step_size, (int, float)) or not (
            math.isfinite(step_size) and step_size > 0):
        raise ValueError(f"step_size must be a finite real number > 0; got {step_size!r}")
    x = x.detach()
    with _EvalMode(model):
        if targeted is None or targeted is False:
            targets: list[torch.Tensor | None] = [None]
        elif targeted is True or (isinstance(targeted, str) and targeted == "all"):
            with torch.no_grad():
                n_classes = model(x[:1]).shape[1]
            targets = [torch.full_like(y, c) for c in range(n_classes)]
        elif isinstance(targeted, int):
            targets = [torch.full_like(y, targeted)]
        elif isinstance(targeted, torch.Tensor) and targeted.shape == y.shape:
            targets = [targeted.to(y.device, torch.long)]
        else:
            raise ValueError("targeted must be None, 'all', an int class or a tensor of "
                             f"{len(y)} target labels; got {targeted!r}")
        all_mode = len(targets) > 1
        best_x = x.clone()
        best_score = torch.full((x.shape[0],), -math.inf, device=x.device)
        best_success = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
        for target in targets:
            for _ in range(restarts):
                cand, score, success = _run_pgd(
                    model, x, y, ball, steps=steps, step_size=float(step_size),
                    random_start=random_start, target=target, generator=generator)
                if all_mode:
                    valid = target != y
                    with torch.no_grad():
                        logits = model(cand)
                        score = F.cross_entropy(logits, y, reduction="none")
                        success = logits.argmax(dim=1) != y
                    score = torch.where(valid, score, torch.full_like(score, -math.inf))
                    success = success & valid
                best_x, best_score, best_success = _keep_best(
                    cand, score, success, best_x, best_score, best_success)
    ball.check(best_x, x)
    return best_x


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, eps: float,
         p: Any = math.inf, lower: float | None = None,
         upper: float | None = None) -> torch.Tensor:
    """Fast gradient (sign) method: one steepest-ascent step of length ``eps`` from ``x``.

    Notes
    -----
    ``x_adv = Proj(x + eps * sign(grad))`` for ``p = inf`` (Goodfellow et al. 2015);
    ``x + eps * grad / ||grad||_2`` for ``p = 2``; for ``p = 0`` one sparse step changing the
    ``eps`` coordinates with the largest linearized gain.  No random start; deterministic.

    References
    ----------
    .. [1] Goodfellow, Shlens & Szegedy (2015), "Explaining and harnessing adversarial
       examples".  Source paper, Appendix C item 1.
    """
    _check_inputs(x, y)
    ball = LpBall(eps, p, lower, upper)
    if not ball.bounded:
        raise ValueError("eps must be finite for fgsm (its step length is eps)")
    x = x.detach()
    with _EvalMode(model):
        x_req = x.clone().requires_grad_(True)
        loss = F.cross_entropy(model(x_req), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, x_req)
        with torch.no_grad():
            z = ball.step(x, grad, max(ball.eps, 1.0) if ball.p == 0 else ball.eps)
            x_adv = ball.project(z, x, priority=grad * (z - x) if ball.p == 0 else None)
    ball.check(x_adv, x)
    return x_adv


def random_noise(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, eps: float,
                 p: Any = math.inf, samples: int = 100, lower: float | None = None,
                 upper: float | None = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Brute-force random search: the worst of ``samples`` random perturbations per input.

    Notes
    -----
    ``p = inf``: every coordinate moves by ``+eps`` or ``-eps`` with probability 1/2 (the
    vertices of the cube, the paper's Appendix C item 8), then clipped to the box.
    ``p = 2``: a uniformly random direction of length ``eps``.  ``p = 0``: ``eps`` random
    coordinates set to random box end points.  Per sample the draw that misclassifies, else
    the one with the highest loss, is returned.

    References
    ----------
    .. [1] Source paper, Appendix C item 8 (Bernoulli +-eps brute force).
    """
    _check_inputs(x, y)
    ball = LpBall(eps, p, lower, upper)
    if not ball.bounded:
        raise ValueError("eps must be finite for random_noise")
    samples = _check_positive_int(samples, "samples", 1)
    x = x.detach()
    best_x = x.clone()
    best_score = torch.full((x.shape[0],), -math.inf, device=x.device)
    best_success = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    with _EvalMode(model), torch.no_grad():
        for _ in range(samples):
            if ball.p == math.inf:
                signs = torch.rand(x.shape, generator=generator, device=x.device) < 0.5
                z = ball.project(x + ball.eps * (2 * signs.to(x.dtype) - 1), x)
            elif ball.p == 2:
                d = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
                n = d.reshape(len(d), -1).norm(dim=1).clamp(min=1e-12)
                z = ball.project(x + d * (ball.eps / n).reshape((-1,) + (1,) * (x.dim() - 1)),
                                 x)
            else:
                z = ball.random_init(x, generator)
            logits = model(z)
            score = F.cross_entropy(logits, y, reduction="none")
            success = logits.argmax(dim=1) != y
            best_x, best_score, best_success = _keep_best(
                z, score, success, best_x, best_score, best_success)
    ball.check(best_x, x)
    return best_x


def transfer(source_model: nn.Module, target_model: nn.Module, x: torch.Tensor,
             y: torch.Tensor, *, select_on: str = "source", **pgd_kwargs: Any) -> torch.Tensor:
    """Transfer (black-box) attack: PGD on ``source_model``, to be evaluated on the target.

    Parameters
    ----------
    select_on : {"source", "target"}
        ``"source"`` (pure black box, the default): the PGD result on the source model.
        ``"target"``: return, per sample, the clean input or the transferred point, whichever
        has the higher target loss / fools the target (one query per point).
    **pgd_kwargs
        Passed to :func:`pgd` (``eps``, ``p``, ``steps``, ``step_size``, ...).

    References
    ----------
    .. [1] Papernot et al. (2016), "Transferability in machine learning".  Source paper,
       Appendix C items 11-12 (black-box and semi-black-box attacks).
    """
    if select_on not in ("source", "target"):
        raise ValueError(f"select_on must be 'source' or 'target'; got {select_on!r}")
    x_adv = pgd(source_model, x, y, **pgd_kwargs)
    if select_on == "source":
        return x_adv
    with _EvalMode(target_model), torch.no_grad():
        scores, succ = [], []
        for z in (x, x_adv):
            logits = target_model(z)
            scores.append(F.cross_entropy(logits, y, reduction="none"))
            succ.append(logits.argmax(dim=1) != y)
    take = _better(scores[1], succ[1], scores[0], succ[0])
    return _select(take, x_adv, x.detach())


def autoattack(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, eps: float,
               p: Any = math.inf, eps_step: float | None = None, targeted: bool = False,
               lower: float | None = 0.0, upper: float | None = 1.0, batch_size: int = 128,
               max_iter: int | None = None, seed: int = 0) -> torch.Tensor:
    """AutoAttack through the Adversarial Robustness Toolbox (optional dependency).

    Parameters
    ----------
    model, x, y
        As in :func:`pgd`.
    eps : float
        Finite radius.
    p : {2, inf} or {"l2", "linf"}
        The norm (ART's AutoAttack has no l0 version).
    eps_step : float or None
        Step of the PGD members of the ensemble; default ``eps / 4``.
    targeted : bool
        Also run the targeted attacks against every class.
    lower, upper : float or None
        Box, passed to ART as ``clip_values`` (both or neither).
    batch_size : int
        ART's batch size.
    max_iter : int or None
        ``None``: ART's standard ensemble and budgets (APGD-CE and APGD-DLR with 100
        iterations and 5 random starts, DeepFool, Square with 5000 queries and 5 restarts;
        slow on a CPU).  An int: the same members (APGD-DLR only for 3 or more classes) with
        ``max_iter`` iterations, one random start, and ``max_iter`` Square queries.
    seed : int
        ART draws from numpy's global generator; it is seeded with ``seed`` for the call and
        its previous state restored afterwards.

    Returns
    -------
    torch.Tensor
        ``x_adv`` (ART's per-sample best over its ensemble), projected on the ball and box
        to remove float rounding, and verified.

    Notes
    -----
    Uses ``art.attacks.evasion.AutoAttack`` with its default ensemble (PGD, APGD-CE,
    APGD-DLR, DeepFool, Square) around ``art.estimators.classification.PyTorchClassifier``.
    Install with ``pip install 'optrobust[autoattack]'``.

    References
    ----------
    .. [1] Croce & Hein (2020), "Reliable evaluation of adversarial robustness with an
       ensemble of diverse parameter-free attacks".
    .. [2] Nicolae et al. (2018), "Adversarial Robustness Toolbox v1.0.0" (the library the
       source paper used for ZOO, Appendix C item 10).
    """
    try:
        from art.attacks.evasion import AutoAttack
        from art.estimators.classification import PyTorchClassifier
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "autoattack needs the optional 'autoattack' extra (adversarial-robustness-"
            "toolbox): pip install 'optrobust[autoattack]'") from exc
    import numpy as np

    _check_inputs(x, y)
    ball = LpBall(eps, p, lower, upper)
    if ball.p not in (2, math.inf) or not ball.bounded:
        raise ValueError(f"p must be 2 or inf and eps finite for autoattack; got p={p!r}, "
                         f"eps={eps!r}")
    if (lower is None) != (upper is None):
        raise ValueError("lower and upper must both be given or both be None for autoattack")
    batch_size = _check_positive_int(batch_size, "batch_size", 1)
    with _EvalMode(model):
        with torch.no_grad():
            n_classes = int(model(x[:1]).shape[1])
        param = next(model.parameters(), None)
        on_gpu = param is not None and param.device.type == "cuda"
        clf = PyTorchClassifier(
            model=model, loss=nn.CrossEntropyLoss(), input_shape=tuple(x.shape[1:]),
            nb_classes=n_classes, clip_values=None if lower is None else (lower, upper),
            device_type="gpu" if on_gpu else "cpu")
        norm = np.inf if ball.p == math.inf else 2
        step = eps_step or ball.eps / 4
        members = None
        if max_iter is not None:
            max_iter = _check_positive_int(max_iter, "max_iter", 1)
            from art.attacks.evasion import (
                AutoProjectedGradientDescent,
                DeepFool,
                SquareAttack,
            )

            losses = ["cross_entropy"] + (["difference_logits_ratio"] if n_classes >= 3 else [])
            members = [AutoProjectedGradientDescent(
                estimator=clf, norm=norm, eps=ball.eps, eps_step=step, max_iter=max_iter,
                targeted=False, nb_random_init=1, batch_size=batch_size, loss_type=loss,
                verbose=False) for loss in losses]
            members.append(DeepFool(classifier=clf, max_iter=max_iter, epsilon=1e-3,
                                    nb_grads=min(10, n_classes), batch_size=batch_size,
                                    verbose=False))
            members.append(SquareAttack(estimator=clf, norm=norm, max_iter=max_iter,
                                        eps=ball.eps, p_init=0.8, nb_restarts=1,
                                        verbose=False))
        atk = AutoAttack(estimator=clf, norm=norm, eps=ball.eps, eps_step=step,
                         attacks=members, batch_size=batch_size, targeted=targeted)
        state = np.random.get_state()  # noqa: NPY002 (ART uses the global generator)
        try:
            np.random.seed(seed)  # noqa: NPY002
            out = atk.generate(x=x.detach().cpu().numpy(), y=y.detach().cpu().numpy())
        finally:
            np.random.set_state(state)  # noqa: NPY002
    x_adv = ball.project(torch.as_tensor(out, dtype=x.dtype, device=x.device), x.detach())
    ball.check(x_adv, x)
    return x_adv


