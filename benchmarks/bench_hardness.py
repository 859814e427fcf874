"""Benchmark: maximum distance-3 independent set, RC2 MaxSAT vs the networkx baseline.

    python benchmarks/bench_hardness.py

Random graphs G(n, c/n) (average degree c) of growing size, two seeds each.
For every graph both solvers run (SAT: best of 3 wall-clock times; networkx:
one run, it is the slow one); the sizes must
agree and the SAT answer passes the certificate checker (it always does: the
solver function raises otherwise).  The baseline is networkx's exact maximum
clique (:func:`networkx.max_weight_clique`) on the complement of ``G^2``.
A last block times the whole reduction check (reduction + exact robust optimum
via optrobust.finite) for the largest instances the CLI is meant for.
"""

from __future__ import annotations

import math
import time

import networkx as nx

from optrobust.hardness import max_distance3_independent_set, reduction_instance


def best_of(fn, repeat: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def solver_table(sizes=(25, 50, 100, 150, 200), degrees=(3.0, 6.0), seeds=(0, 1)):
    rows = []
    print(f"{'n':>5} {'deg':>4} {'seed':>4} {'alpha3':>6} {'sat s':>9} {'networkx s':>11} "
          f"{'nx/sat':>7}")
    for c in degrees:
        for n in sizes:
            for seed in seeds:
                g = nx.gnp_random_graph(n, min(1.0, c / n), seed=seed)
                t_sat, s_sat = best_of(lambda g=g: max_distance3_independent_set(g, "maxsat"))
                t_nx, s_nx = best_of(lambda g=g: max_distance3_independent_set(g, "networkx"), 1)
                if len(s_sat) != len(s_nx):
                    raise RuntimeError(f"solvers disagree on n={n}, seed={seed}")
                rows.append((n, c, seed, len(s_sat), t_sat, t_nx))
                print(f"{n:>5} {c:>4g} {seed:>4} {len(s_sat):>6} {t_sat:>9.4f} {t_nx:>11.4f} "
                      f"{t_nx / t_sat:>7.2f}")
    return rows


def reduction_table(sizes=(10, 20, 40), p_values=(0, 2, math.inf)):
    from optrobust.finite.robust import optimal_robust_error

    print(f"\n{'n':>4} {'p':>4} {'domain':>10} {'dim':>6} {'build s':>8} {'exact s':>8} {'ok':>3}")
    for n in sizes:
        g = nx.gnp_random_graph(n, 3.0 / n, seed=0)
        a3 = len(max_distance3_independent_set(g))
        for p in p_values:
            for domain in ("support", "continuous"):
                t0 = time.perf_counter()
                inst = reduction_instance(g, p, domain)
                t1 = time.perf_counter()
                sol = optimal_robust_error(inst.distribution, eps=inst.eps, p=p, domain=domain)
                t2 = time.perf_counter()
                ok = math.isclose(n * (1 - sol.error), a3, abs_tol=1e-9)
                print(f"{n:>4} {p:>4} {domain:>10} {inst.points.shape[1]:>6} {t1 - t0:>8.3f} "
                      f"{t2 - t1:>8.3f} {'yes' if ok else 'NO':>3}")


def main() -> None:
    print("Maximum distance-3 independent set: RC2 MaxSAT vs networkx max clique of "
          "complement(G^2)")
    rows = solver_table()
    total_sat = sum(r[4] for r in rows)
    total_nx = sum(r[5] for r in rows)
    print(f"total: sat {total_sat:.3f} s, networkx {total_nx:.3f} s, "
          f"ratio networkx/sat {total_nx / total_sat:.2f}")
    reduction_table()


if __name__ == "__main__":
    main()
