"""Benchmark: HiGHS methods for the clique-row LP of the cutting-plane bound, MNIST test images.

Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/bench_clique_lp.py            # n = 10000, l2 eps = 4
    OMP_NUM_THREADS=1 python benchmarks/bench_clique_lp.py --quick    # n = 1500, eps = 5
    OMP_NUM_THREADS=1 python benchmarks/bench_clique_lp.py --n 5000 --rounds 3 --every-round

The independent-set bound of ``optrobust.finite.dataset_limits`` on a large component is the
clique-row LP ``max w.x, x(K) <= 1 for cliques K, 0 <= x <= 1`` grown by cutting planes.  This
script builds the conflict graph of a stratified MNIST test subset (``mnist_limits.load_subset``,
``domain="continuous"``, l2), takes its largest component, and collects a realistic family of
clique rows the way the solver does, written out here with ``scipy``/``highspy`` only:

* round 0: one greedy maximal clique per uncovered vertex (grown preferring uncovered, then
  high-degree neighbours), a cover of the vertices;
* each further round: the LP over the rows so far is solved (interior point, no crossover),
  and cliques grown around its solution ``x`` (three tie-noise levels) whose ``x``-sum
  exceeds 1 are added.  Rows accumulate (none dropped), so every family contains the
  previous one and a warm start from it is possible.

On the final family (``--every-round``: on every round's family) it times, interleaved over
``--repeats``:

(a) ``ipm``: HiGHS interior point without crossover, from scratch (the solver's method now);
(b) ``ipm+x``: interior point with crossover, from scratch;
(c) ``dual``: dual simplex from scratch;
(d) ``warm``: dual simplex warm-started: the previous round's family solved by dual simplex
    (optimal basis; untimed), the last round's rows added (``addRows``), ``run()`` again
    (the method before commit be3fc9f).

Each time includes building the model (or adding the rows) and ``run()``; for each it prints
the model status, the iterations, ``w.x``, the bound recomputed from the row duals clipped at 0,
``sum y + sum_i max(0, w_i - (A^T y)_i)`` (valid for any ``y >= 0``), and the ratio of its time
to (a) in the same run.  Weights are the integer weights (1 per image), so bounds count images.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from optrobust.finite.conflict import conflict_graph

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = ROOT.parent / "shared" / "data"
METHODS = ("ipm", "ipm+x", "dual", "warm")


# ---------------------------------------------------------------- graph and clique rows

def largest_component(n: int, eps: float, data_root: str) -> tuple[np.ndarray, np.ndarray,
                                                                     dict[str, Any]]:
    """Weights and local edges of the largest component of the conflict graph."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from mnist_limits import load_subset

    t0 = time.perf_counter()
    dist = load_subset(n, "test", data_root=data_root)
    t1 = time.perf_counter()
    g = conflict_graph(dist, eps=eps, p=2, domain="continuous")
    t2 = time.perf_counter()
    ncomp, comp = connected_components(g.adjacency(), directed=False)
    sizes = np.bincount(comp, minlength=ncomp)
    verts = np.flatnonzero(comp == int(np.argmax(sizes)))
    pos = np.full(g.n, -1, dtype=np.int64)
    pos[verts] = np.arange(verts.size)
    e = pos[g.edges]
    e = e[(e[:, 0] >= 0) & (e[:, 1] >= 0)]
    iw = dist.integer_weights()
    w = np.asarray(iw if iw is not None else dist.weights, dtype=float)[verts]
    info = {"n": dist.n, "eps": eps, "conflicts": g.n_edges, "components": int(np.sum(sizes > 1)),
            "k": int(verts.size), "component_edges": int(e.shape[0]),
            "load_s": t1 - t0, "graph_s": t2 - t1}
    return w, e, info


def csr(k: int, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    i, j = edges[:, 0], edges[:, 1]
    adj = sp.csr_array((np.ones(2 * i.size, dtype=bool),
                        (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(k, k))
    adj.sort_indices()
    return adj.indptr, adj.indices


def grow_clique(indptr: np.ndarray, indices: np.ndarray, start: int, score: np.ndarray,
                mark: np.ndarray) -> np.ndarray:
    """A maximal clique containing ``start``, adding the common neighbour of highest score."""
    members = [start]
    cand = indices[indptr[start]:indptr[start + 1]]
    while cand.size:
        u = int(cand[int(np.argmax(score[cand]))])
        members.append(u)
        nu = indices[indptr[u]:indptr[u + 1]]
        mark[nu] = True
        cand = cand[mark[cand]]
        mark[nu] = False
    return np.sort(np.array(members, dtype=np.int64))


def cover(indptr: np.ndarray, indices: np.ndarray, w: np.ndarray,
          score: np.ndarray) -> list[np.ndarray]:
    """One clique per vertex not covered yet (by increasing ``w / (deg + 1)``)."""
    k = w.size
    deg = np.diff(indptr).astype(float)
    covered = np.zeros(k, dtype=bool)
    mark = np.zeros(k, dtype=bool)
    rows: dict[bytes, np.ndarray] = {}
    for v in np.argsort(-w / (deg + 1.0), kind="stable").tolist():
        if not covered[v]:
            c = grow_clique(indptr, indices, v, score + (~covered) * (2.0 * k + 2.0), mark)
            covered[c] = True
            rows.setdefault(c.tobytes(), c)
    return list(rows.values())


def separate(indptr: np.ndarray, indices: np.ndarray, x: np.ndarray, tie: np.ndarray,
             seen: set[bytes]) -> list[np.ndarray]:
    """Cliques grown around the vertices of largest ``x`` whose ``x``-sum exceeds 1."""
    new: list[np.ndarray] = []
    inside = np.zeros(x.size, dtype=bool)
    mark = np.zeros(x.size, dtype=bool)
    for v in np.argsort(-x, kind="stable").tolist():
        if x[v] <= 1e-4:
            break
        if inside[v]:
            continue
        c = grow_clique(indptr, indices, v, x + tie, mark)
        if float(x[c].sum()) > 1.0 + 1e-4 and c.tobytes() not in seen:
            seen.add(c.tobytes())
            new.append(c)
            inside[c] = True
    return new


# ---------------------------------------------------------------------------- HiGHS LPs

def quiet_highs() -> Any:
    """A ``highspy.Highs`` with output off (its banner goes to stdout at first use)."""
    import highspy

    sys.stdout.flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
    h.setOptionValue("output_flag", False)
    return h


def row_matrix(rows: list[np.ndarray], k: int) -> sp.csr_array:
    r = np.repeat(np.arange(len(rows)), [len(c) for c in rows])
    return sp.csr_array((np.ones(r.size), (r, np.concatenate(rows))), shape=(len(rows), k))


def add_rows(h: Any, a: sp.csr_array) -> None:
    m = a.shape[0]
    h.addRows(m, np.full(m, -np.inf), np.ones(m), a.indices.size,
              a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32), a.data)


def model(w: np.ndarray, a: sp.csr_array, method: str, time_limit: float) -> Any:
    """A fresh HiGHS model of the LP (``min -w.x``) with the options of ``method``."""
    k = w.size
    h = quiet_highs()
    h.addVars(k, np.zeros(k), np.ones(k))
    h.changeColsCost(k, np.arange(k, dtype=np.int32), -w)
    add_rows(h, a)
    if method in ("ipm", "ipm+x"):
        h.setOptionValue("solver", "ipm")
        h.setOptionValue("run_crossover", "on" if method == "ipm+x" else "off")
    else:
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("simplex_strategy", 1)  # dual
    h.setOptionValue("time_limit", float(time_limit))
    return h


def dual_bound(w: np.ndarray, a: sp.csr_array, row_dual: Any) -> float:
    """``sum y + sum_i max(0, w_i - (A^T y)_i)`` for ``y = max(0, -row_dual)``."""
    y = np.clip(-np.asarray(row_dual, dtype=float), 0.0, None)
    if y.size != a.shape[0] or not np.all(np.isfinite(y)):
        return math.nan
    return math.fsum(y.tolist()) + math.fsum(np.clip(w - a.T @ y, 0.0, None).tolist())


def report(h: Any, w: np.ndarray, a: sp.csr_array, seconds: float) -> dict[str, Any]:
    sol, info = h.getSolution(), h.getInfo()
    x = np.asarray(sol.col_value, dtype=float)
    return {"seconds": seconds, "status": h.modelStatusToString(h.getModelStatus()),
            "simplex_it": int(info.simplex_iteration_count),
            "ipm_it": int(info.ipm_iteration_count),
            "crossover_it": int(info.crossover_iteration_count),
            "wx": float(w @ np.clip(x, 0.0, 1.0)) if x.size == w.size else math.nan,
            "bound": dual_bound(w, a, sol.row_dual)}


def solve_fresh(w: np.ndarray, a: sp.csr_array, method: str, time_limit: float
                ) -> tuple[dict[str, Any], Any]:
    t0 = time.perf_counter()
    h = model(w, a, method, time_limit)
    h.run()
    out = report(h, w, a, time.perf_counter() - t0)
    return out, h


def solve_warm(w: np.ndarray, a_prev: sp.csr_array, basis: Any, a_new: sp.csr_array,
               a_all: sp.csr_array, time_limit: float) -> dict[str, Any]:
    """Dual simplex on ``a_prev`` brought to its optimal basis (untimed), then the rows of
    ``a_new`` added and re-solved (timed)."""
    h = model(w, a_prev, "dual", time_limit)
    h.setBasis(basis)
    h.run()  # 0 iterations: restores the solved state of the previous round
    prep_it = int(h.getInfo().simplex_iteration_count)
    t0 = time.perf_counter()
    add_rows(h, a_new)
    h.run()
    out = report(h, w, a_all, time.perf_counter() - t0)
    out["prep_it"] = prep_it
    return out


# -------------------------------------------------------------------------------- main

def collect(w: np.ndarray, edges: np.ndarray, rounds: int, time_limit: float
            ) -> list[list[np.ndarray]]:
    """Row families F_0 (cover) .. F_rounds, each containing the previous one."""
    k = w.size
    indptr, indices = csr(k, edges)
    rng = np.random.default_rng(0)
    score = np.diff(indptr).astype(float) + rng.random(k)
    rows = cover(indptr, indices, w, score)
    families = [list(rows)]
    seen = {r.tobytes() for r in rows}
    print(f"{'round':>5} {'rows':>7} {'ipm s':>7} {'bound':>10} {'w.x':>10} {'sep s':>6} "
          f"{'added':>6}", flush=True)
    for r in range(rounds):
        a = row_matrix(rows, k)
        res, h = solve_fresh(w, a, "ipm", time_limit)
        x = np.clip(np.asarray(h.getSolution().col_value, dtype=float), 0.0, 1.0)
        t0 = time.perf_counter()
        added: list[np.ndarray] = []
        for noise in (0.0, 1e-2, 1e-1):
            tie = 1e-9 * score + (noise * rng.random(k) if noise else 0.0)
            added += separate(indptr, indices, x, tie, seen)
        ts = time.perf_counter() - t0
        print(f"{r:>5} {len(rows):>7} {res['seconds']:>7.2f} {res['bound']:>10.2f} "
              f"{res['wx']:>10.2f} {ts:>6.2f} {len(added):>6}", flush=True)
        if not added:
            print("no violated clique found: fewer rounds than asked")
            break
        rows = rows + added
        families.append(list(rows))
    return families


def time_family(w: np.ndarray, families: list[list[np.ndarray]], r: int, repeats: int,
                time_limit: float, bases: dict[int, Any]) -> dict[str, list[dict[str, Any]]]:
    k = w.size
    a = row_matrix(families[r], k)
    out: dict[str, list[dict[str, Any]]] = {m: [] for m in METHODS}
    if r > 0 and r - 1 not in bases:  # the previous round solved by dual simplex (setup)
        res, h = solve_fresh(w, row_matrix(families[r - 1], k), "dual", time_limit)
        print(f"  setup: round {r - 1} family ({len(families[r - 1])} rows) by dual simplex "
              f"from scratch: {res['seconds']:.2f} s, {res['status']}", flush=True)
        bases[r - 1] = h.getBasis()
    for _ in range(repeats):  # interleaved
        for m in METHODS:
            if m == "warm":
                if r == 0:
                    continue
                a_prev = row_matrix(families[r - 1], k)
                a_new = row_matrix(families[r][len(families[r - 1]):], k)
                out[m].append(solve_warm(w, a_prev, bases[r - 1], a_new, a, time_limit))
            else:
                res, h = solve_fresh(w, a, m, time_limit)
                if m == "dual" and r not in bases:
                    bases[r] = h.getBasis()
                out[m].append(res)
    return out


def print_table(r: int, n_rows: int, res: dict[str, list[dict[str, Any]]]) -> None:
    base = min(x["seconds"] for x in res["ipm"])
    print(f"\nround {r} family: {n_rows} rows")
    print(f"{'method':>6} {'seconds':>9} {'vs ipm':>7} {'status':>8} {'simplex it':>10} "
          f"{'ipm it':>6} {'cross it':>8} {'w.x':>11} {'dual bound':>11}")
    for m in METHODS:
        if not res[m]:
            continue
        best = min(res[m], key=lambda x: x["seconds"])
        times = "/".join(f"{x['seconds']:.2f}" for x in res[m])
        print(f"{m:>6} {times:>9} {best['seconds'] / base:>6.2f}x {best['status'][:8]:>8} "
              f"{best['simplex_it']:>10} {best['ipm_it']:>6} {best['crossover_it']:>8} "
              f"{best['wx']:>11.4f} {best['bound']:>11.4f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="n = 1500, eps = 5 (a smoke test)")
    ap.add_argument("--n", type=int, default=None, help="test images (default 10000)")
    ap.add_argument("--eps", type=float, default=None, help="l2 radius (default 4)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="separation rounds after the cover (default 3)")
    ap.add_argument("--repeats", type=int, default=1, help="interleaved repeats (default 1)")
    ap.add_argument("--every-round", action="store_true",
                    help="time the methods on every round's family, not only the last")
    ap.add_argument("--time-limit", type=float, default=600.0,
                    help="HiGHS time limit per solve, seconds (default 600)")
    ap.add_argument("--data-root", default=str(DEFAULT_ROOT),
                    help="folder with MNIST/raw (default ../shared/data beside the repository)")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    args = ap.parse_args(argv)
    n = args.n or (1500 if args.quick else 10_000)
    eps = args.eps if args.eps is not None else (5.0 if args.quick else 4.0)
    if args.rounds < 1 or args.repeats < 1:
        ap.error("--rounds and --repeats must be >= 1")
    t0 = time.perf_counter()
    w, edges, info = largest_component(n, eps, args.data_root)
    print(f"MNIST test n = {info['n']}, l2 eps = {eps:g}: {info['conflicts']} conflicts, "
          f"{info['components']} components; largest: {info['k']} vertices, "
          f"{info['component_edges']} edges (load {info['load_s']:.1f} s, graph "
          f"{info['graph_s']:.1f} s)", flush=True)
    if edges.shape[0] == 0:
        print("error: no conflicts at this eps", file=sys.stderr)
        return 2
    families = collect(w, edges, args.rounds, args.time_limit)
    last = len(families) - 1
    timed = list(range(len(families))) if args.every_round else [last]
    bases: dict[int, Any] = {}
    results = {}
    for r in timed:
        res = time_family(w, families, r, args.repeats, args.time_limit, bases)
        print_table(r, len(families[r]), res)
        results[r] = res
    print(f"\nseconds: build + run (warm: addRows + run); 'vs ipm': best time / best ipm time; "
          f"dual bound: sum y + sum max(0, w - A'y), y = row duals clipped at 0.\n"
          f"total {time.perf_counter() - t0:.1f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"info": info, "rows": [len(f) for f in families],
             "results": {str(r): v for r, v in results.items()}}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
