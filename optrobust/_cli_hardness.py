"""CLI sub-command ``hardness``: the Lemma-1 reduction checked on one graph.

``optrobust hardness --graph SPEC [--norm linf] [--eps 1] [--domain continuous] [--json]``
solves the maximum distance-3 independent set of the graph by MaxSAT, builds
the reduction's finite distribution, solves its optimal robust error exactly
and reports whether ``n (1 - error)`` equals the independent set's size.

The work is bounded up front: a graph with more than :data:`MAX_CLI_VERTICES`
vertices (200, the largest size benchmarked in docs/benchmarks.md; both exact
problems are NP-hard, so their time grows quickly beyond) is refused before it is
generated or solved, with one line and exit status 2.  The library functions
themselves accept up to :data:`~optrobust.hardness.reduction.MAX_REDUCTION_ENTRIES`
float64 entries (about 322 vertices).
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from optrobust.parsing import CliError, add_domain_option, add_norm_option, parse_number

__all__ = ["MAX_CLI_VERTICES", "register"]

#: Largest graph the ``hardness`` command accepts.
MAX_CLI_VERTICES = 200


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, int) else (1, str(v))


def _hardness(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from optrobust.errors import SolverError
    from optrobust.finite.robust import optimal_robust_error
    from optrobust.hardness.graphs import parse_graph_spec
    from optrobust.hardness.independent_set import max_distance3_independent_set
    from optrobust.hardness.reduction import max_reduction_vertices, reduction_instance
    from optrobust.norms import check_domain, norm_name, parse_p

    p = parse_p(args.norm, name="--norm (--p)")
    domain = check_domain(args.domain, name="--domain")
    eps = None
    if args.eps is not None:
        if p == 0:
            raise CliError("--eps is fixed by the construction for --norm l0 (Remark 1); omit it")
        eps = parse_number(args.eps, name="--eps")
        if not (math.isfinite(eps) and eps > 0):
            raise CliError(f"--eps must be a finite number > 0, got {args.eps!r}")
    bound = min(MAX_CLI_VERTICES, max_reduction_vertices(p, domain))
    graph = parse_graph_spec(args.graph, max_vertices=bound)
    inst = reduction_instance(graph, p, domain, eps=eps)
    chosen = sorted(max_distance3_independent_set(graph, solver="maxsat"), key=_sort_key)
    sol = optimal_robust_error(inst.distribution, eps=inst.eps, p=p, domain=domain)
    n = inst.n_vertices
    if not math.isclose(n * (1.0 - sol.error), len(chosen), abs_tol=1e-9):
        raise SolverError(f"reduction check failed: n (1 - error) = {n * (1.0 - sol.error):.12g} "
                          f"but the maximum distance-3 independent set has {len(chosen)} "
                          f"vertices (a bug; please report it with the graph)")
    payload = {
        "n_vertices": n,
        "n_edges": graph.number_of_edges(),
        "independent_set_size": len(chosen),
        "independent_set": [v if isinstance(v, int) else str(v) for v in chosen],
        "robust_error": float(sol.error),
        "consistent": True,
        "p": norm_name(p),
        "eps": inst.eps,
        "domain": domain,
        "dimension": int(inst.points.shape[1]),
        "robust_solver": sol.solver,
    }
    text = "\n".join([
        f"graph {args.graph}: {n} vertices, {graph.number_of_edges()} edges",
        f"  maximum distance-3 independent set (MaxSAT, verified): size {len(chosen)}: "
        f"{', '.join(map(str, chosen))}",
        f"  reduction ({norm_name(p)}, eps = {inst.eps:g}, domain = {domain}): "
        f"{n} points in R^{inst.points.shape[1]}",
        f"  exact optimal robust error ({sol.solver})   {sol.error:.6g}",
        f"  n * (1 - error) = {n * (1 - sol.error):.6g}  ->  consistent with the independent set",
    ])
    return payload, text


def register(subparsers: Any) -> None:
    """Add the ``hardness`` parser to the ``optrobust`` command."""
    parser = subparsers.add_parser(
        "hardness",
        help="Lemma-1 reduction: distance-3 independent set vs exact robust optimum",
        description=("Solve the maximum distance-3 independent set of a graph with MaxSAT, "
                     "build the reduction's finite distribution and compare with its exact "
                     f"optimal robust error. Graphs with more than {MAX_CLI_VERTICES} vertices "
                     "are refused up front (both problems are NP-hard)."),
    )
    parser.add_argument("--graph", required=True,
                        help="petersen, cycle:N, path:N, gnp:N,P,SEED or an edge-list file "
                             f"(at most {MAX_CLI_VERTICES} vertices)")
    add_norm_option(parser, default="linf")
    parser.add_argument("--eps", default=None,
                        help="budget for p >= 1 (default 1; fixed by the construction for p = 0)")
    add_domain_option(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=_hardness)
