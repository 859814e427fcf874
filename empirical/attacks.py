"""Gradient attacks inside an l_p ball: PGD (restarts, targeted, unbounded, l0), FGSM,
random sign noise, transfer, and AutoAttack adapters (ART, torchattacks).

Every function returns a perturbed batch ``x_adv`` of the same shape as ``x`` that has been
verified with :meth:`empirical.threat.LpBall.check` (``RuntimeError`` otherwise).

Safe defaults, shared by every attack:

* **Box.** Inputs are images in ``box = (0, 1)`` unless another box is given; ``box=None``
  means no box (``lower=`` / ``upper=`` are the older spelling of the same).  Inputs outside
  the box and, under l_inf, a finite ``eps`` at least the box width (``eps=8`` meant as
  8/255) raise :class:`~optrobust.errors.InvalidInputError` unless ``force=True``
  (:func:`empirical.threat.check_eps_scale`).
* **Normalization.** ``normalize=(mean, std)`` attacks ``model((x - mean) / std)``: the
  perturbation, ``eps`` and the box stay in pixel space (:class:`Normalized`).
* **No side effects** (:func:`untouched`): the model runs in eval mode; afterwards every
  submodule's train/eval flag and every parameter's ``.grad`` are what they were
  (BatchNorm statistics are not updated in eval mode; parameters are never written).
  The model and the tensors must be on the same device; everything the attacks create is
  made there.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from empirical.threat import DEFAULT_BOX, UNSET, LpBall, check_eps_scale, resolve_box
from optrobust.errors import InvalidInputError, InvalidTypeError

try:  # the public name (issue 12); the private module until it lands
    from optrobust.validation import check_int
except ImportError:  # pragma: no cover - depends on the checkout
    from optrobust._validation import check_int

__all__ = ["Normalized", "autoattack", "fgsm", "input_gradient", "pgd", "random_noise",
           "torchattacks_autoattack", "transfer", "untouched", "with_normalization"]


@contextlib.contextmanager
def untouched(model: nn.Module) -> Iterator[nn.Module]:
    """Run ``model`` in eval mode and leave it as it was: the guarantee of every attack.

    On exit (also after an exception) every submodule gets back its own ``training`` flag
    (a model in train mode with a frozen, eval-mode BatchNorm stays so) and every
    parameter its ``.grad`` (the same tensor object, with its old values, or ``None``): an
    attack called between ``loss.backward()`` and ``optimizer.step()`` does not change the
    step.  In eval mode BatchNorm uses and keeps its running statistics.
    """
    modes = [(m, m.training) for m in model.modules()]
    grads = []
    for prm in model.parameters():
        g = prm.grad
        grads.append((prm, g, None if g is None else g.detach().clone()))
    model.eval()
    try:
        yield model
    finally:
        for m, was in modes:
            m.training = was
        for prm, g, saved in grads:
            if g is not None and saved is not None:
                with torch.no_grad():
                    g.copy_(saved)
            prm.grad = g


def _as_channel_tensor(v: Any, name: str) -> torch.Tensor:
    try:
        t = torch.as_tensor(v, dtype=torch.float64).reshape(-1)
    except (TypeError, ValueError, RuntimeError):
        raise InvalidInputError(f"normalize {name} must be a number or a sequence of numbers "
                                f"(one per channel); got {v!r}") from None
    if t.numel() == 0 or not torch.isfinite(t).all():
        raise InvalidInputError(f"normalize {name} must be finite numbers; got {v!r}")
    return t


class Normalized(nn.Module):
    """``model((x - mean) / std)``: attacks and their budgets stay in pixel space.

    Parameters
    ----------
    model : nn.Module
        The user's network, which expects normalized inputs.
    mean, std : float or sequence of float
        One value, or one per channel (dimension 1 of the input); ``std > 0``.

    Notes
    -----
    The same as torchattacks' ``set_normalization_used(mean, std)`` and ART's
    ``preprocessing=(mean, std)``.  The wrapper holds no state of its own beyond the two
    constants; its train/eval flag is the wrapped model's.
    """

    def __init__(self, model: nn.Module, mean: Any, std: Any) -> None:
        super().__init__()
        self.model = model
        m, s = _as_channel_tensor(mean, "mean"), _as_channel_tensor(std, "std")
        if (s <= 0).any():
            raise InvalidInputError(f"normalize std must be > 0; got {std!r}")
        if m.numel() != s.numel() and 1 not in (m.numel(), s.numel()):
            raise InvalidInputError(f"normalize mean and std must have the same number of "
                                    f"channels; got {m.numel()} and {s.numel()}")
        self.mean_values = tuple(float(v) for v in m)
        self.std_values = tuple(float(v) for v in s)
        self.training = model.training

    def _shaped(self, values: tuple[float, ...], x: torch.Tensor) -> torch.Tensor:
        t = torch.tensor(values, dtype=x.dtype, device=x.device)
        if len(values) == 1:
            return t.reshape(())
        if x.dim() < 2 or x.shape[1] != len(values):
            raise InvalidInputError(f"normalize has {len(values)} channels but the inputs "
                                    f"have shape {tuple(x.shape)} (channels in dimension 1)")
        return t.reshape((1, -1) + (1,) * (x.dim() - 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model((x - self._shaped(self.mean_values, x))
                          / self._shaped(self.std_values, x))


def with_normalization(model: nn.Module, normalize: Any) -> nn.Module:
    """``model`` itself for ``normalize=None``, else :class:`Normalized` ``(model, *normalize)``."""
    if normalize is None:
        return model
    if isinstance(model, Normalized) and normalize == (model.mean_values, model.std_values):
        return model
    try:
        mean, std = normalize
    except (TypeError, ValueError):
        raise InvalidInputError(f"normalize must be a pair (mean, std) or None; got "
                                f"{normalize!r}") from None
    return Normalized(model, mean, std)


def input_gradient(loss: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``d loss / d x``; zero where the loss does not depend on ``x`` through autograd (a
    model built from comparisons or lookups: its gradient is zero almost everywhere)."""
    if not loss.requires_grad:
        return torch.zeros_like(x)
    (grad,) = torch.autograd.grad(loss, x, allow_unused=True)
    return torch.zeros_like(x) if grad is None else grad


def _check_inputs(x: Any, y: Any) -> None:
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise InvalidTypeError("x and y must be torch tensors; got "
                               f"{type(x).__name__} and {type(y).__name__}")
    if y.dim() != 1 or y.shape[0] != x.shape[0]:
        raise InvalidInputError(f"y must be a 1-d tensor of {x.shape[0]} labels; got shape "
                                f"{tuple(y.shape)}")


def _ball(x: torch.Tensor, eps: Any, p: Any, box: Any, lower: Any, upper: Any,
          force: bool) -> LpBall:
    """The threat model of one call: box resolved, inputs in it, eps on the box's scale."""
    lo, hi = resolve_box(box, lower, upper)
    ball = LpBall(eps, p, lo, hi)
    if x.numel() and (lo is not None or hi is not None):
        x_min, x_max = float(x.min()), float(x.max())
        if (lo is not None and x_min < lo - 1e-6) or (hi is not None and x_max > hi + 1e-6):
            raise InvalidInputError(
                f"x has values in [{x_min:.4g}, {x_max:.4g}], outside the box "
                f"[{lo}, {hi}]: scale the inputs to the box (images: [0, 1]), pass the box "
                "they live in, or box=None")
    check_eps_scale(ball.eps, ball.p, lo, hi, dim=math.prod(x.shape[1:]), force=force)
    return ball


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
        grad = input_gradient(sign * losses.sum(), x_adv)
        with torch.no_grad():
            z = ball.step(x_adv.detach(), grad, step_size)
            if ball.p == 0:
                x_adv = ball.project(z, x, priority=grad * (z - x))
            else:
                x_adv = ball.project(z, x)
    return best_x.detach(), best_score, best_success


def pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, eps: float, p: Any,
        steps: int, step_size: float, random_start: bool = True, restarts: int = 1,
        targeted: Any = None, box: Any = DEFAULT_BOX, lower: Any = UNSET,
        upper: Any = UNSET, force: bool = False, normalize: Any = None,
        generator: torch.Generator | None = None) -> torch.Tensor:
    """Projected gradient ascent on the cross-entropy loss inside ``B_p^eps(x) ∩ box``.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a batch to logits; left untouched (:func:`untouched`).
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
    box : (float, float) or None
        Valid inputs, default ``(0, 1)``; ``None``: no box.  ``lower=`` / ``upper=`` are
        accepted instead (the older spelling).
    force : bool
        Accept an l_inf ``eps`` at least the box width (see the module docstring).
    normalize : (mean, std) or None
        Attack ``model((x - mean) / std)`` with ``x`` in pixel space (:class:`Normalized`).
    generator : torch.Generator or None
        Source of randomness for the random starts.

    Returns
    -------
    torch.Tensor
        ``x_adv``, verified to be in the ball and the box.

    Raises
    ------
    InvalidInputError
        Bad ``eps``, ``p``, ``steps``, ``step_size``, ``restarts``, ``targeted``, box, or
        inputs outside the box.

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
    ball = _ball(x, eps, p, box, lower, upper, force)
    steps = check_int(steps, name="steps", minimum=0)
    restarts = check_int(restarts, name="restarts", minimum=1)
    if isinstance(step_size, bool) or not isinstance(step_size, (int, float)) or not (
            math.isfinite(step_size) and step_size > 0):
        raise InvalidInputError(f"step_size must be a finite real number > 0; got "
                                f"{step_size!r}")
    x = x.detach()
    net = with_normalization(model, normalize)
    with untouched(net), torch.enable_grad():
        if targeted is None or targeted is False:
            targets: list[torch.Tensor | None] = [None]
        elif targeted is True or (isinstance(targeted, str) and targeted == "all"):
            with torch.no_grad():
                n_classes = net(x[:1]).shape[1]
            targets = [torch.full_like(y, c) for c in range(n_classes)]
        elif isinstance(targeted, int):
            targets = [torch.full_like(y, targeted)]
        elif isinstance(targeted, torch.Tensor) and targeted.shape == y.shape:
            targets = [targeted.to(y.device, torch.long)]
        else:
            raise InvalidInputError("targeted must be None, 'all', an int class or a tensor "
                                    f"of {len(y)} target labels; got {targeted!r}")
        all_mode = len(targets) > 1
        best_x = x.clone()
        best_score = torch.full((x.shape[0],), -math.inf, device=x.device)
        best_success = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
        for target in targets:
            for _ in range(restarts):
                cand, score, success = _run_pgd(
                    net, x, y, ball, steps=steps, step_size=float(step_size),
                    random_start=random_start, target=target, generator=generator)
                if all_mode:
                    valid = target != y
                    with torch.no_grad():
                        logits = net(cand)
                        score = F.cross_entropy(logits, y, reduction="none")
                        success = logits.argmax(dim=1) != y
                    score = torch.where(valid, score, torch.full_like(score, -math.inf))
                    success = success & valid
                best_x, best_score, best_success = _keep_best(
                    cand, score, success, best_x, best_score, best_success)
    ball.check(best_x, x)
    return best_x


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, eps: float,
         p: Any = math.inf, box: Any = DEFAULT_BOX, lower: Any = UNSET, upper: Any = UNSET,
         force: bool = False, normalize: Any = None) -> torch.Tensor:
    """Fast gradient (sign) method: one steepest-ascent step of length ``eps`` from ``x``.

    Parameters
    ----------
    model, x, y, eps, p
        As in :func:`pgd`; ``eps`` finite.
    box, lower, upper, force, normalize
        As in :func:`pgd` (default box ``(0, 1)``).

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
    ball = _ball(x, eps, p, box, lower, upper, force)
    if not ball.bounded:
        raise InvalidInputError("eps must be finite for fgsm (its step length is eps)")
    x = x.detach()
    net = with_normalization(model, normalize)
    with untouched(net), torch.enable_grad():
        x_req = x.clone().requires_grad_(True)
        loss = F.cross_entropy(net(x_req), y, reduction="sum")
        grad = input_gradient(loss, x_req)
        with torch.no_grad():
            z = ball.step(x, grad, max(ball.eps, 1.0) if ball.p == 0 else ball.eps)
            x_adv = ball.project(z, x, priority=grad * (z - x) if ball.p == 0 else None)
    ball.check(x_adv, x)
    return x_adv


def random_noise(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, eps: float,
                 p: Any = math.inf, samples: int = 100, box: Any = DEFAULT_BOX,
                 lower: Any = UNSET, upper: Any = UNSET, force: bool = False,
                 normalize: Any = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Brute-force random search: the worst of ``samples`` random perturbations per input.

    Parameters
    ----------
    model, x, y, eps, p, generator
        As in :func:`pgd`; ``eps`` finite.
    samples : int
        Draws per input (``>= 1``).
    box, lower, upper, force, normalize
        As in :func:`pgd` (default box ``(0, 1)``).

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
    ball = _ball(x, eps, p, box, lower, upper, force)
    if not ball.bounded:
        raise InvalidInputError("eps must be finite for random_noise")
    samples = check_int(samples, name="samples", minimum=1)
    x = x.detach()
    best_x = x.clone()
    best_score = torch.full((x.shape[0],), -math.inf, device=x.device)
    best_success = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    net = with_normalization(model, normalize)
    with untouched(net), torch.no_grad():
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
            logits = net(z)
            score = F.cross_entropy(logits, y, reduction="none")
            success = logits.argmax(dim=1) != y
            best_x, best_score, best_success = _keep_best(
                z, score, success, best_x, best_score, best_success)
    ball.check(best_x, x)
    return best_x


def transfer(source_model: nn.Module, target_model: nn.Module, x: torch.Tensor,
             y: torch.Tensor, *, select_on: str = "source", normalize: Any = None,
             **pgd_kwargs: Any) -> torch.Tensor:
    """Transfer (black-box) attack: PGD on ``source_model``, to be evaluated on the target.

    Parameters
    ----------
    select_on : {"source", "target"}
        ``"source"`` (pure black box, the default): the PGD result on the source model.
        ``"target"``: return, per sample, the clean input or the transferred point, whichever
        has the higher target loss / fools the target (one query per point).
    normalize : (mean, std) or None
        The target model's input normalization (the source gets its own through
        ``pgd_kwargs``).
    **pgd_kwargs
        Passed to :func:`pgd` (``eps``, ``p``, ``steps``, ``step_size``, ``box``, ...).

    Notes
    -----
    Both models are left untouched (:func:`untouched`).

    References
    ----------
    .. [1] Papernot et al. (2016), "Transferability in machine learning".  Source paper,
       Appendix C items 11-12 (black-box and semi-black-box attacks).
    """
    if select_on not in ("source", "target"):
        raise InvalidInputError(f"select_on must be 'source' or 'target'; got {select_on!r}")
    x_adv = pgd(source_model, x, y, **pgd_kwargs)
    if select_on == "source":
        return x_adv
    net = with_normalization(target_model, normalize)
    with untouched(net), torch.no_grad():
        scores, succ = [], []
        for z in (x, x_adv):
            logits = net(z)
            scores.append(F.cross_entropy(logits, y, reduction="none"))
            succ.append(logits.argmax(dim=1) != y)
    take = _better(scores[1], succ[1], scores[0], succ[0])
    return _select(take, x_adv, x.detach())


def _model_device(model: nn.Module, x: torch.Tensor) -> torch.device:
    param = next(model.parameters(), None)
    return x.device if param is None else param.device


def autoattack(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, eps: float,
               p: Any = math.inf, eps_step: float | None = None, targeted: bool = False,
               box: Any = DEFAULT_BOX, lower: Any = UNSET, upper: Any = UNSET,
               force: bool = False, normalize: Any = None, batch_size: int = 128,
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
        Initial step of the APGD members; default ``eps / 4`` (see Notes).
    targeted : bool
        Also run the targeted attacks against every class.
    box, lower, upper, force, normalize
        As in :func:`pgd` (default box ``(0, 1)``); the box goes to ART as
        ``clip_values`` (both ends or none).
    batch_size : int
        ART's batch size.
    max_iter : int or None
        ``None``: ART's standard ensemble and budgets (see Notes; slow on a CPU).  An int
        (the "reduced" ensemble): the same members with ``max_iter`` iterations and one
        random start each (APGD-DLR only for 3 or more classes), and ``max_iter`` Square
        queries.
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
    What runs (``art.attacks.evasion.AutoAttack`` around
    ``art.estimators.classification.PyTorchClassifier``; ART 1.20): with ``max_iter=None``
    ART's default ensemble of four members, each run on the points still classified
    correctly: APGD with the cross-entropy loss (100 iterations, 5 random starts), APGD with
    the difference-of-logits-ratio loss (100 iterations, 5 random starts; 3 or more classes),
    DeepFool (100 iterations, overshoot 1e-3, 10 gradients) and Square (5000 queries, 5
    restarts, ``p_init = 0.8``).  The adapter builds these members itself, with ART's
    parameters, so that they run without ART's progress bars.
    There is no plain PGD member.  Step rule: ART's APGD starts from the step
    ``eps_step`` (here ``eps / 4``; the reference APGD of Croce & Hein starts from
    ``2 eps``), uses momentum 0.75 and halves the step at its checkpoints when the loss
    stalls.  The reference "standard" AutoAttack (APGD-CE, APGD-T, FAB-T, Square; one start
    each) is :func:`torchattacks_autoattack`.  ART's ``loss_gradient`` writes parameter
    gradients; they are restored on return (:func:`untouched`).  Install with
    ``pip install 'optrobust[autoattack]'``.

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
    ball = _ball(x, eps, p, box, lower, upper, force)
    if ball.p not in (2, math.inf) or not ball.bounded:
        raise InvalidInputError(f"p must be 2 or inf and eps finite for autoattack; got "
                                f"p={p!r}, eps={eps!r}")
    if (ball.lower is None) != (ball.upper is None):
        raise InvalidInputError("the box must have both ends or none for autoattack; got "
                                f"({ball.lower}, {ball.upper})")
    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    if max_iter is not None:
        max_iter = check_int(max_iter, name="max_iter", minimum=1)
    net = with_normalization(model, normalize)
    dev = _model_device(net, x)
    # ART's classifier moves the model to the *current* CUDA device: make it the model's
    with untouched(net), (torch.cuda.device(dev) if dev.type == "cuda"
                          else contextlib.nullcontext()):
        with torch.no_grad():
            n_classes = int(net(x[:1]).shape[1])
        on_gpu = dev.type == "cuda"
        clf = PyTorchClassifier(
            model=net, loss=nn.CrossEntropyLoss(), input_shape=tuple(x.shape[1:]),
            nb_classes=n_classes,
            clip_values=None if ball.lower is None else (ball.lower, ball.upper),
            device_type="gpu" if on_gpu else "cpu")
        norm = np.inf if ball.p == math.inf else 2
        step = eps_step or ball.eps / 4
        from art.attacks.evasion import AutoProjectedGradientDescent, DeepFool, SquareAttack

        # ART's default ensemble (its AutoAttack.__init__ with attacks=None), built here so
        # that it runs without ART's progress bars; max_iter=N: the reduced budget
        full = max_iter is None
        iters, starts = (100, 5) if full else (max_iter, 1)
        losses = ["cross_entropy"] + (["difference_logits_ratio"] if n_classes >= 3 else [])
        members = [AutoProjectedGradientDescent(
            estimator=clf, norm=norm, eps=ball.eps, eps_step=step, max_iter=iters,
            targeted=False, nb_random_init=starts, batch_size=batch_size, loss_type=loss,
            verbose=False) for loss in losses]
        members.append(DeepFool(classifier=clf, max_iter=iters, epsilon=1e-3,
                                nb_grads=min(10, n_classes), batch_size=batch_size,
                                verbose=False))
        members.append(SquareAttack(estimator=clf, norm=norm, max_iter=5000 if full else iters,
                                    eps=ball.eps, p_init=0.8, nb_restarts=starts,
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


def torchattacks_autoattack(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
                            eps: float, p: Any = math.inf, box: Any = DEFAULT_BOX,
                            force: bool = False, normalize: Any = None,
                            version: str = "standard", n_classes: int | None = None,
                            seed: int = 0) -> torch.Tensor:
    """The reference "standard" AutoAttack, as implemented by torchattacks (optional).

    Parameters
    ----------
    model, x, y, eps, force, normalize
        As in :func:`pgd`; ``eps`` finite.
    p : {2, inf} or {"l2", "linf"}
    box : (0, 1)
        torchattacks works on inputs in ``[0, 1]`` only; another box is an error.
    version : {"standard", "plus", "rand"}
        torchattacks' ensembles; ``"standard"``: APGD-CE, APGD-T (targeted DLR, 9 target
        classes), FAB-T and Square (5000 queries), one start each, each run on the points
        the previous ones did not break (Croce & Hein 2020, Section 4).
    n_classes : int or None
        Number of classes (default: the model's output width).
    seed : int
        Seed of the members' random starts; torch's global generator is forked for the call.

    Returns
    -------
    torch.Tensor
        ``x_adv``, projected on the ball and box (float rounding) and verified.

    Notes
    -----
    APGD's step rule here is the reference one: initial step ``2 eps``, momentum 0.75,
    step halved at the checkpoints ``p_j`` when the loss stalls.  Install with
    ``pip install 'optrobust[torchattacks]'`` (its own extra: torchattacks pins requests).

    References
    ----------
    .. [1] Croce & Hein (2020), "Reliable evaluation of adversarial robustness with an
       ensemble of diverse parameter-free attacks", ICML.
    .. [2] Kim (2020), "Torchattacks: a PyTorch repository for adversarial attacks".
    """
    try:
        import torchattacks
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("torchattacks_autoattack needs torchattacks: pip install "
                          "'optrobust[torchattacks]'") from exc
    _check_inputs(x, y)
    ball = _ball(x, eps, p, box, UNSET, UNSET, force)
    if ball.p not in (2, math.inf) or not ball.bounded:
        raise InvalidInputError(f"p must be 2 or inf and eps finite for torchattacks' "
                                f"AutoAttack; got p={p!r}, eps={eps!r}")
    if (ball.lower, ball.upper) != (0.0, 1.0):
        raise InvalidInputError("torchattacks' AutoAttack needs the box (0, 1); got "
                                f"({ball.lower}, {ball.upper})")
    if version not in ("standard", "plus", "rand"):
        raise InvalidInputError(f"version must be 'standard', 'plus' or 'rand'; got "
                                f"{version!r}")
    net = with_normalization(model, normalize)
    x = x.detach()
    with untouched(net), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        with torch.no_grad():
            width = int(net(x[:1]).shape[1])
        n_classes = width if n_classes is None else check_int(n_classes, name="n_classes",
                                                                minimum=2)
        if n_classes < 4:
            raise InvalidInputError(f"torchattacks' AutoAttack needs at least 4 classes (its "
                                    f"targeted DLR loss); the model has {n_classes}")
        atk = torchattacks.AutoAttack(net, norm="Linf" if ball.p == math.inf else "L2",
                                      eps=ball.eps, version=version, n_classes=n_classes,
                                      seed=seed)
        out = atk(x, y)
    x_adv = ball.project(out.detach().to(x.dtype), x)
    ball.check(x_adv, x)
    return x_adv
