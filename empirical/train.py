"""Adversarial training: standard, adversarial (Madry), extended and iterative.

The min-max problem is the paper's equation (1),

    min_theta  sum_i  max_{||delta||_p <= eps}  loss(f_theta(x_i + delta), y_i),

with the inner maximisation approximated by PGD (:func:`empirical.attacks.pgd`).

* ``standard``     -- plain empirical risk minimisation (``eps`` only sets the
  budget of the per-epoch robustness check, if > 0).
* ``adversarial``  -- PGD adversarial training at a fixed ``eps`` (Madry et al.).
* ``extended``     -- the paper's proposal: start from the weights of a model
  adversarially trained at a smaller budget (``init_from``), then train at the
  target ``eps``; the optimizer state can be carried over (``carry_optimizer``).
* ``iterative``    -- IAT: ``eps`` grows every epoch from ``eps_start``
  (:class:`empirical.schedules.EpsSchedule`), optionally stopping at a sudden
  rise of the training adversarial loss (``stop_on_rise``), in which case the
  checkpoint is rolled back to the epoch before the rise.

A run directory holds ``config.json``, ``metrics.jsonl``, ``checkpoint.pt``
and ``best.pt`` (see :mod:`empirical.checkpoint`).  Every random choice is
drawn from a generator seeded by :func:`empirical.schedules.derive_seed` from
``(seed, stream, epoch, rank)``, so a resumed run repeats an uninterrupted one
exactly on CPU.  The same code runs under ``torchrun`` with
DistributedDataParallel (gloo on CPU, nccl on GPU); rank 0 writes the files.

References
----------
Paper "Towards Deep Learning Models Resistant to Large Perturbations":
equation (1); Section 3.1.1 (settings), Section 3.4 (IAT), Appendix B.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from empirical import _distributed as dist_utils
from empirical.checkpoint import (
    CHECKPOINT_FORMAT,
    atomic_torch_save,
    get_rng_state,
    load_checkpoint,
    write_json,
    write_jsonl,
)
from empirical.config import (
    METHODS,
    NORMS,
    PRESETS,
    TrainConfig,
    apply_preset,
    config_from_dict,
)
from empirical.data import build_data
from empirical.errors import MissingFileError
from empirical.models import build_model
from empirical.schedules import derive_seed, detect_rise
from optrobust.errors import InvalidInputError, InvalidTypeError

# METHODS, NORMS, PRESETS, TrainConfig, apply_preset and config_from_dict live in
# empirical.config; they stay importable from here because cli, compare, reproduce, evaluate,
# the tests and docs/benchmarks.md import them from empirical.train (issue 12 housekeeping:
# removing them would break those imports for no gain).
__all__ = [
    "METHODS",
    "NORMS",
    "PRESETS",
    "METRIC_KEYS",
    "DivergenceError",
    "TrainConfig",
    "TrainResult",
    "apply_preset",
    "config_from_dict",
    "train",
    "train_or_reuse",
]

#: Keys of every ``metrics.jsonl`` row, in order.
METRIC_KEYS = (
    "epoch",
    "eps",
    "lr",
    "train_loss",
    "train_adv_loss",
    "train_acc",
    "test_clean_acc",
    "test_adv_acc",
    "seconds",
)


class DivergenceError(RuntimeError):
    """The training loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train`.

    ``metrics`` holds every epoch row so far (``METRIC_KEYS``); ``stopped``
    is set when IAT stopped at a loss rise: ``{"epoch", "eps", "final_epoch",
    "final_eps"}`` (the checkpoint holds ``final_epoch``'s weights).
    """

    out_dir: str
    epochs_completed: int
    metrics: tuple[dict[str, Any], ...]
    best_epoch: int | None
    stopped: dict[str, Any] | None
    model: nn.Module | None = field(default=None, compare=False, repr=False)

    @property
    def final(self) -> dict[str, Any] | None:
        """The last metrics row (``None`` before the first epoch)."""
        return self.metrics[-1] if self.metrics else None


def _make_optimizer(cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(
        model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
    )


def _augment(x: torch.Tensor, gen: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop (zero padding ``pad``) and horizontal flip, per image (N, C, H, W)."""
    if x.dim() != 4:
        raise InvalidInputError("augment needs image inputs of shape (N, C, H, W)")
    n, c, h, w = x.shape
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    flip = torch.rand(n, generator=gen) < 0.5
    xp = F.pad(x, (pad, pad, pad, pad))
    rows = (dy[:, None] + torch.arange(h)[None, :])[:, None, :, None]
    cols = dy.new_zeros(n, w) + torch.arange(w)[None, :]
    cols = torch.where(flip[:, None], w - 1 - cols, cols) + dx[:, None]
    idx_n = torch.arange(n)[:, None, None, None]
    idx_c = torch.arange(c)[None, :, None, None]
    return xp[idx_n, idx_c, rows, cols[:, None, None, :]]


def _generator(seed: int, device: torch.device) -> torch.Generator:
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return gen


def _config_mismatch(stored: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    keys = sorted(set(stored) | set(current))
    return [k for k in keys if stored.get(k) != current.get(k)]


def _load_init(cfg: TrainConfig, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    assert cfg.init_from is not None
    src = load_checkpoint(cfg.init_from)
    src_cfg = src["config"]
    if src_cfg.get("model") != cfg.model:
        raise InvalidInputError(
            f"init_from checkpoint has model {src_cfg.get('model')!r}, this run uses {cfg.model!r}"
        )
    try:
        model.load_state_dict(src["model"])
    except RuntimeError as exc:
        msg = str(exc).splitlines()[0]
        raise InvalidInputError(f"init_from weights do not fit the model: {msg}") from None
    if cfg.carry_optimizer:
        if src_cfg.get("optimizer") != cfg.optimizer:
            raise InvalidInputError(
                "carry_optimizer needs the same optimizer type as the init_from run")
        optimizer.load_state_dict(src["optimizer"])
        for group in optimizer.param_groups:  # the new run's lr, not the old schedule's
            group["lr"] = cfg.lr
            group["initial_lr"] = cfg.lr


@torch.no_grad()
def _accuracy_counts(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    return int((model(x).argmax(1) == y).sum())


def _evaluate_epoch(cfg, module, x, y, eps, bounds, device, gen) -> tuple[int, int | None, int]:
    """Clean and PGD-robust correct counts on (this rank's share of) the test set."""
    from empirical.attacks import pgd

    was_training = module.training
    module.eval()
    clean = adv = 0
    try:
        for start in range(0, len(x), cfg.batch_size):
            xb = x[start : start + cfg.batch_size].to(device)
            yb = y[start : start + cfg.batch_size].to(device)
            clean += _accuracy_counts(module, xb, yb)
            if eps > 0:
                steps, step = cfg.pgd_settings(eps)
                xa = pgd(module, xb, yb, eps=eps, p=cfg.p, steps=steps, step_size=step,
                         random_start=cfg.random_start, lower=bounds[0], upper=bounds[1],
                         generator=gen)
                adv += _accuracy_counts(module, xa, yb)
    finally:
        module.train(was_training)
    return clean, (adv if eps > 0 else None), len(x)


def train(
    config: TrainConfig,
    out_dir: str | os.PathLike[str],
    *,
    resume: bool = False,
    device: str = "auto",
    quiet: bool = False,
    stop_after: int | None = None,
) -> TrainResult:
    """Train a model as ``config`` says, writing the run into ``out_dir``.

    Parameters
    ----------
    config : TrainConfig
        The run (data, model, method, budgets, optimizer, seed).
    out_dir : path
        Run directory; must not already hold a checkpoint unless ``resume``.
    resume : bool
        Continue from ``out_dir/checkpoint.pt`` (its stored config must equal
        ``config``, except that ``epochs`` may grow for constant schedules).
    device : {"auto", "cpu", "cuda"}
        ``auto`` picks CUDA when available.  Under ``torchrun`` each rank uses
        ``cuda:LOCAL_RANK`` (or the CPU with gloo).
    quiet : bool
        No progress bar or per-epoch line on stderr.
    stop_after : int or None
        Return after this many epochs *in this call* (time-sliced jobs; the
        run is resumable with ``resume=True``).

    Returns
    -------
    TrainResult

    Raises
    ------
    DivergenceError
        On a NaN/inf training loss; ``checkpoint.pt`` keeps the last good epoch.
    FileNotFoundError
        Missing data files or ``init_from`` checkpoint, or ``resume`` of a
        directory that does not exist.
    ValueError
        Bad settings, or ``resume`` with a different config.
    """
    if not isinstance(config, TrainConfig):
        raise InvalidTypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if stop_after is not None and (not isinstance(stop_after, int) or stop_after < 1):
        raise InvalidInputError(f"stop_after must be an integer >= 1, got {stop_after!r}")
    ctx = dist_utils.setup(device)
    try:
        cuda_devices = [ctx.device] if ctx.device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda_devices):
            return _train(config, Path(out_dir), resume, ctx, quiet, stop_after)
    finally:
        dist_utils.teardown(ctx)


@dataclass
class _Run:
    """The mutable state of one training run inside :func:`train` (built by :func:`_setup`)."""

    cfg: TrainConfig
    out: Path
    ctx: Any
    model: nn.Module
    net: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    num_classes: int
    input_shape: list[int]
    bounds: tuple[float | None, float | None]
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    history: list[dict[str, Any]]
    best: dict[str, Any] | None
    stopped: dict[str, Any] | None
    start_epoch: int

    @property
    def ckpt_path(self) -> Path:
        return self.out / "checkpoint.pt"


def _resume_state(cfg: TrainConfig, out: Path, resume: bool) -> dict[str, Any] | None:
    """The checkpoint to continue from (checked against ``cfg``), or ``None`` for a new run."""
    ckpt_path = out / "checkpoint.pt"
    if not resume:
        if ckpt_path.exists():
            raise InvalidInputError(
                f"out_dir {out} already holds a run: resume it or choose another output directory")
        return None
    if not out.is_dir():
        raise MissingFileError(f"cannot resume: run directory {out} does not exist")
    if not ckpt_path.is_file():
        return None
    state = load_checkpoint(ckpt_path)
    stored = dict(state["config"])
    current = cfg.to_dict()
    grow_ok = cfg.method != "iterative" or cfg.eps_increment is not None
    if grow_ok and cfg.epochs >= state["epoch"]:
        stored["epochs"] = current["epochs"]
    diff = _config_mismatch(stored, current)
    if diff:
        raise InvalidInputError(
            f"cannot resume: the config differs from the stored run in {', '.join(diff)}")
    return state


def _setup(cfg: TrainConfig, out: Path, state: dict[str, Any] | None, ctx: Any) -> _Run:
    """Data, model (seeded init, ``init_from`` or the checkpoint), optimizer and scheduler."""
    bundle = build_data(cfg.data)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(cfg.seed, "init"))
        model = build_model(cfg.model, input_shape=tuple(bundle.input_shape),
                            num_classes=bundle.num_classes)
    optimizer = _make_optimizer(cfg, model)
    if cfg.init_from and state is None:
        _load_init(cfg, model, optimizer)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(
        optimizer, milestones=list(cfg.lr_milestones), gamma=cfg.lr_gamma
    )
    history: list[dict[str, Any]] = []
    best = stopped = None
    start_epoch = 1
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        history = list(state["metrics"])
        best = state.get("best")
        stopped = state.get("stopped")
        start_epoch = int(state["epoch"]) + 1
    model.to(ctx.device)
    if ctx.device.type != "cpu":  # optimizer state follows the parameters
        optimizer.load_state_dict(optimizer.state_dict())
    x_train, y_train = bundle.train.tensors
    x_test, y_test = bundle.test.tensors
    if cfg.eval_size is not None:
        x_test, y_test = x_test[: cfg.eval_size], y_test[: cfg.eval_size]
    return _Run(cfg=cfg, out=out, ctx=ctx, model=model, net=dist_utils.wrap(model, ctx),
                optimizer=optimizer, scheduler=scheduler, num_classes=bundle.num_classes,
                input_shape=list(bundle.input_shape), bounds=(bundle.lower, bundle.upper),
                x_train=x_train, y_train=y_train, x_test=x_test[ctx.rank :: ctx.world],
                y_test=y_test[ctx.rank :: ctx.world], history=history, best=best,
                stopped=stopped, start_epoch=start_epoch)


def _batch_step(run: _Run, xb: torch.Tensor, yb: torch.Tensor, eps: float, adv_train: bool,
                pgd_settings: tuple[int, float], attack_gen: torch.Generator
                ) -> tuple[torch.Tensor, float, int]:
    """One optimizer step: PGD (if ``adv_train``), a clean forward for the training accuracy,
    the loss of equation (1) on the (adversarial) batch.  Returns ``(loss, clean_loss,
    correct)``; the loss is checked for divergence by the caller *before* the update, so it
    is returned with the step not yet taken (see :func:`_train_epoch`)."""
    from empirical.attacks import pgd

    model, net, cfg = run.model, run.net, run.cfg
    if adv_train:
        steps, step = pgd_settings
        xa = pgd(model, xb, yb, eps=eps, p=cfg.p, steps=steps, step_size=step,
                 random_start=cfg.random_start, lower=run.bounds[0], upper=run.bounds[1],
                 generator=attack_gen)
        model.eval()
        with torch.no_grad():
            clean_logits = model(xb)
        model.train()
        logits = net(xa)
        loss = F.cross_entropy(logits, yb)
        clean_loss = F.cross_entropy(clean_logits, yb).item()
        correct = int((clean_logits.argmax(1) == yb).sum())
    else:
        logits = net(xb)
        loss = F.cross_entropy(logits, yb)
        clean_loss = loss.item()
        correct = int((logits.argmax(1) == yb).sum())
    return loss, clean_loss, correct


def _train_epoch(run: _Run, epoch: int, eps: float, show: bool) -> torch.Tensor:
    """One pass over the (sharded) training set; returns the summed ``(clean loss,
    adversarial loss, correct, n, 0)`` of this rank, weighted by batch size.

    Every random choice comes from generators seeded by ``(seed, stream, epoch, rank)``
    (:func:`empirical.schedules.derive_seed`), so the epoch does not depend on the ones
    before it having run in the same process (resume repeats it exactly on CPU).

    Raises
    ------
    DivergenceError
        A non-finite loss on any rank, before the step that would spread it.
    """
    cfg, ctx = run.cfg, run.ctx
    adv_train = cfg.method != "standard" and eps > 0
    torch.manual_seed(derive_seed(cfg.seed, "global", epoch, ctx.rank))  # dropout etc.
    order = torch.randperm(len(run.x_train), generator=_generator(
        derive_seed(cfg.seed, "order", epoch), torch.device("cpu")))
    order = dist_utils.shard(order, ctx)
    attack_gen = _generator(derive_seed(cfg.seed, "attack", epoch, ctx.rank), ctx.device)
    aug_gen = _generator(derive_seed(cfg.seed, "augment", epoch, ctx.rank), torch.device("cpu"))
    settings = cfg.pgd_settings(eps) if adv_train else (0, 0.0)
    sums = torch.zeros(5, dtype=torch.float64)  # clean loss, adv loss, correct, n, bad
    local_bs = cfg.batch_size // ctx.world
    batches = range(0, len(order), local_bs)
    bar = _progress(len(batches), f"epoch {epoch}/{cfg.epochs} eps={eps:.4g}", show)
    run.net.train()
    try:
        for start in batches:
            idx = order[start : start + local_bs]
            xb, yb = run.x_train[idx], run.y_train[idx]
            if cfg.augment:
                xb = _augment(xb, aug_gen)
            xb = xb.to(ctx.device, non_blocking=True)
            yb = yb.to(ctx.device, non_blocking=True)
            loss, clean_loss, correct = _batch_step(run, xb, yb, eps, adv_train, settings,
                                                    attack_gen)
            loss_value = loss.item()
            bad = torch.tensor(0.0 if math.isfinite(loss_value) else 1.0)
            dist_utils.all_reduce_sum(bad, ctx)
            if bad.item() > 0:
                where = f" on rank {ctx.rank}" if ctx.world > 1 else ""
                raise DivergenceError(
                    f"training loss became non-finite ({loss_value}{where}) at epoch {epoch} "
                    f"(eps={eps:.4g}); {run.ckpt_path} keeps epoch {epoch - 1}"
                )
            run.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            run.optimizer.step()
            nb = len(yb)
            sums += torch.tensor([clean_loss * nb, loss.item() * nb, correct, nb, 0.0],
                                 dtype=torch.float64)
            bar.update(1)
    finally:
        bar.close()
    return sums


def _epoch_row(run: _Run, epoch: int, eps: float, sums: torch.Tensor, t0: float,
               lr: float) -> tuple[dict[str, Any], float]:
    """The ``metrics.jsonl`` row of an epoch (training sums + the per-epoch evaluation) and
    the seconds that evaluation took.

    The evaluation runs at the epoch's eps, or at ``cfg.eps`` when that is 0 -- so epoch 1
    of IAT (eps 0, cheap standard training) evaluates at the *target* budget with that
    budget's PGD steps, and on a small training set with the whole test set that epoch is
    several times longer than the next ones (issue 14's "first epoch 5x slower").
    """
    cfg, ctx = run.cfg, run.ctx
    adv_train = cfg.method != "standard" and eps > 0
    dist_utils.all_reduce_sum(sums, ctx)
    t_eval = time.perf_counter()
    eval_gen = _generator(derive_seed(cfg.seed, "eval", epoch, ctx.rank), ctx.device)
    eval_eps = eps if eps > 0 else cfg.eps
    c_clean, c_adv, n_test = _evaluate_epoch(cfg, run.model, run.x_test, run.y_test, eval_eps,
                                             run.bounds, ctx.device, eval_gen)
    ev = torch.tensor([c_clean, c_adv or 0, n_test], dtype=torch.float64)
    dist_utils.all_reduce_sum(ev, ctx)
    eval_seconds = time.perf_counter() - t_eval
    n = float(sums[3])
    row = {
        "epoch": epoch,
        "eps": eps,
        "lr": lr,
        "train_loss": float(sums[0]) / n,
        "train_adv_loss": float(sums[1]) / n if adv_train else None,
        "train_acc": float(sums[2]) / n,
        "test_clean_acc": float(ev[0] / ev[2]) if ev[2] > 0 else None,
        "test_adv_acc": float(ev[1] / ev[2]) if (c_adv is not None and ev[2] > 0) else None,
        "seconds": time.perf_counter() - t0,
    }
    return row, eval_seconds


def _stop_on_rise(run: _Run, epoch: int, eps: float, show: bool) -> bool:
    """IAT's stop rule: at a sudden rise, roll the checkpoint back to the epoch before."""
    cfg, history = run.cfg, run.history
    rise = (cfg.stop_on_rise is not None and len(history) >= 2
            and detect_rise([r["train_loss"] if r["train_adv_loss"] is None
                             else r["train_adv_loss"] for r in history], cfg.stop_on_rise))
    if not rise:
        return False
    prev = history[-2]
    run.stopped = {"epoch": epoch, "eps": eps, "final_epoch": prev["epoch"],
                   "final_eps": prev["eps"]}
    if run.ctx.rank == 0:
        rolled = load_checkpoint(run.ckpt_path)
        rolled["metrics"] = history
        rolled["stopped"] = run.stopped
        atomic_torch_save(rolled, run.ckpt_path)
        write_jsonl(run.out / "metrics.jsonl", history)
        run.model.load_state_dict(rolled["model"])
    if show:
        print(f"epoch {epoch}: training adversarial loss rose by more than "
              f"x{cfg.stop_on_rise}; stopped, keeping epoch {prev['epoch']} "
              f"(eps={prev['eps']:.4g})", file=sys.stderr)
    dist_utils.barrier(run.ctx)
    return True


def _save_epoch(run: _Run, epoch: int, eps: float, row: dict[str, Any]) -> None:
    """Track the best epoch (largest eps, then robust accuracy) and write the checkpoint,
    ``best.pt`` when improved, and ``metrics.jsonl`` (rank 0)."""
    metric = row["test_adv_acc"] if row["test_adv_acc"] is not None else row["test_clean_acc"]
    key = [eps, metric if metric is not None else -1.0]
    improved = run.best is None or key > run.best["key"]
    if improved:
        run.best = {"epoch": epoch, "key": key}
    if run.ctx.rank != 0:
        return
    ckpt = {
        "format": CHECKPOINT_FORMAT,
        "config": run.cfg.to_dict(),
        "epoch": epoch,
        "model": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "scheduler": run.scheduler.state_dict(),
        "rng": get_rng_state(),
        "metrics": run.history,
        "best": run.best,
        "stopped": None,
        "num_classes": run.num_classes,
        "input_shape": run.input_shape,
    }
    atomic_torch_save(ckpt, run.ckpt_path)
    if improved:
        atomic_torch_save(ckpt, run.out / "best.pt")
    write_jsonl(run.out / "metrics.jsonl", run.history)


def _train(cfg, out, resume, ctx, quiet, stop_after) -> TrainResult:
    """The body of :func:`train` inside its device/RNG context: resume check, set-up, then
    per epoch :func:`_train_epoch`, :func:`_epoch_row`, the IAT stop rule and the save."""
    state = _resume_state(cfg, out, resume)
    run = _setup(cfg, out, state, ctx)
    if ctx.rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / "config.json", cfg.to_dict())
        write_jsonl(out / "metrics.jsonl", run.history)
    dist_utils.barrier(ctx)
    if cfg.batch_size % ctx.world:
        raise InvalidInputError(f"batch_size ({cfg.batch_size}) must be divisible by the number of "
                         f"processes ({ctx.world})")
    schedule = cfg.schedule()
    show = not quiet and ctx.rank == 0
    done_now = 0
    last_epoch = run.start_epoch - 1
    for epoch in range(run.start_epoch, cfg.epochs + 1):
        if run.stopped is not None or (stop_after is not None and done_now >= stop_after):
            break
        t0 = time.perf_counter()
        eps = schedule.eps_at(epoch)
        lr = float(run.optimizer.param_groups[0]["lr"])
        sums = _train_epoch(run, epoch, eps, show)
        run.scheduler.step()
        row, eval_seconds = _epoch_row(run, epoch, eps, sums, t0, lr)
        run.history.append(row)
        done_now += 1
        last_epoch = epoch
        if _stop_on_rise(run, epoch, eps, show):
            break
        _save_epoch(run, epoch, eps, row)
        if show:
            print(_format_row(row, eval_seconds), file=sys.stderr)
        dist_utils.barrier(ctx)
    model = run.model
    final_model = model.cpu() if ctx.device.type != "cpu" else model
    return TrainResult(
        out_dir=str(out),
        epochs_completed=last_epoch if run.stopped is None else run.stopped["final_epoch"],
        metrics=tuple(run.history),
        best_epoch=run.best["epoch"] if run.best else None,
        stopped=run.stopped,
        model=final_model,
    )


def train_or_reuse(config: TrainConfig, out_dir: str | os.PathLike[str], *,
                   device: str = "auto", quiet: bool = False) -> Path:
    """Train ``config`` into ``out_dir`` unless it is already finished there.

    A finished run (its checkpoint has ``config.epochs`` epochs) is reused as is, an
    interrupted one is resumed (:func:`train` with ``resume=True``, which checks that the
    stored config matches), a missing one is trained.  Returns the ``checkpoint.pt`` path.
    """
    ckpt = Path(out_dir) / "checkpoint.pt"
    if ckpt.exists():
        if int(load_checkpoint(str(ckpt)).get("epoch", 0)) >= config.epochs:
            return ckpt
        train(config, out_dir, resume=True, device=device, quiet=quiet)
        return ckpt
    train(config, out_dir, device=device, quiet=quiet)
    return ckpt


def _format_row(row: Mapping[str, Any], eval_seconds: float | None = None) -> str:
    def f(v: Any) -> str:
        return "-" if v is None else f"{v:.4f}"

    took = f"{row['seconds']:.1f}s" + ("" if eval_seconds is None
                                        else f", of which evaluation {eval_seconds:.1f}s")
    return (f"epoch {row['epoch']}: eps={row['eps']:.4g} loss={f(row['train_loss'])} "
            f"adv_loss={f(row['train_adv_loss'])} train_acc={f(row['train_acc'])} "
            f"test_clean={f(row['test_clean_acc'])} test_adv={f(row['test_adv_acc'])} "
            f"({took})")


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, desc: str, show: bool) -> Any:
    if not show or not sys.stderr.isatty():
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False, file=sys.stderr)

