"""CLI sub-commands ``limits`` and ``table`` (feasible-eps limits)."""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np

from optrobust.cli import CliError, parse_number, parse_number_list
from optrobust.gaussian import GaussianModel
from optrobust.limits import (
    bernoulli_limits,
    feasible_eps_table,
    gaussian_from_distance,
    gaussian_limits,
)
from optrobust.norms import norm_name, parse_p

__all__ = ["register"]


def _int_list(text: str, name: str) -> list[int]:
    vals = parse_number_list(text, name=name)
    if any(not float(v).is_integer() for v in vals):
        raise CliError(f"{name} must be a comma-separated list of integers, got {text!r}")
    return [int(v) for v in vals]


def _limits_bernoulli(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    p = parse_p(args.norm, name="--norm")
    eps = parse_number(args.eps, name="--eps")
    t = parse_number(args.t, name="--t")
    k = _int_list(args.k, "--k")
    if len(k) != 1:
        raise CliError("--k must be a single integer for 'limits' (use 'table' for a grid)")
    out = bernoulli_limits(k[0], t, eps=eps, p=p, values=args.values, d=args.dim)
    lines = [
        f"Bernoulli model: k = {out['k']} effective dims, t = {out['t']:g}, "
        f"pixels {'{0,1}' if args.values == '01' else '{-1,+1}'}",
        f"  Bayes error                     {out['bayes_error']:.6g}",
        f"  optimal robust error ({norm_name(p)}, eps = {eps:g})   {out['robust_error']:.6g}",
        f"  feasible eps ({norm_name(p)})              {out['feasible_eps']:g}",
    ]
    if "threshold" in out:
        lines.append(f"  optimal threshold s             {out['threshold']}  (J <= s -> +1)")
    return out, "\n".join(lines)


def _limits_gaussian(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    p = parse_p(args.norm, name="--norm", allowed=(1, 2, math.inf))
    eps = parse_number(args.eps, name="--eps")
    sigma = parse_number(args.sigma, name="--sigma")
    if args.mu_pos is not None or args.mu_neg is not None:
        if args.mu_pos is None or args.mu_neg is None:
            raise CliError("--mu-pos and --mu-neg must be given together")
        if args.distance is not None:
            raise CliError("give either --distance or --mu-pos/--mu-neg, not both")
        mp = np.array(parse_number_list(args.mu_pos, name="--mu-pos"))
        mn = np.array(parse_number_list(args.mu_neg, name="--mu-neg"))
        model = GaussianModel(mp, mn, sigma=sigma)
    else:
        if args.distance is None:
            raise CliError("give --distance (l2) or --mu-pos and --mu-neg")
        if p != 2:
            raise CliError(
                f"--distance fixes the model only under l2; for --norm {norm_name(p)} the "
                "direction of the means matters: give --mu-pos and --mu-neg"
            )
        model = gaussian_from_distance(parse_number(args.distance, name="--distance"), sigma=sigma)
    out = gaussian_limits(model, eps=eps, p=p)
    lines = [
        f"Gaussian model: d = {model.d}, sigma = {sigma:g}, "
        f"||mu+ - mu-||_{norm_name(p)[1:]} = {2 * out['feasible_eps']:.6g}",
        f"  Bayes error                     {out['bayes_error']:.6g}",
        f"  optimal robust error ({norm_name(p)}, eps = {eps:g})   {out['robust_error']:.6g}"
        f"  (certificate gap {out['certificate_gap']:.1e})",
        f"  feasible eps ({norm_name(p)})              {out['feasible_eps']:.6g}",
    ]
    return out, "\n".join(lines)


def _table_bernoulli(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    p = parse_p(args.norm, name="--norm")
    ks = _int_list(args.k, "--k")
    ts = parse_number_list(args.t, name="--t")
    tab = feasible_eps_table(ks, ts, p=p, values=args.values)
    text = tab.to_text()
    payload: dict[str, Any] = {
        "model": "bernoulli",
        "norm": norm_name(p),
        "values": args.values,
        "rows": tab.rows(),
    }
    if args.plot:
        from optrobust.plotting import plot_bernoulli_robust_error

        path = plot_bernoulli_robust_error(ks, ts, args.plot, p=p, values=args.values)
        payload["plot"] = str(path)
        text += f"\n\nplot written to {path}"
    return payload, text


def _add_bernoulli_options(p: argparse.ArgumentParser, *, grid: bool) -> None:
    """``--k``, ``--t``, ``--norm``, ``--values``: one value each, or comma-separated grids."""
    many = "comma-separated " if grid else ""
    p.add_argument("--k", required=True, help=f"{many}number(s) of effective dimensions")
    p.add_argument("--t", required=True, help=f"{many}bias(es) t in [0, 1/2]")
    p.add_argument("--norm", default="l0", help="l0, l1, l2 or linf (default l0)")
    p.add_argument("--values", choices=("pm1", "01"), default="pm1",
                   help="pixel values {-1,+1} (pm1) or {0,1} (01)")


def register(sub: Any) -> None:
    """Add ``limits`` and ``table`` to the CLI."""
    lim = sub.add_parser("limits", help="Bayes error, optimal robust error and feasible eps")
    lsub = lim.add_subparsers(dest="model", metavar="MODEL", parser_class=type(lim))
    lsub.required = True

    b = lsub.add_parser("bernoulli", help="the multi-dimensional Bernoulli model (Theorems 3-5)")
    _add_bernoulli_options(b, grid=False)
    b.add_argument("--eps", required=True, help="budget (l0: number of changed pixels)")
    b.add_argument("--dim", type=int, default=None, help="total dimension d >= k (default k)")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.set_defaults(func=_limits_bernoulli)

    g = lsub.add_parser("gaussian", help="two Gaussians with a shared covariance (Theorem 2)")
    g.add_argument("--distance", default=None, help="||mu+ - mu-||_2 (isotropic, l2)")
    g.add_argument("--mu-pos", default=None, help="comma-separated mean of class +1")
    g.add_argument("--mu-neg", default=None, help="comma-separated mean of class -1")
    g.add_argument("--sigma", default="1", help="standard deviation (default 1)")
    g.add_argument("--norm", default="l2", help="l1, l2 or linf (default l2)")
    g.add_argument("--eps", required=True, help="budget")
    g.add_argument("--json", action="store_true", help="print one JSON object")
    g.set_defaults(func=_limits_gaussian)

    tab = sub.add_parser("table", help="a table of feasible eps over a grid")
    tsub = tab.add_subparsers(dest="model", metavar="MODEL", parser_class=type(tab))
    tsub.required = True
    tb = tsub.add_parser("bernoulli", help="feasible eps of the Bernoulli model over k and t")
    _add_bernoulli_options(tb, grid=True)
    tb.add_argument("--plot", default=None, metavar="PNG",
                    help="also draw optimal robust error against eps to this PNG")
    tb.add_argument("--json", action="store_true", help="print one JSON object")
    tb.set_defaults(func=_table_bernoulli)
