"""The paper's MNIST Table 1 at full scale on one GPU, inside a hard wall-time budget.

One command (prepared for a session with about 10 minutes on one NVIDIA H200)::

    OMP_NUM_THREADS=1 python benchmarks/gpu_paper_mnist.py --out "$OUT/paper-mnist" \\
        --budget-s 540 --device cuda --cuda-checks

It writes eight small files into ``--out`` (what a device session can fetch: at most
eight files, 16 MiB each)::

    summary.json   plan, probe throughput, what was cut and why, wall time of every phase,
                   every run's metrics.jsonl rows
    log.jsonl      one JSON line per event (probe, plan, epoch, evaluation, cut)
    table1.json / table1.md   the Table 1 analogue beside the paper's numbers
    figure1.png / figure2.png / figure7.png   training adversarial loss per epoch
    cuda_checks.json          (with --cuda-checks) CUDA vs CPU on a small seeded run

and keeps the bulky state in ``--work`` (default ``/tmp/gpu_paper_mnist-<out name>``)::

    runs/<name>/{config.json, metrics.jsonl, checkpoint.pt}   library checkpoint format
    eval/<name>@<eps>.json    per-sample results (a rerun skips finished evaluations)
    plan.json                 the sized protocol (a rerun resumes the same plan)

On the device machine (no repository install, no ART, no MNIST): see
``benchmarks/gpu_paper_mnist.sh`` (``prepare`` here, ``device`` there).

What it does, in order:

1. ``--cuda-checks`` (at most ``--checks-s`` seconds): the CUDA paths the test suite cannot
   run, each against the CPU on a small seeded MNIST subset -- library training
   (:func:`empirical.train.train`), evaluation (:func:`empirical.evaluate.evaluate`), the
   AutoAttack adapter, checkpoint resume, the fast loop of this script against the library
   loop, and the ``audit`` sub-command if the installed ``optrobust-empirical`` has one.
2. Throughput probe: a few hundred optimizer steps of paper-protocol PGD training in each
   candidate execution mode (eager fp32; on CUDA also CUDA graphs, bf16 autocast, and
   several runs interleaved on their own CUDA streams).  A mode is kept only if its weights
   after a few steps agree with eager fp32 from the same state (graphs: to float rounding;
   bf16: loosely); the fastest kept mode is used (bf16 only if 15% faster: it changes the
   protocol's arithmetic).  ``torch.compile`` is not among them: its compilation (tens of
   seconds, again for each new shape) would take a large share of a 7-minute budget, while
   at batch 128 this 3.3M-parameter CNN is expected to be bound by kernel launches, which
   CUDA graphs remove.  ``--modes`` chooses the candidates.
3. Sizing: the cost of the paper's protocol is predicted from the probe; if it does not fit
   the time left after the evaluation reserve, epochs are cut by one factor (adversarial
   30 -> ``30 f`` epochs; IAT's increment 0.01 -> ``0.01 / f``; extended and standard keep 5)
   and ``summary.json`` says exactly what was cut.  Priority when time is short: the
   part that decides the claim (adversarial 0.3, extended 0.3 -> 0.4, IAT 0 -> 0.4,
   evaluated at 0.4), then the standard model, eps 0.3, AutoAttack.
4. Training: the paper's Section 3.1.1 on all 60,000 images (TensorFlow-tutorial CNN =
   ``paper-cnn``, Adam 1e-3, batch 128, signed PGD with random start, step 0.05,
   ``steps = 2.5 eps / 0.05``): ``adv-0.3`` (30 epochs), ``ext-0.3-0.4`` (5 epochs from
   ``adv-0.3``), ``iat-0-0.4`` (+0.01 per epoch to 0.4, then 2 epochs at 0.4, as
   ``reproduce --setup paper-mnist``), ``standard`` (5 epochs).  Independent runs train
   interleaved; data stay on the device; every epoch is checkpointed, a rerun resumes.
5. Evaluation on all 10,000 test images: PGD-200 (step 0.01, random start,
   :func:`empirical.attacks.pgd`) at eps 0.3 and 0.4, then AutoAttack
   (:func:`empirical.attacks.autoattack`, ART) on the samples PGD did not break, as far as
   the budget allows; the per-sample worst case is reported on the images AutoAttack
   covered.

``--tiny`` runs the same pipeline at a size a CPU does in well under a minute (256 training
/ 128 test images, 1 epoch per run, few PGD steps); the tests run it.

The fast loop (:class:`FastRun`) does exactly what :func:`empirical.train.train` does per
batch (same seeds, same PGD with best-iterate tracking, same clean forward, same Adam
step), without per-batch host synchronisation; ``--cuda-checks`` and
``tests/empirical/test_gpu_script.py`` compare the two.

References
----------
Shaeiri, Nobahari, Rohban, "Towards Deep Learning Models Resistant to Large
Perturbations": Section 3.1.1 (protocol), 3.1.3 (PGD-200), 3.4 (IAT), Table 1,
Figures 1, 2, 7.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from empirical.checkpoint import (
    CHECKPOINT_FORMAT,
    get_rng_state,
    load_checkpoint,
    read_jsonl,
    write_json,
    write_jsonl,
)
from empirical.config import PRESETS, TrainConfig, apply_preset
from empirical.data import DataSpec, build_data
from empirical.models import build_model
from empirical.schedules import derive_seed, epochs_to_reach

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data"

#: The paper's Table 1 (MNIST, l_inf): clean, eps 0.3, eps 0.4, in percent.
PAPER_TABLE1 = {
    "adv-0.3": (98, 91, 15),
    "ext-0.3-0.4": (98, 94, 90),
    "iat-0-0.4": (98, 95, 91),
}
TABLE_EPS = (0.3, 0.4)
CLAIM_EPS = 0.4
#: Evaluation and run priority: the runs that decide the claim first.
RUN_ORDER = ("adv-0.3", "ext-0.3-0.4", "iat-0-0.4", "standard")


@dataclass(frozen=True, kw_only=True)
class Scale:
    """Sizes of one invocation (``full`` or ``tiny``)."""

    train_size: int | None
    test_size: int | None
    epoch_eval_size: int
    eval_steps: int
    eval_step_size: float
    eval_batch: int
    aa_max_iter: int | None
    aa_chunk: int
    probe_steps: int


FULL = Scale(train_size=None, test_size=None, epoch_eval_size=1000, eval_steps=200,
             eval_step_size=0.01, eval_batch=10000, aa_max_iter=100, aa_chunk=2000,
             probe_steps=150)
TINY = Scale(train_size=256, test_size=128, epoch_eval_size=64, eval_steps=5,
             eval_step_size=0.1, eval_batch=128, aa_max_iter=2, aa_chunk=128, probe_steps=2)
#: The CNN of --tiny unless --model says otherwise (paper-cnn is ~10x slower on a CPU).
TINY_MODEL = "small-cnn"


# ----------------------------------------------------------------------------- budget
class BudgetExceeded(BaseException):  # noqa: N818 (not an error: the clock ran out)
    """Raised by the interval timer at a deadline; a ``BaseException`` so that the phases'
    ``except Exception`` (a failing mode, a failing check) do not swallow it."""


@contextlib.contextmanager
def hard_deadline(deadline: float) -> Iterator[None]:
    """Raise :class:`BudgetExceeded` in the main thread at ``deadline`` (perf_counter time)
    even inside one long step (a check, an AutoAttack chunk); restores the previous timer."""
    import signal

    def fire(signum: int, frame: Any) -> None:
        raise BudgetExceeded

    left = deadline - time.perf_counter()
    if left <= 0:
        raise BudgetExceeded
    old = signal.signal(signal.SIGALRM, fire)
    prev = signal.setitimer(signal.ITIMER_REAL, left)[0]
    t_set = time.perf_counter()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if prev > 0:  # an outer deadline: re-arm what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(1e-3, prev - (time.perf_counter()
                                                                 - t_set)))


# ----------------------------------------------------------------------------- logging
class Log:
    """Events to ``log.jsonl`` (flushed per line) and one line each to stderr."""

    def __init__(self, out: Path, quiet: bool = False) -> None:
        self.path = out / "log.jsonl"
        self.t0 = time.perf_counter()
        self.quiet = quiet

    def __call__(self, event: str, **fields: Any) -> None:
        row = {"t": round(time.perf_counter() - self.t0, 2), "event": event, **fields}
        with open(self.path, "a") as fh:
            fh.write(json.dumps(row, default=str) + "\n")
        if not self.quiet:
            extra = " ".join(f"{k}={v}" for k, v in fields.items() if not isinstance(v, dict))
            print(f"[{row['t']:7.1f}s] {event} {extra}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- protocol
def paper_configs(data: DataSpec, out: Path, *, factor: float = 1.0, seed: int = 0,
                  epoch_eval_size: int = 1000, tiny: bool = False,
                  model: str | None = None) -> dict[str, TrainConfig]:
    """The four runs of Table 1 with the ``paper-mnist`` preset, epochs cut by ``factor``.

    ``factor = 1`` is the paper: adversarial 30 epochs at 0.3, extended 5 epochs at 0.4
    from it, IAT +0.01 per epoch from 0 (41 epochs to reach 0.4, then 2 more), standard 5.
    ``factor < 1``: ``round(30 factor)`` adversarial epochs and IAT increment
    ``0.01 / factor``.  ``tiny``: one epoch per run, IAT 0 -> 0.4 in two epochs.
    """
    preset = PRESETS["paper-mnist"]
    inc = preset["by_method"]["iterative"]["eps_increment"]

    def make(method: str, **kw: Any) -> TrainConfig:
        d = apply_preset("paper-mnist", method, {"seed": seed, "eval_size": epoch_eval_size,
                                                 **({"model": model} if model else {}), **kw})
        spec = DataSpec(**{**d.pop("data"), **{k: getattr(data, k) for k in
                                               ("data_root", "train_size", "test_size",
                                                "seed")}})
        return TrainConfig(data=spec, **d)

    adv_epochs = 1 if tiny else max(1, round(preset["by_method"]["adversarial"]["epochs"]
                                             * factor))
    ext_epochs = 1 if tiny else preset["by_method"]["extended"]["epochs"]
    std_epochs = 1 if tiny else preset["by_method"]["standard"]["epochs"]
    iat_inc = CLAIM_EPS if tiny else round(inc / factor, 6)
    iat_epochs = epochs_to_reach(CLAIM_EPS, iat_inc) + (0 if tiny else 2)
    return {
        "adv-0.3": make("adversarial", eps=0.3, epochs=adv_epochs),
        "ext-0.3-0.4": make("extended", eps=CLAIM_EPS, epochs=ext_epochs,
                            init_from=str(out / "runs" / "adv-0.3" / "checkpoint.pt")),
        "iat-0-0.4": make("iterative", eps=CLAIM_EPS, eps_start=0.0, eps_increment=iat_inc,
                          epochs=iat_epochs),
        "standard": make("standard", eps=0.0, epochs=std_epochs, pgd_steps=10,
                         pgd_step_size=None),
    }


def batches_per_epoch(n: int, batch: int) -> int:
    return -(-n // batch)


def run_cost(cfg: TrainConfig, n_train: int, cost: Callable[[int], float]) -> float:
    """Predicted seconds of a run: per epoch, batches x cost(PGD steps of that epoch)."""
    sched = cfg.schedule()
    total = 0.0
    for e in range(1, cfg.epochs + 1):
        eps = sched.eps_at(e)
        steps = cfg.pgd_settings(eps)[0] if cfg.method != "standard" and eps > 0 else -1
        total += batches_per_epoch(n_train, cfg.batch_size) * cost(steps)
    return total


# ----------------------------------------------------------------------------- fast loop
def _has_stochastic_layers(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm | nn.Dropout)
               for m in model.modules())


def _project(z: torch.Tensor, x: torch.Tensor, eps: Any, lower: float,
             upper: float) -> torch.Tensor:
    """l_inf ball then box: the same operations as :meth:`empirical.threat.LpBall.project`."""
    return torch.clamp(torch.max(torch.min(z, x + eps), x - eps), min=lower, max=upper)


class FastRun:
    """One training run of the paper's protocol, the library's batch step without host syncs.

    Per batch, exactly :func:`empirical.train.train`'s work: PGD from a random start drawn
    from the ``attack`` generator of the epoch, keeping per sample the best iterate (success,
    then loss) as :func:`empirical.attacks.pgd` does; a clean forward in eval mode for the
    training accuracy; cross-entropy on the adversarial batch; an Adam step.  Metrics are
    summed on the device and read once per epoch; each epoch is checkpointed in the library's
    format, so :func:`empirical.train.train` (``resume=True``) and ``load_run`` read it.

    ``mode``: ``"eager"`` or ``"graph"`` (CUDA graphs of the PGD step, its final iterate and
    the optimizer step, replayed per batch; the last partial batch runs eagerly).
    ``precision``: ``"fp32"`` or ``"bf16"`` (autocast of the forward passes, CUDA only).
    """

    def __init__(self, name: str, cfg: TrainConfig, out: Path, data: dict[str, torch.Tensor],
                 device: torch.device, *, mode: str = "eager", precision: str = "fp32",
                 epoch_eval_batch: int | None = None, log: Callable[..., None] | None = None,
                 fresh: bool = False) -> None:
        if cfg.norm != "linf" or cfg.augment or cfg.lr_milestones:
            raise ValueError("FastRun implements l_inf PGD training without augmentation or "
                             "learning-rate milestones (the paper's MNIST protocol)")
        if mode not in ("eager", "graph") or precision not in ("fp32", "bf16"):
            raise ValueError(f"unknown mode/precision {mode!r}/{precision!r}")
        if (mode == "graph" or precision == "bf16") and device.type != "cuda":
            raise ValueError("graph mode and bf16 need CUDA")
        self.name, self.cfg, self.out, self.device = name, cfg, out, device
        self.mode, self.precision = mode, precision
        self.log = log or (lambda *a, **k: None)
        self.x_train, self.y_train = data["x_train"], data["y_train"]
        self.x_test = data["x_test"][: cfg.eval_size] if cfg.eval_size else data["x_test"]
        self.y_test = data["y_test"][: cfg.eval_size] if cfg.eval_size else data["y_test"]
        self.epoch_eval_batch = epoch_eval_batch or cfg.batch_size
        self.lower, self.upper = 0.0, 1.0
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derive_seed(cfg.seed, "init"))
            model = build_model(cfg.model, input_shape=tuple(self.x_train.shape[1:]),
                                num_classes=10)
        if mode == "graph" and _has_stochastic_layers(model):
            raise ValueError("graph mode needs a model without BatchNorm/Dropout")
        self.ckpt_path = out / "checkpoint.pt"
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None
        self.epoch = 0
        state = None
        if self.ckpt_path.exists() and not fresh:
            state = load_checkpoint(self.ckpt_path)
            stored = dict(state["config"])
            if stored != cfg.to_dict():
                raise ValueError(f"{self.ckpt_path}: stored config differs from this plan "
                                 "(use another --out or the stored plan)")
        elif cfg.init_from:
            src = load_checkpoint(cfg.init_from)
            model.load_state_dict(src["model"])
        self.model = model.to(device)
        cuda = device.type == "cuda"
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr,
                                          weight_decay=cfg.weight_decay, capturable=cuda)
        self.scheduler = torch.optim.lr_scheduler.MultiStepLR(self.optimizer, milestones=[],
                                                              gamma=cfg.lr_gamma)
        if state is not None:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.history = list(state["metrics"])
            self.best = state.get("best")
            self.epoch = int(state["epoch"])
        self.stream = torch.cuda.Stream(device) if cuda else None
        self.sums = torch.zeros(4, dtype=torch.float64, device=device)
        self.graphs: dict[str, Any] | None = None
        self.seconds = 0.0
        if cuda:  # the run's stream must see the weights copied on the default stream
            torch.cuda.synchronize(device)

    # -- the per-batch work (eager functions; the graphs capture the same functions) --------
    def _autocast(self) -> Any:
        if self.precision == "bf16":
            # no weight-cast cache: it does not survive CUDA graph capture
            return torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=False)
        return contextlib.nullcontext()

    def pgd_iterate(self, x: torch.Tensor, y: torch.Tensor, xa: torch.Tensor,
                    best: tuple[torch.Tensor, torch.Tensor, torch.Tensor], eps: Any,
                    step: Any, need_grad: bool
                    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """One iterate of :func:`empirical.attacks.pgd`: score it, keep the best, step."""
        best_x, best_score, best_ok = best
        if need_grad:
            xa = xa.detach().requires_grad_(True)
            with self._autocast():
                logits = self.model(xa)
        else:
            with torch.no_grad(), self._autocast():
                logits = self.model(xa)
        losses = F.cross_entropy(logits.float(), y, reduction="none")
        with torch.no_grad():
            success = logits.argmax(dim=1) != y
            score = losses.detach()
            better = (success & ~best_ok) | ((success == best_ok) & (score > best_score))
            best_x = torch.where(better.reshape(-1, 1, 1, 1), xa.detach(), best_x)
            best_score = torch.where(better, score, best_score)
            best_ok = best_ok | success
        if need_grad:
            (grad,) = torch.autograd.grad(losses.sum(), xa)
            with torch.no_grad():
                xa = _project(xa.detach() + step * grad.sign(), x, eps, self.lower, self.upper)
        return xa, (best_x, best_score, best_ok)

    def pgd(self, x: torch.Tensor, y: torch.Tensor, noise: torch.Tensor, eps: Any, step: Any,
            steps: int) -> torch.Tensor:
        xa = _project(x + eps * (2 * noise - 1), x, eps, self.lower, self.upper)
        best = (xa, torch.full((len(x),), -math.inf, device=x.device),
                torch.zeros(len(x), dtype=torch.bool, device=x.device))
        self.model.eval()
        for it in range(steps + 1):
            xa, best = self.pgd_iterate(x, y, xa, best, eps, step, need_grad=it < steps)
        self.model.train()
        return best[0]

    def train_step(self, x: torch.Tensor, y: torch.Tensor, xa: torch.Tensor | None) -> None:
        """Loss, Adam step and metric sums (clean loss, adversarial loss, correct, n)."""
        nb = float(len(y))
        if xa is not None:
            self.model.eval()
            with torch.no_grad(), self._autocast():
                clean_logits = self.model(x)
            self.model.train()
            with self._autocast():
                logits = self.model(xa)
            loss = F.cross_entropy(logits.float(), y)
            clean_loss = F.cross_entropy(clean_logits.float(), y).detach()
            correct = (clean_logits.argmax(1) == y).sum()
        else:
            with self._autocast():
                logits = self.model(x)
            loss = F.cross_entropy(logits.float(), y)
            clean_loss = loss.detach()
            correct = (logits.argmax(1) == y).sum()
        self.optimizer.zero_grad(set_to_none=self.graphs is None)
        loss.backward()
        self.optimizer.step()
        with torch.no_grad():
            adv = loss.detach().double() * nb if xa is not None else clean_loss.new_zeros(
                (), dtype=torch.float64)
            self.sums += torch.stack([clean_loss.double() * nb, adv, correct.double(),
                                      torch.full((), nb, dtype=torch.float64,
                                                 device=y.device)])

    # -- CUDA graphs ----------------------------------------------------------------------
    def capture(self) -> None:
        """Capture the PGD iterate, its final iterate and both training steps as CUDA graphs.

        The warm-up iterations the capture needs change weights and optimizer state; both
        are restored in place afterwards, so the run continues from exactly where it was.
        """
        b = self.cfg.batch_size
        dev = self.device
        s: dict[str, Any] = {
            "idx": torch.zeros(b, dtype=torch.long, device=dev),
            "noise": torch.zeros((b, *self.x_train.shape[1:]), device=dev),
            "eps": torch.zeros((), device=dev), "step": torch.zeros((), device=dev),
        }
        params = [p.detach().clone() for p in self.model.parameters()]
        opt_state = {k: {n: (t.clone() if torch.is_tensor(t) else t) for n, t in v.items()}
                     for k, v in self.optimizer.state.items()}
        side = torch.cuda.Stream(dev)
        side.wait_stream(torch.cuda.current_stream(dev))
        graphs: dict[str, torch.cuda.CUDAGraph] = {}
        out: dict[str, Any] = {}

        def load_and_init() -> None:
            x = self.x_train.index_select(0, s["idx"])
            y = self.y_train.index_select(0, s["idx"])
            xa = _project(x + s["eps"] * (2 * s["noise"] - 1), x, s["eps"], self.lower,
                          self.upper)
            out["x"], out["y"], out["xa"] = x, y, xa
            out["best"] = (xa.clone(), torch.full((b,), -math.inf, device=dev),
                           torch.zeros(b, dtype=torch.bool, device=dev))

        def iterate(need_grad: bool) -> None:
            self.model.eval()
            xa, best = self.pgd_iterate(out["x"], out["y"], out["xa"], out["best"], s["eps"],
                                        s["step"], need_grad)
            out["xa"].copy_(xa)
            for dst, src in zip(out["best"], best, strict=True):
                dst.copy_(src)
            self.model.train()

        fns = {"init": load_and_init, "pgd": lambda: iterate(True),
               "final": lambda: iterate(False),
               "adv_step": lambda: self.train_step(out["x"], out["y"], out["best"][0]),
               "clean_step": lambda: self.train_step(out["x"], out["y"], None)}
        with torch.cuda.stream(side):
            for _ in range(3):
                for name in ("init", "pgd", "final", "adv_step", "clean_step"):
                    fns[name]()
        torch.cuda.current_stream(dev).wait_stream(side)
        self.optimizer.zero_grad(set_to_none=True)
        self.graphs = {}  # train_step now keeps .grad tensors (captured memory)
        for name in ("init", "pgd", "final", "adv_step", "clean_step"):
            g = torch.cuda.CUDAGraph()
            with torch.cuda.graph(g, stream=side):
                fns[name]()
            graphs[name] = g
        torch.cuda.current_stream(dev).wait_stream(side)
        with torch.no_grad():  # undo the warm-up and the captures' side effects
            for p, saved in zip(self.model.parameters(), params, strict=True):
                p.copy_(saved)
            for k, v in self.optimizer.state.items():
                for n, t in v.items():
                    if not torch.is_tensor(t):
                        continue
                    if k in opt_state:
                        t.copy_(opt_state[k][n])
                    else:
                        t.zero_()  # a fresh Adam: step 0, zero moments
            self.sums.zero_()
        torch.cuda.synchronize(dev)
        self.graphs = {"g": graphs, "s": s, "out": out}

    # -- one epoch, one batch at a time ------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.epoch >= self.cfg.epochs

    def epoch_iter(self) -> Iterator[None]:
        """Train the next epoch, yielding after every batch (for interleaving runs)."""
        cfg = self.cfg
        epoch = self.epoch + 1
        t0 = time.perf_counter()
        eps = cfg.schedule().eps_at(epoch)
        adv_train = cfg.method != "standard" and eps > 0
        steps, step = cfg.pgd_settings(eps) if adv_train else (0, 0.0)
        lr = float(self.optimizer.param_groups[0]["lr"])
        order = torch.randperm(len(self.x_train), generator=torch.Generator().manual_seed(
            derive_seed(cfg.seed, "order", epoch))).to(self.device)
        gen = torch.Generator(device=self.device)
        gen.manual_seed(derive_seed(cfg.seed, "attack", epoch, 0))
        self.sums.zero_()
        self.model.train()
        b = cfg.batch_size
        g = self.graphs
        if g is not None:
            g["s"]["eps"].fill_(eps)
            g["s"]["step"].fill_(step)
        for start in range(0, len(order), b):
            idx = order[start : start + b]
            if g is not None and len(idx) == b:
                s = g["s"]
                s["idx"].copy_(idx)
                if adv_train:
                    torch.rand(s["noise"].shape, generator=gen, device=self.device,
                               out=s["noise"])
                    g["g"]["init"].replay()
                    for _ in range(steps):
                        g["g"]["pgd"].replay()
                    g["g"]["final"].replay()
                    g["g"]["adv_step"].replay()
                else:
                    g["g"]["init"].replay()
                    g["g"]["clean_step"].replay()
            else:
                xb, yb = self.x_train[idx], self.y_train[idx]
                xa = None
                if adv_train:
                    noise = torch.rand(xb.shape, generator=gen, device=self.device,
                                       dtype=xb.dtype)
                    xa = self.pgd(xb, yb, noise, eps, step, steps)
                self.train_step(xb, yb, xa)
            yield
        self._finish_epoch(epoch, eps, lr, adv_train, t0)

    def _finish_epoch(self, epoch: int, eps: float, lr: float, adv_train: bool,
                      t0: float) -> None:
        from empirical.attacks import pgd

        sums = self.sums.cpu().tolist()
        if not all(math.isfinite(v) for v in sums):
            raise FloatingPointError(f"{self.name}: training loss became non-finite in epoch "
                                     f"{epoch}; {self.ckpt_path} keeps epoch {epoch - 1}")
        self.scheduler.step()
        cfg = self.cfg
        eval_eps = eps if eps > 0 else cfg.eps
        gen = torch.Generator(device=self.device)
        gen.manual_seed(derive_seed(cfg.seed, "eval", epoch, 0))
        clean = adv = 0
        self.model.eval()
        for s in range(0, len(self.x_test), self.epoch_eval_batch):
            xb = self.x_test[s : s + self.epoch_eval_batch]
            yb = self.y_test[s : s + self.epoch_eval_batch]
            with torch.no_grad():
                clean += int((self.model(xb).argmax(1) == yb).sum())
            if eval_eps > 0:
                steps, step = cfg.pgd_settings(eval_eps)
                xa = pgd(self.model, xb, yb, eps=eval_eps, p=math.inf, steps=steps,
                         step_size=step, random_start=cfg.random_start, lower=self.lower,
                         upper=self.upper, generator=gen)
                with torch.no_grad():
                    adv += int((self.model(xa).argmax(1) == yb).sum())
        self.model.train()
        n, nt = sums[3], len(self.x_test)
        row = {"epoch": epoch, "eps": eps, "lr": lr, "train_loss": sums[0] / n,
               "train_adv_loss": sums[1] / n if adv_train else None,
               "train_acc": sums[2] / n, "test_clean_acc": clean / nt,
               "test_adv_acc": adv / nt if eval_eps > 0 else None,
               "seconds": time.perf_counter() - t0}
        self.history.append(row)
        self.epoch = epoch
        metric = row["test_adv_acc"] if row["test_adv_acc"] is not None else row["test_clean_acc"]
        key = [eps, metric]
        if self.best is None or key > self.best["key"]:
            self.best = {"epoch": epoch, "key": key}
        self.save()
        self.seconds += row["seconds"]
        self.log("epoch", run=self.name, **{k: (round(v, 4) if isinstance(v, float) else v)
                                            for k, v in row.items()})

    def save(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        ckpt = {"format": CHECKPOINT_FORMAT, "config": self.cfg.to_dict(), "epoch": self.epoch,
                "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "rng": get_rng_state(),
                "metrics": self.history, "best": self.best, "stopped": None,
                "num_classes": 10, "input_shape": list(self.x_train.shape[1:])}
        # atomic (write, then rename) but without the library's fsync: about 80 epoch
        # checkpoints of 40 MB on an ephemeral machine, where an fsync buys nothing
        tmp = self.ckpt_path.with_suffix(".pt.tmp")
        torch.save(ckpt, tmp)
        os.replace(tmp, self.ckpt_path)
        write_json(self.out / "config.json", self.cfg.to_dict())
        write_jsonl(self.out / "metrics.jsonl", self.history)


def _on(run: FastRun) -> Any:
    return torch.cuda.stream(run.stream) if run.stream is not None else contextlib.nullcontext()


def train_interleaved(runs: list[FastRun], deadline: float,
                      followers: dict[str, Callable[[], FastRun]] | None = None) -> bool:
    """Train ``runs`` to their last epoch, one batch of each in turn, each on its own CUDA
    stream; when run ``name`` is done, ``followers[name]()`` joins (extended training after
    its base run).  Stops at ``deadline`` (``time.perf_counter()``); returns False if cut."""
    followers = dict(followers or {})
    pending = list(runs)
    active: list[tuple[FastRun, Iterator[None]]] = []
    while pending or active:
        for run in pending:
            if run.done:
                if run.name in followers:
                    pending.append(followers.pop(run.name)())
            else:
                active.append((run, run.epoch_iter()))
        pending = []
        for item in list(active):
            run, it = item
            if time.perf_counter() > deadline:
                return False
            with _on(run):
                try:
                    next(it)
                except StopIteration:
                    active.remove(item)
                    pending.append(run)
    return True


# ----------------------------------------------------------------------------- probe
def load_data(scale: Scale, root: str, device: torch.device, seed: int) -> dict[str, Any]:
    spec = DataSpec(name="mnist", data_root=root, train_size=scale.train_size,
                    test_size=scale.test_size, seed=seed)
    bundle = build_data(spec)
    (xtr, ytr), (xte, yte) = bundle.train.tensors, bundle.test.tensors
    data = {"spec": spec, "x_train": xtr.to(device), "y_train": ytr.to(device),
            "x_test": xte.to(device), "y_test": yte.to(device)}
    if device.type == "cuda":  # other streams read these
        torch.cuda.synchronize(device)
    return data


def _probe_cfg(data: dict[str, Any], out: Path, eps: float, model: str | None
               ) -> TrainConfig:
    cfgs = paper_configs(data["spec"], out, model=model)
    return replace(cfgs["adv-0.3"], eps=eps, epochs=1) if eps > 0 else cfgs["standard"]


def _forever(run: FastRun) -> Iterator[None]:
    while True:
        yield from run.epoch_iter()


def _timed_steps(run: FastRun, n: int, sync: Callable[[], None],
                 it: Iterator[None] | None = None) -> float:
    """Seconds per batch over ``n`` batches of ``run`` (after one untimed batch)."""
    it = it or _forever(run)
    next(it)  # first batch: allocations, cuDNN autotuning
    sync()
    t0 = time.perf_counter()
    for _ in range(n):
        next(it)
    sync()
    return (time.perf_counter() - t0) / n


def probe(data: dict[str, Any], out: Path, device: torch.device, scale: Scale, log: Log,
          *, modes: list[tuple[str, str]], model: str | None = None) -> dict[str, Any]:
    """Seconds per batch of each execution mode at 15 PGD steps (eps 0.3) and at 0 steps
    (standard), the agreement of each mode with eager fp32, and of interleaved runs."""
    cuda = device.type == "cuda"

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize(device)

    n = scale.probe_steps
    tmp = out / "probe"
    res: dict[str, Any] = {"modes": {}}
    ref_update = None
    for mode, prec in modes:
        key = f"{mode}-{prec}"
        try:
            cfg = _probe_cfg(data, tmp, 0.3, model)
            run = FastRun(key, cfg, tmp / key, data, device, mode=mode, precision=prec,
                          fresh=True)
            if mode == "graph":
                with torch.cuda.stream(run.stream):
                    run.capture()
            # agreement: the weight update of 3 batches from the same initial state and the
            # same batches, relative to eager fp32's (1.0 would be "no update at all")
            def flat(r: FastRun) -> torch.Tensor:
                return torch.cat([p.detach().float().flatten() for p in r.model.parameters()])

            it = _forever(run)
            if len(modes) > 1:
                before = flat(run)
                with _on(run):
                    for _ in range(3):
                        next(it)
                sync()
                update = flat(run) - before
            if len(modes) == 1:
                dev_rel = 0.0
            elif ref_update is None:
                ref_update = update
                dev_rel = 0.0
            else:
                dev_rel = float((update - ref_update).norm() / ref_update.norm())
            with _on(run):
                t_adv = _timed_steps(run, n, sync, it)
            cfg0 = _probe_cfg(data, tmp, 0.0, model)
            run0 = FastRun(key + "-std", cfg0, tmp / (key + "-std"), data, device, mode=mode,
                           precision=prec, fresh=True)
            if mode == "graph":
                with torch.cuda.stream(run0.stream):
                    run0.capture()
            with _on(run0):
                t_std = _timed_steps(run0, n, sync)
            res["modes"][key] = {"s_per_batch_15_steps": t_adv, "s_per_batch_standard": t_std,
                                 "update_rel_diff_vs_eager_fp32": dev_rel}
            log("probe", mode=key, s_per_batch_15_steps=round(t_adv, 5),
                s_per_batch_standard=round(t_std, 5), rel_diff=f"{dev_rel:.2e}")
        except Exception as exc:  # a mode that fails is not used; the reason is reported
            res["modes"][key] = {"error": f"{type(exc).__name__}: {exc}"}
            log("probe_failed", mode=key, error=f"{type(exc).__name__}: {exc}",
                trace=traceback.format_exc(limit=4))
    ok = {}
    for k, v in res["modes"].items():
        if "error" in v:
            continue
        tol = 0.05 if k.endswith("fp32") else 0.5
        if v["update_rel_diff_vs_eager_fp32"] <= tol:
            ok[k] = v
        else:
            v["rejected"] = f"weight update differs from eager fp32's by more than {tol:g}"
    if not ok:
        raise RuntimeError(f"no execution mode worked: {res['modes']}")
    # bf16 only if clearly faster (it changes the arithmetic of the protocol)
    best = min(ok, key=lambda k: ok[k]["s_per_batch_15_steps"] *
               (1.0 if k.endswith("fp32") else 1.15))
    res["chosen"] = best
    # interleaved runs on separate streams (CUDA): seconds per batch of each
    res["interleave_speedup"] = 1.0
    if cuda and n >= 10:
        mode, prec = best.split("-")
        try:
            runs = [FastRun(f"il{i}", _probe_cfg(data, tmp, 0.3, model), tmp / f"il{i}",
                            data, device, mode=mode, precision=prec, fresh=True)
                    for i in range(3)]
            its = []
            for r in runs:
                with torch.cuda.stream(r.stream):
                    if mode == "graph":
                        r.capture()
                    it = _forever(r)
                    next(it)
                its.append(it)
            sync()
            t0 = time.perf_counter()
            for _ in range(n // 2):
                for r, it in zip(runs, its, strict=True):
                    with torch.cuda.stream(r.stream):
                        next(it)
            sync()
            per_batch = (time.perf_counter() - t0) / (3 * (n // 2))
            res["interleave_s_per_batch"] = per_batch
            res["interleave_speedup"] = max(1.0, ok[best]["s_per_batch_15_steps"] / per_batch)
        except Exception as exc:
            res["interleave_error"] = f"{type(exc).__name__}: {exc}"
    # evaluation throughput: PGD steps on one evaluation batch
    from empirical.attacks import pgd

    m = build_model(model or "paper-cnn", input_shape=tuple(data["x_train"].shape[1:]),
                    num_classes=10).to(device).eval()
    xb = data["x_test"][: scale.eval_batch]
    yb = data["y_test"][: scale.eval_batch]
    pgd(m, xb, yb, eps=0.3, p=math.inf, steps=1, step_size=0.01, lower=0.0, upper=1.0)
    sync()
    t0 = time.perf_counter()
    pgd(m, xb, yb, eps=0.3, p=math.inf, steps=5, step_size=0.01, lower=0.0, upper=1.0)
    sync()
    res["eval_s_per_step_per_image"] = (time.perf_counter() - t0) / (6 * len(xb))
    log("probe_chosen", mode=best, interleave_speedup=round(res["interleave_speedup"], 3),
        eval_us_per_step_image=round(1e6 * res["eval_s_per_step_per_image"], 3))
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return res


# ----------------------------------------------------------------------------- plan
def make_plan(data: dict[str, Any], out: Path, pr: dict[str, Any], seconds: float,
              scale: Scale, *, tiny: bool, seed: int, model: str | None) -> dict[str, Any]:
    """Largest epoch factor whose predicted training time fits ``seconds``."""
    m = pr["modes"][pr["chosen"]]
    t15, t0 = m["s_per_batch_15_steps"], m["s_per_batch_standard"]
    b = max(0.0, (t15 - t0) / 16)  # per PGD iterate (15 gradient steps + the final one)

    def cost(steps: int) -> float:
        return t0 if steps < 0 else t0 + b * (steps + 1) + 0.1 * t0

    n = len(data["x_train"])
    factors = [1.0] if tiny else [1.0, 0.8, 2 / 3, 0.5, 0.4, 1 / 3, 0.25, 0.2, 0.15, 0.1]
    chosen = None
    for f in factors:
        cfgs = paper_configs(data["spec"], out, factor=f, seed=seed,
                             epoch_eval_size=scale.epoch_eval_size, tiny=tiny, model=model)
        single = {k: run_cost(c, n, cost) for k, c in cfgs.items()}
        chain = single["adv-0.3"] + single["ext-0.3-0.4"]
        predicted = 1.05 * max(sum(single.values()) / pr["interleave_speedup"], chain)
        chosen = (f, cfgs, single, predicted)
        if predicted <= seconds:
            break
    assert chosen is not None
    f, cfgs, single, predicted = chosen
    cuts = []
    if f < 1:
        full = paper_configs(data["spec"], out, seed=seed, model=model,
                             epoch_eval_size=scale.epoch_eval_size)
        cuts.append(f"epochs cut by factor {f:.3g}: adversarial {full['adv-0.3'].epochs} -> "
                    f"{cfgs['adv-0.3'].epochs} epochs; IAT increment "
                    f"{full['iat-0-0.4'].eps_increment} -> {cfgs['iat-0-0.4'].eps_increment} "
                    f"per epoch ({full['iat-0-0.4'].epochs} -> {cfgs['iat-0-0.4'].epochs} "
                    "epochs); extended and standard unchanged")
    if predicted > seconds:
        cuts.append(f"even factor {f:.3g} is predicted to need {predicted:.0f} s of the "
                    f"{seconds:.0f} s left: training stops at the deadline, the last complete "
                    "epochs are evaluated")
    if tiny:
        cuts.append("--tiny: 256 training / 128 test images, 1 epoch per run, IAT 0 -> 0.4 in "
                    "2 epochs, PGD-5 evaluation, AutoAttack max_iter 2")
    return {"factor": f, "configs": {k: c.to_dict() for k, c in cfgs.items()},
            "predicted_train_s": {k: round(v, 1) for k, v in single.items()},
            "predicted_wall_s": round(predicted, 1), "train_seconds_available": round(seconds),
            "cuts": cuts}


# ----------------------------------------------------------------------------- evaluation
def _mask_str(mask: torch.Tensor) -> str:
    return "".join("1" if v else "0" for v in mask.tolist())


def _str_mask(s: str) -> torch.Tensor:
    return torch.tensor([c == "1" for c in s], dtype=torch.bool)


def load_model(ckpt: Path, device: torch.device) -> nn.Module:
    """The network of a checkpoint written by :class:`FastRun` or :func:`empirical.train.train`
    (as :func:`empirical.evaluate.load_run`, without rebuilding its data set)."""
    c = load_checkpoint(ckpt)
    model = build_model(c["config"]["model"], input_shape=tuple(c["input_shape"]),
                        num_classes=int(c["num_classes"]))
    model.load_state_dict(c["model"])
    return model.to(device).eval()


def evaluate_pgd(name: str, ckpt: Path, eps: float, data: dict[str, Any], device: torch.device,
                 scale: Scale, work: Path, seed: int, log: Log) -> dict[str, Any]:
    """Clean and PGD-robust masks of a run on the test set (cached in ``eval/``)."""
    from empirical.evaluate import make_attack

    cache = work / "eval" / f"{name}@{eps:g}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    t0 = time.perf_counter()
    model = load_model(ckpt, device)
    epoch = int(load_checkpoint(ckpt)["epoch"])
    attack = make_attack("pgd", eps=eps, steps=scale.eval_steps,
                         step_size=scale.eval_step_size, lower=0.0, upper=1.0,
                         seed=derive_seed(seed, "table", f"{eps:g}"))
    x, y = data["x_test"], data["y_test"]
    clean = torch.zeros(len(x), dtype=torch.bool)
    robust = torch.zeros(len(x), dtype=torch.bool)
    for s in range(0, len(x), scale.eval_batch):
        xb, yb = x[s : s + scale.eval_batch], y[s : s + scale.eval_batch]
        with torch.no_grad():
            ok = model(xb).argmax(1) == yb
        good = ok.clone()
        if ok.any():
            xa = attack(model, xb[ok], yb[ok])
            with torch.no_grad():
                good[ok] = model(xa).argmax(1) == yb[ok]
        clean[s : s + len(xb)] = ok.cpu()
        robust[s : s + len(xb)] = good.cpu()
    res = {"run": name, "eps": eps, "epoch": epoch, "n": len(x),
           "attack": f"PGD-{scale.eval_steps} step {scale.eval_step_size} random start",
           "clean_acc": float(clean.float().mean()), "pgd_acc": float(robust.float().mean()),
           "clean_mask": _mask_str(clean), "pgd_mask": _mask_str(robust),
           "aa_covered": 0, "aa_mask": "", "seconds": round(time.perf_counter() - t0, 2)}
    write_json(cache, res)
    log("eval_pgd", run=name, eps=eps, clean=res["clean_acc"], pgd=res["pgd_acc"],
        seconds=res["seconds"])
    return res


def evaluate_aa(res: dict[str, Any], ckpt: Path, data: dict[str, Any], device: torch.device,
                scale: Scale, work: Path, seed: int, deadline: float, log: Log
                ) -> dict[str, Any]:
    """Extend ``res`` with AutoAttack on the PGD survivors, chunk by chunk until ``deadline``.

    ``aa_mask[i]`` (for the first ``aa_covered`` test images) is the per-sample worst case:
    clean-correct, not broken by PGD and not by AutoAttack.
    """
    import importlib.util

    from empirical.attacks import autoattack

    if importlib.util.find_spec("art") is None:
        res["aa_note"] = "ART (the autoattack extra) not installed"
        return res
    n = res["n"]
    if res["aa_covered"] >= n:
        return res
    model = load_model(ckpt, device)
    robust = _str_mask(res["pgd_mask"])
    worst = list(res["aa_mask"])
    covered = res["aa_covered"]
    per_image = None  # seconds per test image (attacked or not), from the last chunk
    while covered < n:
        left = deadline - time.perf_counter()
        if per_image is None:
            size = min(scale.aa_chunk, 250) if scale is FULL else scale.aa_chunk
        else:  # a chunk predicted to take at most half the time left
            size = min(scale.aa_chunk, int(0.5 * left / max(per_image, 1e-9)))
        if left <= 0 or size < 1:
            break
        t0 = time.perf_counter()
        hi = min(n, covered + size)
        sel = robust[covered:hi].nonzero().flatten() + covered
        chunk = robust[covered:hi].clone()
        if len(sel):
            xs = data["x_test"][sel.to(device)]
            ys = data["y_test"][sel.to(device)]
            xa = autoattack(model, xs, ys, eps=res["eps"], p=math.inf, lower=0.0, upper=1.0,
                            batch_size=min(len(sel), 1000), max_iter=scale.aa_max_iter,
                            seed=derive_seed(seed, "aa", covered) % 2**32)
            with torch.no_grad():
                still = (model(xa).argmax(1) == ys).cpu()
            chunk[sel - covered] = still
        worst.extend("1" if v else "0" for v in chunk.tolist())
        last = time.perf_counter() - t0
        per_image = last / (hi - covered)
        covered = hi
        res.update(aa_covered=covered, aa_mask="".join(worst),
                   aa_attack=f"ART AutoAttack max_iter={scale.aa_max_iter}",
                   aa_seconds=round(res.get("aa_seconds", 0.0) + last, 2))
        write_json(work / "eval" / f"{res['run']}@{res['eps']:g}.json", res)
    log("eval_aa", run=res["run"], eps=res["eps"], covered=covered)
    return res


def table(results: dict[tuple[str, float], dict[str, Any]], out: Path, summary: dict[str, Any]
          ) -> dict[str, Any]:
    """``table1.json`` and ``table1.md``: PGD on all images, worst case where AA covered."""
    rows = []
    for name in RUN_ORDER:
        row: dict[str, Any] = {"run": name}
        for eps in TABLE_EPS:
            r = results.get((name, eps))
            if r is None:
                continue
            row["clean_acc"] = r["clean_acc"]
            row["epoch"] = r["epoch"]
            row["n"] = r["n"]
            row[f"pgd_acc@{eps:g}"] = r["pgd_acc"]
            k = r["aa_covered"]
            if k:
                worst = _str_mask(r["aa_mask"])
                pgd_k = _str_mask(r["pgd_mask"])[:k]
                row[f"worst_acc@{eps:g}"] = float(worst.float().mean())
                row[f"pgd_acc_same_images@{eps:g}"] = float(pgd_k.float().mean())
                row[f"aa_images@{eps:g}"] = k
        if name in PAPER_TABLE1:
            row["paper"] = dict(zip(("clean", "0.3", "0.4"), PAPER_TABLE1[name], strict=True))
        rows.append(row)
    res = {"table": rows, "protocol": summary.get("plan", {}).get("cuts", []),
           "eval": next(iter(results.values()))["attack"] if results else None}
    write_json(out / "table1.json", res)

    def pct(v: Any) -> str:
        return "-" if v is None else f"{100 * v:.1f}"

    lines = ["| model | epochs | clean | PGD @0.3 | PGD @0.4 | worst PGD+AA @0.3 (images) | "
             "worst PGD+AA @0.4 (images) | paper clean / 0.3 / 0.4 |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        w = [f"{pct(r.get(f'worst_acc@{e:g}'))} ({r.get(f'aa_images@{e:g}', 0)})"
             for e in TABLE_EPS]
        paper = " / ".join(str(v) for v in r["paper"].values()) if "paper" in r else "-"
        lines.append(f"| {r['run']} | {r.get('epoch', '-')} | {pct(r.get('clean_acc'))} | "
                     f"{pct(r.get('pgd_acc@0.3'))} | {pct(r.get('pgd_acc@0.4'))} | {w[0]} | "
                     f"{w[1]} | {paper} |")
    notes = [f"- {c}" for c in res["protocol"]]
    (out / "table1.md").write_text("\n".join(lines + [""] + notes) + "\n")
    return res


def figures(out: Path, work: Path, label: str = "paper-mnist at full scale") -> None:
    """Training adversarial loss per epoch: Fig. 1 (adv-0.3, standard), Fig. 2 (adv-0.3
    followed by its extension to 0.4), Fig. 7 (IAT with its eps)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def loss(name: str) -> list[float]:
        p = work / "runs" / name / "metrics.jsonl"
        rows = read_jsonl(p) if p.exists() else []
        return [r["train_loss"] if r["train_adv_loss"] is None else r["train_adv_loss"]
                for r in rows]

    adv, ext, iat, std = (loss(n) for n in RUN_ORDER)
    ln10 = math.log(10)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(range(1, len(adv) + 1), adv, "o-", ms=3, label="adversarial, eps = 0.3")
    ax.plot(range(1, len(std) + 1), std, "s-", ms=3, label="standard (clean loss)")
    ax.axhline(ln10, color="grey", ls=":", lw=1, label="constant classifier, ln 10")
    ax.set(xlabel="epoch", ylabel="training loss",
           title=f"{label}: training from random initialization")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "figure1.png", dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(range(1, len(adv) + 1), adv, "o-", ms=3, label="adversarial, eps = 0.3")
    ax.plot(range(len(adv) + 1, len(adv) + len(ext) + 1), ext, "s-", ms=3,
            label="extended 0.3 -> 0.4")
    ax.axvline(len(adv) + 0.5, color="grey", lw=0.8)
    ax.axhline(ln10, color="grey", ls=":", lw=1)
    ax.set(xlabel="epoch", ylabel="training adversarial loss",
           title=f"{label}: extended training 0.3 -> 0.4")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "figure2.png", dpi=120)
    plt.close(fig)
    p = work / "runs" / "iat-0-0.4" / "metrics.jsonl"
    eps = [r["eps"] for r in read_jsonl(p)] if p.exists() else []
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(range(1, len(iat) + 1), iat, "o-", ms=3, label="IAT training loss")
    ax.axhline(ln10, color="grey", ls=":", lw=1)
    ax2 = ax.twinx()
    ax2.plot(range(1, len(eps) + 1), eps, color="crimson", ls="--", lw=1, label="eps")
    ax2.set_ylabel("eps of the epoch", color="crimson")
    ax.set(xlabel="epoch", ylabel="training (adversarial) loss",
           title=f"{label}: IAT 0 -> 0.4")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(out / "figure7.png", dpi=120)
    plt.close(fig)


# ----------------------------------------------------------------------------- cuda checks
def _close(a: float | None, b: float | None, tol: float) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= tol


def cuda_checks(out: Path, work: Path, device: torch.device, root: str, seed: int, log: Log,
                deadline: float) -> dict[str, Any]:
    """The CUDA paths the test suite cannot run, each compared with the CPU on a small seeded
    MNIST run (512 training / 256 test images, small CNN, 2 epochs at eps 0.3).

    Within noise means: training metrics within 0.05 (loss) / 0.05 (accuracy) after two
    epochs; accuracies of one set of weights within 0.03 (different random-start streams);
    resume on one device bit-equal on CPU and within 1e-4 on CUDA (cuDNN's kernels need not
    be deterministic).  On a machine without CUDA ``device`` is the CPU and every check
    compares the CPU with itself (the code paths still run).
    """
    from empirical.attacks import autoattack
    from empirical.evaluate import evaluate, load_run, make_attack
    from empirical.train import train

    res: dict[str, Any] = {"device": str(device), "checks": {}}
    path = out / "cuda_checks.json"
    spec = DataSpec(name="mnist", data_root=root, train_size=512, test_size=256, seed=seed)
    cfg = TrainConfig(data=spec, model="small-cnn", method="adversarial", eps=0.3, epochs=2,
                      pgd_steps=None, pgd_step_size=0.05, eval_size=256, seed=seed)
    work = work / "cuda_checks"
    dev = "cuda" if device.type == "cuda" else "cpu"
    dev_dir = work / f"dev-{dev}"

    def check(name: str, fn: Callable[[], dict[str, Any]]) -> None:
        if time.perf_counter() > deadline:
            res["checks"][name] = {"skipped": "checks budget spent"}
            return
        t0 = time.perf_counter()
        try:
            with hard_deadline(deadline):
                r = fn()
        except BudgetExceeded:
            r = {"ok": None, "skipped": "stopped at the end of the checks' budget"}
        except Exception as exc:
            r = {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                 "trace": traceback.format_exc(limit=6)}
        r["seconds"] = round(time.perf_counter() - t0, 2)
        res["checks"][name] = r
        write_json(path, res)
        log("cuda_check", name=name, ok=r.get("ok"), seconds=r["seconds"])

    import shutil

    shutil.rmtree(work, ignore_errors=True)
    runs: dict[str, Any] = {}

    def training() -> dict[str, Any]:
        runs["cpu"] = train(cfg, work / "cpu", device="cpu", quiet=True)
        runs["dev"] = train(cfg, dev_dir, device=dev, quiet=True)
        a, b = runs["cpu"].final, runs["dev"].final
        diffs = {k: abs(a[k] - b[k]) for k in ("train_adv_loss", "train_acc", "test_adv_acc")}
        ok = diffs["train_adv_loss"] <= 0.05 and diffs["train_acc"] <= 0.05 and \
            diffs["test_adv_acc"] <= 0.05
        return {"ok": ok, "cpu": a, dev: b, "abs_diff": diffs}

    def evaluation() -> dict[str, Any]:
        out_r = {}
        for where in ("cpu", dev):
            run = load_run(str(work / "cpu" / "checkpoint.pt"), device=where)
            x, y = run.bundle.test.tensors
            atk = {"pgd": make_attack("pgd", eps=0.3, steps=20, step_size=0.025, lower=0.0,
                                      upper=1.0, seed=seed)}
            r = evaluate(run.model, x, y, atk, batch_size=128, device=where)
            out_r[where] = {"clean": r.clean_accuracy, "robust": r.robust_accuracy}
        ok = _close(out_r["cpu"]["clean"], out_r[dev]["clean"], 0.01) and \
            _close(out_r["cpu"]["robust"], out_r[dev]["robust"], 0.03)
        return {"ok": ok, **out_r}

    def aa_adapter() -> dict[str, Any]:
        out_r = {}
        for where in ("cpu", dev):
            run = load_run(str(work / "cpu" / "checkpoint.pt"), device=where)
            x, y = (t[:64].to(where) for t in run.bundle.test.tensors)
            xa = autoattack(run.model, x, y, eps=0.3, p=math.inf, lower=0.0, upper=1.0,
                            max_iter=10, seed=seed)
            with torch.no_grad():
                out_r[where] = float((run.model(xa).argmax(1) == y).float().mean())
            out_r[where + "_linf"] = float((xa - x).abs().amax())
        return {"ok": _close(out_r["cpu"], out_r[dev], 0.05) and out_r[dev + "_linf"] <= 0.3
                + 1e-5, **out_r}

    def resume() -> dict[str, Any]:
        cut = work / f"{dev}-resume"
        train(cfg, cut, device=dev, quiet=True, stop_after=1)
        r = train(cfg, cut, device=dev, quiet=True, resume=True)
        a, b = runs["dev"].final, r.final
        diffs = {k: abs(a[k] - b[k]) for k in ("train_loss", "train_adv_loss", "train_acc")}
        return {"ok": max(diffs.values()) <= (0.0 if dev == "cpu" else 1e-4), "abs_diff": diffs}

    def fast_loop() -> dict[str, Any]:
        bundle = build_data(spec)
        (xtr, ytr), (xte, yte) = bundle.train.tensors, bundle.test.tensors
        data = {"x_train": xtr.to(dev), "y_train": ytr.to(dev), "x_test": xte.to(dev),
                "y_test": yte.to(dev)}
        out_r: dict[str, Any] = {}
        modes = [("eager", "fp32")] + ([("graph", "fp32"), ("eager", "bf16")]
                                       if dev == "cuda" else [])
        lib = runs["dev"].final
        ok = True
        for mode, prec in modes:
            fr = FastRun(mode, cfg, work / f"fast-{mode}-{prec}", data, torch.device(dev),
                         mode=mode, precision=prec, fresh=True)
            with _on(fr):
                if mode == "graph":
                    fr.capture()
            train_interleaved([fr], math.inf)
            row = fr.history[-1]
            diffs = {k: abs(row[k] - lib[k]) for k in ("train_loss", "train_adv_loss",
                                                         "train_acc")}
            tol = (1e-6 if dev == "cpu" else 5e-3) if prec == "fp32" else 0.05
            out_r[f"{mode}-{prec}"] = {"abs_diff_vs_library": diffs,
                                       "ok": max(diffs.values()) <= tol}
            ok &= out_r[f"{mode}-{prec}"]["ok"]
        return {"ok": ok, **out_r}

    def audit() -> dict[str, Any]:
        base = [sys.executable, "-m", "empirical", "audit"]
        h = subprocess.run(base + ["--help"], capture_output=True, text=True, timeout=120)
        if h.returncode != 0:
            return {"ok": None, "note": "no audit sub-command in this version"}
        out_r: dict[str, Any] = {}
        for where in ("cpu", dev) if dev != "cpu" else ("cpu",):
            cmd = base + ["--weights", str(work / "cpu" / "checkpoint.pt"), "--dataset",
                          "mnist", "--data-root", root, "--n", "100", "--eps", "0.3",
                          "--autoattack", "reduced", "--no-checklist", "--time-limit", "30",
                          "--out", str(work / f"audit-{where}"), "--device", where, "--json"]
            left = max(10.0, deadline - time.perf_counter())  # within the checks' budget
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=left)
            out_r[where] = {"rc": r.returncode, "stdout": r.stdout[-3000:],
                            "stderr": r.stderr[-1500:], "command": " ".join(cmd)}
        return {"ok": all(v["rc"] == 0 for v in out_r.values()), **out_r}

    check("training", training)
    if "cpu" in runs and "dev" in runs:
        check("evaluation", evaluation)
        check("autoattack_adapter", aa_adapter)
        check("checkpoint_resume", resume)
        check("fast_loop_vs_library", fast_loop)
    check("audit", audit)
    res["all_ok"] = all(c.get("ok") in (True, None) for c in res["checks"].values()
                        if "skipped" not in c)
    res["checked"] = sorted(k for k, c in res["checks"].items() if c.get("ok") is True)
    write_json(path, res)
    return res


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True,
                    help="output folder: the eight result files")
    ap.add_argument("--work", type=Path, default=None,
                    help="checkpoints, evaluation caches, plan (resumed from if present); "
                         "default /tmp/gpu_paper_mnist-<out name>")
    ap.add_argument("--budget-s", type=float, required=True,
                    help="hard wall-time budget of the whole command, seconds")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                    help="default: auto (cuda when available)")
    ap.add_argument("--tiny", action="store_true", help="CPU smoke size (< 60 s)")
    ap.add_argument("--cuda-checks", action="store_true",
                    help="first compare the CUDA paths with the CPU on a small seeded run")
    ap.add_argument("--checks-s", type=float, default=90.0,
                    help="at most this many seconds for --cuda-checks (default 90)")
    ap.add_argument("--skip-run", action="store_true", help="only the --cuda-checks")
    ap.add_argument("--data-root", default=str(DEFAULT_ROOT))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", default=None, help="default: the preset's paper-cnn")
    ap.add_argument("--aa-share", type=float, default=0.15,
                    help="share of the budget reserved for AutoAttack (default 0.15)")
    ap.add_argument("--modes", default=None,
                    help="comma list of execution modes to probe, e.g. eager-fp32,graph-fp32 "
                         "(default: all that the device supports)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    end = t_start + args.budget_s
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    import tempfile

    work: Path = args.work or Path(tempfile.gettempdir()) / f"gpu_paper_mnist-{out.name}"
    work.mkdir(parents=True, exist_ok=True)
    log = Log(out, args.quiet)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda but CUDA is not available", file=sys.stderr)
        return 2
    device = torch.device("cuda" if args.device in ("auto", "cuda") and
                          torch.cuda.is_available() else "cpu")
    scale = TINY if args.tiny else FULL
    if args.tiny and args.model is None:
        args.model = TINY_MODEL
    summary_path = out / "summary.json"
    summary: dict[str, Any] = json.loads(summary_path.read_text()) if summary_path.exists() \
        else {}
    summary.setdefault("invocations", []).append(
        {"argv": sys.argv if argv is None else argv, "device": str(device),
         "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
         "torch": torch.__version__, "budget_s": args.budget_s,
         "threads": torch.get_num_threads()})
    log("start", device=str(device), budget_s=args.budget_s, tiny=args.tiny)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    if args.cuda_checks:
        c = cuda_checks(out, work, device, args.data_root, args.seed, log,
                        min(end, time.perf_counter() + args.checks_s))
        summary["cuda_checks_ok"] = c["all_ok"]
    if args.skip_run:
        write_json(summary_path, summary)
        return 0
    phases: dict[str, float] = {}

    def pipeline() -> None:
        t0 = time.perf_counter()
        data = load_data(scale, args.data_root, device, args.seed)
        phases["data_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        if args.modes:
            modes = [tuple(m.split("-")) for m in args.modes.split(",")]
        elif device.type == "cuda":
            modes = [("eager", "fp32"), ("graph", "fp32"), ("eager", "bf16"), ("graph", "bf16")]
        else:
            modes = [("eager", "fp32")]
        pr = probe(data, work, device, scale, log, modes=modes, model=args.model)
        summary["probe"] = pr
        phases["probe_s"] = round(time.perf_counter() - t0, 2)
        n_test = len(data["x_test"])
        pgd_reserve = (len(RUN_ORDER) * len(TABLE_EPS) * (scale.eval_steps + 1) * n_test *
                       pr["eval_s_per_step_per_image"] * 1.3 + 5.0)
        aa_reserve = max(0.0 if args.tiny else 20.0, args.aa_share * args.budget_s)
        write_reserve = 5.0 if args.tiny else 15.0
        train_s = end - time.perf_counter() - pgd_reserve - aa_reserve - write_reserve
        plan_path = work / "plan.json"
        if plan_path.exists():
            plan = json.loads(plan_path.read_text())
            log("plan_reused", factor=plan["factor"])
        else:
            plan = make_plan(data, work, pr, train_s, scale, tiny=args.tiny, seed=args.seed,
                             model=args.model)
            write_json(plan_path, plan)
        plan["reserves_s"] = {"pgd_eval": round(pgd_reserve, 1), "autoattack": round(aa_reserve, 1),
                              "writing": write_reserve}
        summary["plan"] = plan
        write_json(summary_path, summary)
        log("plan", factor=plan["factor"], predicted_wall_s=plan["predicted_wall_s"],
            train_s_available=round(train_s), cuts=plan["cuts"])
        from empirical.config import config_from_dict

        cfgs = {k: config_from_dict(v) for k, v in plan["configs"].items()}
        t0 = time.perf_counter()
        train_deadline = end - pgd_reserve - aa_reserve - write_reserve
        summary["training"] = train_phase(cfgs, work, data, device, pr["chosen"], scale, log,
                                          train_deadline)
        phases["train_s"] = round(time.perf_counter() - t0, 2)
        summary["metrics"] = {n: read_jsonl(work / "runs" / n / "metrics.jsonl") for n in RUN_ORDER
                              if (work / "runs" / n / "metrics.jsonl").exists()}
        if not summary["training"]["complete"]:
            cut = {k: v for k, v in summary["training"]["runs"].items()
                   if v["epochs_done"] < v["epochs_planned"]}
            summary["plan"]["cuts"].append(f"training stopped before the plan's end: {cut}")
            log("cut", runs=cut)
        write_json(summary_path, summary)
        eval_phase(out, work, data, device, scale, args.seed, log, summary, phases,
                   end - write_reserve)

    try:
        with hard_deadline(end):
            pipeline()
    except BudgetExceeded:
        done = ", ".join(k for k in phases) or "nothing"
        summary.setdefault("plan", {}).setdefault("cuts", []).append(
            f"the hard budget of {args.budget_s:g} s ran out (phases finished: {done}); the "
            "files hold the last complete state")
        log("budget_exceeded", phases_done=done)
    phases["total_s"] = round(time.perf_counter() - t_start, 2)
    summary["phases"] = phases
    write_json(summary_path, summary)
    log("done", **phases)
    return 0


def train_phase(cfgs: dict[str, TrainConfig], work: Path, data: dict[str, Any],
                device: torch.device, chosen: str, scale: Scale, log: Log,
                deadline: float) -> dict[str, Any]:
    """Train the four runs interleaved (``ext`` joins when ``adv-0.3`` is done) in the probed
    mode; if that mode fails mid-run, the runs resume from their checkpoints in eager fp32."""
    attempts = [chosen] + (["eager-fp32"] if chosen != "eager-fp32" else [])
    complete, errors = False, []
    for attempt in attempts:
        mode, prec = attempt.split("-")

        def make(name: str, mode: str = mode, prec: str = prec) -> FastRun:
            r = FastRun(name, cfgs[name], work / "runs" / name, data, device, mode=mode,
                        precision=prec, epoch_eval_batch=scale.epoch_eval_size, log=log)
            if mode == "graph" and not r.done:
                with torch.cuda.stream(r.stream):
                    r.capture()
            return r

        try:
            first = [make(n) for n in ("adv-0.3", "iat-0-0.4", "standard")]
            complete = train_interleaved(first, deadline,
                                         followers={"adv-0.3": lambda: make("ext-0.3-0.4")})
            break
        except FloatingPointError as exc:  # divergence: keep the last good epochs
            log("diverged", error=str(exc))
            errors.append(str(exc))
            break
        except Exception as exc:  # a failing mode: report it, resume in the next one
            log("train_failed", mode=attempt, error=f"{type(exc).__name__}: {exc}",
                trace=traceback.format_exc(limit=6))
            errors.append(f"{attempt}: {type(exc).__name__}: {exc}")
    status = {}
    for name in RUN_ORDER:
        p = work / "runs" / name / "checkpoint.pt"
        done = int(load_checkpoint(p)["epoch"]) if p.exists() else 0
        status[name] = {"epochs_done": done, "epochs_planned": cfgs[name].epochs}
    return {"complete": complete, "runs": status, "errors": errors}


def eval_phase(out: Path, work: Path, data: dict[str, Any], device: torch.device, scale: Scale,
               seed: int, log: Log, summary: dict[str, Any], phases: dict[str, float],
               deadline: float) -> None:
    """PGD on every (run, eps) -- the claim first --, the table and figures, then AutoAttack
    on PGD's survivors with an equal share of the time left per row; rewrites the table after
    every row, so a kill leaves the latest complete state."""
    t0 = time.perf_counter()
    results: dict[tuple[str, float], dict[str, Any]] = {}
    order = [(n, CLAIM_EPS) for n in RUN_ORDER[:3]] + [(n, 0.3) for n in RUN_ORDER[:3]] + \
        [("standard", e) for e in TABLE_EPS]
    for name, eps in order:
        p = work / "runs" / name / "checkpoint.pt"
        if not p.exists() or time.perf_counter() > deadline - 2:
            continue
        results[(name, eps)] = evaluate_pgd(name, p, eps, data, device, scale, work, seed, log)
    phases["pgd_eval_s"] = round(time.perf_counter() - t0, 2)
    label = "paper-mnist, --tiny smoke run" if scale is TINY else "paper-mnist at full scale"
    table(results, out, summary)
    figures(out, work, label)
    t0 = time.perf_counter()
    pairs = [k for k in order if k in results]
    for i, (name, eps) in enumerate(pairs):
        p = work / "runs" / name / "checkpoint.pt"
        now = time.perf_counter()
        pair_deadline = now + (deadline - now) / (len(pairs) - i)
        try:
            results[(name, eps)] = evaluate_aa(results[(name, eps)], p, data, device, scale,
                                               work, seed, pair_deadline, log)
        except Exception as exc:  # reported; the PGD table still stands
            log("aa_failed", run=name, eps=eps, error=f"{type(exc).__name__}: {exc}")
            summary.setdefault("errors", []).append(f"AutoAttack {name}@{eps}: {exc}")
        table(results, out, summary)
    phases["aa_eval_s"] = round(time.perf_counter() - t0, 2)
    n_test = len(data["x_test"])
    aa = {f"{n}@{e:g}": r["aa_covered"] for (n, e), r in results.items()}
    if any(v < n_test for v in aa.values()):
        summary["plan"]["cuts"].append(f"AutoAttack covered only the first images (of "
                                       f"{n_test}): {aa}")
    t0 = time.perf_counter()
    table(results, out, summary)
    figures(out, work, label)
    phases["write_s"] = round(time.perf_counter() - t0, 2)


if __name__ == "__main__":
    sys.exit(main())
