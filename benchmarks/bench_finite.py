"""Benchmark of the exact finite-distribution solvers (optrobust.finite).

Run from the repository root::

    python benchmarks/bench_finite.py            # full run (sizes 500/2000/5000 per class)
    python benchmarks/bench_finite.py --quick    # small sizes, for a smoke test
    python benchmarks/bench_finite.py --part 2b  # one part only (1, 2, 2b or 3)

Prints, in one run:

1. MNIST 3 vs 7 (training images, pixels in [0, 1]): exact optimal robust
   error (max-flow) for l2 and l_inf and several eps, the time of the whole
   solve (conflict graph + flow), and the time of computing the cross-label
   distance matrix alone (``scipy.spatial.distance.cdist`` for l_inf, the Gram
   formula for l2), with their ratio.
2. Multi-class (MNIST digits 0-9, l2): exact solve time for growing n,
   MaxSAT (RC2) against MILP (HiGHS) on the same conflict graph.
2b. Multi-class MILP formulations (MNIST digits 0-9, l_inf and l2): on one
   conflict graph per instance, the CPU seconds of the MILP with one
   ``x_i + x_j <= 1`` row per conflict (the baseline: the formulation before the
   clique rows), the MILP with one row per clique of ``clique_cover`` (no closed
   form), the library path ``optimal_robust_error(..., solver="milp")`` (clique
   rows and the closed form for label-complete components) and MaxSAT; each
   runs in a forked process stopped after ``--cpu-limit`` CPU seconds
   (``RLIMIT_CPU``, shown as ``>limit``). Every optimum that finished must be
   the same (integer weights, exact) and every chosen set independent; the
   script exits 1 otherwise. Ratios: baseline / clique rows, baseline / library
   path, MaxSAT / library path.
3. SAT independent set vs networkx: ``benchmarks/bench_hardness.py`` (if present).

MNIST is read from the raw idx files in ``../shared/data/MNIST/raw`` (``--data-root``) with
numpy.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import math
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial.distance import cdist

from optrobust.finite import FiniteDistribution, conflict_graph, optimal_robust_error
from optrobust.finite.conflict import ConflictGraph

# The solver's own component split and row MILP: the baseline differs only in its rows (one
# per conflict edge), so the comparison isolates the formulation.
from optrobust.finite.solvers import _components, _milp_rows, clique_cover

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


# ---- (2b) multi-class MILP formulations, same instances, same run ----

#: (norm, eps, n) of the full run of part (2b); random ten-digit subsets (seed 0).
PART2B_FULL = (("linf", 0.5, 250), ("linf", 0.5, 500), ("l2", 5.0, 250), ("l2", 5.0, 500),
               ("l2", 4.0, 500), ("l2", 4.0, 1000))
PART2B_QUICK = (("linf", 0.5, 100), ("l2", 5.0, 100), ("l2", 4.0, 200))
_P = {"linf": math.inf, "l2": 2}


def _local_edges(graph: ConflictGraph, verts: np.ndarray) -> np.ndarray:
    """The edges inside the vertex subset ``verts``, numbered by position in ``verts``."""
    pos = np.full(graph.n, -1, dtype=np.int64)
    pos[verts] = np.arange(verts.size)
    e = pos[graph.edges]
    return e[(e[:, 0] >= 0) & (e[:, 1] >= 0)]


def _label_complete(labels: np.ndarray, n_edges: int) -> bool:
    """Whether ``n_edges`` edges (all between different labels) join every such pair."""
    counts = np.unique(labels, return_counts=True)[1].astype(np.int64)
    return n_edges == (int(counts.sum()) ** 2 - int((counts**2).sum())) // 2


def _rows_milp(graph: ConflictGraph, w: np.ndarray, rows: str) -> tuple[np.ndarray, int]:
    """Per-component MILP with one row per conflict edge (``rows="edge"``, the formulation
    before commit 932f89e) or per clique of :func:`clique_cover` (``"clique"``, no closed
    form); returns the chosen pairs and the number of rows."""
    chosen = np.ones(graph.n, dtype=bool)
    n_rows = 0
    for verts in _components(graph):
        e = _local_edges(graph, verts)
        rows_of = list(e) if rows == "edge" else clique_cover(verts.size, e)
        n_rows += len(rows_of)
        chosen[verts] = _milp_rows(w[verts], rows_of)
    return chosen, n_rows


def _child(conn: Any, fn: Any, cpu_limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_limit, resource.getrlimit(
        resource.RLIMIT_CPU)[1]))
    c0, t0 = time.process_time(), time.perf_counter()
    try:
        out = fn()
    except Exception as exc:  # reported by the parent, not mistaken for a time-out
        conn.send(("error", repr(exc)))
    else:
        conn.send((out, time.process_time() - c0, time.perf_counter() - t0))
    conn.close()


def _limited(fn: Any, cpu_limit: int, wall_limit: float) -> tuple[Any, float, float] | None:
    """``(fn(), cpu s, wall s)`` run in a forked process; ``None`` when it used more than
    ``cpu_limit`` CPU seconds (``RLIMIT_CPU``) or ``wall_limit`` wall seconds."""
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, cpu_limit))
    proc.start()
    send.close()
    out = None
    try:
        if recv.poll(wall_limit):
            out = recv.recv()
    except EOFError:  # killed by SIGXCPU
        out = None
    if proc.is_alive():
        proc.terminate()
    proc.join()
    if out is not None and len(out) == 2:
        raise RuntimeError(f"solver failed: {out[1]}")
    return out


def part2b(x: np.ndarray, y: np.ndarray, instances: tuple[tuple[str, float, int], ...],
           cpu_limit: int, wall_limit: float, seed: int = 0) -> bool:
    """Edge-row MILP (baseline) vs clique-row MILP vs ``optimal_robust_error(solver="milp")``
    vs MaxSAT on the same conflict graphs; returns whether every optimum agreed."""
    print(f"\n== (2b) MNIST digits 0-9: MILP edge rows (baseline) vs clique rows vs "
          f"solver='milp' (closed form) vs MaxSAT; subset seed {seed}; CPU s, limit "
          f"{cpu_limit} s ==")
    print(f"{'norm':>4} {'eps':>4} {'n':>5} {'conflicts':>9} {'compl':>5} {'error':>7} "
          f"{'edge rows':>9} {'clq rows':>8} {'edge s':>7} {'clique s':>8} {'milp s':>7} "
          f"{'maxsat s':>8} {'edge/clq':>8} {'edge/milp':>9} {'sat/milp':>8} {'agree':>5}")
    all_ok = True
    for norm, eps, n in instances:
        idx = np.random.default_rng(seed).choice(x.shape[0], size=n, replace=False)
        dist = FiniteDistribution(x[idx], y[idx])
        g = conflict_graph(dist, eps=eps, p=_P[norm])
        iw = dist.integer_weights()
        w = np.asarray(iw if iw is not None else dist.weights)
        comps = _components(g)
        complete = sum(_label_complete(g.labels[v], _local_edges(g, v).shape[0]) for v in comps)

        def full(solver: str, dist=dist, eps=eps, norm=norm, g=g) -> np.ndarray:
            return optimal_robust_error(dist, eps=eps, p=_P[norm], graph=g,
                                        solver=solver).robust

        runs = {
            "edge": _limited(lambda g=g, w=w: _rows_milp(g, w, "edge"), cpu_limit, wall_limit),
            "clique": _limited(lambda g=g, w=w: _rows_milp(g, w, "clique"), cpu_limit,
                               wall_limit),
            "milp": _limited(lambda: full("milp"), cpu_limit, wall_limit),
            "maxsat": _limited(lambda: full("maxsat"), cpu_limit, wall_limit),
        }
        values, cpu, n_rows = set(), {}, {}
        for name, r in runs.items():
            if r is None:
                continue
            chosen = r[0][0] if name in ("edge", "clique") else r[0]
            if name in ("edge", "clique"):
                n_rows[name] = r[0][1]
            if not g.is_independent(chosen):
                all_ok = False
            values.add(float(w[chosen].sum()))
            cpu[name] = r[1]
        ok = len(values) == 1
        all_ok &= ok
        error = 1.0 - values.pop() / float(w.sum()) if ok else math.nan

        def sec(name: str, cpu: dict = cpu) -> str:
            return f"{cpu[name]:.3f}" if name in cpu else f">{cpu_limit}"

        def ratio(a: str, b: str, cpu: dict = cpu) -> str:
            if a in cpu and b in cpu:
                return f"{cpu[a] / max(cpu[b], 1e-3):.1f}"
            if b in cpu:  # a stopped at the limit: a lower bound
                return f">{cpu_limit / max(cpu[b], 1e-3):.0f}"
            return "-"

        print(f"{norm:>4} {eps:>4g} {n:>5} {g.n_edges:>9} {complete:>2}/{len(comps):<2} "
              f"{error:>7.4f} {n_rows.get('edge', g.n_edges):>9} "
              f"{n_rows.get('clique', '-'):>8} {sec('edge'):>7} {sec('clique'):>8} "
              f"{sec('milp'):>7} {sec('maxsat'):>8} {ratio('edge', 'clique'):>8} "
              f"{ratio('edge', 'milp'):>9} {ratio('maxsat', 'milp'):>8} "
              f"{'yes' if ok else 'NO':>5}", flush=True)
    return all_ok


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


def _cpu_limit(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"--cpu-limit must be an integer >= 1, got {text!r}")
    return v


def _instances(text: str) -> tuple[tuple[str, float, int], ...]:
    out = []
    for item in text.split(","):
        parts = item.strip().split(":")
        try:
            norm, eps, n = parts[0], float(parts[1]), int(parts[2])
            ok = len(parts) == 3 and norm in _P and math.isfinite(eps) and eps >= 0 and n >= 2
        except (IndexError, ValueError):
            ok = False
        if not ok:
            raise argparse.ArgumentTypeError(
                f"--instances must be comma-separated NORM:EPS:N with NORM in linf/l2, "
                f"EPS >= 0 and N >= 2, got {item!r}")
        out.append((norm, eps, n))
    return tuple(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument("--part", choices=("all", "1", "2", "2b", "3"), default="all",
                    help="run one part only (default all)")
    ap.add_argument("--skip-hardness", action="store_true", help="do not run part (3)")
    ap.add_argument("--cpu-limit", type=_cpu_limit, default=None,
                    help="CPU seconds per solver and instance in part (2b) "
                         "(default 60, 20 with --quick)")
    ap.add_argument("--instances", type=_instances, default=None,
                    help="part (2b) instances as NORM:EPS:N,... (default linf:0.5:250,"
                         "linf:0.5:500,l2:5:250,l2:5:500,l2:4:500,l2:4:1000)")
    ap.add_argument("--seed", type=int, default=0,
                    help="seed of the random subsets of part (2b) (default 0)")
    ap.add_argument("--data-root", default=str(MNIST_RAW.parents[1]),
                    help="folder with MNIST/raw (default ../shared/data beside the repository)")
    args = ap.parse_args(argv)
    raw = Path(args.data_root) / "MNIST" / "raw"
    if args.part != "3" and not (raw / "train-images-idx3-ubyte").is_file():
        print(f"error: MNIST not found: no train-images-idx3-ubyte in {raw} (--data-root)",
              file=sys.stderr)
        return 2
    run = {k: args.part in ("all", k) for k in ("1", "2", "2b", "3")}
    x, y = load_mnist(raw) if args.part != "3" else (None, None)
    t0 = time.perf_counter()
    ok = True
    if run["1"]:
        part1(x, y, [200] if args.quick else [500, 2000, 5000])
    if run["2"]:
        part2(x, y, [200, 500] if args.quick else [500, 1000, 2000, 4000], eps=3.5)
        # eps = 4, n = 1000 is already a hard MaxSAT instance (55 s RC2 vs 7 s MILP, unloaded).
        part2(x, y, [200, 500] if args.quick else [250, 500], eps=4.0)
    if run["2b"]:
        limit = args.cpu_limit or (20 if args.quick else 60)
        inst = args.instances or (PART2B_QUICK if args.quick else PART2B_FULL)
        ok = part2b(x, y, inst, cpu_limit=limit, wall_limit=max(600.0, 20.0 * limit),
                    seed=args.seed)
    if run["3"] and not args.skip_hardness:
        part3()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"\ntotal {time.perf_counter() - t0:.1f} s, peak memory {peak:.2f} GiB")
    if not ok:
        print("error: the exact optima of part (2b) disagree", file=sys.stderr)
    return 0 if ok else 1

if __name__ == "__main__":
    sys.exit(main())
