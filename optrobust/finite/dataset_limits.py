"""Dataset limits: the optimal robust error of a real sample over an eps grid, certified.

:func:`dataset_limits` answers, for a test sample ``(x_i, y_i)`` (uniform weights) and each
``eps`` of a grid, the optimal robust error over deterministic classifiers on ``R^d``

``R*(eps) = min_h (1/n) #{i : exists x' in B_p^eps(x_i), h(x') != y_i}
          = 1 - max{ |S|/n : S independent in the conflict graph at eps }``

(:mod:`optrobust.finite.robust`), either exactly or as a certified interval
``lower <= R*(eps) <= upper`` when the per-eps time limit stops the solver
(:func:`optrobust.finite.solvers.solve_independent_set`; validity proofs in
``docs/theory.md``, "Dataset limits: certified bounds").  Beside it, when a training
sample is given, the held-out estimate of :mod:`optrobust.finite.pruned_nn` (an
upper-side estimate of the population limit, with a binomial interval).

Work shared across the grid (the eps are taken in increasing order):

* the optimum is non-decreasing in ``eps`` (the conflict graphs are nested), so an
  incumbent at a larger ``eps`` is an incumbent at every smaller one and a lower bound at
  a smaller ``eps`` holds at every larger one; the intervals are tightened accordingly;
* once the graph at some ``eps`` is *label-complete* (every two points of different
  labels conflict; detected without building it from the bounding box of the points,
  continuous domain), every larger ``eps`` is too, and the answer is the constant
  classifier's error ``1 - max class share`` at once;
* below ``eps0`` (half the smallest distance between points of different labels) the
  graph is empty; ``eps0`` is read off the edges of the first non-empty graph of the
  grid (every pair closer than that threshold is an edge there), so no extra distance
  pass is needed unless no grid graph has an edge.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.spatial.distance import cdist

from optrobust.errors import InvalidInputError, InvalidTypeError
from optrobust.finite.conflict import (
    ConflictGraph,
    box_within_conflict,
    check_domain,
    conflict_graph,
    difference_norms,
    edge_lengths,
)
from optrobust.finite.distribution import FiniteDistribution, check_labels
from optrobust.finite.solvers import solve_independent_set
from optrobust.norms import parse_p
from optrobust.validation import check_eps, check_finite_array, check_time_limit

__all__ = ["DatasetLimit", "dataset_limits", "feasible_eps", "min_cross_label_distance",
           "plot_dataset_limits"]

_CHUNK_BYTES = 64 * 2**20


@dataclass(frozen=True, kw_only=True)
class DatasetLimit:
    """The optimal robust error of a test sample at one ``eps`` (one row of the grid).

    Attributes
    ----------
    eps, p, domain
        The threat model (closed ``l_p`` ball of radius ``eps``).
    status : {"exact", "bounded"}
        ``"exact"``: ``lower == upper`` is the optimum; ``"bounded"``: the solver
        stopped at the time limit and the optimum lies in ``[lower, upper]``.
    lower, upper : float
        Certified bounds on the optimal robust error of the test sample over
        deterministic classifiers (equal when exact).  ``upper`` is attained by a
        classifier (the nearest-robust-centre classifier of a verified independent set).
    eps0 : float
        Half the smallest distance between two test points of different labels, rounded
        down past float64 rounding (relative ``4 (d + 2) 2^-53``); the optimum is 0 for
        every ``eps < eps0`` and positive from the true half-distance on (continuous
        domain; for ``p = 0``, an exact count: read ``floor(eps) < eps0``).
    constant_error : float
        ``1 - (largest class share)``: the constant classifier's robust error, an upper
        bound of the optimum at every ``eps``.
    conflicts : int
        Edges of the conflict graph (pairs of different labels within ``2 eps``).
    components, largest_component : int
        Connected components with at least one edge, and the size of the largest.
    solver : str
        The methods that ran (``"empty"``, ``"label-complete"``, or the solver's
        ``"+"``-joined list).
    n_test : int
        Test points.
    seconds : dict
        Wall time per phase: ``"graph"``, ``"solve"``, ``"held_out"``, ``"soft"``,
        ``"total"``.
    held_out : HeldOutEstimate or None
        With a training sample: the certified robust error on the test sample of the
        pruned 1-NN fitted on the training sample (:mod:`optrobust.finite.pruned_nn`).
    soft_lower : float or None
        With ``soft_bound=True``: the randomized-classifier lower bound
        :func:`~optrobust.finite.soft_robust_error_lower_bound` (pairwise hyperedges), a
        different (smaller) quantity than the deterministic optimum.
    """

    eps: float
    p: float
    domain: str
    status: str
    lower: float
    upper: float
    eps0: float
    constant_error: float
    conflicts: int
    components: int
    largest_component: int
    solver: str
    n_test: int
    seconds: dict = field(default_factory=dict)
    held_out: Any = None
    soft_lower: float | None = None

    @property
    def gap(self) -> float:
        """``upper - lower`` (0 when exact)."""
        return self.upper - self.lower

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``held_out`` as ``{error, ci_low, ci_high, ...}`` or ``None``)."""
        out = {k: getattr(self, k) for k in (
            "eps", "p", "domain", "status", "lower", "upper", "eps0", "constant_error",
            "conflicts", "components", "largest_component", "solver", "n_test",
            "soft_lower")}
        out["seconds"] = dict(self.seconds)
        h = self.held_out
        out["held_out"] = None if h is None else {
            k: getattr(h, k) for k in ("error", "ci_low", "ci_high", "n_test", "n_certified",
                                       "n_train", "n_kept", "pruning_status", "seconds")
            if hasattr(h, k)}
        return out


def feasible_eps(limits: Sequence[DatasetLimit]) -> float | None:
    """Smallest grid ``eps`` at which the optimum is certified to equal the constant's error.

    That is the first row with ``lower >= constant_error`` (then ``lower = upper =
    constant_error``, since the constant classifier attains it): from there on no
    classifier beats predicting the largest class, i.e. robust learning is impossible on
    this sample.  ``None`` when no row certifies it.  A *bounded* row before it whose
    interval contains ``constant_error`` may already be at the constant's error; the
    value returned is then an upper bound of the first such grid point.
    """
    for row in sorted(limits, key=lambda r: r.eps):
        if row.lower >= row.constant_error:
            return row.eps
    return None


def _metric(p: float) -> str:
    return {0: "hamming", 1: "cityblock", 2: "euclidean", math.inf: "chebyshev"}[p]


def _scaled(x: np.ndarray) -> tuple[np.ndarray, int]:
    """``(x * 2**-e, e)`` with ``max |x * 2**-e|`` in ``[1/2, 1)``: distances scale exactly."""
    top = float(np.max(np.abs(x))) if x.size else 0.0
    e = math.frexp(top)[1] if top > 0 and math.isfinite(top) else 0
    return np.ldexp(x, -e), e


def min_cross_label_distance(points: Any, labels: Any, *, p: Any,
                             chunk_bytes: int = _CHUNK_BYTES) -> float:
    """Smallest ``||x_i - x_j||_p`` over pairs with ``y_i != y_j`` (chunked, bounded memory).

    ``inf`` with a single label.  For ``p = 0`` the Hamming distance (number of differing
    coordinates).  ``l2`` screens with the Gram formula and recomputes, from coordinate
    differences, every pair within the formula's rounding bound of the running minimum;
    ``l_inf`` screens with the max over the 48 highest-variance coordinates (a lower bound
    of the full max) and computes the full max only for pairs the screen cannot exclude.
    The value returned is a directly computed distance of a pair that attains the minimum.
    """
    x = check_finite_array(points, name="points", ndim=2)
    y = np.asarray(labels)
    p = parse_p(p)
    best, e = _min_cross_scaled(x, y, p, chunk_bytes)
    if p == 0 or not math.isfinite(best):
        return best
    with np.errstate(over="ignore"):
        return float(np.ldexp(best, e))  # inf if the distance exceeds float64


def _min_cross_scaled(x: np.ndarray, y: np.ndarray, p: float,
                      chunk_bytes: int = _CHUNK_BYTES) -> tuple[float, int]:
    """:func:`min_cross_label_distance` of ``x * 2**-e`` and ``e`` (Hamming: ``e = 0``)."""
    if p != 0:
        x, e = _scaled(x)
    else:
        e = 0
    best = math.inf
    classes = np.unique(y)
    d = x.shape[1]
    screen = None
    if p == math.inf and d > 96:
        screen = np.sort(np.argsort(-np.var(x, axis=0), kind="stable")[:48])
    for k, c in enumerate(classes[:-1].tolist()):
        a = x[y == c]
        b = x[np.isin(y, classes[k + 1:])]
        step = max(1, chunk_bytes // (16 * max(1, b.shape[0])))
        bn = np.einsum("ij,ij->i", b, b) if p == 2 else None
        for s in range(0, a.shape[0], step):
            blk = a[s:s + step]
            if p == 2:
                an = np.einsum("ij,ij->i", blk, blk)
                sq = an[:, None] + bn[None, :] - 2.0 * (blk @ b.T)
                band = (4.0 * (d + 4) * 2.0**-53 * (an[:, None] + bn[None, :])
                        + (d + 4) * 2.0**-1060)  # subnormal squares: absolute error
                lim = min(float(np.min(sq + band)), best * best * (1 + 1e-12))
                r, cc = np.nonzero(sq - band <= lim)
            elif screen is not None:
                lb = cdist(blk[:, screen], b[:, screen], metric="chebyshev")
                full = cdist(blk[:2], b, metric="chebyshev")  # an upper bound to start from
                lim = min(best, float(full.min()))
                r, cc = np.nonzero(lb <= lim)
            else:
                dist = cdist(blk, b, metric=_metric(p))
                if p == 0:
                    dist = np.rint(dist * d)
                best = min(best, float(dist.min()))
                continue
            for t in range(0, r.size, 4096):
                diff = blk[r[t:t + 4096]] - b[cc[t:t + 4096]]
                best = min(best, float(difference_norms(diff, p=p).min()))
    return best, e


def _half_distance(dist_scaled: float, e: int, p: float, d: int) -> float:
    """``eps0 = round_down(D) / 2`` from a distance ``D * 2**-e`` computed in scaled units."""
    half = _round_down(dist_scaled, p, d) / 2.0
    if p == 0 or not math.isfinite(half):
        return half
    with np.errstate(over="ignore", under="ignore"):
        return float(np.ldexp(half, e))


def _round_down(dist: float, p: float, d: int) -> float:
    """A computed distance lowered past its float64 rounding error (relative ``4 (d+2) u``).

    So ``eps0 = _round_down(D) / 2`` is at most the true half-distance and ``R* = 0`` holds
    for every ``eps < eps0`` (for ``p = 0`` distances are exact counts).
    """
    if p == 0 or not math.isfinite(dist):
        return dist
    return dist * (1.0 - 4.0 * (d + 2) * 2.0**-53)


def _check_sample(points: Any, labels: Any, *, name: str) -> FiniteDistribution:
    x = check_finite_array(points, name=f"{name}_points", ndim=2)
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise InvalidInputError(f"{name}_points must hold at least one point of dimension "
                                f">= 1, got shape {x.shape}")
    # the library's one label check: ragged input, fractions, floats past 2**53 and
    # integers past int64 are refused (a cast would merge classes)
    return FiniteDistribution(x, check_labels(labels, x.shape[0], name=f"{name}_labels"))


def _eps_grid(eps: Any) -> list[float]:
    if isinstance(eps, str):
        raise InvalidTypeError(f"eps must be a number or a sequence of numbers, got {eps!r}")
    values = list(eps) if isinstance(eps, Sequence | np.ndarray) else [eps]
    if not values:
        raise InvalidInputError("eps must hold at least one budget >= 0")
    return sorted({check_eps(e) for e in values})


def _emit(progress: Any, message: str) -> None:
    if callable(progress):
        progress(message)


def dataset_limits(test_points: Any, test_labels: Any, *, eps: Any, p: Any,
                   train_points: Any = None, train_labels: Any = None,
                   domain: str = "continuous", time_limit: float | None = 600.0,
                   soft_bound: bool = False,
                   progress: bool | Callable[[str], Any] | None = None
                   ) -> tuple[DatasetLimit, ...]:
    """Optimal (or certified) robust error of a test sample over an ``eps`` grid.

    Parameters
    ----------
    test_points : array_like, shape (n, d)
        Finite coordinates (e.g. pixels in ``[0, 1]``); uniform weights ``1/n``.
    test_labels : array_like of int, shape (n,)
        At least two classes.
    eps : float or sequence of float
        Budgets ``>= 0``; rows come back sorted by ``eps``, duplicates merged.
    p : {0, 1, 2, inf} or str
        The norm (``"l2"``, ``"linf"`` accepted).
    train_points, train_labels : array_like, optional
        A training sample (same dimension): adds the held-out estimate per row.
    domain : {"continuous", "support"}
        As in :func:`optrobust.optimal_robust_error` (the shortcuts apply to
        ``"continuous"`` only).
    time_limit : float or None
        Seconds per ``eps`` for the independent-set solve (and for the held-out
        pruning); ``None``: solve to optimality.  The conflict graph itself is built
        in full (polynomial, chunked; seconds for 10^4 MNIST images).
    soft_bound : bool
        Also compute :func:`~optrobust.finite.soft_robust_error_lower_bound`
        (randomized classifiers, pairwise LP) per row (``soft_lower``).
    progress : bool or callable, optional
        ``True``: a tqdm bar over the grid; a callable: called with a short message
        at the start of each phase (``"eps=4 graph"``, ``"eps=4 solve"``, ...).

    Returns
    -------
    tuple of DatasetLimit
        One row per ``eps``; every row has numbers (``lower <= upper``).

    Raises
    ------
    InvalidInputError
        Empty or mismatched samples, NaN/inf coordinates, non-integer labels, a test
        sample with one class, a bad ``eps``/``p``/``domain``, ``time_limit <= 0``.

    Notes
    -----
    ``lower = 1 - U`` and ``upper = 1 - w(S)`` where ``S`` is a verified independent
    set and ``U`` a certified upper bound of the maximum independent weight
    (:func:`~optrobust.finite.solvers.solve_independent_set`), tightened by
    monotonicity in ``eps`` (module docstring) and by ``upper <= constant_error``.

    References
    ----------
    Source paper, Definitions 4-5 and Appendix A, eqs. (18)-(21); Yang, Rashtchian,
    Zhang, Salakhutdinov & Chaudhuri, "A Closer Look at Accuracy vs. Robustness"
    (NeurIPS 2020), Sec. 3 (the separation ``2 eps0``).
    """
    t_start = time.perf_counter()
    test = _check_sample(test_points, test_labels, name="test")
    grid = _eps_grid(eps)
    p = parse_p(p)
    domain = check_domain(domain)
    time_limit = check_time_limit(time_limit)
    classes, counts = np.unique(test.labels, return_counts=True)
    if classes.size < 2:
        raise InvalidInputError(f"test_labels must hold at least two classes (one class: "
                                f"every eps has optimum 0), got only {classes.tolist()}")
    train = None
    if (train_points is None) != (train_labels is None):
        raise InvalidInputError("train_points and train_labels must be given together")
    if train_points is not None:
        train = _check_sample(train_points, train_labels, name="train")
        if train.dim != test.dim:
            raise InvalidInputError(f"train_points must have the dimension of test_points "
                                    f"({test.dim}), got {train.dim}")
    n = test.n
    const_count = n - int(counts.max())
    constant_error = const_count / n
    complete_edges = (n * n - int((counts.astype(np.int64) ** 2).sum())) // 2
    iw = test.integer_weights()

    bar = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(grid), desc="dataset limits", unit="eps")
    rows: list[dict[str, Any]] = []
    eps0: float | None = None
    for e in grid:
        row: dict[str, Any] = {"eps": e, "seconds": {}}
        t0 = time.perf_counter()
        if bar is not None:
            bar.set_postfix_str(f"eps={e:g} graph")
        _emit(progress, f"eps={e:g} graph")
        if domain == "continuous" and box_within_conflict(test.points, eps=e, p=p):
            # Every two points of different labels conflict: one label survives.
            row.update(lower_count=const_count, upper_count=const_count,
                       conflicts=complete_edges, components=1, largest_component=n,
                       solver="label-complete")
            row["seconds"]["graph"] = time.perf_counter() - t0
            row["seconds"]["solve"] = 0.0
        else:
            g = conflict_graph(test, eps=e, p=p, domain=domain)
            row["seconds"]["graph"] = time.perf_counter() - t0
            if eps0 is None and g.n_edges and domain == "continuous":
                xs, ex = _scaled(test.points) if p != 0 else (test.points, 0)
                eps0 = _half_distance(float(edge_lengths(xs, g.edges, p=p).min()), ex, p,
                                      test.dim)
            t1 = time.perf_counter()
            if bar is not None:
                bar.set_postfix_str(f"eps={e:g} solve ({g.n_edges} conflicts)")
            _emit(progress, f"eps={e:g} solve")
            row.update(_solve_row(g, iw, time_limit, n, const_count))
            row["seconds"]["solve"] = time.perf_counter() - t1
            del g
        if train is not None:
            t2 = time.perf_counter()
            _emit(progress, f"eps={e:g} held_out")
            if bar is not None:
                bar.set_postfix_str(f"eps={e:g} held-out")
            from optrobust.finite.pruned_nn import held_out_estimate

            row["held_out"] = held_out_estimate(
                train.points, train.labels, test.points, test.labels, eps=e, p=p,
                time_limit=time_limit)
            row["seconds"]["held_out"] = time.perf_counter() - t2
        if soft_bound:
            t3 = time.perf_counter()
            _emit(progress, f"eps={e:g} soft")
            from optrobust.finite.soft import soft_robust_error_lower_bound

            row["soft_lower"] = float(soft_robust_error_lower_bound(
                test, eps=e, p=p, domain=domain).error)
            row["seconds"]["soft"] = time.perf_counter() - t3
        row["seconds"]["total"] = time.perf_counter() - t0
        rows.append(row)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    if eps0 is None:
        eps0 = _half_distance(*_min_cross_scaled(test.points, test.labels, p), p, test.dim)
    _tighten(rows, n)
    out = []
    for row in rows:
        out.append(DatasetLimit(
            eps=row["eps"], p=p, domain=domain, status=row["status"], lower=row["lower"],
            upper=row["upper"], eps0=eps0, constant_error=constant_error,
            conflicts=int(row["conflicts"]), components=int(row["components"]),
            largest_component=int(row["largest_component"]), solver=row["solver"],
            n_test=n, seconds=row["seconds"], held_out=row.get("held_out"),
            soft_lower=row.get("soft_lower")))
    if out:
        out[-1].seconds["call"] = time.perf_counter() - t_start
    return tuple(out)


def _solve_row(g: ConflictGraph, iw: np.ndarray | None, time_limit: float | None, n: int,
               const_count: int) -> dict[str, Any]:
    """Certified error interval at one eps from the independent-set solver."""
    if g.n_edges == 0:
        return {"lower_count": 0, "upper_count": 0, "conflicts": 0,
                "components": 0, "largest_component": 0, "solver": "empty"}
    res = solve_independent_set(g, time_limit=time_limit, integer_weights=iw)
    kept = int(res.robust.sum())
    # Uniform weights: w(S) = |S| / n and the bound is an integer count over n.
    up_count = min(n, int(math.floor(res.upper * n + 1e-6)))
    kept_err = n - kept
    return {"lower_count": n - max(up_count, kept), "upper_count": min(kept_err, const_count),
            "conflicts": g.n_edges, "components": res.components,
            "largest_component": res.largest_component, "solver": res.solver}


def _tighten(rows: list[dict[str, Any]], n: int) -> None:
    """Monotonicity in eps (nested conflict graphs); counts -> errors, status.

    ``lower`` counts are carried forward (a bound at a smaller eps holds at every larger
    one), ``upper`` counts backward (an independent set at a larger eps is independent at
    every smaller one).
    """
    best = 0
    for r in rows:
        best = max(best, r["lower_count"])
        r["lower_count"] = best
    best = n
    for r in reversed(rows):
        best = min(best, r["upper_count"])
        r["upper_count"] = best
    for r in rows:
        lo, up = min(r["lower_count"], r["upper_count"]), r["upper_count"]
        r["lower"], r["upper"] = lo / n, up / n
        r["status"] = "exact" if lo == up else "bounded"


def plot_dataset_limits(limits: Sequence[DatasetLimit], path: Any, *,
                        title: str | None = None) -> Any:
    """Robust error against eps: exact points, certified band, held-out CI, constant, eps0.

    Parameters
    ----------
    limits : sequence of DatasetLimit
        Rows of :func:`dataset_limits` (one threat model).
    path : str or Path
        PNG to write (matplotlib, Agg backend when pyplot is not loaded yet).
    title : str, optional

    Returns
    -------
    pathlib.Path
        The file written.
    """
    import sys
    from pathlib import Path

    from optrobust.errors import OptrobustError

    rows = sorted(limits, key=lambda r: r.eps)
    if not rows:
        raise InvalidInputError("limits must hold at least one DatasetLimit row")
    try:
        if "matplotlib.pyplot" not in sys.modules:
            import matplotlib

            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise OptrobustError("plotting needs matplotlib: pip install 'optrobust[plot]'"
                             ) from None
    out = Path(path)
    if not out.parent.is_dir():
        raise InvalidInputError(f"path: folder {str(out.parent)!r} does not exist")
    e = np.array([r.eps for r in rows])
    lo = np.array([r.lower for r in rows])
    up = np.array([r.upper for r in rows])
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.fill_between(e, lo, up, color="tab:blue", alpha=0.25, step=None,
                    label="certified interval (test sample)")
    ex = np.array([r.status == "exact" for r in rows])
    ax.plot(e, (lo + up) / 2, color="tab:blue", lw=1)
    ax.plot(e[ex], lo[ex], "o", color="tab:blue", label="exact optimum (test sample)")
    if np.any(~ex):
        ax.errorbar(e[~ex], (lo[~ex] + up[~ex]) / 2, yerr=(up[~ex] - lo[~ex]) / 2, fmt="none",
                    ecolor="tab:blue", capsize=3)
    held = [r for r in rows if r.held_out is not None]
    if held:
        he = np.array([r.eps for r in held])
        hv = np.array([r.held_out.error for r in held])
        ax.errorbar(he, hv, yerr=[hv - np.array([r.held_out.ci_low for r in held]),
                                  np.array([r.held_out.ci_high for r in held]) - hv],
                    fmt="s--", color="tab:orange", capsize=3,
                    label="held-out (pruned 1-NN), 95% CI")
    ax.axhline(rows[0].constant_error, color="gray", ls=":",
               label=f"constant classifier {rows[0].constant_error:.3f}")
    if math.isfinite(rows[0].eps0):
        ax.axvline(rows[0].eps0, color="tab:green", ls="--",
                   label=f"eps0 = {rows[0].eps0:.3g}")
    ax.set_xlabel("eps")
    ax.set_ylabel("robust error")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title or f"optimal robust error, n = {rows[0].n_test}")
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
