"""Benchmark of the exact finite-distribution solvers (optrobust.finite).

Run from the repository root::

    python benchmarks/bench_finite.py            # full run (sizes 500/2000/5000 per class)
    python benchmarks/bench_finite.py --quick    # small sizes, for a smoke test

Prints, in one run:

1. MNIST 3 vs 7 (training images, pixels in [0, 1]): exact optimal robust
   error (max-flow) for l2 and l_inf and several eps, the time of the whole
   solve (conflict graph + flow), and the time of computing the cross-label
   distance matrix alone (``scipy.spatial.distance.cdist`` for l_inf, the Gram
   formula for l2), with their ratio.
2. Multi-class (MNIST digits 0-9, l2): exact solve time for growing n,
   MaxSAT (RC2) against MILP (HiGHS) on the same conflict graph.
3. SAT independent set vs networkx: ``benchmarks/bench_hardness.py`` (if present).

MNIST is read from the raw idx files in ``../shared/data/MNIST/raw`` with numpy.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy.spatial.distance import cdist

from optrobust.finite import FiniteDistribution, conflict_graph, optimal_robust_error

ROOT = Path(__file__).resolve().parents[1]
MNIST_RAW = ROOT.parent / "shared" / "data" / "MNIST" / "raw"


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist(raw: Path = MNIST_RAW) -> tuple[np.ndarray, np.ndarray]:
    """Training images as float64 rows in [0, 1] (shape (60000, 784)) and labels."""
    x = _read_idx(raw / "train-images-idx3-ubyte").reshape(-1, 784).astype(np.float64) / 255.0
    y = _read_idx(raw / "train-labels-idx1-ubyte").astype(np.int64)
    return x, y


def _distance_only(xa: np.ndarray, xb: np.ndarray, p: float, chunk: int = 2048) -> float:
    """Seconds to compute the full cross-label distance matrix once (the baseline)."""
    t0 = time.perf_counter()
    if p == 2:
        bn = np.einsum("ij,ij->i", xb, xb)
        for s in range(0, xa.shape[0], chunk):
            blk = xa[s:s + chunk]
            an = np.einsum("ij,ij->i", blk, blk)
            np.sqrt(np.maximum(an[:, None] + bn[None, :] - 2.0 * (blk @ xb.T), 0.0))
    else:
        for s in range(0, xa.shape[0], chunk):
            cdist(xa[s:s + chunk], xb, metric="chebyshev")
    return time.perf_counter() - t0


def part1(x: np.ndarray, y: np.ndarray, sizes: list[int]) -> None:
    print("== (1) MNIST 3 vs 7: exact optimal robust error (continuous domain, max-flow) ==")
    print(f"{'per class':>9} {'norm':>5} {'eps':>5} {'conflicts':>10} {'error':>8} "
          f"{'solve s':>8} {'dist s':>7} {'ratio':>6}")
    grids = {math.inf: [0.1, 0.2, 0.3, 0.4, 0.45, 0.5], 2: [1.0, 2.0, 3.0, 4.0, 5.0]}
    for m in sizes:
        i3 = np.flatnonzero(y == 3)[:m]
        i7 = np.flatnonzero(y == 7)[:m]
        dist = FiniteDistribution(np.concatenate([x[i3], x[i7]]), [3] * m + [7] * m)
        for p, eps_list in grids.items():
            base = _distance_only(dist.points[:m], dist.points[m:], p)
            for eps in eps_list:
                t0 = time.perf_counter()
                g = conflict_graph(dist, eps=eps, p=p)
                sol = optimal_robust_error(dist, eps=eps, p=p, graph=g)
                t = time.perf_counter() - t0
                name = "linf" if p == math.inf else "l2"
                print(f"{m:>9} {name:>5} {eps:>5g} {g.n_edges:>10} {sol.error:>8.4f} "
                      f"{t:>8.2f} {base:>7.2f} {t / base:>6.2f}", flush=True)


def part2(x: np.ndarray, y: np.ndarray, ns: list[int], eps: float) -> None:
    """MaxSAT vs MILP on random MNIST subsets of size ``n`` (seed 0)."""
    print(f"\n== (2) MNIST digits 0-9, l2, eps = {eps:g}: MaxSAT (RC2) vs MILP (HiGHS) ==")
    print(f"{'n':>6} {'conflicts':>10} {'error':>8} {'graph s':>8} {'maxsat s':>9} "
          f"{'milp s':>7} {'agree':>6}")
    rng = np.random.default_rng(0)
    for n in ns:
        idx = rng.choice(x.shape[0], size=n, replace=False)
        dist = FiniteDistribution(x[idx], y[idx])
        t0 = time.perf_counter()
        g = conflict_graph(dist, eps=eps, p=2)
        tg = time.perf_counter() - t0
        res = {}
        for solver in ("maxsat", "milp"):
            t0 = time.perf_counter()
            sol = optimal_robust_error(dist, eps=eps, p=2, graph=g, solver=solver)
            res[solver] = (sol.error, time.perf_counter() - t0)
        agree = abs(res["maxsat"][0] - res["milp"][0]) < 1e-12
        print(f"{n:>6} {g.n_edges:>10} {res['maxsat'][0]:>8.4f} {tg:>8.2f} "
              f"{res['maxsat'][1]:>9.2f} {res['milp'][1]:>7.2f} {str(agree):>6}", flush=True)


def part3() -> None:
    # ---- (3) SAT independent set vs networkx: provided by the hardness benchmark ----
    path = Path(__file__).with_name("bench_hardness.py")
    print("\n== (3) SAT distance-3 independent set vs networkx (benchmarks/bench_hardness.py) ==")
    if not path.exists():
        print("bench_hardness.py not present; skipped")
        return
    spec = importlib.util.spec_from_file_location("bench_hardness", path)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    mod.main()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument("--skip-hardness", action="store_true", help="do not run part (3)")
    args = ap.parse_args(argv)
    x, y = load_mnist()
    t0 = time.perf_counter()
    part1(x, y, [200] if args.quick else [500, 2000, 5000])
    part2(x, y, [200, 500] if args.quick else [500, 1000, 2000, 4000], eps=3.5)
    # eps = 4, n = 1000 is already a hard MaxSAT instance (55 s RC2 vs 7 s MILP, unloaded).
    part2(x, y, [200, 500] if args.quick else [250, 500], eps=4.0)
    if not args.skip_hardness:
        part3()
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"\ntotal {time.perf_counter() - t0:.1f} s, peak memory {peak:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
