"""AutoAttack: the library's ART adapter against torchattacks' reference standard AutoAttack.

On one small CNN (trained here, seeded: PGD adversarial training at l_inf ``--train-eps``
on ``--train-size`` MNIST images) and the same ``--n`` MNIST test images, one run measures

* torchattacks' ``AutoAttack(version="standard")`` (APGD-CE, APGD-T, FAB-T, Square 5000;
  the reference ensemble of Croce & Hein 2020) -- the baseline;
* :func:`empirical.attacks.autoattack` with ART's full ensemble (``max_iter=None``) and with
  the reduced budget (``max_iter=20``, what ``reproduce`` and the checklist use);
* PGD (50 steps x 3 restarts) for reference,

and prints per attack its robust accuracy, the difference to the baseline in percentage
points and the wall time as a ratio to the baseline's.  The attacks run interleaved
(``--repeats`` rounds, the order rotating per round); accuracies come from the first round
(every attack is seeded), times are medians.  Goal (issue 11): the full adapter within 1.5
points of torchattacks.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_autoattack.py --n 100 --eps 0.1 \\
        [--train-size 5000 --epochs 3 --train-eps 0.1] [--repeats 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from empirical.attacks import autoattack, pgd, torchattacks_autoattack
from empirical.data import DataSpec, build_data
from empirical.evaluate import evaluate, make_attack
from empirical.models import build_model

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def train_model(args: argparse.Namespace) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """The small CNN, PGD-trained (l_inf ``train_eps``, 10 steps of ``eps/4``), seeded."""
    b = build_data(DataSpec(name="mnist", data_root=str(args.data_root),
                            train_size=args.train_size, test_size=args.n, seed=0))
    x, y = b.train.tensors
    torch.manual_seed(0)
    model = build_model("small-cnn", input_shape=(1, 28, 28), num_classes=10)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    for epoch in range(args.epochs):
        order = torch.randperm(len(x), generator=gen)
        model.train()
        for s in range(0, len(x), 128):
            idx = order[s: s + 128]
            xb, yb = x[idx], y[idx]
            if args.train_eps > 0:
                xb = pgd(model, xb, yb, eps=args.train_eps, p="linf", steps=10,
                         step_size=args.train_eps / 4, generator=gen)
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
        print(f"  epoch {epoch + 1}/{args.epochs} done", flush=True)
    model.eval()
    xt, yt = b.test.tensors
    return model, xt, yt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100, help="MNIST test images (default 100)")
    ap.add_argument("--eps", type=float, default=0.1, help="l_inf budget (default 0.1)")
    ap.add_argument("--train-size", type=int, default=5000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--train-eps", type=float, default=0.1)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data-root", type=Path, default=DEFAULT_ROOT)
    ap.add_argument("--skip-full", action="store_true", help="no ART full ensemble (slow)")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model, x, y = train_model(args)
    print(f"trained in {time.perf_counter() - t0:.0f} s; {args.n} test images, l_inf eps "
          f"{args.eps}, {torch.get_num_threads()} thread(s)", flush=True)
    eps = args.eps
    attacks = {
        "torchattacks standard": lambda m, xb, yb: torchattacks_autoattack(
            m, xb, yb, eps=eps, seed=0),
        "ART adapter reduced (max_iter=20)": lambda m, xb, yb: autoattack(
            m, xb, yb, eps=eps, max_iter=20, seed=0),
        "PGD 50 x 3": make_attack("pgd", eps=eps, steps=50, restarts=3, seed=0),
    }
    if not args.skip_full:
        attacks["ART adapter full"] = lambda m, xb, yb: autoattack(m, xb, yb, eps=eps, seed=0)
    names = list(attacks)
    acc: dict[str, float] = {}
    per: dict[str, torch.Tensor] = {}
    times: dict[str, list[float]] = {k: [] for k in names}
    clean = None
    for r in range(args.repeats):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            t1 = time.perf_counter()
            res = evaluate(model, x, y, {name: attacks[name]}, batch_size=args.n)
            times[name].append(time.perf_counter() - t1)
            clean = res.clean_accuracy
            if name not in acc:
                acc[name] = res.robust_accuracy
                per[name] = res.robust_correct
            print(f"  round {r + 1}: {name}: {100 * res.robust_accuracy:.1f}% in "
                  f"{times[name][-1]:.1f} s", flush=True)
    base = "torchattacks standard"
    t_base = statistics.median(times[base])
    print(f"\nclean accuracy {100 * clean:.1f}% on {args.n} images")
    print(f"{'attack':<36} {'robust %':>8} {'vs base (pts)':>13} {'time s':>8} "
          f"{'time ratio':>10} {'disagree':>8}")
    rows = []
    for name in names:
        t = statistics.median(times[name])
        diff = 100 * (acc[name] - acc[base])
        disagree = int((per[name] != per[base]).sum())
        print(f"{name:<36} {100 * acc[name]:>8.1f} {diff:>+13.1f} {t:>8.1f} "
              f"{t / t_base:>10.2f} {disagree:>8d}")
        rows.append({"attack": name, "robust_accuracy": acc[name], "points_vs_base": diff,
                     "seconds": t, "time_ratio": t / t_base, "disagreeing_samples": disagree})
    full = "ART adapter full"
    if full in acc:
        gap = abs(100 * (acc[full] - acc[base]))
        print(f"\nART full vs torchattacks: {gap:.1f} points "
              f"({'within' if gap <= 1.5 else 'NOT within'} 1.5)")
    if args.json:
        args.json.write_text(json.dumps({"n": args.n, "eps": eps, "clean_accuracy": clean,
                                         "rows": rows, "repeats": args.repeats}, indent=1))


if __name__ == "__main__":
    main()
