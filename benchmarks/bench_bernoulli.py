"""Bernoulli model: the central-threshold path vs the O(k) scan over all thresholds.

Both compute the optimal l0 robust error of the symmetric model at the same
(k, t, eps); the baseline is the deprecated vectorized scan
(``optrobust.bernoulli.threshold_errors``: ``log R(a)`` for every ``a = 0..k``,
as the library did before), measured in the same run, interleaved, with
``OMP_NUM_THREADS=1``.  Prints time and peak traced memory of each, and the
ratio.  Also times ``feasible_eps`` (bisection) alone up to k = 2**53.

    OMP_NUM_THREADS=1 python benchmarks/bench_bernoulli.py [--repeats 3] [--max-k 10000000]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import tracemalloc
import warnings

from optrobust.bernoulli import BernoulliModel, threshold_errors


def _measure(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    value = fn()
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return dt, peak, value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-k", type=int, default=10**7)
    args = ap.parse_args()
    t, eps = 0.3, 0
    print(f"optimal l0 robust error, t = {t}; median of {args.repeats} interleaved repeats")
    print(f"{'k':>10} {'scan s':>9} {'scan MB':>8} {'central s':>10} {'central MB':>10} "
          f"{'ratio':>8}  agree")
    k = 10**4
    while k <= args.max_k:
        m = BernoulliModel.symmetric(k, t)
        eps = int(0.2 * k)  # below the feasible eps (about t k): a non-trivial answer
        r = 2 * eps
        scan, cent = [], []
        for _ in range(args.repeats):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                scan.append(_measure(
                    lambda k=k, r=r: min(0.5, math.exp(threshold_errors(k, t, r).min()))))
            cent.append(_measure(lambda m=m, eps=eps: m.robust_error(eps=eps, p=0)))
        ts, tc = statistics.median(x[0] for x in scan), statistics.median(x[0] for x in cent)
        ms, mc = max(x[1] for x in scan) / 2**20, max(x[1] for x in cent) / 2**20
        agree = math.isclose(scan[0][2], cent[0][2], rel_tol=1e-9, abs_tol=1e-300)
        print(f"{k:>10} {ts:>9.4f} {ms:>8.1f} {tc:>10.5f} {mc:>10.3f} {ts / tc:>8.0f}  {agree}")
        k *= 10
    print("\nfeasible_eps(p=0) alone (bisection over the radius, O(log k) tail pairs):")
    for k in (10**6, 10**9, 10**12, 2**53):
        dt, peak, fe = _measure(lambda k=k: BernoulliModel.symmetric(k, t).feasible_eps(0))
        print(f"  k = {k:>16}: {dt:.4f} s, peak {peak / 2**20:.3f} MB, feasible eps {fe}")


if __name__ == "__main__":
    main()
