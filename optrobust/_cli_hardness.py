"""CLI sub-command ``hardness``: the Lemma-1 reduction checked on one graph.

``optrobust hardness --graph SPEC --p inf [--eps 1] [--domain support] [--json]``
solves the maximum distance-3 independent set of the graph by MaxSAT, builds
the reduction's finite distribution, solves its optimal robust error exactly
and reports whether ``n (1 - error)`` equals the independent set's size.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from optrobust.cli import CliError, parse_number
from optrobust.finite.robust import optimal_robust_error
from optrobust.hardness.graphs import parse_graph_spec
from optrobust.hardness.independent_set import max_distance3_independent_set
from optrobust.hardness.reduction import DOMAINS, reduction_instance
from optrobust.norms import norm_name, parse_p

__all__ = ["register"]


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, int) else (1, str(v))


def _hardness(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    p = parse_p(args.p, name="--p")
    if args.domain not in DOMAINS:
        raise CliError(f"--domain must be one of {DOMAINS}, got {args.domain!r}")
    eps = None
    if args.eps is not None:
        if p == 0:
            raise CliError("--eps is fixed by the construction for --p 0 (Remark 1); omit it")
        eps = parse_number(args.eps, name="--eps")
        if not (math.isfinite(eps) and eps > 0):
            raise CliError(f"--eps must be a finite number > 0, got {args.eps!r}")
    graph = parse_graph_spec(args.graph)
    chosen = sorted(max_distance3_independent_set(graph, solver="sat"), key=_sort_key)
    inst = reduction_instance(graph, p, args.domain, eps=eps)
    sol = optimal_robust_error(inst.distribution, eps=inst.eps, p=p, domain=args.domain)
    n = inst.n_vertices
    consistent = math.isclose(n * (1.0 - sol.error), len(chosen), abs_tol=1e-9)
    payload = {
        "n_vertices": n,
        "n_edges": graph.number_of_edges(),
        "independent_set_size": len(chosen),
        "independent_set": [v if isinstance(v, int) else str(v) for v in chosen],
        "robust_error": float(sol.error),
        "consistent": bool(consistent),
        "p": norm_name(p),
        "eps": inst.eps,
        "domain": args.domain,
        "dimension": int(inst.points.shape[1]),
        "robust_solver": sol.solver,
    }
    text = "\n".join([
        f"graph {args.graph}: {n} vertices, {graph.number_of_edges()} edges",
        f"  maximum distance-3 independent set (MaxSAT, verified): size {len(chosen)}: "
        f"{', '.join(map(str, chosen))}",
        f"  reduction ({norm_name(p)}, eps = {inst.eps:g}, domain = {args.domain}): "
        f"{n} points in R^{inst.points.shape[1]}",
        f"  exact optimal robust error ({sol.solver})   {sol.error:.6g}",
        f"  n * (1 - error) = {n * (1 - sol.error):.6g}  ->  "
        f"{'consistent' if consistent else 'INCONSISTENT'} with the independent set",
    ])
    return payload, text


def register(subparsers: Any) -> None:
    """Add the ``hardness`` parser to the ``optrobust`` command."""
    parser = subparsers.add_parser(
        "hardness",
        help="Lemma-1 reduction: distance-3 independent set vs exact robust optimum",
        description=("Solve the maximum distance-3 independent set of a graph with MaxSAT, "
                     "build the reduction's finite distribution and compare with its exact "
                     "optimal robust error."),
    )
    parser.add_argument("--graph", required=True,
                        help="petersen, cycle:N, path:N, gnp:N,P,SEED or an edge-list file")
    parser.add_argument("--p", default="inf", help="norm: 0, 1, 2, inf (or l0, l1, l2, linf)")
    parser.add_argument("--eps", default=None,
                        help="budget for p >= 1 (default 1; fixed by the construction for p = 0)")
    parser.add_argument("--domain", default="support", choices=DOMAINS,
                        help="classifier on the support points only, or on all of R^d")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=_hardness)
