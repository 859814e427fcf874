"""Loss landscapes and interpretability maps of adversarially trained models.

* :func:`interpolation_curve` -- the loss along the segment from initial to final weights,
  ``theta(alpha) = (1 - alpha) theta_a + alpha theta_b`` (Goodfellow et al. 2015), clean and
  adversarial (PGD) at several budgets: the paper's Figures 3, 4 and 11.
* :func:`input_loss_surface` -- the loss of one input moved along an adversarial and a random
  direction (a check for gradient obfuscation): Figure 5.
* :func:`saliency` and :func:`interpretability_maps` -- input gradients at perturbed inputs and
  PGD perturbations of several models: Figure 6.
* ``plot_*`` -- readable PNGs (matplotlib, Agg backend).
* :func:`initial_state` -- a run's initial weights: its ``init_from`` checkpoint (extended
  training) or the model rebuilt from the run's seed exactly as :func:`empirical.train.train`
  builds it (the checkpoints do not store the initial weights).

References
----------
Paper "Towards Deep Learning Models Resistant to Large Perturbations", Section 3.2
(Visualizations 2 and 3), Section 3.3 (Figure 5), Section 4 (Figure 6), Appendix F (Figure 11).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from empirical.attacks import pgd
from empirical.checkpoint import load_checkpoint
from empirical.models import build_model
from empirical.plotting import pyplot, titled_layout
from empirical.schedules import derive_seed
from optrobust.errors import InvalidInputError, InvalidTypeError
from optrobust.norms import norm_name
from optrobust.validation import check_eps, check_int, check_p

__all__ = [
    "KINDS",
    "LandscapeResult",
    "initial_state",
    "input_loss_surface",
    "interpolate_state",
    "interpolation_curve",
    "interpretability_maps",
    "map_summary",
    "plot_interpolation",
    "plot_maps",
    "plot_surfaces",
    "run_landscape",
    "saliency",
]

#: The figures :func:`run_landscape` can draw.
KINDS = ("interpolation", "surface", "saliency")


def _threat_p(p: Any, norm: str | None, allowed: tuple[float, ...] = (0, 2, math.inf)) -> float:
    """The exponent ``p`` (``0, 2, inf`` or ``"l0", "l2", "linf"``); ``norm=`` is deprecated."""
    if norm is not None:
        warnings.warn("the keyword norm= is deprecated (removed in the next release); pass p= "
                      "(0, 2, inf or 'l0', 'l2', 'linf')", DeprecationWarning, stacklevel=3)
        p = norm
    return check_p(p, allowed=allowed, name="p")


def initial_state(checkpoint: str) -> dict[str, torch.Tensor]:
    """The weights a training run started from.

    For an ``extended`` run (``init_from`` set) these are the weights of that checkpoint;
    otherwise the model is rebuilt under ``torch.manual_seed(derive_seed(seed, "init"))``,
    which is how :func:`empirical.train.train` initialises it (the global RNG state is
    restored afterwards).

    Raises
    ------
    FileNotFoundError
        Missing checkpoint (or missing ``init_from`` checkpoint).
    """
    ckpt = load_checkpoint(checkpoint)
    cfg = ckpt["config"]
    if cfg.get("init_from"):
        return dict(load_checkpoint(cfg["init_from"])["model"])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(cfg["seed"], "init"))
        model = build_model(cfg["model"], input_shape=tuple(ckpt["input_shape"]),
                            num_classes=int(ckpt["num_classes"]))
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def interpolate_state(state_a: Mapping[str, torch.Tensor], state_b: Mapping[str, torch.Tensor],
                      alpha: float) -> dict[str, torch.Tensor]:
    """``(1 - alpha) * state_a + alpha * state_b`` for every floating tensor.

    Written as a sum of two products (not ``torch.lerp``) so that ``alpha = 0`` and
    ``alpha = 1`` return the end points bit for bit.  Integer buffers (BatchNorm's
    ``num_batches_tracked``) come from the nearer end point.
    """
    if set(state_a) != set(state_b):
        raise InvalidInputError("state_a and state_b must hold the same parameter names")
    out = {}
    for k, a in state_a.items():
        b = state_b[k]
        if a.shape != b.shape:
            raise InvalidInputError(f"state_a and state_b differ in the shape of {k!r}")
        if a.is_floating_point():
            out[k] = (1.0 - alpha) * a + alpha * b.to(a.device)
        else:
            out[k] = (a if alpha < 0.5 else b).clone()
    return out


def _batched_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, eps: float, p: float,
                  steps: int, step_size: float | None, lower: float | None,
                  upper: float | None, seed: int, batch_size: int) -> float:
    """Mean cross-entropy on ``(x, y)``, at PGD points when ``eps > 0``."""
    total = 0.0
    for s in range(0, len(x), batch_size):
        xb, yb = x[s:s + batch_size], y[s:s + batch_size]
        if eps > 0:
            gen = torch.Generator(device=xb.device)
            gen.manual_seed(derive_seed(seed, "landscape", s))
            xb = pgd(model, xb, yb, eps=eps, p=p, steps=steps,
                     step_size=step_size if step_size is not None else 2.5 * eps / steps,
                     lower=lower, upper=upper, generator=gen)
        with torch.no_grad():
            total += float(F.cross_entropy(model(xb), yb, reduction="sum"))
    return total / len(x)


def interpolation_curve(model_a_state: Mapping[str, torch.Tensor],
                        model_b_state: Mapping[str, torch.Tensor],
                        build_fn: Callable[[], nn.Module], x: torch.Tensor, y: torch.Tensor, *,
                        eps_list: Sequence[float], p: Any = math.inf,
                        alphas: Sequence[float] | int = 21, steps: int = 20,
                        step_size: float | None = None, lower: float | None = None,
                        upper: float | None = None, seed: int = 0,
                        batch_size: int = 512, norm: str | None = None) -> dict[str, Any]:
    """Clean and adversarial loss along the line between two weight vectors.

    Parameters
    ----------
    model_a_state, model_b_state : state dicts
        ``theta_a`` (e.g. the initial weights) and ``theta_b`` (the trained weights).
    build_fn : callable
        Returns a fresh model of the right architecture (its weights are overwritten).
    x, y : torch.Tensor
        The inputs (the paper: a batch of 512 training samples) and their labels.
    eps_list : sequence of float
        Budgets of the adversarial losses (e.g. the training eps and the initial eps).
    p : {0, 2, inf} or {"l0", "l2", "linf"}
        Threat-model norm (``norm=`` is the deprecated spelling).
    alphas : int or sequence of float
        Number of equally spaced points in ``[0, 1]``, or the points themselves.
    steps, step_size : PGD settings; ``step_size=None`` is the paper's ``2.5 * eps / steps``.
    lower, upper : box of valid inputs.
    seed : int
        Seeds the PGD random starts; the same starts are used at every ``alpha`` (the batch
        starting at sample ``s`` draws them from ``derive_seed(seed, "landscape", s)``).
    batch_size : int

    Returns
    -------
    dict
        ``alpha`` (list), ``clean_loss`` (list), ``adv_loss`` (``{eps: list}``), ``norm``,
        ``steps``, ``n``.

    Notes
    -----
    ``l_eps(alpha) = (1/n) sum_i CE(f_theta(alpha)(x_i + delta_i), y_i)`` with
    ``theta(alpha) = (1 - alpha) theta_a + alpha theta_b`` and ``delta_i`` found by PGD for
    the model ``theta(alpha)`` (per sample the best iterate, see :func:`empirical.attacks.pgd`).
    BatchNorm running statistics are interpolated like the weights; models run in eval mode.

    References
    ----------
    .. [1] Paper, Section 3.2, Visualization 2 (Figures 3, 4 left, 11) and Visualization 3
       (Figure 4 right: the loss at the initial eps).
    """
    p = _threat_p(p, norm)
    if isinstance(alphas, int) and not isinstance(alphas, bool):
        alpha_list = np.linspace(0.0, 1.0, check_int(alphas, name="alphas", minimum=2)).tolist()
    else:
        alpha_list = [float(a) for a in alphas]
        if not alpha_list or not all(math.isfinite(a) for a in alpha_list):
            raise InvalidInputError("alphas must be an integer >= 2 or a non-empty list of finite "
                             "numbers")
    eps_vals = [check_eps(e, name="eps_list") for e in eps_list]
    if not eps_vals:
        raise InvalidInputError("eps_list must hold at least one budget")
    steps = check_int(steps, name="steps", minimum=1)
    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    if len(x) != len(y) or len(x) == 0:
        raise InvalidInputError(f"x and y must be non-empty with equal lengths, got {len(x)}, "
                                f"{len(y)}")
    model = build_fn()
    model.to(x.device).eval()
    clean, adv = [], {e: [] for e in eps_vals}
    for alpha in alpha_list:
        model.load_state_dict(interpolate_state(model_a_state, model_b_state, alpha))
        common = dict(p=p, steps=steps, step_size=step_size, lower=lower, upper=upper,
                      seed=seed, batch_size=batch_size)
        clean.append(_batched_loss(model, x, y, eps=0.0, **common))
        for e in eps_vals:
            adv[e].append(clean[-1] if e == 0 else _batched_loss(model, x, y, eps=e, **common))
    return {"alpha": alpha_list, "clean_loss": clean, "adv_loss": adv, "norm": norm_name(p),
            "steps": steps, "n": len(x)}


def _unit(v: torch.Tensor, p: float) -> torch.Tensor:
    """A direction of unit ``l_p`` norm (``p`` in {2, inf}) with the sign pattern of ``v``."""
    if p == math.inf:
        return torch.sign(v)
    n = v.norm()
    return v / n if n > 0 else v


def input_loss_surface(model: nn.Module, x: torch.Tensor, y: torch.Tensor | int, *, eps: float,
                       grid: int = 21, p: Any = math.inf, extent: float = 1.0,
                       lower: float | None = None, upper: float | None = None,
                       seed: int = 0, norm: str | None = None) -> np.ndarray:
    """Loss of one input moved in the plane of an adversarial and a random direction.

    Parameters
    ----------
    model : nn.Module
    x : torch.Tensor
        One input of shape ``input_shape`` (no batch dimension).
    y : int or torch.Tensor
        Its label.
    eps : float
        Budget; both axes run over ``linspace(-extent * eps, extent * eps, grid)``.
    grid : int
        Points per axis (odd, so the centre is the clean input).
    p : {2, inf} or {"l2", "linf"}
        ``norm=`` is the deprecated spelling.  ``linf``: directions are sign vectors
        (adversarial: ``sign(grad)``; random: Rademacher);
        ``l2``: unit vectors (``grad / ||grad||``; normalised Gaussian).
    extent : float
        Fraction of ``eps`` on each side (the paper's MNIST plots use 0.5).
    lower, upper : float or None
        If given, the moved inputs are clipped to the box.
    seed : int
        Seeds the random direction.

    Returns
    -------
    numpy.ndarray
        ``L[i, j] = CE(f(x + a_i d_adv + r_j d_rand), y)`` of shape ``(grid, grid)``; rows follow
        the adversarial axis, columns the random axis.

    References
    ----------
    .. [1] Paper, Section 3.3, Figure 5 (after Tramer et al. 2018).
    """
    p = _threat_p(p, norm, (2, math.inf))
    eps = check_eps(eps)
    grid = check_int(grid, name="grid", minimum=2)
    if not (isinstance(extent, int | float) and math.isfinite(extent) and extent > 0):
        raise InvalidInputError(f"extent must be a finite number > 0, got {extent!r}")
    if not isinstance(x, torch.Tensor) or x.dim() == 0:
        raise InvalidTypeError("x must be one input as a torch tensor of shape input_shape")
    xb = x.detach().unsqueeze(0)
    yb = torch.as_tensor(y, device=xb.device).reshape(1).long()
    g = saliency(model, xb, yb)[0]
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    r = torch.randn(g.shape, generator=gen).to(g.device)
    d_adv, d_rand = _unit(g, p), _unit(r, p)
    axis = torch.linspace(-extent * eps, extent * eps, grid, dtype=xb.dtype, device=xb.device)
    a, b = torch.meshgrid(axis, axis, indexing="ij")
    shape = (-1,) + (1,) * (xb.dim() - 1)
    pts = xb + a.reshape(shape) * d_adv + b.reshape(shape) * d_rand
    if lower is not None or upper is not None:
        pts = pts.clamp(min=lower, max=upper)
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            losses = torch.cat([F.cross_entropy(model(c), yb.expand(len(c)), reduction="none")
                                for c in pts.split(1024)])
    finally:
        model.train(was)
    return losses.reshape(grid, grid).cpu().numpy()


def saliency(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Input gradient of the per-sample cross-entropy, ``grad_x CE(f(x_i), y_i)``.

    Same shape as ``x``; the model runs in eval mode (its mode is restored).

    References
    ----------
    .. [1] Paper, Section 4 and Figure 6 (B); Tsipras et al. (2018).
    """
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise InvalidTypeError("x and y must be torch tensors")
    if y.dim() != 1 or len(y) != len(x):
        raise InvalidInputError(f"y must be a 1-d tensor of {len(x)} labels, got shape "
                                f"{tuple(y.shape)}")
    was = model.training
    model.eval()
    try:
        xr = x.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(F.cross_entropy(model(xr), y, reduction="sum"), xr)
    finally:
        model.train(was)
    return grad.detach()


def interpretability_maps(models: Mapping[str, nn.Module], x: torch.Tensor, y: torch.Tensor, *,
                          eps: float, attack_eps: float, p: Any = math.inf, steps: int = 40,
                          lower: float | None = None, upper: float | None = None,
                          seed: int = 0, norm: str | None = None
                          ) -> dict[str, dict[str, torch.Tensor]]:
    """Saliency at PGD(``eps``) inputs and PGD(``attack_eps``) perturbations, per model.

    Returns ``{name: {"saliency": grad_x CE at x + delta_eps, "perturbation": x_adv - x}}``;
    PGD has no random start (as in the paper's figure) and step size ``2.5 * eps / steps``.

    References
    ----------
    .. [1] Paper, Figure 6 (B: saliency at eps = 0.3; C: perturbations of size 0.45).
    """
    p = _threat_p(p, norm)
    eps, attack_eps = check_eps(eps), check_eps(attack_eps, name="attack_eps")
    steps = check_int(steps, name="steps", minimum=1)
    out = {}
    for name, model in models.items():
        def attack(e: float, model: nn.Module = model) -> torch.Tensor:
            if e == 0:
                return x.detach().clone()
            gen = torch.Generator(device=x.device).manual_seed(int(seed))
            return pgd(model, x, y, eps=e, p=p, steps=steps, step_size=2.5 * e / steps,
                       random_start=False, lower=lower, upper=upper, generator=gen)

        out[name] = {"saliency": saliency(model, attack(eps), y),
                     "perturbation": attack(attack_eps) - x.detach()}
    return out


def map_summary(maps: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """Numbers for one model's :func:`interpretability_maps` entry (means over samples).

    ``saliency_top10_mass`` is the share of ``sum |grad|`` carried by the 10% largest
    coordinates (1 for a map concentrated on few pixels, 0.1 for a flat one);
    ``perturbation_linf`` / ``perturbation_l2`` are the sizes of ``x_adv - x``.
    """
    g = maps["saliency"].flatten(1).abs()
    k = max(1, math.ceil(0.1 * g.shape[1]))
    mass = g.sum(1)
    top = g.topk(k, dim=1).values.sum(1) / mass.clamp_min(torch.finfo(g.dtype).tiny)
    d = maps["perturbation"].flatten(1)
    return {"saliency_l1": float(mass.mean()), "saliency_top10_mass": float(top.mean()),
            "perturbation_linf": float(d.abs().amax(1).mean()),
            "perturbation_l2": float(d.norm(dim=1).mean())}


# ----------------------------------------------------------------------------- plotting

def plot_interpolation(curve: Mapping[str, Any], path: str | Path, *, title: str = "") -> None:
    """Write the loss-vs-``alpha`` plot of :func:`interpolation_curve` to ``path`` (PNG)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(curve["alpha"], curve["clean_loss"], "k--", lw=1.5, label="clean loss")
    for e, vals in curve["adv_loss"].items():
        if e != 0:
            ax.plot(curve["alpha"], vals, lw=2, marker="o", ms=3,
                    label=f"adversarial loss, {curve['norm']} eps={e:.4g}")
    ax.set_xlabel(r"$\alpha$ in $\theta(\alpha) = (1-\alpha)\,\theta_{init} + \alpha\,"
                  r"\theta_{final}$")
    ax.set_ylabel(f"mean cross-entropy (n={curve['n']})")
    ax.set_title(title or "Loss along the line from initial to final weights")
    ax.set_xlim(min(curve["alpha"]), max(curve["alpha"]))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_surfaces(surfaces: Mapping[str, np.ndarray], path: str | Path, *, eps: float,
                  extent: float = 1.0, title: str = "") -> None:
    """3-D loss surfaces of :func:`input_loss_surface`, one panel per model, shared z axis."""
    plt = pyplot()
    k = len(surfaces)
    fig = plt.figure(figsize=(4.6 * k, 4.4))
    zmax = max(float(np.max(s)) for s in surfaces.values())
    for i, (name, s) in enumerate(surfaces.items()):
        ax = fig.add_subplot(1, k, i + 1, projection="3d")
        axis = np.linspace(-extent * eps, extent * eps, s.shape[0])
        a, r = np.meshgrid(axis, axis, indexing="ij")
        ax.plot_surface(a, r, s, cmap="viridis", vmin=0, vmax=zmax, linewidth=0)
        ax.set_xlabel("adversarial dir.")
        ax.set_ylabel("random dir.")
        ax.set_zlabel("loss")
        ax.set_zlim(0, zmax * 1.05 if zmax > 0 else 1)
        ax.set_title(name, fontsize=10)
    titled_layout(fig, title or f"Input-space loss surface (axes in [-{extent * eps:.3g}, "
                  f"{extent * eps:.3g}])")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _as_image(t: torch.Tensor) -> np.ndarray:
    """(C, H, W) -> (H, W) or (H, W, 3); vectors -> a (1, d) strip."""
    a = t.detach().cpu().numpy()
    if a.ndim == 3 and a.shape[0] == 1:
        return a[0]
    if a.ndim == 3:
        return np.transpose(a, (1, 2, 0))
    return a.reshape(1, -1)


def _show_signed(ax: Any, a: np.ndarray) -> None:
    if a.ndim == 3:  # colour: one map per pixel from the channel sum
        a = a.sum(axis=2)
    m = float(np.max(np.abs(a))) or 1.0
    ax.imshow(a, cmap="seismic", vmin=-m, vmax=m, aspect="auto" if a.shape[0] == 1 else None)


def plot_maps(x: torch.Tensor, maps: Mapping[str, Mapping[str, torch.Tensor]],
              path: str | Path, *, eps: float, attack_eps: float, title: str = "") -> None:
    """Images (left), then per model its saliency map and its adversarial perturbation.

    Maps are signed (red positive, blue negative) and scaled per panel, as in the paper.
    """
    plt = pyplot()
    names = list(maps)
    n, cols = len(x), 1 + 2 * len(names)
    fig, axes = plt.subplots(n, cols, figsize=(2.3 * cols, 2.4 * n + 0.6), squeeze=False)
    for i in range(n):
        img = _as_image(x[i])
        axes[i, 0].imshow(img, cmap="gray", aspect="auto" if img.shape[0] == 1 else None)
        axes[i, 0].set_title("input" if i == 0 else "", fontsize=9)
        for j, name in enumerate(names):
            for k, (key, label) in enumerate((("saliency", f"saliency (eps={eps:.3g})"),
                                              ("perturbation", f"PGD eps={attack_eps:.3g}"))):
                ax = axes[i, 1 + 2 * j + k]
                _show_signed(ax, _as_image(maps[name][key][i]))
                if i == 0:
                    ax.set_title(f"{name}\n{label}", fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    titled_layout(fig, title or "Saliency maps and adversarial perturbations "
                  "(red > 0 > blue, each panel scaled to its own maximum)")
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- one call


@dataclass(frozen=True, kw_only=True)
class LandscapeResult:
    """What :func:`run_landscape` computed and wrote.

    ``interpolation``, ``surface`` and ``saliency`` are ``None`` for a kind not asked for;
    :meth:`to_dict` is the content of ``landscape.json``.
    """

    checkpoint: str
    eps: tuple[float, ...]
    p: float
    kinds: tuple[str, ...]
    files: tuple[str, ...]
    interpolation: dict[str, Any] | None
    surface: dict[str, Any] | None
    saliency: dict[str, Any] | None
    lines: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON payload (``norm`` is the name of ``p``, e.g. ``"l2"``)."""
        out: dict[str, Any] = {"checkpoint": self.checkpoint, "eps": list(self.eps),
                               "norm": norm_name(self.p), "kinds": list(self.kinds),
                               "files": list(self.files)}
        for key in KINDS:
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def to_text(self) -> str:
        """One line per figure, then the files written."""
        return "\n".join([*self.lines, "written: " + ", ".join(self.files)])


def _models_to_show(run: Any, checkpoint: str, others: Sequence[str], device: Any
                    ) -> dict[str, nn.Module]:
    from empirical.evaluate import load_run

    b = run.bundle
    models: dict[str, nn.Module] = {}
    for path, r in [(checkpoint, run)] + [(c, None) for c in others]:
        r = r or load_run(path, device=device)
        if tuple(r.bundle.input_shape) != tuple(b.input_shape):
            raise InvalidInputError(f"compare: {path} has inputs {tuple(r.bundle.input_shape)}, "
                                    f"the checkpoint {tuple(b.input_shape)}")
        name = f"{Path(path).parent.name}: {r.config['method']}" + (
            "" if r.config["method"] == "standard" else f" eps={r.config['eps']:.3g}")
        models[name if name not in models else f"{name} #{len(models)}"] = r.model
    return models


def run_landscape(checkpoint: str, out: str | Path, *, eps: Sequence[float],
                  p: Any = None, kinds: Sequence[str] = KINDS, init_from: str | None = None,
                  compare: Sequence[str] = (), alphas: int = 21, samples: int = 512,
                  steps: int = 20, grid: int = 21, extent: float = 1.0, index: int = 0,
                  images: int = 2, seed: int = 0, device: Any = "cpu",
                  norm: str | None = None) -> LandscapeResult:
    """The paper's landscape figures for one trained run: PNGs and ``landscape.json``.

    Parameters
    ----------
    checkpoint : str
        A run's ``checkpoint.pt`` (written by :func:`empirical.train.train`).
    out : path
        Output directory (created): ``interpolation.png``, ``surface.png``,
        ``saliency.png`` (the kinds asked for) and ``landscape.json``.
    eps : sequence of float
        Budgets >= 0.  Interpolation: one adversarial curve per budget; surface: the
        largest; saliency at the smallest, perturbation at the largest (Figure 6).
    p : {0, 2, inf} or {"l0", "l2", "linf"}, optional
        Threat-model norm; default the run's own training norm (``norm=`` is deprecated).
    kinds : sequence of {"interpolation", "surface", "saliency"}
    init_from : str, optional
        Weights at ``alpha = 0``; default :func:`initial_state` of the run.
    compare : sequence of str
        More checkpoints shown beside the run in the surface and saliency figures.
    alphas, samples, steps, grid, extent, index, images, seed
        Points on the weight segment (>= 2), training samples of the interpolation (>= 1),
        PGD steps (>= 1), surface points per axis (>= 2), surface half-width in units of
        eps (> 0), first test sample shown (>= 0), test samples in the saliency figure
        (>= 1), seed of PGD starts and random directions.
    device : str or torch.device

    Returns
    -------
    LandscapeResult

    References
    ----------
    .. [1] Paper, Section 3.2 (Figures 3, 4, 11), Section 3.3 (Figure 5), Section 4 (Figure 6).
    """
    from empirical.checkpoint import write_json
    from empirical.evaluate import load_run

    kinds = tuple(kinds)
    if not kinds or set(kinds) - set(KINDS):
        raise InvalidInputError(f"kinds must be a non-empty list of {', '.join(KINDS)}, "
                                f"got {kinds!r}")
    eps_t = tuple(check_eps(e, name="eps") for e in eps)
    if not eps_t:
        raise InvalidInputError("eps must list at least one budget >= 0, e.g. (0.3, 0.4)")
    for name, value, low in (("alphas", alphas, 2), ("samples", samples, 1),
                             ("steps", steps, 1), ("grid", grid, 2), ("images", images, 1),
                             ("index", index, 0)):
        check_int(value, name=name, minimum=low)
    if not (isinstance(extent, int | float) and math.isfinite(extent) and extent > 0):
        raise InvalidInputError(f"extent must be a finite number > 0, got {extent!r}")
    run = load_run(checkpoint, device=device)
    b = run.bundle
    pv = _threat_p(p if p is not None or norm is not None else run.config["norm"], norm)
    if "surface" in kinds and pv == 0:
        raise InvalidInputError("the surface kind needs p = 2 or inf, not l0 (p = 0)")
    models = _models_to_show(run, checkpoint, [c.strip() for c in compare if c.strip()], device)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    x_test, y_test = b.test.tensors
    if index >= len(x_test):
        raise InvalidInputError(f"index must be < the test-set size {len(x_test)}, got {index}")
    files: list[str] = []
    lines: list[str] = []
    parts: dict[str, Any] = {k: None for k in KINDS}
    if "interpolation" in kinds:
        theta0 = (load_checkpoint(init_from)["model"] if init_from
                  else initial_state(checkpoint))
        x, y = (t[:samples].to(device) for t in b.train.tensors)
        curve = interpolation_curve(
            theta0, load_checkpoint(checkpoint)["model"],
            lambda: build_model(run.config["model"], input_shape=tuple(b.input_shape),
                                num_classes=b.num_classes),
            x, y, eps_list=eps_t, p=pv, alphas=alphas, steps=steps,
            lower=b.lower, upper=b.upper, seed=seed)
        src = init_from or ("init_from of the run" if run.config.get("init_from")
                            else "seed-rebuilt initial weights")
        plot_interpolation(curve, out / "interpolation.png",
                           title=f"{next(iter(models))}\nfrom {src} to final weights")
        parts["interpolation"] = {**curve, "init": src}
        files.append(str(out / "interpolation.png"))
        ends = ", ".join(f"eps={e:.3g}: {v[0]:.3f} -> {v[-1]:.3f}"
                         for e, v in curve["adv_loss"].items())
        lines.append(f"interpolation ({alphas} points, n={len(x)}): {ends}")
    if "surface" in kinds:
        e, i = max(eps_t), index
        surf = {n: input_loss_surface(m, x_test[i].to(device), int(y_test[i]), eps=e,
                                      grid=grid, p=pv, extent=extent, lower=b.lower,
                                      upper=b.upper, seed=seed)
                for n, m in models.items()}
        plot_surfaces(surf, out / "surface.png", eps=e, extent=extent,
                      title=f"Loss around test sample {i} ({norm_name(pv)}, eps={e:.3g})")
        parts["surface"] = {"eps": e, "index": i, "extent": extent, "grid": grid,
                            "loss": {n: s.tolist() for n, s in surf.items()}}
        files.append(str(out / "surface.png"))
        lines.append("surface max loss: " + ", ".join(f"{n}: {s.max():.3f}"
                                                      for n, s in surf.items()))
    if "saliency" in kinds:
        sl = slice(index, index + images)
        xs, ys = x_test[sl].to(device), y_test[sl].to(device)
        maps = interpretability_maps(models, xs, ys, eps=min(eps_t), attack_eps=max(eps_t),
                                     p=pv, steps=steps, lower=b.lower, upper=b.upper,
                                     seed=seed)
        plot_maps(xs.cpu(), maps, out / "saliency.png", eps=min(eps_t), attack_eps=max(eps_t))
        summary = {n: map_summary(m) for n, m in maps.items()}
        parts["saliency"] = {"eps": min(eps_t), "attack_eps": max(eps_t), "index": index,
                             "models": summary}
        files.append(str(out / "saliency.png"))
        lines.append("saliency top-10% mass: " + ", ".join(
            f"{n}: {s['saliency_top10_mass']:.3f}" for n, s in summary.items()))
    files.append(str(out / "landscape.json"))
    result = LandscapeResult(checkpoint=str(checkpoint), eps=eps_t, p=pv, kinds=kinds,
                             files=tuple(files), lines=tuple(lines), **parts)
    payload = result.to_dict()
    payload["files"] = files[:-1]  # landscape.json lists the figures beside it
    write_json(out / "landscape.json", payload)
    return result
