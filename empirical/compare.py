"""Learned vs optimal robust error: train, attack, and compare with the exact limit.

For each budget ``eps`` of a grid and each training method (``adversarial``,
``extended``, ``iterative``) a model is trained (or its finished checkpoint
reused), attacked with a strong evaluation (PGD with restarts, plus
AutoAttack when installed and applicable), and its adversarial test error is
put next to the *optimal* robust error:

* synthetic tasks (``gaussian-l2``, ``gaussian-linf``, ``bernoulli-l0``,
  ``bernoulli-linf``): the exact population optimum from
  :mod:`optrobust` (``GaussianModel`` / ``BernoulliModel``).  A learned error
  *below* the optimum by more than sampling error (``z`` standard errors) is
  impossible, so it is flagged: the attack is too weak, or the theory is wrong.
* MNIST (``mnist-linf``, ``mnist-l2``, a binary pair by default) and CIFAR-10
  (``cifar10-linf``, ten classes, the budgets 8/255, 16/255, 32/255 of the
  paper's Table 2): the exact optimal robust error of the *empirical* test (and
  train) sample, computed by :func:`optrobust.optimal_robust_error` -- no
  classifier has lower adversarial error on that very sample -- and the
  Bernoulli-model limit (paper Remark 2: l_inf eps = 0.5 for {0,1} pixels; for
  any inputs in [0, 1] every two points are within l_inf distance 1 = 2 * 0.5).

The defaults are CPU-sized (subsets, small models, few epochs).  ``preset``
(``paper-mnist`` for the MNIST tasks, ``paper-cifar10`` for ``cifar10-linf``)
trains every run with the paper's settings for its method (Section 3.1.1,
:data:`empirical.config.PRESETS`) on the full data set, and evaluates with a
stronger attack (:data:`PRESET_EVAL`); see :func:`compare`.

Outputs in ``out``: ``results.json`` (``{"task", "rows": [...]}``),
``results.md`` (a markdown table), ``results.png`` (learned and optimal error
against eps, feasible eps marked) and one run directory per (eps, method).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from empirical.data import DataSpec, build_data
from empirical.evaluate import evaluate, strong_attacks
from empirical.legacy_mapping import LegacyMappingAccess
from empirical.plotting import pyplot
from empirical.schedules import epochs_to_reach
from empirical.train import NORMS, PRESETS, TrainConfig, apply_preset, train_or_reuse
from optrobust.errors import InvalidInputError

__all__ = ["L2_PRESET_PGD_STEPS", "METHODS", "PRESET_EVAL", "TASKS", "CompareResult",
           "CompareRow", "CompareTask", "EvalBudget", "compare", "optimal_curve",
           "optimal_errors", "preset_config", "sample_optimal_error", "write_report"]

METHODS = ("adversarial", "extended", "iterative")


@dataclass(frozen=True)
class CompareTask:
    """Defaults of one comparison task (everything can be overridden)."""

    name: str
    data: DataSpec
    model: str
    norm: str
    eps_grid: tuple[float, ...]
    epochs: int
    batch_size: int = 128
    lr: float = 1e-3
    pgd_steps: int = 10
    eval_steps: int = 50
    eval_restarts: int = 3


TASKS: dict[str, CompareTask] = {
    "gaussian-l2": CompareTask(
        "gaussian-l2",
        DataSpec(name="gaussian", dim=10, distance=3.0, sigma=1.0, train_size=4000,
                 test_size=2000),
        "mlp", "l2", (0.25, 0.5, 1.0, 1.25), epochs=8),
    "gaussian-linf": CompareTask(
        "gaussian-linf",
        DataSpec(name="gaussian", dim=10, distance=3.0, sigma=1.0, train_size=4000,
                 test_size=2000),
        "mlp", "linf", (0.1, 0.25, 0.5, 1.0), epochs=8),
    "bernoulli-l0": CompareTask(
        "bernoulli-l0",
        DataSpec(name="bernoulli", dim=100, k=50, t=0.3, train_size=4000, test_size=2000),
        "mlp", "l0", (2.0, 5.0, 10.0, 15.0), epochs=8),
    "bernoulli-linf": CompareTask(
        "bernoulli-linf",
        DataSpec(name="bernoulli", dim=100, k=50, t=0.1, train_size=4000, test_size=2000),
        "mlp", "linf", (0.25, 0.5, 0.9, 1.0), epochs=8),
    "mnist-linf": CompareTask(
        "mnist-linf",
        DataSpec(name="mnist", classes=(3, 7), train_size=2000, test_size=1000),
        "small-cnn", "linf", (0.1, 0.2, 0.3, 0.4), epochs=5),
    "mnist-l2": CompareTask(
        "mnist-l2",
        DataSpec(name="mnist", classes=(3, 7), train_size=2000, test_size=1000),
        "small-cnn", "l2", (1.0, 2.0, 3.0), epochs=5),
    # Ten classes, budgets of the paper's Table 2; a CPU-sized subset and model by default
    # (``preset="paper-cifar10"``: ResNet-50 on all 50000 / 10000 images).
    "cifar10-linf": CompareTask(
        "cifar10-linf",
        DataSpec(name="cifar10", train_size=2000, test_size=500),
        "small-cnn", "linf", (8 / 255, 16 / 255, 32 / 255), epochs=5),
}

#: Evaluation under a preset (unless ``eval_steps`` / ``eval_restarts`` are given): PGD with
#: 200 steps (the paper's Table 1 / 2 evaluation) and 5 random restarts, and AutoAttack (when
#: installed) with APGD's standard 100 iterations instead of the CPU budget of 20.
PRESET_EVAL: dict[str, int] = {"steps": 200, "restarts": 5, "autoattack_max_iter": 100}

#: Training PGD under a preset for an l2 task: this many steps of size ``2.5 * eps / steps``
#: (= eps / 6), the ratio of the paper's l_inf rule at its main budget (eps 0.3: 15 steps of
#: 0.05).  The preset's l_inf step 0.05 is a per-pixel size and has no l2 meaning.
L2_PRESET_PGD_STEPS = 15



def _flat(x: torch.Tensor) -> np.ndarray:
    return x.reshape(len(x), -1).double().numpy()


def sample_optimal_error(dataset: Any, *, eps: float, p: float) -> float:
    """Exact optimal robust error of the empirical distribution of ``dataset`` (x, y tensors).

    Uniform weights, classifiers on all of ``R^d`` (``domain="continuous"``), by
    :func:`optrobust.optimal_robust_error` (max-flow for two labels, MILP for more): no
    classifier has a lower adversarial error on these very samples.
    """
    import optrobust as orb

    x, y = dataset.tensors
    dist = orb.FiniteDistribution(_flat(x), y.numpy())
    return float(orb.optimal_robust_error(dist, eps=eps, p=p, domain="continuous").error)


def optimal_errors(task: CompareTask, bundle: Any, eps: float) -> dict[str, Any]:
    """The limits at ``eps``: ``optimal_error`` and, where defined, more columns.

    Synthetic data: the exact population optimum of ``bundle.theory``.
    MNIST: the exact optimum of the empirical test sample (and train sample),
    binary pairs by max-flow, and the Bernoulli l_inf limit 0.5.
    """
    p = NORMS[task.norm]
    if bundle.theory is not None:
        th = bundle.theory
        return {
            "optimal_error": float(th.robust_error(eps=eps, p=p)),
            "bayes_error": float(th.bayes_error()),
            "feasible_eps": float(th.feasible_eps(p)),
            "optimal_kind": "population (exact)",
        }
    out: dict[str, Any] = {"optimal_kind": "empirical sample (exact)"}
    for split in ("test", "train"):
        key = "optimal_error" if split == "test" else "optimal_error_train"
        out[key] = sample_optimal_error(getattr(bundle, split), eps=eps, p=p)
    if task.norm == "linf" and bundle.lower == 0.0 and bundle.upper == 1.0:
        out["bernoulli_limit_eps"] = 0.5  # paper Remark 2: {0,1} pixels
    return out


def optimal_curve(theory: Any, norm: str, eps_max: float, points: int = 121
                  ) -> list[list[float]]:
    """``[[eps, optimal error], ...]`` on a dense grid ``0 .. 1.15 eps_max`` (integers for l0).

    The exact population optimum is a step function for the Bernoulli model
    (it jumps where the Hamming conflict radius grows), so the plot draws this
    curve instead of joining the few budgets of the comparison grid.
    """
    p = NORMS[norm]
    top = 1.15 * eps_max
    if norm == "l0":
        grid = [float(e) for e in range(int(math.floor(top)) + 1)]
    else:
        grid = [float(e) for e in np.linspace(0.0, top, points)]
    return [[e, float(theory.robust_error(eps=e, p=p))] for e in grid]


def _run_dir(out: Path, eps: float, method: str) -> Path:
    return out / f"eps={eps:g}" / method


def _check_preset(preset: str, task: CompareTask) -> None:
    if preset not in PRESETS:
        raise InvalidInputError(f"preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    data_name = PRESETS[preset]["data"]["name"]
    if task.data.name != data_name:
        fits = ", ".join(t for t, v in TASKS.items() if v.data.name == data_name)
        raise InvalidInputError(f"preset {preset!r} does not fit task {task.name!r} "
                         f"({task.data.name} data): it is for the {data_name} tasks ({fits})")
    if task.norm not in ("linf", "l2"):
        raise InvalidInputError(f"preset {preset!r} needs an linf or l2 task; task "
                                f"{task.name!r} is {task.norm}")


def preset_config(preset: str, task: CompareTask, method: str, *, data: DataSpec,
                  eps: float, seed: int = 0, epochs: int | None = None,
                  init_from: str | None = None) -> TrainConfig:
    """The training run of ``method`` at ``eps`` that :func:`compare` uses under ``preset``.

    Parameters
    ----------
    preset : {"paper-mnist", "paper-cifar10"}
    task : CompareTask
        Its ``norm`` is kept (the presets are l_inf; an l2 task trains with the l2 PGD of
        :data:`L2_PRESET_PGD_STEPS` steps of size ``2.5 * eps / steps``).
    method : {"standard", "adversarial", "extended", "iterative"}
    data : DataSpec
        The data of the comparison (full sets unless sizes were given).
    eps : float
        Target budget (``0`` for ``standard``).
    seed : int
    epochs : int or None
        Explicit epochs (wins over the preset): every method trains ``epochs``, except
        ``extended``, which trains ``max(1, epochs // 2)`` as without a preset.
    init_from : str or None
        ``extended``: the checkpoint it starts from.

    Returns
    -------
    TrainConfig
        The preset's settings for ``method`` (:func:`empirical.config.apply_preset`):
        model, optimizer, lr, momentum, weight decay, lr milestones, batch size,
        augmentation, PGD step rule and epochs.  ``iterative`` starts at eps 0; with the
        preset's increment (MNIST: +0.01 per epoch) and no explicit ``epochs`` it trains
        ``max(preset epochs, epochs needed to reach eps)`` (eps 0.4: 41 epochs, since the
        paper's "IAT eps = 0 -> 0.4" reaches its target); for an l2 task, and for
        ``paper-cifar10`` (no increment stated), eps grows linearly from 0 to eps over the
        epochs.
    """
    _check_preset(preset, task)
    explicit: dict[str, Any] = {"norm": task.norm, "eps": float(eps), "seed": seed}
    if epochs is not None:
        explicit["epochs"] = max(1, epochs // 2) if method == "extended" else epochs
    if method == "iterative":
        explicit["eps_start"] = 0.0
    if init_from is not None:
        explicit["init_from"] = init_from
    kw = apply_preset(preset, method, explicit)
    if task.norm != PRESETS[preset]["norm"]:  # l2 task: a scale-free step rule
        kw["pgd_steps"], kw["pgd_step_size"] = L2_PRESET_PGD_STEPS, None
        kw.pop("eps_increment", None)
    if method == "iterative" and epochs is None and kw.get("eps_increment"):
        kw["epochs"] = max(int(kw["epochs"]), epochs_to_reach(float(eps), kw["eps_increment"]))
    kw["data"] = data
    return TrainConfig(**kw)


@dataclass(frozen=True, kw_only=True)
class EvalBudget:
    """Strength of the evaluation attack of :func:`compare` (``results.json`` ``"eval"``).

    Attributes
    ----------
    steps, restarts : int
        PGD steps and random restarts.
    autoattack_max_iter : int
        APGD iterations of AutoAttack (when it runs).
    """

    steps: int
    restarts: int
    autoattack_max_iter: int

    def to_dict(self) -> dict[str, int]:
        """``{"steps", "restarts", "autoattack_max_iter"}``."""
        return {"steps": self.steps, "restarts": self.restarts,
                "autoattack_max_iter": self.autoattack_max_iter}


@dataclass(frozen=True, kw_only=True)
class CompareRow(LegacyMappingAccess):
    """One (eps, method) of :func:`compare`: the learned error beside the exact optimum.

    Attributes
    ----------
    learned_error, learned_clean_error : float
        Adversarial (worst case over ``attacks``) and clean test error of the trained model.
    per_attack_error : dict of str to float
        Test error under each attack alone.
    n_test : int
        Test samples evaluated.
    se : float
        Standard error of ``learned_error``, ``sqrt(max(e (1 - e), 1 / n) / n)``.
    attacks : list of str
        The evaluation attacks, sorted.
    optimal_error : float
        The exact optimum at ``eps`` (population, or the empirical test sample).
    optimal_kind : str
        ``"population (exact)"`` or ``"empirical sample (exact)"``.
    bayes_error, feasible_eps : float or None
        Synthetic tasks: the Bayes error and the budget where the optimum reaches 1/2.
    optimal_error_train : float or None
        Image tasks: the exact optimum of the train sample.
    bernoulli_limit_eps : float or None
        Image l_inf tasks on [0, 1]: 0.5 (paper Remark 2).
    task, eps, method, epochs, seconds, run
        What was trained, for how long, where.
    below_optimum : bool
        ``learned_error < optimal_error - z * se``: impossible, so flagged.
    """

    learned_error: float
    learned_clean_error: float
    per_attack_error: dict[str, float]
    n_test: int
    se: float
    attacks: list[str]
    optimal_error: float
    optimal_kind: str
    bayes_error: float | None = None
    feasible_eps: float | None = None
    optimal_error_train: float | None = None
    bernoulli_limit_eps: float | None = None
    task: str
    eps: float
    method: str
    epochs: int
    seconds: float
    run: str
    below_optimum: bool

    def to_dict(self) -> dict[str, Any]:
        """The row as ``results.json`` holds it (the keys and key order of earlier releases)."""
        d: dict[str, Any] = {
            "learned_error": self.learned_error,
            "learned_clean_error": self.learned_clean_error,
            "per_attack_error": dict(self.per_attack_error),
            "n_test": self.n_test, "se": self.se, "attacks": list(self.attacks)}
        if self.bayes_error is not None:  # the order of optimal_errors' population branch
            d.update(optimal_error=self.optimal_error, bayes_error=self.bayes_error,
                     feasible_eps=self.feasible_eps, optimal_kind=self.optimal_kind)
        else:
            d.update(optimal_kind=self.optimal_kind, optimal_error=self.optimal_error)
            if self.optimal_error_train is not None:
                d["optimal_error_train"] = self.optimal_error_train
            if self.bernoulli_limit_eps is not None:
                d["bernoulli_limit_eps"] = self.bernoulli_limit_eps
        d.update(task=self.task, eps=self.eps, method=self.method, epochs=self.epochs,
                 seconds=self.seconds, run=self.run, below_optimum=self.below_optimum)
        return d


@dataclass(frozen=True, kw_only=True)
class CompareResult(LegacyMappingAccess):
    """What :func:`compare` returns; :meth:`to_dict` is ``results.json``.

    Dict access (``result["rows"]``) still works for one release, with a
    ``DeprecationWarning``.

    Attributes
    ----------
    task, norm : str
    z : float
        Flag threshold in standard errors.
    preset : str or None
    eval : EvalBudget
    data : DataSpec
        The data the runs trained and were evaluated on.
    rows : tuple of CompareRow
        In grid order, methods in the given order within each eps.
    optimal_curve : tuple of (eps, error) or None
        Synthetic tasks: the exact optimum on a dense grid (:func:`optimal_curve`).
    """

    task: str
    norm: str
    z: float
    preset: str | None
    eval: EvalBudget
    data: DataSpec
    rows: tuple[CompareRow, ...]
    optimal_curve: tuple[tuple[float, float], ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"task", "norm", "z", "preset", "eval", "data", "rows"[, "optimal_curve"]}``."""
        d: dict[str, Any] = {"task": self.task, "norm": self.norm, "z": self.z,
                             "preset": self.preset, "eval": self.eval.to_dict(),
                             "data": asdict(self.data), "rows": [r.to_dict() for r in self.rows]}
        if self.optimal_curve is not None:
            d["optimal_curve"] = [list(c) for c in self.optimal_curve]
        return d


def compare(
    task: str | CompareTask,
    out: str | Path,
    *,
    eps_grid: Sequence[float] | None = None,
    methods: Sequence[str] = METHODS,
    seed: int = 0,
    device: str = "cpu",
    epochs: int | None = None,
    train_size: int | None = None,
    test_size: int | None = None,
    data_root: str | None = None,
    classes: Sequence[int] | None = None,
    eval_steps: int | None = None,
    eval_restarts: int | None = None,
    use_autoattack: bool = True,
    z: float = 3.0,
    quiet: bool = True,
    preset: str | None = None,
) -> CompareResult:
    """Train and evaluate every (eps, method), then write the report.

    Parameters
    ----------
    task : str or CompareTask
        One of :data:`TASKS` (or a custom task).
    out : path
        Output directory (runs are reused when already finished).
    eps_grid, methods, seed, device, epochs, train_size, test_size, data_root
        Overrides of the task's defaults (and of the preset's epochs and full data).
    classes : sequence of int, optional
        Image tasks: the classes to keep (MNIST default 3, 7; CIFAR-10 default all ten);
        three or more classes have their exact optimum solved by the MILP
        (``solver='auto'``).
    eval_steps, eval_restarts : int
        PGD evaluation strength (default: the task's; under a preset :data:`PRESET_EVAL`).
    use_autoattack : bool
        Add AutoAttack to the evaluation when installed (l_inf and l2 only).
    z : float
        A learned error below ``optimal_error - z * se`` is flagged.
    quiet : bool
        No training progress output.
    preset : {"paper-mnist", "paper-cifar10"} or None
        Train every run with the paper's settings for its method (:func:`preset_config`)
        on the full data set (``train_size`` / ``test_size`` still win), and evaluate
        with :data:`PRESET_EVAL`.  ``paper-mnist`` fits the MNIST tasks,
        ``paper-cifar10`` the CIFAR-10 task; another combination raises
        ``InvalidInputError`` (a ``ValueError``).

    Returns
    -------
    CompareResult
        ``result.to_dict()`` is what ``results.json`` holds,
        ``{"task", "norm", "z", "preset", "eval", "data", "rows": [...]}`` (plus
        ``"optimal_curve"`` for synthetic tasks).  Dict access on the result itself is
        deprecated (one release, ``DeprecationWarning``).
    """
    task = _task(task)
    grid = _check_arguments(task, preset=preset, methods=methods, eps_grid=eps_grid,
                            epochs=epochs, eval_steps=eval_steps, eval_restarts=eval_restarts)
    data = _data_spec(task, preset=preset, seed=seed, classes=classes, train_size=train_size,
                      test_size=test_size, data_root=data_root)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    bundle = build_data(data)
    base = TrainConfig(data=data, model=task.model, method="adversarial", eps=grid[0],
                       norm=task.norm, epochs=epochs or task.epochs, batch_size=task.batch_size,
                       lr=task.lr, pgd_steps=task.pgd_steps, seed=seed)
    plan = _RunPlan(task=task, data=data, preset=preset, seed=seed, epochs=epochs, base=base)
    ev = _eval_budget(task, preset, eval_steps, eval_restarts)
    rows = _compare_rows(task, bundle, grid, methods, plan, ev, out, z=z, seed=seed,
                         use_autoattack=use_autoattack, device=device, quiet=quiet)
    curve = None
    if bundle.theory is not None:
        curve = tuple((e, v) for e, v in optimal_curve(bundle.theory, task.norm, max(grid)))
    result = CompareResult(task=task.name, norm=task.norm, z=z, preset=preset, eval=ev,
                           data=data, rows=tuple(rows), optimal_curve=curve)
    write_report(result, out)
    return result


def _task(task: str | CompareTask) -> CompareTask:
    if isinstance(task, str):
        if task not in TASKS:
            raise InvalidInputError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
        return TASKS[task]
    return task


def _check_arguments(task: CompareTask, *, preset: str | None, methods: Sequence[str],
                     eps_grid: Sequence[float] | None, epochs: int | None,
                     eval_steps: int | None, eval_restarts: int | None
                     ) -> tuple[float, ...]:
    """Validate the arguments of :func:`compare`; returns the sorted eps grid."""
    if preset is not None:
        _check_preset(preset, task)
    for m in methods:
        if m not in METHODS:
            raise InvalidInputError(f"methods must be among {', '.join(METHODS)}, got {m!r}")
    grid = tuple(sorted(float(e) for e in (eps_grid or task.eps_grid)))
    if not grid or any(not math.isfinite(e) or e <= 0 for e in grid):
        raise InvalidInputError(f"eps_grid must be finite budgets > 0, got {eps_grid!r}")
    if task.norm == "l0" and any(not float(e).is_integer() for e in grid):
        raise InvalidInputError("eps_grid must be integers (changed pixels) for an l0 task")
    for name, v in (("epochs", epochs), ("eval_steps", eval_steps),
                    ("eval_restarts", eval_restarts)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise InvalidInputError(f"{name} must be an integer >= 1, got {v!r}")
    return grid


def _data_spec(task: CompareTask, *, preset: str | None, seed: int,
               classes: Sequence[int] | None, train_size: int | None,
               test_size: int | None, data_root: str | None) -> DataSpec:
    """The task's data with the overrides (a preset: the full data set unless sizes given)."""
    data = task.data
    if classes is not None:
        if data.name not in ("mnist", "cifar10"):
            raise InvalidInputError(f"classes applies to image tasks only, not {task.name!r}")
        classes = tuple(int(c) for c in classes)
        if len(classes) < 2 or len(set(classes)) != len(classes) or \
                any(not 0 <= c <= 9 for c in classes):
            raise InvalidInputError(f"classes must be >= 2 distinct digits in 0..9, got "
                                    f"{classes!r}")
    if preset is not None:
        data = replace(data, train_size=None, test_size=None)
    overrides = {k: v for k, v in (("train_size", train_size), ("test_size", test_size),
                                   ("data_root", data_root), ("classes", classes))
                 if v is not None}
    return replace(data, seed=seed, **overrides)


def _eval_budget(task: CompareTask, preset: str | None, eval_steps: int | None,
                 eval_restarts: int | None) -> EvalBudget:
    ev = PRESET_EVAL if preset is not None else {
        "steps": task.eval_steps, "restarts": task.eval_restarts, "autoattack_max_iter": 20}
    return EvalBudget(steps=eval_steps or ev["steps"], restarts=eval_restarts or ev["restarts"],
                      autoattack_max_iter=ev["autoattack_max_iter"])


@dataclass(frozen=True, kw_only=True)
class _RunPlan:
    """The training configuration of each (method, eps) of one comparison."""

    task: CompareTask
    data: DataSpec
    preset: str | None
    seed: int
    epochs: int | None
    base: TrainConfig  # without a preset: every run is this one with method and eps replaced

    def config(self, method: str, eps: float, init: Path | None = None) -> TrainConfig:
        if self.preset is not None:
            return preset_config(self.preset, self.task, method, data=self.data, eps=eps,
                                 seed=self.seed, epochs=self.epochs,
                                 init_from=None if init is None else str(init))
        base = self.base
        if method == "standard":
            return replace(base, method="standard", eps=0.0)
        if method == "adversarial":
            return replace(base, method="adversarial", eps=eps)
        if method == "iterative":
            return replace(base, method="iterative", eps=eps, eps_start=0.0)
        return replace(base, method="extended", eps=eps, init_from=str(init),
                       epochs=max(1, base.epochs // 2))


class _Checkpoints:
    """Finished checkpoints that extended training starts from (mutable, per comparison)."""

    def __init__(self) -> None:
        self.prev_adv: Path | None = None  # adversarial model at the previous budget
        self.standard: Path | None = None

    def extended_init(self, plan: _RunPlan, out: Path, *, device: str, quiet: bool) -> Path:
        """The adversarial model at the previous budget, else a standard model (trained once)."""
        if self.prev_adv is not None:
            return self.prev_adv
        if self.standard is None:
            self.standard = train_or_reuse(plan.config("standard", 0.0), out / "standard",
                                           device=device, quiet=quiet)
        return self.standard


def _train_method(plan: _RunPlan, ckpts: _Checkpoints, method: str, eps: float, run: Path,
                  out: Path, *, device: str, quiet: bool) -> tuple[TrainConfig, Path]:
    """Train (or reuse) ``method`` at ``eps`` in ``run``; returns its config and checkpoint."""
    if method == "extended":
        init = ckpts.extended_init(plan, out, device=device, quiet=quiet)
        cfg = plan.config("extended", eps, init)
    else:
        cfg = plan.config(method, eps)
    return cfg, train_or_reuse(cfg, run, device=device, quiet=quiet)


def _compare_rows(task: CompareTask, bundle: Any, grid: tuple[float, ...],
                  methods: Sequence[str], plan: _RunPlan, ev: EvalBudget, out: Path, *,
                  z: float, seed: int, use_autoattack: bool, device: str, quiet: bool
                  ) -> list[CompareRow]:
    """Train and evaluate every (eps, method) in order; one row each."""
    x_test, y_test = bundle.test.tensors
    ckpts = _Checkpoints()
    rows: list[CompareRow] = []
    for eps in grid:
        limits = optimal_errors(task, bundle, eps)
        adv_ckpt: Path | None = None
        for method in methods:
            t0 = time.perf_counter()
            run = _run_dir(out, eps, method)
            cfg, ckpt = _train_method(plan, ckpts, method, eps, run, out, device=device,
                                      quiet=quiet)
            if method == "adversarial":
                adv_ckpt = ckpt
            measured = _evaluate_row(task, ckpt, bundle, x_test, y_test, eps=eps,
                                     steps=ev.steps, restarts=ev.restarts,
                                     use_autoattack=use_autoattack, seed=seed,
                                     autoattack_max_iter=ev.autoattack_max_iter, device=device)
            rows.append(_row(measured, limits, task=task.name, eps=eps, method=method,
                             epochs=cfg.epochs, seconds=round(time.perf_counter() - t0, 2),
                             run=str(run), z=z))
        if adv_ckpt is not None:
            ckpts.prev_adv = adv_ckpt
    return rows


def _row(measured: dict[str, Any], limits: dict[str, Any], *, z: float, **meta: Any
         ) -> CompareRow:
    """The row of one run: its measured errors, the limits at its eps, and the flag."""
    below = bool(measured["learned_error"]
                 < limits["optimal_error"] - z * max(measured["se"], 1e-12))
    return CompareRow(**measured, **limits, **meta, below_optimum=below)


def _evaluate_row(task, ckpt, bundle, x, y, *, eps, steps, restarts, use_autoattack,
                  seed, autoattack_max_iter: int = 20, device: str = "cpu") -> dict[str, Any]:
    from empirical._distributed import resolve_device
    from empirical.evaluate import load_run

    dev = resolve_device(device, 0)
    loaded = load_run(str(ckpt), device=dev)
    attacks = strong_attacks(x, eps=eps, p=task.norm, steps=steps, restarts=restarts,
                             seed=seed, lower=bundle.lower, upper=bundle.upper,
                             use_autoattack=use_autoattack,
                             autoattack_max_iter=autoattack_max_iter)
    res = evaluate(loaded.model, x, y, attacks, device=dev)
    n = int(res.n)
    err = 1.0 - float(res.robust_accuracy)
    return {
        "learned_error": err,
        "learned_clean_error": 1.0 - float(res.clean_accuracy),
        "per_attack_error": {k: 1.0 - float(v) for k, v in res.per_attack.items()},
        "n_test": n,
        "se": math.sqrt(max(err * (1 - err), 1.0 / n) / n),
        "attacks": sorted(attacks),
    }


def write_report(result: CompareResult | dict[str, Any], out: str | Path) -> None:
    """Write ``results.json``, ``results.md`` and ``results.png`` into ``out``.

    ``result`` is a :class:`CompareResult` or its :meth:`CompareResult.to_dict`.
    """
    out = Path(out)
    if isinstance(result, CompareResult):
        result = result.to_dict()
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = result["rows"]
    lines = [
        f"# {result['task']}: learned vs optimal adversarial error ({result['norm']})",
        "",
        "| eps | method | optimal error | learned error (± se) | clean error | n_test | flag |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        flag = "BELOW OPTIMUM" if r["below_optimum"] else ""
        lines.append(
            f"| {r['eps']:g} | {r['method']} | {r['optimal_error']:.4f} | "
            f"{r['learned_error']:.4f} ± {r['se']:.4f} | {r['learned_clean_error']:.4f} | "
            f"{r['n_test']} | {flag} |"
        )
    if result.get("preset"):
        ev = result.get("eval", {})
        lines += ["", f"Training: preset {result['preset']} (paper Section 3.1.1 settings per "
                      f"method); evaluation: PGD {ev.get('steps')} steps x "
                      f"{ev.get('restarts')} restarts."]
    if rows:
        lines += ["", f"Optimal error: {rows[0]['optimal_kind']}."]
        if "feasible_eps" in rows[0]:
            lines.append(f"Feasible eps (optimum reaches 1/2): {rows[0]['feasible_eps']:g}.")
        if "bernoulli_limit_eps" in rows[0]:
            lines.append("Bernoulli-model l_inf limit for {0,1} pixels: eps = 0.5 (Remark 2).")
    (out / "results.md").write_text("\n".join(lines) + "\n")
    _plot(result, out / "results.png")


def _plot(result: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    rows = result["rows"]
    if not rows:
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    eps = sorted({r["eps"] for r in rows})
    opt = [next(r["optimal_error"] for r in rows if r["eps"] == e) for e in eps]
    curve = result.get("optimal_curve")
    if curve:
        ax.plot([c[0] for c in curve], [c[1] for c in curve], "k-", lw=2.5,
                drawstyle="steps-post" if result["norm"] == "l0" else "default",
                label="optimal (exact; no classifier does better)")
        ax.plot(eps, opt, "ko", ms=4)
    else:
        ax.plot(eps, opt, "k-o", lw=2.5, ms=4, label="optimal (no classifier does better)")
    if "optimal_error_train" in rows[0]:
        opt_tr = [next(r["optimal_error_train"] for r in rows if r["eps"] == e) for e in eps]
        ax.plot(eps, opt_tr, "k:", lw=1.5, label="optimal on the train sample")
    markers = {"adversarial": "o", "extended": "s", "iterative": "^"}
    for m in sorted({r["method"] for r in rows}):
        rs = sorted((r for r in rows if r["method"] == m), key=lambda r: r["eps"])
        ax.errorbar([r["eps"] for r in rs], [r["learned_error"] for r in rs],
                    yerr=[2 * r["se"] for r in rs], marker=markers.get(m, "o"), capsize=3,
                    label=f"learned: {m}")
    fe = rows[0].get("feasible_eps", rows[0].get("bernoulli_limit_eps"))
    if fe is not None and math.isfinite(fe):
        ax.axvline(fe, color="crimson", ls="--", lw=1, label=f"feasible eps = {fe:g}")
    ax.axhline(0.5, color="grey", ls=":", lw=0.8)
    ax.set_xlabel(f"{result['norm']} budget eps")
    ax.set_ylabel("adversarial test error")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"{result['task']}: learned vs optimal robust error")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
