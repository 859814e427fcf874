"""Audit any model: its robust accuracy under strong attacks beside the exact optimum of the
same test images.

:func:`audit` takes a user's own ``nn.Module`` (any architecture, trained anywhere) and test
images, as tensors or a ``DataLoader``, and reports per budget ``eps``:

* clean accuracy, robust accuracy under each attack (PGD with restarts; AutoAttack) and the
  per-sample worst case over them (:func:`empirical.evaluate.evaluate`);
* the optimal robust accuracy of the very same test images over *all* classifiers, computed
  by :mod:`optrobust` (exact, or certified bounds on a time limit), with the held-out
  bracket when a training sample is given;
* the gap between the two, and ``broken_evaluation`` when the model appears *more* robust
  than any classifier can be on these images -- then the attacks missed adversarial
  examples that must exist;
* the Appendix-C checklist verdicts (:func:`empirical.checklist.run_checklist`).

The model is left untouched (:func:`empirical.attacks.untouched`); the perturbations, the
budgets and the box are in pixel space, with the model's own input normalization applied
inside the attacked function (``normalize=(mean, std)``).

Why the optimum bounds every model: for the closed ball ``B_p^eps`` and the empirical
distribution of the ``n`` test points, no classifier has robust error below ``R*`` =
1 - (max independent set weight of the conflict graph) (:mod:`optrobust.finite.robust`).
The box does not change the conflict graph (two points of the box whose balls meet have a
common point in the box: their midpoint), so ``R*`` also bounds attacks restricted to the
box.  An attack finds adversarial examples, so its robust accuracy is at least the model's
true robust accuracy, which is at most ``1 - R*``; a measured value above ``1 - R*`` proves
the attack too weak.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from empirical.attacks import untouched, with_normalization
from empirical.evaluate import evaluate, make_attack, threat_p
from empirical.threat import DEFAULT_BOX, check_eps_scale, resolve_box
from optrobust.errors import InvalidInputError, InvalidTypeError

try:  # the public name (issue 12); the private module until it lands
    from optrobust.validation import check_int, check_time_limit
except ImportError:  # pragma: no cover - depends on the checkout
    from optrobust._validation import check_int

__all__ = ["AUTOATTACK_MODES", "AUDIT_ATTACKS", "AuditResult", "AuditRow", "audit"]

#: ``autoattack=`` choices: ART's full ensemble, ART's reduced budget (``REDUCED_ITER``
#: iterations), torchattacks' reference standard AutoAttack, or none.
AUTOATTACK_MODES = ("full", "reduced", "torchattacks", "off")
#: Attacks of ``attacks=`` besides AutoAttack.
AUDIT_ATTACKS = ("pgd", "fgsm", "noise")
#: Iterations (and Square queries) of the reduced ART ensemble.
REDUCED_ITER = 20
#: Slack of the ``broken_evaluation`` comparison (float rounding of counts / n).
BROKEN_TOL = 1e-9

_P_NAMES = {0: "l0", 2: "l2", math.inf: "linf"}


@dataclass(frozen=True, kw_only=True)
class AuditRow:
    """The audit at one budget ``eps``.

    Accuracies are fractions of the ``n`` test images.  ``per_attack[name]`` is the robust
    accuracy under one attack, ``robust_accuracy`` the per-sample worst case over all of
    them; ``per_sample`` holds, per attack and for ``"clean"`` and ``"worst_case"``, one
    bool per image (correct and not flipped).

    The optimum (over all classifiers, on these images): ``optimal_error_lower <= R* <=
    optimal_error_upper`` (equal when ``optimal_status == "exact"``), so the best robust
    accuracy any classifier can have lies in ``[optimal_accuracy_low,
    optimal_accuracy_high]``; ``optimal_robust_accuracy`` is that value when exact, else
    ``None``.  ``gap = optimal_accuracy_high - robust_accuracy`` (at most this much
    robust accuracy is left to gain; exact when the optimum is), ``gap_low`` the same with
    ``optimal_accuracy_low``.  ``broken_evaluation``: ``robust_accuracy >
    optimal_accuracy_high`` -- impossible for a correct evaluation.
    """

    eps: float
    p: str
    n: int
    clean_accuracy: float
    robust_accuracy: float
    per_attack: dict[str, float]
    per_sample: dict[str, list[bool]] = field(repr=False)
    optimal_error_lower: float
    optimal_error_upper: float
    optimal_status: str
    optimal_source: str
    optimal_solver: str
    optimal_accuracy_low: float
    optimal_accuracy_high: float
    optimal_robust_accuracy: float | None
    eps0: float | None
    constant_error: float | None
    held_out: dict[str, Any] | None
    gap: float
    gap_low: float
    broken_evaluation: bool
    checklist: dict[str, Any] | None
    seconds: dict[str, float]


@dataclass(frozen=True, kw_only=True)
class AuditResult:
    """All rows of an audit, with the settings used and the files written (if any)."""

    rows: tuple[AuditRow, ...]
    settings: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)

    @property
    def broken_evaluation(self) -> bool:
        """Whether any row shows a model more robust than the optimum allows."""
        return any(r.broken_evaluation for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"rows": [...], "settings": {...}, "broken_evaluation": bool,
        "files": {...}}``."""
        return {"rows": [dataclasses.asdict(r) for r in self.rows],
                "settings": dict(self.settings), "broken_evaluation": self.broken_evaluation,
                "files": dict(self.files)}

    def to_markdown(self) -> str:
        """A markdown table, one line per eps (accuracies in percent, 1 decimal)."""
        names = list(self.rows[0].per_attack) if self.rows else []

        def pct(v: float | None) -> str:
            return "-" if v is None else f"{100 * v:.1f}"

        head = (["eps", "clean"] + names + ["worst case", "optimum", "gap", "checklist",
                                             "broken"])
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in self.rows:
            opt = (pct(r.optimal_robust_accuracy) if r.optimal_robust_accuracy is not None
                   else f"{pct(r.optimal_accuracy_low)}-{pct(r.optimal_accuracy_high)}")
            cl = "-" if r.checklist is None else (
                f"{r.checklist['passed']} pass, {r.checklist['failed']} fail, "
                f"{r.checklist['skipped']} skip")
            cells = ([f"{r.eps:.4g}", pct(r.clean_accuracy)]
                     + [pct(r.per_attack[k]) for k in names]
                     + [pct(r.robust_accuracy), opt, pct(r.gap), cl,
                        "**yes**" if r.broken_evaluation else "no"])
            lines.append("| " + " | ".join(cells) + " |")
        s = self.settings
        lines += ["", f"{s['n']} test images, {s['p']}, box {s['box']}, PGD {s['steps']} "
                      f"steps x {s['restarts']} restarts, AutoAttack {s['autoattack']}; "
                      "optimum: " + (self.rows[0].optimal_source if self.rows else "-")
                      + " (accuracies in %)."]
        return "\n".join(lines) + "\n"

    def plot(self, path: str | Path) -> None:
        """PNG: accuracy vs eps of the model (clean, under each attack, worst case), the
        optimum (a band where only bounds are certified) and the held-out estimate."""
        try:
            from empirical.plotting import pyplot
            plt = pyplot()
        except ImportError:  # pragma: no cover - depends on the checkout
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

        eps = [r.eps for r in self.rows]
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(eps, [r.clean_accuracy for r in self.rows], ls=":", color="gray",
                label="clean")
        for name in (self.rows[0].per_attack if self.rows else {}):
            ax.plot(eps, [r.per_attack[name] for r in self.rows], marker="o", label=name)
        ax.plot(eps, [r.robust_accuracy for r in self.rows], marker="s", color="k",
                label="worst case")
        ax.plot(eps, [r.optimal_accuracy_high for r in self.rows], ls="--", color="tab:red",
                label="optimum (optrobust)")
        ax.fill_between(eps, [r.optimal_accuracy_low for r in self.rows],
                        [r.optimal_accuracy_high for r in self.rows], color="tab:red",
                        alpha=0.15, lw=0)
        held = [(r.eps, 1 - r.held_out["error"]) for r in self.rows if r.held_out]
        if held:
            ax.plot(*zip(*held, strict=True), ls="", marker="^", color="tab:green",
                    label="held-out 1-NN (certified)")
        ax.set_xlabel(f"eps ({self.settings['p']})")
        ax.set_ylabel("accuracy")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"audit: {self.settings['n']} test images")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)

    def write(self, out: str | Path) -> AuditResult:
        """Write ``audit.json``, ``audit.md`` and ``audit.png`` to ``out``; returns the result
        with ``files`` filled in."""
        from empirical.checkpoint import atomic_write_text, json_safe

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        files = {"json": str(out / "audit.json"), "markdown": str(out / "audit.md"),
                 "png": str(out / "audit.png")}
        res = dataclasses.replace(self, files=files)
        atomic_write_text(files["markdown"], res.to_markdown())
        res.plot(files["png"])
        atomic_write_text(files["json"], json.dumps(json_safe(res.to_dict())) + "\n")
        return res


def _collect(x: Any, y: Any, n: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Tensors ``(x, y)`` from tensors or an iterable of ``(xb, yb)`` batches, first ``n``."""
    if isinstance(x, torch.Tensor):
        if not isinstance(y, torch.Tensor):
            raise InvalidTypeError("y must be a tensor of labels when x is a tensor; got "
                                   f"{type(y).__name__}")
        xs, ys = x, y
    else:
        if y is not None:
            raise InvalidInputError("pass y=None when x is a DataLoader of (x, y) batches")
        parts_x, parts_y, have = [], [], 0
        for batch in x:
            try:
                xb, yb = batch[0], batch[1]
            except (TypeError, IndexError, KeyError):
                raise InvalidInputError("the data loader must yield (x, y) batches") from None
            parts_x.append(torch.as_tensor(xb))
            parts_y.append(torch.as_tensor(yb))
            have += len(parts_x[-1])
            if n is not None and have >= n:
                break
        if not parts_x:
            raise InvalidInputError("the data loader yielded no batches")
        xs, ys = torch.cat(parts_x), torch.cat(parts_y)
    if n is not None:
        xs, ys = xs[:n], ys[:n]
    if ys.dim() != 1 or len(ys) != len(xs) or len(xs) == 0:
        raise InvalidInputError(f"x and y must be non-empty with one label per input; got "
                                f"{tuple(xs.shape)} inputs and {tuple(ys.shape)} labels")
    if ys.dtype.is_floating_point or ys.dtype == torch.bool:
        raise InvalidInputError(f"y must hold integer class labels; got dtype {ys.dtype}")
    if not xs.dtype.is_floating_point:
        raise InvalidInputError(f"x must be floating point in the box (images: [0, 1]); got "
                                f"dtype {xs.dtype}")
    if not torch.isfinite(xs).all():
        raise InvalidInputError("x contains NaN or inf")
    return xs, ys.long()


def _eps_list(eps: Any) -> list[float]:
    values = list(eps) if isinstance(eps, Sequence | np.ndarray) else [eps]
    if not values:
        raise InvalidInputError("eps must be a number or a non-empty sequence of numbers")
    out = []
    for e in values:
        if isinstance(e, bool) or not isinstance(e, int | float | np.floating | np.integer):
            raise InvalidTypeError(f"eps must be real numbers; got {e!r}")
        v = float(e)
        if not (math.isfinite(v) and v >= 0):
            raise InvalidInputError(f"eps must be finite numbers >= 0; got {e!r}")
        out.append(v)
    return sorted(set(out))


def _probe(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """The number of classes, after checking the model accepts the inputs and the labels fit."""
    try:
        with torch.no_grad():
            out = net(x[:2])
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        why = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise InvalidInputError(f"the model does not accept inputs of shape "
                                f"{tuple(x.shape[1:])}: {why}") from None
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or len(out) != len(x[:2]):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise InvalidInputError(f"the model must return logits of shape (batch, classes); "
                                f"got {shape} for a batch of {len(x[:2])}")
    k = int(out.shape[1])
    if int(y.min()) < 0 or int(y.max()) >= k:
        raise InvalidInputError(f"labels must lie in 0..{k - 1} (the model has {k} outputs); "
                                f"got {int(y.min())}..{int(y.max())}")
    return k


def _optimum(x: torch.Tensor, y: torch.Tensor, eps: list[float], p: float, *,
             train_points: Any, train_labels: Any, time_limit: float | None,
             progress: bool) -> tuple[list[dict[str, Any]], str]:
    """Per eps: bounds on the optimal robust error of the test images, from optrobust."""
    pts = x.detach().cpu().double().reshape(len(x), -1).numpy()
    lab = y.detach().cpu().numpy()
    tr_x = None if train_points is None else np.asarray(
        train_points.detach().cpu().double() if isinstance(train_points, torch.Tensor)
        else train_points, dtype=np.float64).reshape(len(train_points), -1)
    tr_y = None if train_labels is None else np.asarray(
        train_labels.detach().cpu() if isinstance(train_labels, torch.Tensor)
        else train_labels)
    if len(np.unique(lab)) < 2:
        err = [{"lower": 0.0, "upper": 0.0, "status": "exact", "solver": "one class",
                "eps0": None, "constant_error": 0.0, "held_out": None, "seconds": 0.0}
               for _ in eps]
        return err, "one class in the test images: the constant classifier is optimal"
    try:
        from optrobust.finite.dataset_limits import dataset_limits
    except ImportError:  # pragma: no cover - depends on the checkout
        dataset_limits = None
    if dataset_limits is not None:
        t0 = time.perf_counter()
        limits = dataset_limits(pts, lab, eps=eps, p=p, train_points=tr_x, train_labels=tr_y,
                                time_limit=time_limit, progress=progress or None)
        by_eps = {float(lim.eps): lim for lim in limits}
        rows = []
        for e in eps:
            lim = by_eps[e]
            ho = lim.held_out
            rows.append({"lower": float(lim.lower), "upper": float(lim.upper),
                         "status": lim.status, "solver": lim.solver,
                         "eps0": float(lim.eps0), "constant_error": float(lim.constant_error),
                         "held_out": None if ho is None else dataclasses.asdict(ho),
                         "seconds": float(sum(lim.seconds.values())) if lim.seconds
                         else time.perf_counter() - t0})
        return rows, "optrobust.finite.dataset_limits.dataset_limits"
    import optrobust as orb  # pragma: no cover - fallback before dataset_limits exists

    dist = orb.FiniteDistribution(pts, lab)
    rows = []
    for e in eps:
        t0 = time.perf_counter()
        sol = orb.optimal_robust_error(dist, eps=e, p=p, domain="continuous")
        rows.append({"lower": float(sol.error), "upper": float(sol.error), "status": "exact",
                     "solver": str(getattr(sol, "solver", "auto")), "eps0": None,
                     "constant_error": None, "held_out": None,
                     "seconds": time.perf_counter() - t0})
    return rows, "optrobust.optimal_robust_error"


def _attack_fns(names: Sequence[str], autoattack: str, *, eps: float, p: float,
                box: tuple[float | None, float | None] | None, steps: int, restarts: int,
                seed: int, force: bool, x: torch.Tensor) -> dict[str, Any]:
    """The attacks of one row, by column name."""
    from empirical import attacks as atk

    fns: dict[str, Any] = {}
    for name in names:
        fns[name] = make_attack(name, eps=eps, p=p, steps=steps, restarts=restarts, box=box,
                                force=force, seed=seed)
    if autoattack == "off":
        return fns
    if p not in (2, math.inf) or x.dim() != 4:
        raise InvalidInputError("AutoAttack needs l2 or linf and image-shaped inputs "
                                f"(n, C, H, W); got p={_P_NAMES[p]}, inputs "
                                f"{tuple(x.shape)}; pass autoattack='off'")
    if autoattack == "torchattacks":
        def ta(m: nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
            return atk.torchattacks_autoattack(m, xb, yb, eps=eps, p=p, box=box, force=force,
                                               seed=seed)
        fns["autoattack"] = ta
        return fns
    max_iter = None if autoattack == "full" else REDUCED_ITER

    def aa(m: nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return atk.autoattack(m, xb, yb, eps=eps, p=p, box=box, force=force, seed=seed,
                              max_iter=max_iter)
    fns["autoattack"] = aa
    return fns


def _check_attack_setup(attacks: Any, autoattack: Any) -> tuple[str, ...]:
    if isinstance(attacks, str):
        attacks = (attacks,)
    names = tuple(attacks)
    bad = [a for a in names if a not in AUDIT_ATTACKS]
    if bad:
        raise InvalidInputError(f"attacks must be names from {', '.join(AUDIT_ATTACKS)} "
                                f"(AutoAttack through autoattack=); got {bad}")
    if autoattack not in AUTOATTACK_MODES:
        raise InvalidInputError(f"autoattack must be one of {', '.join(AUTOATTACK_MODES)}; "
                                f"got {autoattack!r}")
    if not names and autoattack == "off":
        raise InvalidInputError("no attack to run: give attacks= or an autoattack mode")
    return names


def _bar(progress: bool, total: int, desc: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not progress, leave=False)


def audit(model: nn.Module, x: Any, y: torch.Tensor | None = None, *, eps: Any,
          p: Any = "linf", box: Any = DEFAULT_BOX, normalize: Any = None, n: int | None = None,
          attacks: Sequence[str] = ("pgd",), autoattack: str = "full", steps: int = 50,
          restarts: int = 3, checklist: bool = True, checklist_n: int = 100,
          train_points: Any = None, train_labels: Any = None,
          time_limit: float | None = 600.0, device: str | torch.device | None = None,
          batch_size: int = 256, seed: int = 0, force: bool = False, progress: bool = True,
          out: str | Path | None = None) -> AuditResult:
    """Audit ``model`` on test images: strong attacks beside the exact optimum of the images.

    Parameters
    ----------
    model : nn.Module
        Any classifier returning logits; left untouched (modes, BatchNorm statistics,
        parameters and ``.grad`` are the same afterwards).
    x, y : torch.Tensor
        Test inputs (pixel space, in ``box``) and int labels; or ``x`` a ``DataLoader`` of
        ``(x, y)`` batches and ``y=None``.
    eps : float or sequence of float
        Budgets ``>= 0`` in pixel units (``0.3``, ``8/255``); one row each, sorted.
    p : {2, inf, 0} or {"l2", "linf", "l0"}
        The threat model (AutoAttack: l2 and linf only).
    box : (float, float) or None
        Valid inputs, default ``(0, 1)``.
    normalize : (mean, std) or None
        The model's input normalization (per channel or one value): the model is attacked
        as ``model((x - mean) / std)`` with ``x`` and ``eps`` in pixel space.
    n : int or None
        Use the first ``n`` images only.
    attacks : sequence of {"pgd", "fgsm", "noise"}
        Attacks besides AutoAttack; PGD: ``steps`` steps of ``2.5 eps / steps``, random
        start, ``restarts`` restarts, best iterate kept.
    autoattack : {"full", "reduced", "torchattacks", "off"}
        ``"full"``: ART's ensemble at its standard budget (:func:`empirical.attacks.
        autoattack`, slow on a CPU); ``"reduced"``: the same members with ``REDUCED_ITER``
        iterations; ``"torchattacks"``: the reference standard AutoAttack
        (:func:`empirical.attacks.torchattacks_autoattack`); ``"off"``.
    steps, restarts : int
        PGD settings (also the checklist's reference PGD).
    checklist : bool
        Run :func:`empirical.checklist.run_checklist` at every ``eps > 0`` on the first
        ``checklist_n`` images.
    train_points, train_labels : array or tensor, optional
        A training sample: adds the held-out bracket (adversarial pruning + certified 1-NN,
        :mod:`optrobust.finite.pruned_nn`) to each row.
    time_limit : float or None
        Seconds per eps for the optimum (certified bounds when it runs out).
    device : str, torch.device or None
        Where to run; default: the model's device.  A model elsewhere is copied there (the
        original is not moved).
    batch_size, seed : int
        Evaluation batch size; seed of every attack.
    force : bool
        Accept an l_inf ``eps`` at least the box width (the 0-255 guard).
    progress : bool
        tqdm bars over attacks and batches.
    out : path or None
        Directory for ``audit.json``, ``audit.md`` and ``audit.png``.

    Returns
    -------
    AuditResult
        One :class:`AuditRow` per eps.

    Raises
    ------
    InvalidInputError
        Bad settings, inputs outside the box, an eps on the wrong scale, a model that does
        not accept the inputs or labels outside its outputs.

    Notes
    -----
    Per eps, with ``a_A`` the accuracy under attack ``A`` (a sample counts when classified
    correctly and not flipped) and ``R*`` the optimal robust error of the empirical
    distribution of the test images (closed balls, classifiers on all of ``R^d``):
    ``robust_accuracy = mean_i prod_A 1[correct_A(i)] <= min_A a_A``, and for a correct
    evaluation ``robust_accuracy >= true robust accuracy`` while ``true robust accuracy
    <= 1 - R*`` (module docstring).  Hence ``robust_accuracy > 1 - R*_lower`` flags a broken
    evaluation.

    References
    ----------
    .. [1] Source paper, Section 2 (the optimal robust error of a finite sample) and
       Appendix C (checklist).
    .. [2] Croce & Hein (2020), AutoAttack; Carlini et al. (2019), "On evaluating
       adversarial robustness".
    """
    t_start = time.perf_counter()
    if not isinstance(model, nn.Module):
        raise InvalidTypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    q = threat_p(p, where="audit")
    names = _check_attack_setup(attacks, autoattack)
    steps = check_int(steps, name="steps", minimum=1)
    restarts = check_int(restarts, name="restarts", minimum=1)
    checklist_n = check_int(checklist_n, name="checklist_n", minimum=1)
    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    seed = check_int(seed, name="seed", minimum=0)
    if n is not None:
        n = check_int(n, name="n", minimum=1)
    time_limit = check_time_limit(time_limit)
    if (train_points is None) != (train_labels is None):
        raise InvalidInputError("give train_points and train_labels together")
    budgets = _eps_list(eps)
    lo, hi = resolve_box(box)
    box_t = None if (lo, hi) == (None, None) else (lo, hi)
    xs, ys = _collect(x, y, n)
    for e in budgets:
        check_eps_scale(e, q, lo, hi, dim=math.prod(xs.shape[1:]), force=force)
    if lo is not None or hi is not None:
        x_min, x_max = float(xs.min()), float(xs.max())
        if (lo is not None and x_min < lo - 1e-6) or (hi is not None and x_max > hi + 1e-6):
            raise InvalidInputError(
                f"x has values in [{x_min:.4g}, {x_max:.4g}], outside the box [{lo}, {hi}]: "
                "pass images in [0, 1] (the model's normalization goes to normalize=)")
    if device is None:
        first = next(model.parameters(), None)
        dev = first.device if first is not None else torch.device("cpu")
    else:
        dev = torch.device(device)
    first = next(model.parameters(), None)
    if first is not None and first.device != dev:
        import copy

        model = copy.deepcopy(model).to(dev)  # the user's model stays where it is
    xs, ys = xs.to(dev), ys.to(dev)
    net = with_normalization(model, normalize)
    with untouched(net):
        num_classes = _probe(net, xs, ys)
    del num_classes

    t0 = time.perf_counter()
    opt_rows, source = _optimum(xs, ys, budgets, q, train_points=train_points,
                                train_labels=train_labels, time_limit=time_limit,
                                progress=progress)
    t_opt = time.perf_counter() - t0
    cols = list(names) + ([] if autoattack == "off" else ["autoattack"])
    rows = []
    bar = _bar(progress, len(budgets) * len(cols), "audit")
    for e, opt in zip(budgets, opt_rows, strict=True):
        secs: dict[str, float] = {"optimum": opt["seconds"] if opt["seconds"] else t_opt}
        fns = {} if e == 0 else _attack_fns(names, autoattack, eps=e, p=q, box=box_t,
                                             steps=steps, restarts=restarts, seed=seed,
                                             force=force, x=xs)
        per_sample: dict[str, torch.Tensor] = {}
        per_attack: dict[str, float] = {}
        clean = None
        for name in cols:
            bar.set_description(f"eps {e:.4g}: {name}")
            t1 = time.perf_counter()
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                res = evaluate(net, xs, ys, {} if e == 0 else {name: fns[name]},
                               batch_size=batch_size, device=dev,
                               progress=None if not progress else _batches(progress, name))
            secs[name] = time.perf_counter() - t1
            clean = res.clean_correct
            per_sample[name] = res.robust_correct
            per_attack[name] = res.robust_accuracy
            bar.update(1)
        if clean is None:  # pragma: no cover - _check_attack_setup forbids no attack
            raise InvalidInputError("no attack to run")
        worst = clean.clone()
        for v in per_sample.values():
            worst &= v
        n_img = len(clean)
        robust = float(worst.sum()) / n_img
        acc_low, acc_high = 1.0 - opt["upper"], 1.0 - opt["lower"]
        cl = None
        if checklist and e > 0:
            from empirical.checklist import run_checklist

            t1 = time.perf_counter()
            bar.set_description(f"eps {e:.4g}: checklist")
            k = min(checklist_n, n_img)
            res_cl = run_checklist(model, xs[:k], ys[:k], eps=e, p=q, box=box_t,
                                   normalize=normalize, steps=min(steps, 20),
                                   restarts=1, seed=seed, force=force,
                                   autoattack="off" if autoattack == "off" else "auto",
                                   transfer_source=None)
            d = res_cl.to_dict()
            cl = {"verdicts": {c.name: c.verdict for c in res_cl.checks},
                  "passed": d["passed"], "failed": d["failed"], "skipped": d["skipped"],
                  "n": k, "checks": d["checklist"]}
            secs["checklist"] = time.perf_counter() - t1
        rows.append(AuditRow(
            eps=e, p=_P_NAMES[q], n=n_img, clean_accuracy=float(clean.sum()) / n_img,
            robust_accuracy=robust, per_attack=per_attack,
            per_sample={"clean": clean.tolist(), **{k: v.tolist() for k, v in
                                                    per_sample.items()},
                        "worst_case": worst.tolist()},
            optimal_error_lower=opt["lower"], optimal_error_upper=opt["upper"],
            optimal_status=opt["status"], optimal_source=source, optimal_solver=opt["solver"],
            optimal_accuracy_low=acc_low, optimal_accuracy_high=acc_high,
            optimal_robust_accuracy=acc_high if opt["status"] == "exact" else None,
            eps0=opt["eps0"], constant_error=opt["constant_error"], held_out=opt["held_out"],
            gap=acc_high - robust, gap_low=acc_low - robust,
            broken_evaluation=robust > acc_high + BROKEN_TOL, checklist=cl, seconds=secs))
    bar.close()
    settings = {"n": len(xs), "p": _P_NAMES[q], "eps": budgets, "box": box_t,
                "normalize": None if normalize is None else [
                    np.asarray(v, dtype=float).reshape(-1).tolist() for v in normalize],
                "attacks": list(names), "autoattack": autoattack, "steps": steps,
                "restarts": restarts, "checklist": checklist, "checklist_n": checklist_n,
                "train_n": None if train_points is None else len(train_points),
                "time_limit": time_limit, "device": str(dev), "seed": seed, "force": force,
                "input_shape": list(xs.shape[1:]),
                "seconds": time.perf_counter() - t_start}
    result = AuditResult(rows=tuple(rows), settings=settings)
    return result if out is None else result.write(out)


def _batches(progress: bool, name: str) -> Any:
    """A ``progress(iterable, total, desc)`` for :func:`empirical.evaluate.evaluate`."""
    from tqdm.auto import tqdm

    def wrap(it: Any, total: int | None = None, desc: str = "batches") -> Any:
        return tqdm(it, total=total, desc=f"  {name} batches", leave=False,
                    disable=not progress)
    return wrap
