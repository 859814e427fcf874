"""Sanity checklist for a robustness evaluation (the paper's Appendix C, Carlini et al. 2019).

:func:`run_checklist` attacks one model on one batch in several ways and turns each
comparison into a :class:`CheckResult` with its numbers and a verdict (``True`` pass,
``False`` fail, ``None`` skipped with the reason in ``detail``).  Accuracies are the
robust accuracies of :func:`empirical.evaluate.evaluate` (a sample counts when it is
classified correctly and the attack does not flip it).

Thresholds are the module constants below; "within tolerance" means a difference of at
most ``tol = max(acc_tol, 1 / n)`` in accuracy (one sample on small batches; ``acc_tol``
defaults to ``ACC_TOL``).

References
----------
Paper "Towards Deep Learning Models Resistant to Large Perturbations", Appendix C
(items 1-8, 11); Section 3.3, Figure 5 (loss surface along an adversarial and a random
direction).  Carlini et al. (2019), "On evaluating adversarial robustness", Section 5 and
the checklist of its Appendix.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from empirical import attacks
from empirical.config import NORMS
from empirical.evaluate import evaluate, make_attack
from empirical.models import build_model

__all__ = [
    "ACC_TOL", "AUTOATTACK_GAP_MAX", "CheckResult", "Checklist", "EPS_FACTORS", "MORE_RESTARTS",
    "MORE_STEPS", "NOISE_SAMPLES", "ROUGHNESS_MAX", "SURFACE_GRID", "SURFACE_SAMPLES",
    "SURROGATE_STEPS", "UNBOUNDED_MAX_ACC", "UNBOUNDED_STEP_FACTOR", "ZERO_GRAD_MAX",
    "load_source_model", "run_checklist",
]

#: Accuracy tolerance of every "changes little" / "not stronger" comparison.
ACC_TOL = 0.02
#: The unbounded attack must bring the accuracy to at most this.
UNBOUNDED_MAX_ACC = 0.0
#: Unbounded PGD (steps x MORE_STEPS) step length without a box, as a multiple of eps (l_2,
#: l_inf); in a box it is 2.5 x the box diameter / steps.
UNBOUNDED_STEP_FACTOR = 4.0
#: Budgets of the monotonicity sweep, as multiples of eps.
EPS_FACTORS = (0.0, 0.5, 1.0, 1.5, 2.0)
#: The stronger PGD runs: restarts x MORE_RESTARTS, steps x MORE_STEPS.
MORE_RESTARTS = 5
MORE_STEPS = 4
#: Random sign draws per sample of the brute-force check.
NOISE_SAMPLES = 100
#: AutoAttack may be at most this much stronger (in accuracy) than PGD.
AUTOATTACK_GAP_MAX = 0.05
#: Full-batch Adam steps of the surrogate (transfer source) when none is given.
SURROGATE_STEPS = 100
#: Loss-surface settings: samples, grid points per axis, roughness threshold.
SURFACE_SAMPLES = 4
SURFACE_GRID = 11
#: Calibration (MNIST 3 vs 7, box [0, 1], the checklist's median over its 4 samples at
#: linf 0.3 / linf 0.1 / l2 2.0).  Honest CNNs: small-cnn standard 500 images x 2 epochs
#: 0.23/0.19/0.16, x 5 epochs 0.39/0.38/0.42, 2000 x 8 0.42/0.60/0.66, 5000 x 10
#: 0.54/0.69/0.77; paper-cnn 2000 x 4 0.44/0.62/0.72; adversarial (linf 0.1, 0.2; extended
#: to 0.3) 0.12-0.29; single samples (40 per model) at most 1.00.  Gradient-masked
#: small-cnn with inputs rounded to 1/2 (as in the tests): 1.14/1.51/1.34.  Roughness grows
#: with training, so the value is not lowered; the zero-gradient fraction, not roughness,
#: flags fine quantization (1/16: 0.28 at linf 0.3) and saturated logits (x1000: 0.00), and
#: an input transform x + 0.05 sin(300 x) (nonzero, shattered gradient: 0.56/0.42/0.80) is
#: caught at linf 0.3 by pgd_vs_fgsm, noise and transfer but by nothing at linf 0.1.
ROUGHNESS_MAX = 1.0
#: Largest tolerated fraction of samples with an exactly zero input gradient.
ZERO_GRAD_MAX = 0.5

_MASKING_CHECKS = ("pgd_vs_fgsm", "unbounded", "noise_vs_pgd", "transfer_vs_whitebox")


@dataclass(frozen=True)
class CheckResult:
    """One check: ``passed`` is ``True``/``False``, or ``None`` when skipped (see ``detail``)."""

    name: str
    passed: bool | None
    numbers: dict[str, Any] = field(default_factory=dict)
    detail: str = ""

    @property
    def verdict(self) -> str:
        """``"PASS"``, ``"FAIL"`` or ``"SKIP"``."""
        return {True: "PASS", False: "FAIL", None: "SKIP"}[self.passed]


@dataclass(frozen=True)
class Checklist:
    """All checks of one run, with the settings used."""

    checks: list[CheckResult]
    settings: dict[str, Any]

    def count(self, verdict: str) -> int:
        """How many checks have ``verdict`` (``"PASS"``, ``"FAIL"``, ``"SKIP"``)."""
        return sum(c.verdict == verdict for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"checklist": [...], "passed": n, "failed": n, "skipped": n, ...}``."""
        return {"checklist": [{**asdict(c), "verdict": c.verdict} for c in self.checks],
                "passed": self.count("PASS"), "failed": self.count("FAIL"),
                "skipped": self.count("SKIP"), "settings": dict(self.settings)}

    def to_text(self) -> str:
        """An aligned table: check, verdict, numbers, detail."""
        def fmt(v: Any) -> str:
            return f"{v:.4g}" if isinstance(v, float) else str(v)

        rows = [(c.name, c.verdict, ", ".join(f"{k}={fmt(v)}" for k, v in c.numbers.items()),
                 c.detail) for c in self.checks]
        w = [max(len(r[i]) for r in rows + [("check", "verdict", "numbers", "")])
             for i in range(3)]
        lines = [f"{'check':<{w[0]}}  {'verdict':<{w[1]}}  {'numbers':<{w[2]}}  detail"]
        lines += [f"{a:<{w[0]}}  {b:<{w[1]}}  {c:<{w[2]}}  {d}".rstrip() for a, b, c, d in rows]
        lines.append(f"passed {self.count('PASS')}, failed {self.count('FAIL')}, "
                     f"skipped {self.count('SKIP')}")
        return "\n".join(lines)


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return value


def _surrogate(x: torch.Tensor, y: torch.Tensor, num_classes: int, seed: int) -> nn.Module:
    """An MLP trained (full batch, Adam, SURROGATE_STEPS steps) on ``(x, y)``; seeded."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model("mlp", input_shape=tuple(x.shape[1:]), num_classes=num_classes)
    model.to(x.device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(SURROGATE_STEPS):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval()


def _roughness(loss: torch.Tensor) -> float:
    """Mean ``|second difference|`` over mean ``|first difference|`` along both grid axes.

    About ``2 h f''/f'`` (small) for a smooth surface sampled with spacing ``h``; about 2 for a
    step, whatever the grid; 0 for a flat or linear surface.
    """
    d1 = torch.cat([loss.diff(dim=0).abs().flatten(), loss.diff(dim=1).abs().flatten()])
    d2 = torch.cat([loss.diff(n=2, dim=0).abs().flatten(), loss.diff(n=2, dim=1).abs().flatten()])
    m1 = float(d1.mean())
    return float(d2.mean()) / m1 if m1 > 1e-12 else 0.0


def _surface(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, eps: float, p: float,
             lower: float | None, upper: float | None, seed: int) -> tuple[list[float], float]:
    """Per-sample roughness of the loss on a grid (adversarial x random direction), zero-grad
    fraction.  Directions: ``sign(grad)`` / Rademacher (l_inf), unit ``grad`` / Gaussian (l_2)."""
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(F.cross_entropy(model(x), y, reduction="sum"), x)
    zero = (grad.reshape(len(x), -1).abs().amax(dim=1) == 0).float()
    gen = torch.Generator().manual_seed(seed)
    rand = torch.randn(x.shape, generator=gen).to(x.device, x.dtype)
    axis = torch.linspace(-eps, eps, SURFACE_GRID, device=x.device, dtype=x.dtype)
    a, b = (t.reshape(-1) for t in torch.meshgrid(axis, axis, indexing="ij"))
    rough = []
    for i in range(len(x)):
        g, r = grad[i], rand[i]
        if p == math.inf:
            d_adv, d_rand = g.sign(), r.sign()
        else:
            d_adv, d_rand = g / g.norm().clamp(min=1e-30), r / r.norm()
        shape = (-1,) + (1,) * g.dim()
        pts = x[i].detach() + a.reshape(shape) * d_adv + b.reshape(shape) * d_rand
        if lower is not None or upper is not None:
            pts = pts.clamp(min=lower, max=upper)
        with torch.no_grad():
            loss = F.cross_entropy(model(pts), y[i].expand(len(pts)), reduction="none")
        rough.append(_roughness(loss.reshape(SURFACE_GRID, SURFACE_GRID)))
    return rough, float(zero.mean())


def _transfer_check(source: nn.Module | str | None, x: torch.Tensor, y: torch.Tensor,
                    a_pgd: float, tol: float, acc: Callable, seed: int,
                    pgd_kwargs: dict[str, Any], num_classes: int) -> CheckResult:
    """Transfer (black box, PGD on the source) must not beat white-box PGD."""
    name, detail = "transfer_vs_whitebox", "black-box transfer must be weaker than PGD " \
        "(Appendix C.11)"
    if isinstance(source, str):
        return CheckResult(name, None, {}, "skipped: transfer_source='off'")
    origin = "given"
    if source is None:
        source = _surrogate(x, y, num_classes, seed)
        origin = f"surrogate MLP, {SURROGATE_STEPS} steps"
    src: nn.Module = source

    def fn(m: nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        g = torch.Generator(device=xb.device).manual_seed(seed)
        return attacks.transfer(src, m, xb, yb, generator=g, **pgd_kwargs)

    src_clean = evaluate(src, x, y, {}).clean_accuracy
    a_tr = acc(fn)
    return CheckResult(name, a_tr >= a_pgd - tol,
                       {"pgd_acc": a_pgd, "transfer_acc": a_tr, "source_clean_acc": src_clean,
                        "source": origin, "tol": tol}, detail)


def _autoattack_check(mode: str, x: torch.Tensor, a_pgd: float, acc: Callable, *, p: float,
                      eps: float, seed: int, max_iter: int,
                      box: dict[str, float | None]) -> CheckResult:
    """AutoAttack (reduced budget, ART) must not be much stronger than PGD."""
    name = "autoattack_gap"
    reasons = []
    if importlib.util.find_spec("art") is None:
        reasons.append("ART (adversarial-robustness-toolbox) is not installed")
    if x.dim() != 4:
        reasons.append("inputs are not image-shaped (n, C, H, W)")
    if p == 0:
        reasons.append("AutoAttack has no l0 version")
    if mode == "off":
        return CheckResult(name, None, {}, "skipped: autoattack='off'")
    if reasons:
        if mode == "on":
            err = ImportError if reasons[0].startswith("ART") else ValueError
            raise err("autoattack='on' impossible: " + "; ".join(reasons))
        return CheckResult(name, None, {}, "skipped: " + "; ".join(reasons))
    def fn(m: nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return attacks.autoattack(m, xb, yb, eps=eps, p=p, max_iter=max_iter, seed=seed,
                                  **box)

    a_aa = acc(fn)
    return CheckResult(name, a_pgd - a_aa <= AUTOATTACK_GAP_MAX,
                       {"pgd_acc": a_pgd, "autoattack_acc": a_aa, "gap": a_pgd - a_aa,
                        "gap_max": AUTOATTACK_GAP_MAX, "max_iter": max_iter},
                       "AutoAttack (reduced budget) must not be much stronger than PGD")


#: DataSpec fields that must agree between a transfer source and the evaluated run (same
#: inputs and the same meaning of the labels).
_SOURCE_DATA_FIELDS = ("name", "classes", "dim", "k")


def load_source_model(checkpoint: str, *, input_shape: tuple[int, ...], num_classes: int,
                      data: Any | None = None,
                      device: str | torch.device = "cpu") -> nn.Module:
    """The model of another run's checkpoint, as the source of the transfer check.

    Only the weights and the model name are read (the source run's data is not rebuilt).

    Parameters
    ----------
    checkpoint : str
        A ``checkpoint.pt`` / ``best.pt`` written by :func:`empirical.train.train`.
    input_shape : tuple of int
        Input shape of the evaluated data, without the batch dimension.
    num_classes : int
        Number of classes of the evaluated data.
    data : DataSpec or mapping, optional
        The evaluated run's data spec; when given, the source must have been trained on the
        same data set, class subset and (synthetic data) dimension.
    device : str or torch.device
        Where to put the model.

    Returns
    -------
    nn.Module
        The source model, in eval mode.

    Raises
    ------
    FileNotFoundError
        ``checkpoint`` does not exist.
    ValueError
        Not a readable checkpoint, trained on other data, or weights that do not fit
        ``input_shape`` / ``num_classes``.
    """
    from empirical.checkpoint import load_checkpoint
    from empirical.config import config_from_dict

    ckpt = load_checkpoint(checkpoint)
    try:
        cfg = config_from_dict(ckpt["config"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"transfer source {checkpoint}: unreadable config ({exc})") from None
    if data is not None:
        want = data if isinstance(data, dict) else asdict(data)
        have = asdict(cfg.data)
        for key in _SOURCE_DATA_FIELDS:
            a, b = have.get(key), want.get(key)
            a = tuple(a) if isinstance(a, list) else a
            b = tuple(b) if isinstance(b, list) else b
            if key in ("dim", "k") and have.get("name") not in ("gaussian", "bernoulli"):
                continue
            if a != b:
                raise ValueError(f"transfer source {checkpoint} was trained on other data "
                                 f"({key}={a!r}, evaluated run has {key}={b!r})")
    try:
        model = build_model(cfg.model, input_shape=tuple(input_shape), num_classes=num_classes)
        model.load_state_dict(ckpt["model"])
    except RuntimeError as exc:
        why = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise ValueError(f"transfer source {checkpoint} ({cfg.model}) does not fit inputs "
                         f"{tuple(input_shape)} with {num_classes} classes: {why}") from None
    return model.to(device).eval()


def run_checklist(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, eps: float,
                  norm: str = "linf", lower: float | None = None, upper: float | None = None,
                  steps: int = 20, restarts: int = 1, seed: int = 0,
                  transfer_source: nn.Module | str | None = None, autoattack: str = "auto",
                  autoattack_max_iter: int = 20, acc_tol: float = ACC_TOL) -> Checklist:
    """Run the robustness-evaluation sanity checks on ``model`` at budget ``eps``.

    Parameters
    ----------
    model : nn.Module
        Classifier returning logits; evaluated in eval mode (mode restored).
    x, y : torch.Tensor
        Evaluation inputs and int64 labels (on the model's device).
    eps : float
        Finite budget ``> 0`` (for ``l0`` a number of coordinates).
    norm : {"l0", "l2", "linf"}
    lower, upper : float or None
        Box of valid inputs (images: 0 and 1).
    steps, restarts : int
        The reference PGD (step size ``2.5 eps / steps``, random start).
    seed : int
        Seeds every attack (a fresh generator per attack) and the surrogate.
    transfer_source : nn.Module, "off" or None
        Source model of the transfer attack; ``None`` trains a surrogate MLP on ``(x, y)``
        (``SURROGATE_STEPS`` full-batch Adam steps; it sees the evaluation labels, so it is a
        strong, "same data" black box); ``"off"`` skips the check.  Another run's model:
        :func:`load_source_model`.
    autoattack : {"auto", "off", "on"}
        ``"auto"``: run when ART is importable and ``x`` is image-shaped ``(n, C, H, W)``
        and ``norm`` is l2/linf; ``"on"``: require it (``ImportError``/``ValueError``).
    autoattack_max_iter : int
        Reduced ART budget (see :func:`empirical.attacks.autoattack`).
    acc_tol : float
        Accuracy tolerance in ``[0, 1)`` of the comparisons; the one used is
        ``max(acc_tol, 1 / n)``.

    Returns
    -------
    Checklist
        Checks, in order: ``pgd_vs_fgsm``, ``unbounded``, ``monotone_eps``,
        ``restarts_steps``, ``targeted_all``, ``noise_vs_pgd``, ``transfer_vs_whitebox``,
        ``autoattack_gap``, ``gradient_masking``.

    Notes
    -----
    With ``a(A)`` the robust accuracy under attack ``A`` and ``tol = max(acc_tol, 1/n)``:
    PGD vs FGSM passes if ``a(PGD) <= a(FGSM) + tol``; unbounded if
    ``a(PGD_{eps=inf}) <= UNBOUNDED_MAX_ACC``; monotone if ``a(PGD_{c eps})`` never rises by
    more than ``tol`` along ``c`` in ``EPS_FACTORS``; restarts/steps/no-random-start and
    targeted-over-all-classes if they lower ``a(PGD)`` by at most ``tol``; noise and transfer
    if ``a >= a(PGD) - tol``; AutoAttack if ``a(PGD) - a(AA) <= AUTOATTACK_GAP_MAX``.
    Gradient masking fails if any of pgd_vs_fgsm, unbounded, noise_vs_pgd,
    transfer_vs_whitebox failed, or the median loss-surface roughness exceeds
    ``ROUGHNESS_MAX``, or more than ``ZERO_GRAD_MAX`` of the samples have a zero gradient.

    References
    ----------
    .. [1] Source paper, Appendix C, items 1-8 and 11; Section 3.3, Figure 5.
    .. [2] Carlini et al. (2019), "On evaluating adversarial robustness", arXiv:1902.06705.
    """
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {', '.join(NORMS)}; got {norm!r}")
    if isinstance(eps, bool) or not isinstance(eps, int | float) or not (
            math.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a finite number > 0; got {eps!r}")
    steps = _check_int(steps, "steps", 1)
    restarts = _check_int(restarts, "restarts", 1)
    seed = _check_int(seed, "seed", 0)
    autoattack_max_iter = _check_int(autoattack_max_iter, "autoattack_max_iter", 1)
    if isinstance(acc_tol, bool) or not isinstance(acc_tol, int | float) or not (
            0 <= acc_tol < 1):
        raise ValueError(f"acc_tol must be a number in [0, 1); got {acc_tol!r}")
    if autoattack not in ("auto", "off", "on"):
        raise ValueError(f"autoattack must be 'auto', 'off' or 'on'; got {autoattack!r}")
    if not (isinstance(transfer_source, nn.Module) or transfer_source in (None, "off")):
        raise TypeError("transfer_source must be an nn.Module, 'off' or None")
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError("x and y must be torch tensors")
    if len(x) == 0 or y.shape != (len(x),):
        raise ValueError(f"x and y must be non-empty with {len(x)} labels; got y of shape "
                         f"{tuple(y.shape)}")
    p, n = NORMS[norm], len(x)
    with torch.no_grad():
        num_classes = int(model(x[:1]).shape[1])
    tol = max(float(acc_tol), 1.0 / n) + 1e-9  # + float slack: 0.63 - 0.61 > 0.02
    box = {"lower": lower, "upper": upper}
    was_training = model.training
    model.eval()

    def acc(fn: Callable | None = None, name: str = "attack") -> float:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            res = evaluate(model, x, y, {} if fn is None else {name: fn})
        return res.robust_accuracy

    def pgd_fn(e: float = eps, s: int = steps, r: int = restarts, *,
               step_size: float | None = None, **kw: Any) -> Callable:
        step = step_size if step_size is not None else 2.5 * e / s

        def fn(m: nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
            g = torch.Generator(device=xb.device).manual_seed(seed)
            return attacks.pgd(m, xb, yb, eps=e, p=p, steps=s, step_size=step, restarts=r,
                               generator=g, **kw, **box)
        return fn

    checks: list[CheckResult] = []
    try:
        clean = acc()
        a_pgd = acc(pgd_fn())
        a_fgsm = acc(make_attack("fgsm", eps=eps, norm=norm, **box))
        checks.append(CheckResult(
            "pgd_vs_fgsm", a_pgd <= a_fgsm + tol,
            {"clean_acc": clean, "pgd_acc": a_pgd, "fgsm_acc": a_fgsm, "tol": tol},
            "PGD must be at least as strong as FGSM (Appendix C.1)"))

        d = math.prod(x.shape[1:])
        n_ub = steps * MORE_STEPS
        if p == 0:
            ub_step = float(max(1, math.ceil(d / n_ub)))  # coordinates per step
        elif lower is not None and upper is not None:  # 2.5 x box diameter / steps (Madry)
            ub_step = 2.5 * (upper - lower) * (1.0 if p == math.inf else math.sqrt(d)) / n_ub
        else:
            ub_step = UNBOUNDED_STEP_FACTOR * eps
        # no random start: a random point of the unbounded ball may saturate the softmax
        a_ub = acc(pgd_fn(math.inf, s=n_ub, step_size=ub_step,
                          random_start=False))
        checks.append(CheckResult(
            "unbounded", a_ub <= UNBOUNDED_MAX_ACC,
            {"unbounded_acc": a_ub, "max_acc": UNBOUNDED_MAX_ACC, "step_size": ub_step},
            "PGD with eps=inf must reach 0% accuracy (Appendix C.2)"))

        factors = [c for c in EPS_FACTORS if p != 0 or c * eps >= 1 or c == 0]
        sweep = [clean if c == 0 else acc(pgd_fn(c * eps if p else float(int(c * eps))))
                 for c in factors]
        rise = max([b - a for a, b in zip(sweep, sweep[1:], strict=False)] + [0.0])
        checks.append(CheckResult(
            "monotone_eps", rise <= tol,
            {"eps": [c * eps for c in factors], "acc": sweep, "max_rise": rise, "tol": tol},
            "accuracy must not increase with eps (Appendix C.6)"))

        more = {"pgd_acc": a_pgd,
                "restarts_acc": acc(pgd_fn(r=restarts * MORE_RESTARTS)),
                "steps_acc": acc(pgd_fn(s=steps * MORE_STEPS)),
                "no_random_start_acc": acc(pgd_fn(random_start=False))}
        drop = a_pgd - min(v for k, v in more.items() if k != "pgd_acc")
        checks.append(CheckResult(
            "restarts_steps", drop <= tol, {**more, "max_drop": drop, "tol": tol},
            f"x{MORE_RESTARTS} restarts, x{MORE_STEPS} steps, no random start must change "
            "little (Appendix C.3-5)"))

        a_tgt = acc(pgd_fn(targeted="all"))
        checks.append(CheckResult(
            "targeted_all", a_pgd - a_tgt <= tol,
            {"pgd_acc": a_pgd, "targeted_acc": a_tgt, "tol": tol},
            "targeted PGD over all classes (best loss) must change little (Appendix C.7)"))

        a_noise = acc(make_attack("noise", eps=eps, norm=norm, restarts=NOISE_SAMPLES,
                                  seed=seed, **box))
        checks.append(CheckResult(
            "noise_vs_pgd", a_noise >= a_pgd - tol,
            {"pgd_acc": a_pgd, "noise_acc": a_noise, "samples": NOISE_SAMPLES, "tol": tol},
            "random sign noise (brute force) must be weaker than PGD (Appendix C.8)"))

        checks.append(_transfer_check(transfer_source, x, y, a_pgd, tol, acc, seed,
                                      dict(eps=eps, p=p, steps=steps, restarts=restarts,
                                           step_size=2.5 * eps / steps, **box),
                                      num_classes))
        checks.append(_autoattack_check(autoattack, x, a_pgd, acc, p=p, eps=eps, seed=seed,
                                        max_iter=autoattack_max_iter, box=box))

        with torch.no_grad():
            ok = torch.cat([model(xb).argmax(1) for xb in x.split(256)]) == y
        xs, ys = x[ok][:SURFACE_SAMPLES], y[ok][:SURFACE_SAMPLES]
        failed = [c.name for c in checks if c.name in _MASKING_CHECKS and c.passed is False]
        if p == 0 or len(xs) == 0:
            rough, zero = [], 0.0
        else:
            rough, zero = _surface(model, xs, ys, eps=eps, p=p, seed=seed, **box)
        med = float(torch.tensor(rough).median()) if rough else 0.0
        checks.append(CheckResult(
            "gradient_masking", not failed and med <= ROUGHNESS_MAX and zero <= ZERO_GRAD_MAX,
            {"roughness": rough, "median_roughness": med, "roughness_max": ROUGHNESS_MAX,
             "zero_grad_fraction": zero, "failed_checks": failed},
            "smooth loss surface (Figure 5), nonzero gradients, no failed masking check"
            + (" (surface skipped: l0 or no correct sample)" if not rough else "")))
    finally:
        model.train(was_training)
    settings = {"eps": eps, "norm": norm, "steps": steps, "restarts": restarts, "seed": seed,
                "n": n, "lower": lower, "upper": upper, "acc_tol": float(acc_tol),
                "autoattack": autoattack, "autoattack_max_iter": autoattack_max_iter,
                "transfer_source": ("off" if isinstance(transfer_source, str) else
                                    "surrogate" if transfer_source is None else "given")}
    return Checklist(checks=checks, settings=settings)
