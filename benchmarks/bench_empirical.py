"""Benchmark of the empirical package, printed in one run.

1. PGD throughput (images/s) of :func:`empirical.attacks.pgd` against a plain hand-written
   PGD loop and against ART's ``ProjectedGradientDescent`` (the library behind the
   AutoAttack adapter), on the same model, batch, budget and number of steps.  Goal: within
   1.25x of the plain loop.
2. One adversarial-training epoch on 10k MNIST images with the small CNN (paper's PGD:
   l_inf eps 0.3, step 0.05, 2.5 * eps / step = 15 steps, random start), through
   :func:`empirical.train.train`.
3. ``--epoch-ratio``: the same epoch (``--epoch-size`` images) through
   :func:`empirical.train.train` against a minimal hand-written loop doing the same work
   with its *own* PGD (:func:`plain_pgd`, not the library's): same model initialization,
   batch order, Adam, a clean forward per batch for the training accuracy.  Paired and
   interleaved (the order alternates per repeat); prints the median and range of the
   ratio library / hand-written in CPU seconds and in wall seconds.  ``--compare-train
   FILE`` adds a saved copy of ``empirical/train.py`` (before a change) to the same
   interleaving.  Goal (issue 12): median <= 1.05.

Usage::

    python benchmarks/bench_empirical.py [--threads 2] [--batch 256] [--repeats 3]
        [--data-root ../shared/data] [--skip-train] [--skip-art] [--skip-pgd] [--train-size 10000]
    OMP_NUM_THREADS=1 python benchmarks/bench_empirical.py --threads 1 --skip-pgd --skip-train \
        --epoch-ratio --epoch-size 2000 --repeats 12 [--compare-train old_train.py]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from empirical.attacks import pgd
from empirical.data import DataSpec, build_data
from empirical.models import build_model

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def plain_pgd(model, x, y, eps, step, steps, gen):
    """The textbook loop (Madry et al.): random start, signed steps, clip to ball and box."""
    x_adv = (x + eps * (2 * torch.rand(x.shape, generator=gen) - 1)).clamp(0, 1)
    for _ in range(steps):
        x_adv.requires_grad_(True)
        loss = F.cross_entropy(model(x_adv), y)
        (grad,) = torch.autograd.grad(loss, x_adv)
        with torch.no_grad():
            x_adv = x_adv + step * grad.sign()
            x_adv = torch.min(torch.max(x_adv, x - eps), x + eps).clamp(0, 1)
    return x_adv.detach()


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def bench_pgd(args, x, y):
    torch.manual_seed(0)
    model = build_model("small-cnn", input_shape=(1, 28, 28), num_classes=10).eval()
    eps, step = 0.3, 0.05
    steps = round(2.5 * eps / step)
    n = len(x)
    print(f"PGD l_inf eps={eps} step={step} steps={steps} random start, small-cnn, "
          f"batch {n}, {torch.get_num_threads()} threads, best of {args.repeats}")
    fns = {
        "plain loop": lambda: plain_pgd(model, x, y, eps, step, steps,
                                        torch.Generator().manual_seed(0)),
        "empirical.attacks.pgd": lambda: pgd(model, x, y, eps=eps, p=math.inf, steps=steps,
                                             step_size=step, lower=0.0, upper=1.0,
                                             generator=torch.Generator().manual_seed(0)),
    }
    if not args.skip_art:
        try:
            import numpy as np
            from art.attacks.evasion import ProjectedGradientDescent
            from art.estimators.classification import PyTorchClassifier
        except ImportError:
            print("  (ART not installed: library comparison skipped)")
        else:
            clf = PyTorchClassifier(model=model, loss=torch.nn.CrossEntropyLoss(),
                                    input_shape=(1, 28, 28), nb_classes=10,
                                    clip_values=(0.0, 1.0), device_type="cpu")
            atk = ProjectedGradientDescent(clf, norm=np.inf, eps=eps, eps_step=step,
                                           max_iter=steps, num_random_init=1, batch_size=n,
                                           verbose=False)
            xn, yn = x.numpy(), y.numpy()
            fns["ART ProjectedGradientDescent"] = lambda: torch.from_numpy(
                atk.generate(x=xn, y=yn))
    plain_pgd(model, x, y, eps, step, 1, torch.Generator().manual_seed(0))  # warm-up
    # Interleave the repeats so that load from other processes hits every method alike.
    best: dict[str, float] = {}
    outs: dict[str, torch.Tensor] = {}
    for _ in range(args.repeats):
        for name, fn in fns.items():
            t, outs[name] = best_of(fn, 1)
            best[name] = min(best.get(name, math.inf), t)
    t_plain = best["plain loop"]
    rows = [(name, best[name], outs[name]) for name in fns]
    with torch.no_grad():
        for name, t, xa in rows:
            acc = float((model(xa).argmax(1) == y).float().mean())
            print(f"  {name:30s} {n / t:9.1f} img/s  {t:7.3f} s  ratio to plain "
                  f"{t / t_plain:5.2f}x  robust acc {acc:.3f}")


def bench_train(args):
    from empirical.train import TrainConfig, train

    spec = DataSpec(name="mnist", data_root=str(args.data_root), train_size=args.train_size,
                    test_size=500, seed=0)
    cfg = TrainConfig(data=spec, model="small-cnn", method="adversarial", eps=0.3,
                      norm="linf", epochs=1, batch_size=128, optimizer="adam", lr=1e-3,
                      pgd_steps=None, pgd_step_size=0.05, random_start=True, eval_size=500,
                      seed=0)
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        result = train(cfg, out, device="cpu", quiet=True)
        wall = time.perf_counter() - t0
    final = result.final
    row = (final() if callable(final) else final) or {}
    print(f"One adversarial-training epoch, MNIST {args.train_size} train images, small-cnn, eps 0.3, "
          f"15-step PGD (empirical.train.train), {torch.get_num_threads()} threads:")
    print(f"  wall {wall:.1f} s (incl. data loading and evaluating 500 test images); "
          f"epoch seconds {row.get('seconds')}; train_adv_loss {row.get('train_adv_loss')}; "
          f"test_adv_acc {row.get('test_adv_acc')}")


def hand_epoch(model, x, y, order, *, eps, step, steps, batch, gen):
    """One adversarial-training epoch written out by hand: PGD (:func:`plain_pgd`), a clean
    forward for the training accuracy, cross-entropy on the adversarial batch, Adam step."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sums = torch.zeros(4, dtype=torch.float64)
    for s in range(0, len(order), batch):
        idx = order[s : s + batch]
        xb, yb = x[idx], y[idx]
        model.eval()
        xa = plain_pgd(model, xb, yb, eps, step, steps, gen)
        with torch.no_grad():
            clean = model(xb)
        model.train()
        loss = F.cross_entropy(model(xa), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            sums += torch.stack([F.cross_entropy(clean, yb).double() * len(yb),
                                 loss.detach().double() * len(yb),
                                 (clean.argmax(1) == yb).sum().double(),
                                 torch.tensor(float(len(yb)), dtype=torch.float64)])
    return sums


def _train_module(path: Path | None):
    """``empirical.train``, or a saved copy of it (``--compare-train``: the code before a
    change, measured in the same run)."""
    import importlib.util
    import sys

    import empirical.train

    if path is None:
        return empirical.train
    spec = importlib.util.spec_from_file_location("empirical._train_compared", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def bench_epoch_ratio(args):
    """Library epoch / hand-written epoch, paired and interleaved.

    Both sides are timed in CPU seconds of this process (``time.process_time``; one thread,
    so on a loaded machine the other processes' load does not enter) and in wall seconds.
    The library side is one whole ``train()`` call of one epoch with the data set built
    beforehand (its ``build_data`` returns the same bundle): model set-up, the epoch, the
    1-image per-epoch evaluation, checkpoint and metrics writes.  The hand-written side is
    the model set-up and :func:`hand_epoch`.
    """
    import statistics

    from empirical.schedules import derive_seed

    spec = DataSpec(name="mnist", data_root=str(args.data_root), train_size=args.epoch_size,
                    test_size=100, seed=0)
    bundle = build_data(spec)
    variants = {"library": _train_module(None)}
    if args.compare_train is not None:
        variants[f"library ({args.compare_train.name})"] = _train_module(args.compare_train)
    for mod in variants.values():
        mod.build_data = lambda s, _b=bundle: _b  # data loading is not the epoch's cost
    cfg = variants["library"].TrainConfig(
        data=spec, model="small-cnn", method="adversarial", eps=0.3, norm="linf", epochs=1,
        batch_size=128, optimizer="adam", lr=1e-3, pgd_steps=None, pgd_step_size=0.05,
        random_start=True, eval_size=1, seed=0)
    steps, step = cfg.pgd_settings(0.3)
    x, y = bundle.train.tensors
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(
        derive_seed(0, "order", 1)))

    def timed(fn):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        return time.process_time() - c0, time.perf_counter() - w0

    def hand():
        torch.manual_seed(derive_seed(0, "init"))
        model = build_model("small-cnn", input_shape=(1, 28, 28), num_classes=10)
        hand_epoch(model, x, y, order, eps=0.3, step=step, steps=steps, batch=128,
                   gen=torch.Generator().manual_seed(1))

    def lib(mod):
        def run():
            with tempfile.TemporaryDirectory() as out:
                mod.train(cfg, out, device="cpu", quiet=True)
        return run

    fns = {"hand-written": hand, **{k: lib(m) for k, m in variants.items()}}
    for fn in fns.values():  # warm-up (first-call costs are not the loop's)
        fn()
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    wall: dict[str, list[float]] = {k: [] for k in fns}
    names = list(fns)
    for r in range(args.repeats):
        for k in (names if r % 2 == 0 else names[::-1]):  # alternate the order
            c, w = timed(fns[k])
            cpu[k].append(c)
            wall[k].append(w)
    print(f"One PGD adversarial-training epoch, MNIST {args.epoch_size} images, small-cnn, "
          f"eps 0.3, {steps}-step PGD, batch 128, {torch.get_num_threads()} thread(s), "
          f"{args.repeats} paired interleaved repeats (median, range):")
    for k in names:
        print(f"  {k:28s} CPU {statistics.median(cpu[k]):6.2f} s ({min(cpu[k]):.2f}-"
              f"{max(cpu[k]):.2f})  wall {statistics.median(wall[k]):6.2f} s "
              f"({min(wall[k]):.2f}-{max(wall[k]):.2f})")
    for k in names[1:]:
        rc = [a / b for a, b in zip(cpu[k], cpu["hand-written"], strict=True)]
        rw = [a / b for a, b in zip(wall[k], wall["hand-written"], strict=True)]
        print(f"  ratio {k} / hand-written: CPU median {statistics.median(rc):.3f} "
              f"(range {min(rc):.3f}-{max(rc):.3f}); wall median {statistics.median(rw):.3f} "
              f"(range {min(rw):.3f}-{max(rw):.3f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--data-root", type=Path, default=DEFAULT_ROOT)
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--skip-art", action="store_true")
    ap.add_argument("--skip-pgd", action="store_true")
    ap.add_argument("--train-size", type=int, default=10000)
    ap.add_argument("--epoch-ratio", action="store_true",
                    help="library epoch vs a hand-written loop with its own PGD (issue 12)")
    ap.add_argument("--epoch-size", type=int, default=2000)
    ap.add_argument("--compare-train", type=Path, default=None,
                    help="a saved copy of empirical/train.py to measure beside the current one")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    bundle = build_data(DataSpec(name="mnist", data_root=str(args.data_root), train_size=100,
                                 test_size=args.batch, seed=0))
    x, y = bundle.test.tensors
    if not args.skip_pgd:
        bench_pgd(args, x, y)
    if not args.skip_train:
        bench_train(args)
    if args.epoch_ratio:
        bench_epoch_ratio(args)


if __name__ == "__main__":
    main()
