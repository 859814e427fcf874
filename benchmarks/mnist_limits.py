"""Certified optimal robust error of MNIST over an eps grid (a benchmark of ``dataset_limits``).

For the MNIST test set (all 10,000 images, ten digits, pixels in [0, 1]; or a stratified
subset) this runs :func:`optrobust.finite.dataset_limits` over an eps grid and prints one row
per eps: status (exact or bounded), the certified interval ``[lower, upper]`` of the optimal
robust error over all classifiers on R^784 (``domain="continuous"``), its width in percentage
points, conflicts, components, the solver, seconds per phase, and at the end ``eps0``, the
constant classifier's error, the feasible eps, the wall time and the peak RSS.  Run from the
repository root::

    OMP_NUM_THREADS=1 python benchmarks/mnist_limits.py --norm l2            # 10,000 images
    OMP_NUM_THREADS=1 python benchmarks/mnist_limits.py --norm linf --time-limit 600
    python benchmarks/mnist_limits.py --quick                                # 200 images

Subsets (``--n``) are those of ``empirical.data.build_data`` (``DataSpec(name="mnist",
train_size=n, test_size=n)``, seed 0).  Rows with at most ``--check-max-n`` images are
solved again exactly by an independent backend (MaxSAT) and must lie in the interval.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from pathlib import Path
from typing import Any

from optrobust.finite import FiniteDistribution, dataset_limits, feasible_eps, optimal_robust_error

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = ROOT.parent / "shared" / "data"
GRIDS = {"linf": (0.1, 0.2, 0.3, 0.4, 0.5), "l2": (1.0, 2.0, 3.0, 4.0, 5.0)}
P = {"linf": math.inf, "l2": 2}


def load_subset(n: int, split: str, *, data_root: str | Path,
                classes: tuple[int, ...] | None = None, seed: int = 0
                ) -> FiniteDistribution:
    """The stratified MNIST subset of ``n`` images of ``split`` (uniform weights).

    ``n`` at least the split's size gives the whole split.  Digits ``classes`` are relabelled
    ``0 .. k-1``; ``None`` keeps all ten.
    """
    from empirical.data import DataSpec, build_data
    from empirical.limits import flat_images

    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    bundle = build_data(DataSpec(name="mnist", classes=classes, train_size=n, test_size=n,
                                 data_root=str(data_root), seed=seed))
    # the pixels exactly as `optrobust-empirical limits` sees them (float64 k/255, not the
    # float32 detour): under the exact tie policy the two can differ at distances = 2 eps
    return FiniteDistribution(*flat_images(getattr(bundle, split)))


def peak_rss_mb() -> float:
    """Peak resident memory of this process (MiB; Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(dist: FiniteDistribution, norm: str, grid: list[float], *, time_limit: float | None,
        check_max_n: int = 0, out: Any = sys.stdout) -> list[dict[str, Any]]:
    """``dataset_limits`` over ``grid``; print and return one dict per eps."""
    print(f"{'norm':>4} {'eps':>5} {'status':>7} {'lower':>8} {'upper':>8} {'gap pp':>7} "
          f"{'conflicts':>10} {'comps':>5} {'largest':>7} {'graph s':>7} {'solve s':>7} "
          f"{'check':>6}  solver", file=out, flush=True)
    t0 = time.perf_counter()
    rows = dataset_limits(dist.points, dist.labels, eps=grid, p=P[norm],
                          time_limit=time_limit)
    wall = time.perf_counter() - t0
    result = []
    for r in rows:
        d = r.to_dict()
        d["norm"] = norm
        d["gap_pp"] = 100.0 * r.gap
        check = ""
        if dist.n <= check_max_n:
            exact = optimal_robust_error(dist, eps=r.eps, p=P[norm], solver="maxsat").error
            d["check_error"] = exact
            d["check_ok"] = bool(r.lower - 1e-12 <= exact <= r.upper + 1e-12)
            check = "ok" if d["check_ok"] else "FAIL"
        result.append(d)
        print(f"{norm:>4} {r.eps:>5g} {r.status:>7} {r.lower:>8.4f} {r.upper:>8.4f} "
              f"{100 * r.gap:>7.2f} {r.conflicts:>10} {r.components:>5} "
              f"{r.largest_component:>7} {r.seconds['graph']:>7.1f} {r.seconds['solve']:>7.1f} "
              f"{check:>6}  {r.solver}", file=out, flush=True)
    fe = feasible_eps(rows)
    print(f"n = {dist.n}, {norm}: eps0 = {rows[0].eps0:.4f}, constant classifier "
          f"{rows[0].constant_error:.4f}, feasible eps on the grid: "
          f"{'not reached' if fe is None else format(fe, 'g')}; wall {wall:.1f} s, "
          f"peak RSS {peak_rss_mb():.0f} MiB", file=out, flush=True)
    return result


def _eps_list(text: str) -> list[float]:
    try:
        out = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--eps must be comma-separated numbers, "
                                         f"got {text!r}") from None
    if not out or any(not (math.isfinite(e) and e >= 0) for e in out):
        raise argparse.ArgumentTypeError(f"--eps must be finite budgets >= 0, got {text!r}")
    return sorted(set(out))


def _positive(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return v


def _classes(text: str) -> tuple[int, ...]:
    try:
        out = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--classes must be digits, got {text!r}") from None
    if len(out) < 2 or len(set(out)) != len(out) or any(not 0 <= c <= 9 for c in out):
        raise argparse.ArgumentTypeError(f"--classes must be >= 2 distinct digits in 0..9, "
                                         f"got {text!r}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default=str(DEFAULT_ROOT),
                    help="folder with MNIST/raw (default ../shared/data beside the repository)")
    ap.add_argument("--n", type=int, default=10000,
                    help="images (stratified subset; default 10000 = the whole test set)")
    ap.add_argument("--split", choices=("train", "test"), default="test")
    ap.add_argument("--norm", choices=("linf", "l2", "both"), default="both")
    ap.add_argument("--eps", type=_eps_list, default=None,
                    help="comma-separated budgets (default: l_inf 0.1..0.5, l2 1..5); "
                         "needs a single --norm")
    ap.add_argument("--classes", type=_classes, default=None,
                    help="comma-separated digits (default all ten)")
    ap.add_argument("--time-limit", type=_positive, default=600.0,
                    help="seconds per eps for the solver (default 600)")
    ap.add_argument("--check-max-n", type=int, default=200,
                    help="cross-check rows exactly (MaxSAT) up to this many images "
                         "(default 200)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json-out", default=None, help="write the rows as JSON to this file")
    ap.add_argument("--quick", action="store_true", help="200 images (a smoke test)")
    args = ap.parse_args(argv)
    if args.eps is not None and args.norm == "both":
        ap.error("--eps needs --norm linf or --norm l2 (the grids differ)")
    if args.n < 2:
        ap.error(f"--n must be >= 2, got {args.n}")
    raw = Path(args.data_root) / "MNIST" / "raw"
    if not raw.is_dir():
        print(f"error: MNIST not found: {raw} is not a directory (--data-root)", file=sys.stderr)
        return 2
    n = 200 if args.quick else args.n
    t0 = time.perf_counter()
    dist = load_subset(n, args.split, data_root=args.data_root, classes=args.classes,
                       seed=args.seed)
    print(f"MNIST {args.split}, {dist.n} images, "
          f"{'digits ' + ','.join(map(str, args.classes)) if args.classes else 'ten digits'}, "
          f"pixels in [0, 1], classifiers on R^784, time limit {args.time_limit:g} s per eps "
          f"(loaded in {time.perf_counter() - t0:.1f} s)", flush=True)
    norms = ["linf", "l2"] if args.norm == "both" else [args.norm]
    rows: list[dict[str, Any]] = []
    for norm in norms:
        grid = args.eps if args.eps is not None else list(GRIDS[norm])
        rows += run(dist, norm, grid, time_limit=args.time_limit, check_max_n=args.check_max_n)
    total = time.perf_counter() - t0
    bad = [r for r in rows if r.get("check_ok") is False]
    print(f"total {total:.1f} s; {len(rows)} rows, {sum(r['status'] == 'bounded' for r in rows)}"
          f" bounded; {sum('check_ok' in r for r in rows)} cross-checked, {len(bad)} outside "
          f"their interval; peak RSS {peak_rss_mb():.0f} MiB")
    if args.json_out:
        payload = {"split": args.split, "n": dist.n, "seed": args.seed,
                   "classes": list(args.classes) if args.classes else list(range(10)),
                   "time_limit": args.time_limit, "total_s": round(total, 2),
                   "peak_rss_mb": round(peak_rss_mb(), 1), "rows": rows}
        Path(args.json_out).write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
