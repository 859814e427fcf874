"""``optrobust exact``: optimal robust error of a user's finite sample (.npz file).

One ``--eps`` without ``--train``: the exact optimum and an attaining set (the output
of :func:`optrobust.optimal_robust_error`; with ``--time-limit`` a certified interval).
Several eps (``--eps 1,2,3``) or ``--train FILE.npz``: one row per eps from
:func:`optrobust.finite.dataset_limits` (``--json``: a JSON list of objects).
"""

from __future__ import annotations

import argparse
import math
import zipfile
from pathlib import Path
from typing import Any

from optrobust.parsing import (
    CliError,
    add_domain_option,
    add_norm_option,
    parse_number,
    parse_number_list,
)

__all__ = ["register"]

_SOLVERS = ("auto", "flow", "maxsat", "milp", "brute")


def register(subparsers: Any) -> None:
    """Add the ``exact`` sub-command."""
    parser = subparsers.add_parser(
        "exact",
        help="exact (or certified) optimal robust error of a finite sample (.npz with points, "
             "labels[, weights]) over one eps or an eps grid",
        description="Optimal robust error over deterministic classifiers of the finite "
        "distribution stored in an .npz file with arrays 'points' (n, d), 'labels' (n,) "
        "and optionally 'weights' (n,).  Several --eps values or --train give one row per "
        "eps: status (exact or bounded), certified [lower, upper], eps0, the constant "
        "classifier's error and, with --train, the held-out estimate.",
    )
    parser.add_argument("--data", required=True, help="path of the .npz file (test sample)")
    parser.add_argument("--eps", required=True,
                        help="budget or comma-separated budgets, e.g. 0.3 or 8/255 or 1,2,3")
    add_norm_option(parser, default=None)
    add_domain_option(parser)
    parser.add_argument("--solver", default="auto",
                        help=f"one of {', '.join(_SOLVERS)} (single eps only); default auto")
    parser.add_argument("--train", default=None,
                        help=".npz training sample (points, labels): adds the held-out "
                             "estimate (pruned 1-NN) per eps")
    parser.add_argument("--time-limit", default=None, metavar="SECONDS",
                        help="seconds per eps for the solver; past it the answer is a "
                             "certified interval (default: solve to optimality)")
    parser.add_argument("--plot", default=None, metavar="FILE.png",
                        help="write error vs eps (certified band, held-out CI, constant "
                             "classifier, eps0) to this PNG")
    parser.add_argument("--json", action="store_true",
                        help="print JSON (one object for a single eps, else a list)")
    parser.set_defaults(func=handler)


def _load_arrays(path: str, option: str) -> dict[str, Any]:
    import numpy as np

    file = Path(path)
    if not file.is_file():
        raise CliError(f"{option}: file not found: {path}")
    if not zipfile.is_zipfile(file):
        raise CliError(f"{option}: {path} is not an .npz archive (write it with "
                       f"numpy.savez(path, points=..., labels=...))")
    try:
        with np.load(file, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise CliError(f"{option}: cannot read {path} as an .npz archive of numeric arrays "
                       f"'points' and 'labels': {exc}") from None
    for key in ("points", "labels"):
        if key not in arrays:
            raise CliError(f"{option}: array {key!r} missing from {path} "
                           f"(found {sorted(arrays)})")
    return arrays


def _distribution(arrays: dict[str, Any], option: str) -> Any:
    from optrobust.errors import OptrobustError
    from optrobust.finite import FiniteDistribution

    try:
        dist = FiniteDistribution(arrays["points"], arrays["labels"], arrays.get("weights"))
    except (ValueError, TypeError) as exc:
        if isinstance(exc, OptrobustError):
            raise CliError(f"{option}: {exc}") from None
        raise CliError(f"{option}: {exc}") from None
    return dist


def _time_limit(text: str | None) -> float | None:
    if text is None:
        return None
    value = parse_number(text, name="--time-limit")
    if not (math.isfinite(value) and value > 0):
        raise CliError(f"--time-limit must be a finite number of seconds > 0, got {text!r}")
    return value


def _eps_values(text: str) -> list[float]:
    values = parse_number_list(text, name="--eps")
    for v in values:
        if not (math.isfinite(v) and v >= 0):
            raise CliError(f"--eps must be finite budgets >= 0, got {text!r}")
    return values


def handler(args: argparse.Namespace) -> tuple[Any, str]:
    """Run the solve; return (JSON payload, human text)."""
    from optrobust.norms import parse_p

    eps_list = _eps_values(args.eps)
    p = parse_p(args.norm)
    if args.solver not in _SOLVERS:
        raise CliError(f"--solver must be one of {', '.join(_SOLVERS)}, got {args.solver!r}")
    time_limit = _time_limit(args.time_limit)
    dist = _distribution(_load_arrays(args.data, "--data"), "--data")
    if dist.classes.size < 2:
        raise CliError(f"--data: labels must hold at least two classes, got only "
                       f"{dist.classes.tolist()}")
    if len(eps_list) == 1 and args.train is None:
        payload, text, rows = _single(args, dist, eps_list[0], p, time_limit)
    else:
        payload, text, rows = _grid(args, dist, eps_list, p, time_limit)
    if args.plot is not None:
        from optrobust.finite.dataset_limits import plot_dataset_limits

        plot_dataset_limits(rows, args.plot)
        text += f"\nplot written to {args.plot}"
    return payload, text


def _single(args: argparse.Namespace, dist: Any, eps: float, p: float,
            time_limit: float | None) -> tuple[dict, str, Any]:
    import numpy as np

    from optrobust.finite import conflict_graph, optimal_robust_error
    from optrobust.finite.dataset_limits import dataset_limits
    from optrobust.finite.solvers import solve_independent_set
    from optrobust.norms import norm_name

    if time_limit is None:
        sol = optimal_robust_error(dist, eps=eps, p=p, domain=args.domain, solver=args.solver)
        robust, used, n_conf = sol.robust, sol.solver, sol.n_conflicts
        lower = upper = sol.error
        status = "exact"
    else:
        g = conflict_graph(dist, eps=eps, p=p, domain=args.domain)
        res = solve_independent_set(g, time_limit=time_limit, solver=args.solver,
                                    integer_weights=dist.integer_weights())
        robust, used, n_conf, status = res.robust, res.solver, g.n_edges, res.status
        upper, lower = 1.0 - res.weight, max(0.0, 1.0 - res.upper)
        if status == "exact":
            lower = upper
    payload = {
        "n": dist.n,
        "dim": dist.dim,
        "classes": dist.classes.tolist(),
        "eps": eps,
        "norm": norm_name(p),
        "domain": args.domain,
        "solver": used,
        "robust_error": upper,
        "status": status,
        "lower": lower,
        "upper": upper,
        "n_robust": int(robust.sum()),
        "n_conflicts": n_conf,
        "robust": np.flatnonzero(robust).tolist(),
    }
    value = (f"optimal robust error = {upper:.6g}" if status == "exact" else
             f"optimal robust error in [{lower:.6g}, {upper:.6g}] (time limit reached; "
             f"certified bounds)")
    text = (
        f"n = {dist.n} pairs in R^{dist.dim}, classes {dist.classes.tolist()}\n"
        f"threat model: {norm_name(p)} ball, eps = {eps:g}, domain = {args.domain}\n"
        f"conflicting pairs: {n_conf}; solver: {used}\n"
        f"{value} ({int(robust.sum())} of {dist.n} pairs robustly correct)"
    )
    rows = None
    if args.plot is not None:
        rows = dataset_limits(dist.points, dist.labels, eps=[eps], p=p, domain=args.domain,
                              time_limit=time_limit)
    return payload, text, rows


def _grid(args: argparse.Namespace, dist: Any, eps_list: list[float], p: float,
          time_limit: float | None) -> tuple[list, str, Any]:
    import numpy as np

    from optrobust.finite.dataset_limits import dataset_limits, feasible_eps
    from optrobust.norms import norm_name

    if args.solver != "auto":
        raise CliError("--solver applies to a single --eps without --train; several eps "
                       "use the certified solver (use --time-limit to bound it)")
    if dist.integer_weights() is None or not np.all(dist.weights == dist.weights[0]):
        raise CliError("--data: 'weights' are not supported with several --eps or --train "
                       "(the grid treats the sample as uniform); drop the array or give "
                       "one --eps")
    train_pts = train_lab = None
    if args.train is not None:
        tr = _load_arrays(args.train, "--train")
        tdist = _distribution(tr, "--train")
        if tdist.dim != dist.dim:
            raise CliError(f"--train: points have dimension {tdist.dim}, --data has "
                           f"{dist.dim}")
        train_pts, train_lab = tdist.points, tdist.labels
    rows = dataset_limits(dist.points, dist.labels, eps=eps_list, p=p, domain=args.domain,
                          train_points=train_pts, train_labels=train_lab,
                          time_limit=time_limit)
    payload = []
    for r in rows:
        d = r.to_dict()
        d["p"] = norm_name(p)
        d["seconds"] = {k: round(v, 4) for k, v in d["seconds"].items()}
        payload.append(d)
    lines = [f"n = {dist.n} points in R^{dist.dim}, classes {dist.classes.tolist()}; "
             f"{norm_name(p)}, domain = {args.domain}; eps0 = {rows[0].eps0:.6g}, "
             f"constant classifier error = {rows[0].constant_error:.6g}",
             f"{'eps':>8} {'status':>7} {'lower':>8} {'upper':>8} {'held-out [95% CI]':>26} "
             f"{'conflicts':>10} {'seconds':>8}"]
    for r in rows:
        h = r.held_out
        ho = "-" if h is None else f"{h.error:.4f} [{h.ci_low:.4f}, {h.ci_high:.4f}]"
        lines.append(f"{r.eps:>8g} {r.status:>7} {r.lower:>8.4f} {r.upper:>8.4f} {ho:>26} "
                     f"{r.conflicts:>10} {r.seconds.get('total', 0.0):>8.2f}")
    fe = feasible_eps(rows)
    lines.append("feasible eps (optimum = constant classifier): "
                 + ("not reached on this grid" if fe is None else f"{fe:g}"))
    return payload, "\n".join(lines), rows
