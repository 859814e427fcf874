"""CLI sub-commands ``limits`` and ``table`` (feasible-eps limits).

Kept light at import time (argparse and :mod:`optrobust.parsing` only); the
models are imported inside the command functions.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from optrobust.parsing import (
    CliError,
    add_norm_option,
    parse_int,
    parse_int_list,
    parse_number,
    parse_number_list,
)

__all__ = ["register"]

_BERNOULLI_MODEL = """\
The Bernoulli model (paper Definition 7): the label y is +1 or -1 with
probability 1/2; each of the d pixels equals its class centre theta(y) with
probability 1/2 + t and the opposite value otherwise, independently.

  k  number of effective pixels: coordinates where theta(+1) and theta(-1)
     differ (the other d - k pixels carry no information).  An integer >= 1.
  t  bias in [0, 1/2]: t = 0 is pure noise (Bayes error 1/2), t = 1/2 is
     noise-free.  k and t together fix every error rate.

The optimal robust error is taken over all classifiers (continuous domain);
the feasible eps is the smallest budget at which it reaches 1/2 (chance)."""


def _one_int(text: str | None, name: str) -> int | None:
    """An exact integer (``1e9`` is fine, ``9007199254740993`` is not rounded)."""
    if text is None:
        return None
    if "," in text:
        raise CliError(f"{name} must be a single integer for 'limits' (use 'table' for a grid)")
    return parse_int(text, name=name)


def _num(v: float) -> str:
    """Integers in full (a feasible l0 eps of 300000001 is not 3e+08), others to 10 digits."""
    return str(v) if isinstance(v, int) else f"{v:.10g}"


def _rows(title: str, rows: list[tuple[str, str]]) -> str:
    """``title`` then ``label  value`` lines with the values in one column."""
    width = max(len(label) for label, _ in rows)
    return "\n".join([title, *(f"  {label.ljust(width)}  {value}" for label, value in rows)])


def _limits_bernoulli(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from optrobust.limits import bernoulli_limits
    from optrobust.validation import check_p

    p = check_p(args.norm, name="--norm")
    eps = parse_number(args.eps, name="--eps")
    t = parse_number(args.t, name="--t")
    k = _one_int(args.k, "--k")
    if k is None:  # pragma: no cover - argparse requires --k
        raise CliError("--k is required")
    lim = bernoulli_limits(k, t, eps=eps, p=p, values=args.values,
                           d=_one_int(args.dim, "--dim"))
    name = lim.norm
    rows = [
        ("Bayes error", f"{lim.bayes_error:.6g}"),
        (f"optimal robust error ({name}, eps = {eps:g})", f"{lim.robust_error:.6g}"),
        (f"feasible eps ({name})", _num(lim.feasible_eps)),
    ]
    if lim.threshold is not None:
        rows.append(("optimal threshold s", f"{lim.threshold}  (J <= s -> +1)"))
    pixels = "{0,1}" if args.values == "01" else "{-1,+1}"
    title = (f"Bernoulli model: k = {lim.k} effective dims, t = {lim.t:g}, d = {lim.d}, "
             f"pixels {pixels}")
    return lim.as_dict(), _rows(title, rows)


def _limits_gaussian(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    import numpy as np

    from optrobust.gaussian import GaussianModel
    from optrobust.limits import gaussian_from_distance, gaussian_limits
    from optrobust.norms import norm_name
    from optrobust.validation import check_p

    p = check_p(args.norm, name="--norm", allowed=(1, 2, math.inf))
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
    lim = gaussian_limits(model, eps=eps, p=p)
    name = lim.norm
    rows = [
        ("Bayes error", f"{lim.bayes_error:.6g}"),
        (f"optimal robust error ({name}, eps = {eps:g})",
         f"{lim.robust_error:.6g}  (certificate gap {lim.certificate_gap:.1e})"),
        (f"feasible eps ({name})", f"{lim.feasible_eps:.6g}"),
    ]
    title = (f"Gaussian model: d = {model.d}, sigma = {sigma:g}, "
             f"||mu+ - mu-||_{name[1:]} = {2 * lim.feasible_eps:.6g}")
    return lim.as_dict(), _rows(title, rows)


def _table_bernoulli(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from optrobust.limits import feasible_eps_table
    from optrobust.norms import norm_name
    from optrobust.validation import check_p

    p = check_p(args.norm, name="--norm")
    ks = parse_int_list(args.k, name="--k")
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

        path = plot_bernoulli_robust_error(tab.ks, tab.ts, args.plot, p=p, values=args.values)
        payload["plot"] = str(path)
        text += f"\n\nplot written to {path}"
    return payload, text


def _add_bernoulli_options(p: argparse.ArgumentParser, *, grid: bool) -> None:
    """``--k``, ``--t``, ``--norm``/``--p``, ``--values``: one value each, or comma-separated."""
    many = "comma-separated list of " if grid else ""
    p.add_argument("--k", required=True, metavar="K",
                   help=f"{many}number(s) of effective pixels: coordinates where the two class "
                        "centres differ (integer >= 1, e.g. 50 or 1e6); required")
    p.add_argument("--t", required=True, metavar="T",
                   help=f"{many}bias(es) t in [0, 1/2]: each pixel equals its class centre with "
                        "probability 1/2 + t (0.3, 3/10); required")
    add_norm_option(p, default="l0")
    p.add_argument("--values", choices=("pm1", "01"), default="pm1",
                   help="pixel values {-1,+1} (pm1) or {0,1} (01, MNIST-like: halves every "
                        "distance); default pm1")


def register(sub: Any) -> None:
    """Add ``limits`` and ``table`` to the CLI."""
    raw = argparse.RawDescriptionHelpFormatter
    lim = sub.add_parser("limits", help="Bayes error, optimal robust error and feasible eps",
                         description="Bayes error, optimal robust error over all classifiers "
                                     "and feasible eps of a model.")
    lsub = lim.add_subparsers(dest="model", metavar="MODEL", parser_class=type(lim))
    lsub.required = True

    b = lsub.add_parser("bernoulli", help="the multi-dimensional Bernoulli model (Theorems 3-5)",
                        description=_BERNOULLI_MODEL, formatter_class=raw)
    _add_bernoulli_options(b, grid=False)
    b.add_argument("--eps", required=True,
                   help="perturbation budget >= 0 (l0: number of changed pixels); required")
    b.add_argument("--dim", default=None, metavar="D",
                   help="total dimension d >= k (does not change the rates); default k")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.set_defaults(func=_limits_bernoulli)

    g = lsub.add_parser(
        "gaussian", help="two Gaussians with a shared covariance (Theorem 2)",
        description="Two Gaussian classes N(mu+, sigma^2 I) and N(mu-, sigma^2 I), each with "
                    "probability 1/2 (paper Theorem 2).  Give the means, or --distance under l2.")
    g.add_argument("--distance", default=None,
                   help="||mu+ - mu-||_2, isotropic model under l2 (instead of the means)")
    g.add_argument("--mu-pos", default=None, help="comma-separated mean of class +1")
    g.add_argument("--mu-neg", default=None, help="comma-separated mean of class -1")
    g.add_argument("--sigma", default="1", help="standard deviation > 0 per coordinate; default 1")
    add_norm_option(g, default="l2", choices="l1, l2, linf")
    g.add_argument("--eps", required=True, help="perturbation budget >= 0; required")
    g.add_argument("--json", action="store_true", help="print one JSON object")
    g.set_defaults(func=_limits_gaussian)

    tab = sub.add_parser("table", help="a table of feasible eps over a grid",
                         description="Feasible eps over a grid of (k, t).")
    tsub = tab.add_subparsers(dest="model", metavar="MODEL", parser_class=type(tab))
    tsub.required = True
    tb = tsub.add_parser("bernoulli", help="feasible eps of the Bernoulli model over k and t",
                         description=_BERNOULLI_MODEL, formatter_class=raw)
    _add_bernoulli_options(tb, grid=True)
    tb.add_argument("--plot", default=None, metavar="PNG",
                    help="also draw optimal robust error against eps to this PNG")
    tb.add_argument("--json", action="store_true", help="print one JSON object")
    tb.set_defaults(func=_table_bernoulli)
