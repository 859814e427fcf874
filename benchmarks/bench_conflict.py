"""Benchmark: certified conflict graphs vs an uncertified baseline, MNIST test images.

    OMP_NUM_THREADS=1 python benchmarks/bench_conflict.py [N] [REPEATS]

For the first ``N`` (default 10000) MNIST test images (``/work/shared/data`` or
``$MNIST_RAW``, pixels ``k/255`` as float64) and each threat model, times
:func:`optrobust.finite.conflict_graph` with the exact tie policy (``rtol=0``,
the default) and with ``rtol=1e-9``, against a baseline measured in the same run,
interleaved: the plain float64 computation of the same pairs (different labels,
one ``numpy``/``scipy`` call per block -- the BLAS Gram formula for ``l2``,
``scipy.spatial.distance.cdist`` for ``l1``/``l_inf``) compared with ``2 eps``
without any error bound, scaling, recheck or screening.  Prints times, the ratio
library/baseline and the edge counts (which differ exactly where the baseline's
rounding decides a tie the wrong way).
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.spatial.distance import cdist

from optrobust.finite import FiniteDistribution, conflict_graph

RAW = Path(os.environ.get("MNIST_RAW", "/work/shared/data/MNIST/raw"))


def load(n: int) -> tuple[np.ndarray, np.ndarray]:
    images = np.frombuffer((RAW / "t10k-images-idx3-ubyte").read_bytes(), np.uint8, offset=16)
    labels = np.frombuffer((RAW / "t10k-labels-idx1-ubyte").read_bytes(), np.uint8, offset=8)
    return images.reshape(-1, 784)[:n].astype(np.float64) / 255.0, labels[:n].astype(np.int64)


def baseline_edges(x: np.ndarray, y: np.ndarray, eps: float, p: float,
                   rows: int = 512) -> int:
    """Uncertified: count different-label pairs with computed distance <= 2 eps."""
    count = 0
    sq = np.einsum("ij,ij->i", x, x)
    for s in range(0, x.shape[0], rows):
        blk = x[s:s + rows]
        if p == 2:
            d2 = sq[s:s + rows, None] + sq[None, :] - 2.0 * (blk @ x.T)
            hit = d2 <= (2 * eps) ** 2
        else:
            hit = cdist(blk, x, metric="cityblock" if p == 1 else "chebyshev") <= 2 * eps
        i = np.arange(s, s + blk.shape[0])[:, None]
        hit &= (np.arange(x.shape[0])[None, :] > i) & (y[s:s + rows, None] != y[None, :])
        count += int(hit.sum())
    return count


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    x, y = load(n)
    dist = FiniteDistribution(x, y)
    cases = [(2, 3.0), (2, 4.0), (math.inf, 0.3), (math.inf, 0.5), (1, 40.0)]
    print(f"MNIST test images n = {n}, d = 784, OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS')}, best of {repeats}, interleaved")
    print(f"{'p':>4} {'eps':>5} {'exact s':>8} {'rtol s':>8} {'base s':>8} "
          f"{'exact/base':>10} {'rtol/base':>9} {'edges exact':>12} {'rtol':>10} {'base':>10}")
    for p, eps in cases:
        t_ex, t_rt, t_b = [], [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            e_ex = conflict_graph(dist, eps=eps, p=p).n_edges
            t1 = time.perf_counter()
            e_rt = conflict_graph(dist, eps=eps, p=p, rtol=1e-9).n_edges
            t2 = time.perf_counter()
            e_b = baseline_edges(x, y, eps, p)
            t3 = time.perf_counter()
            t_ex.append(t1 - t0)
            t_rt.append(t2 - t1)
            t_b.append(t3 - t2)
        ex, rt, b = min(t_ex), min(t_rt), min(t_b)
        print(f"{'inf' if p == math.inf else p:>4} {eps:>5g} {ex:>8.2f} {rt:>8.2f} {b:>8.2f} "
              f"{ex / b:>10.2f} {rt / b:>9.2f} {e_ex:>12} {e_rt:>10} {e_b:>10}", flush=True)


if __name__ == "__main__":
    main()
