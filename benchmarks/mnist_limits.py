"""Exact optimal robust error of multi-class MNIST samples (issue 5, "MNIST real-data limits").

For stratified subsets of MNIST (all ten digits by default, pixels in [0, 1]) this computes
the optimal robust error of the *empirical* distribution over all classifiers on R^784
(``domain="continuous"``) with :func:`optrobust.optimal_robust_error`: no classifier has
lower adversarial error on that sample.  Run from the repository root::

    python benchmarks/mnist_limits.py                      # sizes 100..2000, l_inf and l2
    python benchmarks/mnist_limits.py --quick              # sizes 100, 200 (< 30 s)
    python benchmarks/mnist_limits.py --norm l2 --eps 3,4 --sizes 500,1000 --json-out r.json

One row per (size, split, norm, eps): the optimal error, the constant classifier's error
``1 - max class share`` (an upper bound of the optimum, attained when every two images of
different classes conflict), the number of conflicting pairs and whether the conflict graph
is *label-complete* (every two images of different classes conflict), the backend that ran
and the seconds spent on the conflict graph and on the solve.  The subsets are those of
``empirical.data.build_data`` (``DataSpec(name="mnist", train_size=n, test_size=n)``, seed
0), i.e. the samples ``optrobust-empirical compare`` uses.  Instances with at most
``--check-max-n`` images are solved a second time by an independent backend
(``--check-solver``, MaxSAT by default) and the two optima must agree.  ``eps0`` is half the smallest
distance between images of different digits (computed up to ``--critical-max-n`` images):
the optimum is 0 exactly for ``eps < eps0``.  ``closest`` is half the smallest distance
among the conflicting pairs of the row (``eps0`` itself whenever the row has a conflict).
Each instance runs in a forked process stopped after ``--max-seconds`` (graph, solve and
check together); a stopped (split, norm, eps) is not tried at larger sizes.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import queue
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial.distance import cdist

from optrobust.finite import SOLVERS, FiniteDistribution, conflict_graph, optimal_robust_error
from optrobust.finite.solvers import _label_complete  # the solver's closed-form test

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = ROOT.parent / "shared" / "data"
GRIDS = {"linf": (0.1, 0.2, 0.3, 0.4, 0.45, 0.5), "l2": (1.0, 2.0, 3.0, 4.0, 5.0)}
P = {"linf": math.inf, "l2": 2}
DEFAULT_SIZES = (100, 200, 500, 1000, 2000)
QUICK_SIZES = (100, 200)
#: Up to this many conflicts a row also reports half the smallest conflicting distance.
_MAX_CLOSEST_EDGES = 200_000


def _int_list(text: str, name: str) -> list[int]:
    try:
        out = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name} must be comma-separated integers, "
                                         f"got {text!r}") from None
    if not out:
        raise argparse.ArgumentTypeError(f"{name} must not be empty")
    return out


def _sizes(text: str) -> list[int]:
    out = _int_list(text, "--sizes")
    if any(v < 2 for v in out):
        raise argparse.ArgumentTypeError(f"--sizes must be integers >= 2, got {text!r}")
    return sorted(set(out))


def _classes(text: str) -> tuple[int, ...]:
    out = _int_list(text, "--classes")
    if len(out) < 2 or len(set(out)) != len(out) or any(not 0 <= c <= 9 for c in out):
        raise argparse.ArgumentTypeError(f"--classes must be >= 2 distinct digits in 0..9, "
                                         f"got {text!r}")
    return tuple(out)


def _eps_list(text: str) -> list[float]:
    try:
        out = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--eps must be comma-separated numbers, "
                                         f"got {text!r}") from None
    if not out or any(not (math.isfinite(e) and e >= 0) for e in out):
        raise argparse.ArgumentTypeError(f"--eps must be finite budgets >= 0, got {text!r}")
    return sorted(set(out))


def load_subset(n: int, split: str, *, data_root: str | Path,
                classes: tuple[int, ...] | None = None, seed: int = 0
                ) -> FiniteDistribution:
    """The stratified MNIST subset of ``n`` images of ``split`` as a uniform distribution.

    Parameters
    ----------
    n : int
        Subset size (``train_size = test_size = n`` in :class:`empirical.data.DataSpec`).
    split : {"train", "test"}
    data_root : path
        Folder holding ``MNIST/raw`` (torchvision layout).
    classes : tuple of int, optional
        Digits to keep (relabelled ``0 .. k-1`` in this order); ``None`` = all ten.
    seed : int
        Seed of the stratified selection.

    Returns
    -------
    FiniteDistribution
        ``n`` points in ``[0, 1]^784``, uniform weights.
    """
    from empirical.data import DataSpec, build_data

    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    bundle = build_data(DataSpec(name="mnist", classes=classes, train_size=n, test_size=n,
                                 data_root=str(data_root), seed=seed))
    x, y = getattr(bundle, split).tensors
    return FiniteDistribution(x.reshape(len(x), -1).double().numpy(), y.numpy())


def critical_eps(dist: FiniteDistribution, norm: str) -> float:
    """Half the smallest distance between two points of different labels.

    In the continuous domain two pairs conflict iff their distance is at most ``2 eps``, so
    the optimal robust error is 0 exactly for ``eps`` below this value (and positive at it).
    """
    metric = "chebyshev" if norm == "linf" else "euclidean"
    best = math.inf
    classes = np.unique(dist.labels)
    for k, c in enumerate(classes[:-1]):
        a = dist.points[dist.labels == c]
        b = dist.points[np.isin(dist.labels, classes[k + 1:])]
        for s in range(0, a.shape[0], 256):
            best = min(best, float(cdist(a[s:s + 256], b, metric=metric).min()))
    return best / 2.0


def solve_row(dist: FiniteDistribution, norm: str, eps: float, *, solver: str = "auto",
              check_solver: str | None = None) -> dict[str, Any]:
    """Exact optimum of ``dist`` at (``norm``, ``eps``), timings and an optional cross-check."""
    p = P[norm]
    t0 = time.perf_counter()
    g = conflict_graph(dist, eps=eps, p=p)
    t_graph = time.perf_counter() - t0
    t0 = time.perf_counter()
    sol = optimal_robust_error(dist, eps=eps, p=p, graph=g, solver=solver)
    t_solve = time.perf_counter() - t0
    counts = np.unique(dist.labels, return_counts=True)[1].astype(np.int64)
    closest = None
    if 0 < g.n_edges <= _MAX_CLOSEST_EDGES:
        order = {"linf": np.inf, "l2": 2}[norm]
        closest = min(
            float(np.linalg.norm(dist.points[e[:, 0]] - dist.points[e[:, 1]], ord=order,
                                 axis=1).min())
            for e in np.array_split(g.edges, max(1, g.n_edges // 4096)))
    row: dict[str, Any] = {
        "n": dist.n, "norm": norm, "eps": eps, "optimal_error": sol.error,
        "constant_error": 1.0 - int(counts.max()) / dist.n,
        "edges": g.n_edges, "label_complete": _label_complete(dist.labels, g.n_edges),
        "closest_conflict_eps": None if closest is None else closest / 2.0,
        "robust_pairs": int(sol.robust.sum()), "backend": sol.solver,
        "graph_s": round(t_graph, 3), "solve_s": round(t_solve, 3),
        "independent": g.is_independent(sol.robust),
    }
    if check_solver is not None:
        t0 = time.perf_counter()
        other = optimal_robust_error(dist, eps=eps, p=p, graph=g, solver=check_solver)
        row.update({"check_backend": other.solver, "check_error": other.error,
                    "check_s": round(time.perf_counter() - t0, 3),
                    "agree": abs(other.error - sol.error) < 1e-12})
    return row


def _child(q: Any, dist: FiniteDistribution, norm: str, eps: float, solver: str,
           check_solver: str | None) -> None:
    q.put(solve_row(dist, norm, eps, solver=solver, check_solver=check_solver))


def solve_with_limit(dist: FiniteDistribution, norm: str, eps: float, *, solver: str,
                     check_solver: str | None, max_seconds: float | None) -> dict[str, Any]:
    """:func:`solve_row` in a forked process killed after ``max_seconds`` (``None``: inline).

    A killed instance gives ``{"optimal_error": None, "timeout": max_seconds, ...}``.
    """
    if max_seconds is None or "fork" not in mp.get_all_start_methods():
        return solve_row(dist, norm, eps, solver=solver, check_solver=check_solver)
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    proc = ctx.Process(target=_child, args=(q, dist, norm, eps, solver, check_solver))
    proc.start()
    try:
        row = q.get(timeout=max_seconds)
    except queue.Empty:
        proc.terminate()
        row = {"n": dist.n, "norm": norm, "eps": eps, "optimal_error": None,
               "timeout": max_seconds, "backend": solver}
    proc.join()
    return row


def run(sizes: list[int], norms: list[str], *, eps: list[float] | None = None,
        splits: tuple[str, ...] = ("train", "test"), classes: tuple[int, ...] | None = None,
        data_root: str | Path = DEFAULT_ROOT, solver: str = "auto",
        check_solver: str = "maxsat", check_max_n: int = 200, max_seconds: float = 60.0,
        critical_max_n: int = 2000, seed: int = 0, out=sys.stdout) -> list[dict[str, Any]]:
    """Solve every (size, split, norm, eps) and print one table row each; return the rows."""
    print(f"{'n':>5} {'split':>5} {'norm':>4} {'eps':>5} {'optimal':>8} {'1-max sh':>8} "
          f"{'eps0':>6} {'closest':>7} {'edges':>9} {'compl':>5} {'backend':>7} {'graph s':>7} "
          f"{'solve s':>7} {'check':>16}", file=out, flush=True)
    rows: list[dict[str, Any]] = []
    too_slow: set[tuple[str, str, float]] = set()
    for n in sizes:
        for split in splits:
            dist = load_subset(n, split, data_root=data_root, classes=classes, seed=seed)
            share = 1.0 - int(np.unique(dist.labels, return_counts=True)[1].max()) / dist.n
            for norm in norms:
                eps0 = critical_eps(dist, norm) if n <= critical_max_n else math.nan
                for e in (eps if eps is not None else GRIDS[norm]):
                    key = (split, norm, e)
                    if key in too_slow:
                        continue
                    check = check_solver if n <= check_max_n else None
                    row = solve_with_limit(dist, norm, e, solver=solver, check_solver=check,
                                           max_seconds=max_seconds)
                    row.update({"split": split, "critical_eps": eps0})
                    rows.append(row)
                    head = f"{n:>5} {split:>5} {norm:>4} {e:>5g} "
                    if row["optimal_error"] is None:
                        too_slow.add(key)
                        print(head + f"{'-':>8} {share:>8.4f} {eps0:>6.3f}  not solved within "
                              f"{max_seconds:g} s (larger sizes skipped)", file=out, flush=True)
                        continue
                    chk = ""
                    if check is not None:
                        chk = f"{row['check_backend']} {row['check_s']:.2f}s " + \
                            ("ok" if row["agree"] else "DIFFER")
                    cl = row["closest_conflict_eps"]
                    print(head + f"{row['optimal_error']:>8.4f} {share:>8.4f} {eps0:>6.3f} "
                          f"{'-' if cl is None else format(cl, '.4f'):>7} {row['edges']:>9} {'yes' if row['label_complete'] else 'no':>5} "
                          f"{row['backend']:>7} {row['graph_s']:>7.2f} {row['solve_s']:>7.2f} "
                          f"{chk:>16}", file=out, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default=str(DEFAULT_ROOT),
                    help="folder with MNIST/raw (default ../shared/data beside the repository)")
    ap.add_argument("--sizes", type=_sizes, default=None,
                    help="comma-separated subset sizes (default 100,200,500,1000,2000)")
    ap.add_argument("--norm", choices=("linf", "l2", "both"), default="both")
    ap.add_argument("--eps", type=_eps_list, default=None,
                    help="comma-separated budgets (default: l_inf 0.1..0.5, l2 1..5); "
                         "needs a single --norm")
    ap.add_argument("--classes", type=_classes, default=None,
                    help="comma-separated digits (default all ten)")
    ap.add_argument("--splits", choices=("train", "test", "both"), default="both")
    ap.add_argument("--solver", choices=SOLVERS, default="auto")
    ap.add_argument("--check-solver", choices=("maxsat", "milp", "flow"), default="maxsat",
                    help="independent backend for the cross-check (default maxsat)")
    ap.add_argument("--check-max-n", type=int, default=200,
                    help="cross-check instances with at most this many images (default 200)")
    ap.add_argument("--max-seconds", type=float, default=60.0,
                    help="stop an instance after this many seconds (forked process) and skip "
                         "larger sizes of its (split, norm, eps) (default 60)")
    ap.add_argument("--critical-max-n", type=int, default=2000,
                    help="compute eps0 (all cross-digit distances) up to this size "
                         "(default 2000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json-out", default=None, help="write the rows as JSON to this file")
    ap.add_argument("--quick", action="store_true",
                    help="sizes 100 and 200 only (a smoke test, < 30 s)")
    args = ap.parse_args(argv)
    if args.eps is not None and args.norm == "both":
        ap.error("--eps needs --norm linf or --norm l2 (the grids differ)")
    if not (args.max_seconds > 0):
        ap.error(f"--max-seconds must be > 0, got {args.max_seconds}")
    if args.check_max_n < 0:
        ap.error(f"--check-max-n must be >= 0, got {args.check_max_n}")
    raw = Path(args.data_root) / "MNIST" / "raw"
    if not raw.is_dir():
        print(f"error: MNIST not found: {raw} is not a directory (--data-root)", file=sys.stderr)
        return 2
    sizes = args.sizes or list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    norms = ["linf", "l2"] if args.norm == "both" else [args.norm]
    splits = ("train", "test") if args.splits == "both" else (args.splits,)
    print(f"MNIST {'digits ' + ','.join(map(str, args.classes)) if args.classes else 'ten digits'}"
          f", pixels in [0, 1], classifiers on R^784 (domain='continuous'), seed {args.seed}")
    t0 = time.perf_counter()
    rows = run(sizes, norms, eps=args.eps, splits=splits, classes=args.classes,
               data_root=args.data_root, solver=args.solver, check_solver=args.check_solver,
               check_max_n=args.check_max_n, max_seconds=args.max_seconds,
               critical_max_n=args.critical_max_n, seed=args.seed)
    total = time.perf_counter() - t0
    bad = [r for r in rows if r["optimal_error"] is not None
           and (not r["independent"] or r.get("agree") is False)]
    print(f"total {total:.1f} s; {len(rows)} instances "
          f"({sum(r['optimal_error'] is None for r in rows)} stopped at the time limit); "
          f"{sum('agree' in r for r in rows)} cross-checked, {len(bad)} disagreements")
    if args.json_out:
        payload = {"classes": list(args.classes) if args.classes else list(range(10)),
                   "seed": args.seed, "solver": args.solver, "total_s": round(total, 2),
                   "rows": rows}
        Path(args.json_out).write_text(json.dumps(payload, indent=2) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
