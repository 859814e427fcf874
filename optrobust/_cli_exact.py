"""``optrobust exact``: optimal robust error of a user's finite sample (.npz file)."""

from __future__ import annotations

import argparse
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from optrobust.cli import parse_number
from optrobust.finite import FiniteDistribution, optimal_robust_error
from optrobust.finite.conflict import DOMAINS
from optrobust.finite.solvers import SOLVERS
from optrobust.norms import norm_name, parse_p

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``exact`` sub-command."""
    parser = subparsers.add_parser(
        "exact",
        help="exact optimal robust error of a finite sample (.npz with points, labels[, weights])",
        description="Optimal robust error over deterministic classifiers of the finite "
        "distribution stored in an .npz file with arrays 'points' (n, d), 'labels' (n,) "
        "and optionally 'weights' (n,).",
    )
    parser.add_argument("--data", required=True, help="path of the .npz file")
    parser.add_argument("--eps", required=True, help="budget, e.g. 0.3 or 8/255")
    parser.add_argument("--p", required=True, help="norm: 0, 1, 2, inf (or l0, l1, l2, linf)")
    parser.add_argument("--domain", default="continuous", help=f"one of {', '.join(DOMAINS)}")
    parser.add_argument("--solver", default="auto", help=f"one of {', '.join(SOLVERS)}")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=handler)


def _load(path: str) -> FiniteDistribution:
    file = Path(path)
    if not file.is_file():
        raise OSError(f"data file not found: {path}")
    try:
        loaded = np.load(file, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ValueError("found a single .npy array, expected an .npz archive")
        with loaded as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"data must be an .npz file with arrays 'points' and 'labels': "
                         f"{exc}") from None
    for key in ("points", "labels"):
        if key not in arrays:
            raise ValueError(f"data: array {key!r} missing from {path} "
                             f"(found {sorted(arrays)})")
    return FiniteDistribution(arrays["points"], arrays["labels"], arrays.get("weights"))


def handler(args: argparse.Namespace) -> tuple[dict, str]:
    """Run the solve; return (JSON payload, human text)."""
    eps = parse_number(args.eps, name="eps")
    if not math.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be a finite number >= 0, got {args.eps!r}")
    p = parse_p(args.p)
    dist = _load(args.data)
    sol = optimal_robust_error(dist, eps=eps, p=p, domain=args.domain, solver=args.solver)
    payload = {
        "n": dist.n,
        "dim": dist.dim,
        "classes": dist.classes.tolist(),
        "eps": eps,
        "norm": norm_name(p),
        "domain": sol.domain,
        "solver": sol.solver,
        "robust_error": sol.error,
        "n_robust": int(sol.robust.sum()),
        "n_conflicts": sol.n_conflicts,
        "robust": np.flatnonzero(sol.robust).tolist(),
    }
    text = (
        f"n = {dist.n} pairs in R^{dist.dim}, classes {dist.classes.tolist()}\n"
        f"threat model: {norm_name(p)} ball, eps = {eps:g}, domain = {sol.domain}\n"
        f"conflicting pairs: {sol.n_conflicts}; solver: {sol.solver}\n"
        f"optimal robust error = {sol.error:.6g} "
        f"({int(sol.robust.sum())} of {dist.n} pairs robustly correct)"
    )
    return payload, text
