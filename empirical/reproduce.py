"""The paper's MNIST experiments, reproduced at a chosen scale: Figures 1, 2, 7 and Table 1.

``optrobust-empirical reproduce --experiment all --out runs/paper`` trains
every model the experiments need (finished runs are reused, killed runs
resume), then writes

* ``figure1.png`` / ``figure1.json`` -- training adversarial loss per epoch,
  adversarial training from random initialization at several eps (paper Fig. 1);
* ``figure2.png`` / ``figure2.json`` -- extended training ``a -> b``: the loss
  of the model trained at ``a`` followed by its training at ``b``, beside
  training at ``b`` from scratch (paper Fig. 2, panels A and B);
* ``figure7.png`` / ``figure7.json`` -- iterative adversarial training (IAT),
  eps growing every epoch from 0 (paper Fig. 7);
* ``table1.md`` / ``table1.json`` -- clean accuracy and accuracy at each table
  eps under PGD-200 and AutoAttack (when installed) and their per-sample worst
  case, for the standard, adversarial, extended and IAT models, next to the
  exact optimal robust accuracy of the same test sample (paper Table 1).

Setups (:data:`SETUPS`):

* ``mnist`` -- CPU scale: 10 digits, 2000 training / 500 test images, small
  CNN, 8 epochs, IAT +0.04 per epoch (34 min on a shared 2-core machine).
* ``mnist-long`` -- the same images with the paper's epoch counts (30
  adversarial, 5 standard, 5 extended; IAT +0.02 per epoch); Figure 2 also
  from eps 0.2, the largest budget that trains at this scale (0.2 -> 0.3,
  0.2 -> 0.4, 0.3 -> 0.4).
* ``paper-mnist`` -- the paper's Section 3.1.1: all 60k / 10k images, the
  TensorFlow-tutorial CNN, 30 epochs, IAT +0.01 per epoch (a GPU job).
* ``bernoulli`` -- synthetic: the Bernoulli model on ``{-1,1}^100`` under
  l_inf, whose feasible eps is 1, so the MNIST budgets 0.3 / 0.4 / 0.5
  correspond to 0.6 / 0.8 / 1.0; its optimum is exact.

References
----------
.. [1] Shaeiri, Nobahari, Rohban, "Towards Deep Learning Models Resistant to
   Large Perturbations", Sections 3.1 (Figs. 1, 2, Table 1) and 3.4 (Fig. 7).
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from empirical.checkpoint import read_jsonl, write_json
from empirical.data import DataSpec, build_data
from empirical.legacy_mapping import LegacyMappingAccess
from empirical.plotting import pyplot
from empirical.schedules import epochs_to_reach
from empirical.train import PRESETS, TrainConfig, train_or_reuse
from optrobust.errors import InvalidInputError

__all__ = ["EXPERIMENTS", "SETUPS", "PaperSetup", "ReproduceResult", "reproduce", "planned_runs"]

EXPERIMENTS = ("figure1", "figure2", "figure7", "table1")


@dataclass(frozen=True, kw_only=True)
class ReproduceResult(LegacyMappingAccess):
    """What :func:`reproduce` returns; :meth:`to_dict` is ``reproduce.json``.

    Dict access (``result["table1"]``) still works for one release, with a
    ``DeprecationWarning``.

    Attributes
    ----------
    setup : str
        Name of the :class:`PaperSetup`.
    experiments : tuple of str
        The experiments run, in the order given.
    runs : dict of str to TrainConfig
        Every training run, by name (:func:`planned_runs`).
    train_seconds : dict of str to float
        Wall time of each run (about 0 when a finished run was reused).
    figure1, figure2, figure7, table1 : dict or None
        Each experiment's result as written to ``<name>.json`` (``None``: not run).
    seconds : float
        Wall time of training and all experiments.
    """

    setup: str
    experiments: tuple[str, ...]
    runs: dict[str, TrainConfig]
    train_seconds: dict[str, float]
    figure1: dict[str, Any] | None = None
    figure2: dict[str, Any] | None = None
    figure7: dict[str, Any] | None = None
    table1: dict[str, Any] | None = None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The dict of earlier releases: ``{"setup", "experiments", "runs", "train_seconds",
        <experiments run>, "seconds"}``."""
        d: dict[str, Any] = {"setup": self.setup, "experiments": list(self.experiments),
                             "runs": {n: c.to_dict() for n, c in self.runs.items()},
                             "train_seconds": dict(self.train_seconds)}
        for name in EXPERIMENTS:
            value = getattr(self, name)
            if value is not None:
                d[name] = value
        d["seconds"] = self.seconds
        return d


@dataclass(frozen=True)
class PaperSetup:
    """Scale and budgets of one reproduction.

    Attributes
    ----------
    data, model : DataSpec, str
        Training data and architecture.
    epochs, standard_epochs, extended_epochs : int
        Adversarial training from scratch (paper: 30), standard training (5),
        extended training at the larger eps (5).
    pgd_step_size : float
        Training PGD step; ``steps = 2.5 eps / step`` (paper: 0.05 on MNIST).
    figure1_eps : tuple of float
        Budgets of adversarial training from random initialization (Fig. 1).
    figure2_pairs : tuple of (float, float)
        ``(a, b)``: extended training from the eps-``a`` model to ``b`` (Fig. 2).
    iterative_target, iterative_increment : float
        IAT: eps grows from 0 by ``increment`` per epoch up to ``target``
        (paper: 0.01 per epoch to 0.4), then stays for 2 epochs.
    table_eps : tuple of float
        Evaluation budgets of Table 1 (paper: 0.3, 0.4).
    eval_steps, eval_step_size, eval_restarts : int, float, int
        Evaluation PGD (paper: 200 signed steps).
    autoattack_max_iter : int or None
        AutoAttack budget (``None``: ART's defaults).
    feasible_eps : float
        The budget at which the optimum reaches 1/2 (Bernoulli model, paper
        Remark 2: 0.5 for pixels in [0, 1]; 1 for {-1, 1}).
    """

    name: str
    data: DataSpec
    model: str
    epochs: int
    standard_epochs: int
    extended_epochs: int
    pgd_step_size: float
    figure1_eps: tuple[float, ...]
    figure2_pairs: tuple[tuple[float, float], ...]
    iterative_target: float
    iterative_increment: float
    table_eps: tuple[float, ...]
    eval_steps: int = 200
    eval_step_size: float = 0.01
    eval_restarts: int = 1
    autoattack_max_iter: int | None = 20
    feasible_eps: float = 0.5
    batch_size: int = 128
    lr: float = 1e-3


_PAPER = PRESETS["paper-mnist"]

SETUPS: dict[str, PaperSetup] = {
    "mnist": PaperSetup(
        "mnist", DataSpec(name="mnist", train_size=2000, test_size=500), "small-cnn",
        epochs=8, standard_epochs=3, extended_epochs=4, pgd_step_size=0.05,
        figure1_eps=(0.1, 0.2, 0.3, 0.35, 0.4, 0.45), figure2_pairs=((0.3, 0.4), (0.35, 0.45)),
        iterative_target=0.4, iterative_increment=0.04, table_eps=(0.3, 0.4)),
    "mnist-long": PaperSetup(
        "mnist-long", DataSpec(name="mnist", train_size=2000, test_size=500), "small-cnn",
        epochs=30, standard_epochs=5, extended_epochs=5, pgd_step_size=0.05,
        figure1_eps=(0.1, 0.2, 0.3, 0.4), figure2_pairs=((0.2, 0.3), (0.2, 0.4), (0.3, 0.4)),
        iterative_target=0.4, iterative_increment=0.02, table_eps=(0.3, 0.4)),
    # Section 3.1.1, from the train preset (one source of the paper's settings).
    "paper-mnist": PaperSetup(
        "paper-mnist", DataSpec(name="mnist"), _PAPER["model"],
        epochs=_PAPER["by_method"]["adversarial"]["epochs"],
        standard_epochs=_PAPER["by_method"]["standard"]["epochs"],
        extended_epochs=_PAPER["by_method"]["extended"]["epochs"],
        pgd_step_size=_PAPER["pgd_step_size"],
        figure1_eps=(0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5),
        figure2_pairs=((0.3, 0.4), (0.35, 0.45)), iterative_target=0.4,
        iterative_increment=_PAPER["by_method"]["iterative"]["eps_increment"],
        table_eps=(0.3, 0.4), autoattack_max_iter=None, batch_size=_PAPER["batch_size"],
        lr=_PAPER["lr"]),
    "bernoulli": PaperSetup(
        "bernoulli", DataSpec(name="bernoulli", dim=100, k=50, t=0.3, train_size=4000,
                              test_size=2000), "mlp",
        epochs=10, standard_epochs=3, extended_epochs=5, pgd_step_size=0.1,
        figure1_eps=(0.2, 0.4, 0.6, 0.7, 0.8, 0.9), figure2_pairs=((0.6, 0.8), (0.7, 0.9)),
        iterative_target=0.8, iterative_increment=0.04, table_eps=(0.6, 0.8),
        eval_step_size=0.02, feasible_eps=1.0),
}


def _name(kind: str, *eps: float) -> str:
    return kind + "".join(f"-{e:g}" for e in eps)


def planned_runs(setup: PaperSetup, experiments: tuple[str, ...] = EXPERIMENTS,
                 *, out: str | Path = ".", seed: int = 0) -> dict[str, TrainConfig]:
    """Every training run the chosen experiments need, by run name, in dependency order.

    Names: ``standard``, ``adv-<eps>`` (from random initialization),
    ``ext-<a>-<b>`` (from ``out/runs/adv-<a>``, trained at ``b``), ``iat-0-<target>``.
    """
    root = Path(out) / "runs"
    data = replace(setup.data, seed=seed)
    base = TrainConfig(data=data, model=setup.model, method="adversarial", eps=0.1,
                       norm="linf", epochs=setup.epochs, batch_size=setup.batch_size,
                       lr=setup.lr, pgd_steps=None, pgd_step_size=setup.pgd_step_size,
                       seed=seed)
    adv: set[float] = set()
    pairs: list[tuple[float, float]] = []
    iat = False
    if "figure1" in experiments:
        adv.update(setup.figure1_eps)
    if "figure2" in experiments or "table1" in experiments:
        for a, b in setup.figure2_pairs:
            if "figure2" in experiments or b in setup.table_eps:
                adv.update((a, b))
                pairs.append((a, b))
    if "figure7" in experiments or "table1" in experiments:
        iat = True
    if "table1" in experiments:
        adv.update(setup.table_eps)
    runs: dict[str, TrainConfig] = {}
    if "table1" in experiments:
        runs["standard"] = replace(base, method="standard", eps=0.0,
                                   epochs=setup.standard_epochs, pgd_step_size=None,
                                   pgd_steps=10)
    for e in sorted(adv):
        runs[_name("adv", e)] = replace(base, eps=e)
    for a, b in pairs:
        runs[_name("ext", a, b)] = replace(base, method="extended", eps=b,
                                           epochs=setup.extended_epochs,
                                           init_from=str(root / _name("adv", a) /
                                                         "checkpoint.pt"))
    if iat:
        n = epochs_to_reach(setup.iterative_target, setup.iterative_increment)
        runs[_name("iat", 0, setup.iterative_target)] = replace(
            base, method="iterative", eps=setup.iterative_target, eps_start=0.0,
            eps_increment=setup.iterative_increment, epochs=n + 2)
    return runs


def _log(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def _train_all(runs: dict[str, TrainConfig], out: Path, *, device: str, quiet: bool
               ) -> dict[str, float]:
    seconds: dict[str, float] = {}
    for i, (name, cfg) in enumerate(runs.items(), 1):
        _log(f"[{i}/{len(runs)}] {name}: {cfg.method} eps={cfg.eps:g}, {cfg.epochs} epochs",
             quiet)
        t0 = time.perf_counter()
        train_or_reuse(cfg, out / "runs" / name, device=device, quiet=quiet)
        seconds[name] = round(time.perf_counter() - t0, 1)
    return seconds


def _metrics(out: Path, name: str) -> list[dict[str, Any]]:
    return read_jsonl(out / "runs" / name / "metrics.jsonl")


def _loss(row: dict[str, Any]) -> float:
    v = row["train_adv_loss"]
    return float(row["train_loss"] if v is None else v)


def figure1(setup: PaperSetup, out: Path, num_classes: int) -> dict[str, Any]:
    """Training adversarial loss per epoch from random initialization (paper Fig. 1)."""
    curves = {f"{e:g}": [_loss(r) for r in _metrics(out, _name("adv", e))]
              for e in setup.figure1_eps}
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for e, ys in curves.items():
        ax.plot(range(1, len(ys) + 1), ys, marker="o", ms=3, label=f"eps = {e}")
    ax.axhline(math.log(num_classes), color="grey", ls=":", lw=1,
               label=f"constant classifier, ln {num_classes}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training adversarial loss")
    ax.set_title(f"{setup.name}: adversarial training from random initialization")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "figure1.png", dpi=120)
    plt.close(fig)
    res = {"experiment": "figure1", "train_adv_loss": curves,
           "constant_loss": math.log(num_classes)}
    (out / "figure1.json").write_text(json.dumps(res, indent=2) + "\n")
    return res


def figure2(setup: PaperSetup, out: Path, num_classes: int) -> dict[str, Any]:
    """Extended training ``a -> b`` against training at ``b`` from scratch (paper Fig. 2)."""
    plt = pyplot()
    pairs = setup.figure2_pairs
    fig, axes = plt.subplots(1, len(pairs), figsize=(6 * len(pairs), 4.2), squeeze=False)
    res: dict[str, Any] = {"experiment": "figure2", "panels": []}
    for ax, (a, b), letter in zip(axes[0], pairs, "ABCDEFGH", strict=False):
        base = [_loss(r) for r in _metrics(out, _name("adv", a))]
        ext = [_loss(r) for r in _metrics(out, _name("ext", a, b))]
        scratch = [_loss(r) for r in _metrics(out, _name("adv", b))]
        n = len(base)
        ax.plot(range(1, n + 1), base, "o-", ms=3, label=f"adversarial, eps = {a:g}")
        ax.plot(range(n + 1, n + len(ext) + 1), ext, "s-", ms=3,
                label=f"extended {a:g} -> {b:g}")
        ax.plot(range(1, len(scratch) + 1), scratch, "^--", ms=3,
                label=f"from scratch, eps = {b:g}")
        ax.axvline(n + 0.5, color="grey", lw=0.8)
        ax.axhline(math.log(num_classes), color="grey", ls=":", lw=1)
        ax.set_title(f"({letter}) eps {a:g} -> {b:g}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training adversarial loss")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        res["panels"].append({"from": a, "to": b, "base": base, "extended": ext,
                              "scratch": scratch})
    fig.suptitle(f"{setup.name}: extended adversarial training")
    fig.tight_layout()
    fig.savefig(out / "figure2.png", dpi=120)
    plt.close(fig)
    (out / "figure2.json").write_text(json.dumps(res, indent=2) + "\n")
    return res


def figure7(setup: PaperSetup, out: Path, num_classes: int) -> dict[str, Any]:
    """Iterative adversarial training: loss and eps per epoch (paper Fig. 7)."""
    rows = _metrics(out, _name("iat", 0, setup.iterative_target))
    losses = [_loss(r) for r in rows]
    eps = [float(r["eps"]) for r in rows]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(range(1, len(rows) + 1), losses, "o-", ms=3, label="training adversarial loss")
    ax.axhline(math.log(num_classes), color="grey", ls=":", lw=1,
               label=f"constant classifier, ln {num_classes}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training adversarial loss")
    ax2 = ax.twinx()
    ax2.plot(range(1, len(rows) + 1), eps, color="crimson", lw=1, ls="--", label="eps")
    ax2.set_ylabel("eps of the epoch", color="crimson")
    ax.set_title(f"{setup.name}: iterative adversarial training 0 -> "
                 f"{setup.iterative_target:g} (+{setup.iterative_increment:g}/epoch)")
    ax.grid(alpha=0.3)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "figure7.png", dpi=120)
    plt.close(fig)
    res = {"experiment": "figure7", "eps": eps, "train_adv_loss": losses}
    (out / "figure7.json").write_text(json.dumps(res, indent=2) + "\n")
    return res


def _optimal_accuracy(setup: PaperSetup, bundle: Any, eps: float) -> float:
    """1 - the optimal robust error at ``eps`` (exact: population or test sample)."""
    from empirical.compare import sample_optimal_error

    if bundle.theory is not None:
        return 1.0 - float(bundle.theory.robust_error(eps=eps, p=math.inf))
    return 1.0 - sample_optimal_error(bundle.test, eps=eps, p=math.inf)


def _evaluate_cached(setup: PaperSetup, out: Path, name: str, eps: float, *, device: str,
                     seed: int, use_autoattack: bool) -> dict[str, Any]:
    """Accuracies of run ``name`` at ``eps`` (cached in ``out/eval``)."""
    cache = out / "eval" / f"{name}@{eps:g}.json"
    key = {"steps": setup.eval_steps, "step_size": setup.eval_step_size,
           "restarts": setup.eval_restarts, "autoattack": use_autoattack,
           "autoattack_max_iter": setup.autoattack_max_iter, "seed": seed}
    if cache.exists():
        stored = json.loads(cache.read_text())
        if stored.get("key") == key:
            return stored
    from empirical.evaluate import evaluate, load_run, strong_attacks

    run = load_run(str(out / "runs" / name / "checkpoint.pt"), device=device)
    x, y = run.bundle.test.tensors
    t0 = time.perf_counter()
    attacks = {} if eps <= 0 else strong_attacks(
        x, eps=eps, p="linf", steps=setup.eval_steps, step_size=setup.eval_step_size,
        restarts=setup.eval_restarts, seed=seed, lower=run.bundle.lower,
        upper=run.bundle.upper, use_autoattack=use_autoattack,
        autoattack_max_iter=setup.autoattack_max_iter)
    res = evaluate(run.model, x.to(device), y.to(device), attacks, device=device)
    row = {"run": name, "eps": eps, "n": int(res.n), "clean_accuracy": res.clean_accuracy,
           "accuracy": res.robust_accuracy, "per_attack": dict(res.per_attack),
           "seconds": round(time.perf_counter() - t0, 1), "key": key}
    cache.parent.mkdir(parents=True, exist_ok=True)
    write_json(cache, row)
    return row


def table1(setup: PaperSetup, out: Path, runs: dict[str, TrainConfig], *, device: str,
           seed: int, use_autoattack: bool, quiet: bool) -> dict[str, Any]:
    """Clean and robust test accuracy of every model at the table budgets (paper Table 1)."""
    # The paper's Table 1 rows: adversarial training at the table budgets, extended and
    # iterative training; the standard model as the reference.
    models = [n for n, c in runs.items()
              if c.method in ("standard", "extended", "iterative")
              or (c.method == "adversarial" and c.eps in setup.table_eps)]
    bundle = build_data(runs[models[0]].data)
    rows = []
    for i, name in enumerate(models, 1):
        _log(f"table1 [{i}/{len(models)}] evaluating {name}", quiet)
        row: dict[str, Any] = {"model": name, "method": runs[name].method,
                               "train_eps": runs[name].eps}
        for e in setup.table_eps:
            r = _evaluate_cached(setup, out, name, e, device=device, seed=seed,
                                 use_autoattack=use_autoattack)
            row["clean"] = r["clean_accuracy"]
            row["n"] = r["n"]
            row[f"{e:g}"] = {"worst": r["accuracy"], **r["per_attack"]}
            row["seconds"] = row.get("seconds", 0.0) + r["seconds"]
        rows.append(row)
    optimum = {f"{e:g}": _optimal_accuracy(setup, bundle, e) for e in setup.table_eps}
    kind = "population" if bundle.theory is not None else "test sample"
    for row in rows:
        # No classifier beats the optimum: on the test sample itself exactly, against the
        # population optimum up to sampling error (z = 3 standard errors).
        n = row["n"]
        row["above_optimum"] = []
        for e, opt in optimum.items():
            acc = row[e]["worst"]
            slack = 1e-12 if kind == "test sample" else \
                3.0 * math.sqrt(max(acc * (1 - acc), 1.0 / n) / n)
            if acc > opt + slack:
                row["above_optimum"].append(float(e))
    res = {"experiment": "table1", "setup": setup.name, "rows": rows,
           "optimal_accuracy": optimum, "optimal_kind": kind, "feasible_eps": setup.feasible_eps,
           "eval": {"pgd_steps": setup.eval_steps, "pgd_step_size": setup.eval_step_size,
                    "restarts": setup.eval_restarts,
                    "autoattack_max_iter": setup.autoattack_max_iter}}
    (out / "table1.json").write_text(json.dumps(res, indent=2) + "\n")
    (out / "table1.md").write_text(_table_markdown(res) + "\n")
    return res


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _table_markdown(res: dict[str, Any]) -> str:
    eps = list(res["optimal_accuracy"])
    head = "| model | clean | " + " | ".join(
        f"eps={e}: PGD-{res['eval']['pgd_steps']} | eps={e}: AutoAttack | eps={e}: worst"
        for e in eps) + " |"
    head += " flag |"
    lines = [head, "|" + "---|" * (3 + 3 * len(eps))]
    for r in res["rows"]:
        cells = [r["model"], _pct(r["clean"])]
        for e in eps:
            d = r[e]
            cells += [_pct(d.get("pgd")), _pct(d.get("autoattack")), _pct(d["worst"])]
        above = r.get("above_optimum") or []
        cells.append("ABOVE OPTIMUM at eps " + ", ".join(f"{e:g}" for e in above) if above
                     else "")
        lines.append("| " + " | ".join(cells) + " |")
    opt = [f"exact optimum, {res['optimal_kind']} (no classifier does better)", "-"]
    for e in eps:
        opt += ["", "", _pct(res["optimal_accuracy"][e])]
    opt.append("")
    lines.append("| " + " | ".join(opt) + " |")
    n = res["rows"][0]["n"] if res["rows"] else 0
    lines += ["", f"Test samples: {n}; accuracies are per-sample worst cases over the attacks "
              f"listed. Feasible eps (the optimum is the best constant classifier): "
              f"{res['feasible_eps']:g}. "
              "A flag marks a model more accurate than the optimum allows (a weak attack)."]
    return "\n".join(lines)


def reproduce(setup: str | PaperSetup, out: str | Path, *,
              experiments: tuple[str, ...] = EXPERIMENTS, seed: int = 0, device: str = "cpu",
              data_root: str | None = None, train_size: int | None = None,
              test_size: int | None = None, epochs: int | None = None,
              figure1_eps: tuple[float, ...] | None = None,
              figure2_pairs: tuple[tuple[float, float], ...] | None = None,
              use_autoattack: bool = True,
              quiet: bool = False) -> ReproduceResult:
    """Train what ``experiments`` need and write their figures and tables into ``out``.

    Parameters
    ----------
    setup : str or PaperSetup
        A key of :data:`SETUPS` or a custom setup.
    out : path
        Output directory; ``out/runs/<name>`` holds each training run (reused when
        finished, resumed when interrupted), ``out/eval`` the cached evaluations.
    experiments : tuple of str
        Subset of :data:`EXPERIMENTS`.
    seed, device, data_root, train_size, test_size, epochs, figure1_eps, figure2_pairs
        Overrides (``epochs``: adversarial training from scratch; ``figure2_pairs``:
        ``((a, b), ...)`` with ``0 < a < b``, extended training from ``a`` to ``b``).
    use_autoattack : bool
        Table 1: add AutoAttack when ART is installed (images only).

    Returns
    -------
    ReproduceResult
        ``result.to_dict()`` -- ``{"setup", "experiments", "runs", "train_seconds",
        "figure1", ..., "seconds"}`` -- is what ``out/reproduce.json`` holds.  Dict access
        on the result itself is deprecated (one release, ``DeprecationWarning``).
    """
    if isinstance(setup, str):
        if setup not in SETUPS:
            raise InvalidInputError(f"setup must be one of {', '.join(SETUPS)}, got {setup!r}")
        setup = SETUPS[setup]
    experiments = tuple(experiments)
    if not experiments or any(e not in EXPERIMENTS for e in experiments):
        raise InvalidInputError(f"experiments must be among {', '.join(EXPERIMENTS)}, "
                         f"got {experiments!r}")
    overrides = {k: v for k, v in (("data_root", data_root), ("train_size", train_size),
                                   ("test_size", test_size)) if v is not None}
    if overrides:
        setup = replace(setup, data=replace(setup.data, **overrides))
    if epochs is not None:
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise InvalidInputError(f"epochs must be an integer >= 1, got {epochs!r}")
        setup = replace(setup, epochs=epochs)
    if figure1_eps is not None:
        figure1_eps = tuple(sorted(float(e) for e in figure1_eps))
        if not figure1_eps or any(not math.isfinite(e) or e <= 0 for e in figure1_eps):
            raise InvalidInputError(f"figure1_eps must be finite budgets > 0, got {figure1_eps!r}")
        setup = replace(setup, figure1_eps=figure1_eps)
    if figure2_pairs is not None:
        figure2_pairs = tuple((float(a), float(b)) for a, b in figure2_pairs)
        if not figure2_pairs or any(not (0 < a < b < math.inf) for a, b in figure2_pairs):
            raise InvalidInputError(f"figure2_pairs must be pairs (a, b) with 0 < a < b, finite, "
                             f"got {figure2_pairs!r}")
        setup = replace(setup, figure2_pairs=figure2_pairs)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs = planned_runs(setup, experiments, out=out, seed=seed)
    num_classes = build_data(next(iter(runs.values())).data).num_classes
    t0 = time.perf_counter()
    train_seconds = _train_all(runs, out, device=device, quiet=quiet)
    figures = {name: fn(setup, out, num_classes)
               for name, fn in (("figure1", figure1), ("figure2", figure2), ("figure7", figure7))
               if name in experiments}
    table = None
    if "table1" in experiments:
        table = table1(setup, out, runs, device=device, seed=seed,
                       use_autoattack=use_autoattack, quiet=quiet)
    result = ReproduceResult(setup=setup.name, experiments=experiments, runs=runs,
                             train_seconds=train_seconds, table1=table,
                             seconds=round(time.perf_counter() - t0, 1), **figures)
    (out / "reproduce.json").write_text(json.dumps(result.to_dict(), indent=2, default=str)
                                        + "\n")
    return result
