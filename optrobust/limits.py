"""Feasible-eps limits: pure functions the CLI formats.

The *feasible eps* of a model and a norm is the smallest budget at which the
optimal robust error over all classifiers reaches chance level, 1/2: from
there on no classifier, however trained, beats a coin flip under attack.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from optrobust.bernoulli import BernoulliModel
from optrobust.errors import InvalidInputError, InvalidTypeError, ResourceLimitError
from optrobust.gaussian import GaussianModel
from optrobust.norms import norm_name
from optrobust.validation import check_eps, check_int, check_p, check_t

__all__ = [
    "MAX_CURVE_POINTS",
    "MAX_TABLE_CELLS",
    "BernoulliLimits",
    "FeasibleEpsTable",
    "GaussianLimits",
    "bernoulli_limits",
    "feasible_eps_table",
    "gaussian_from_distance",
    "gaussian_limits",
    "robust_error_curve",
]

#: Most cells ``len(ks) * len(ts)`` of :func:`feasible_eps_table` (each costs O(log k) tails).
MAX_TABLE_CELLS = 10_000
#: Most budgets in one :func:`robust_error_curve`.
MAX_CURVE_POINTS = 100_000


def gaussian_from_distance(distance: float, *, sigma: float = 1.0, dim: int = 1) -> GaussianModel:
    """Isotropic model with ``mu_pos = -mu_neg = (distance/2) e_1`` in ``R^dim``.

    Under ``l2`` every isotropic model with ``||mu_pos - mu_neg||_2 = distance``
    is equivalent to this one; under ``l1``/``l_inf`` the direction of the means
    matters, so give the means themselves.
    """
    distance = check_eps(distance, name="distance")
    dim = check_int(dim, name="dim", minimum=1, maximum=10**7)
    mu = np.zeros(dim)
    mu[0] = distance / 2.0
    return GaussianModel(mu, -mu, sigma=sigma)


@dataclass(frozen=True, kw_only=True)
class GaussianLimits:
    """Bayes error, optimal robust error and feasible eps of a Gaussian model at one eps.

    ``lower_bound`` and ``certificate_gap`` are the two-sided certificate of the
    robust optimum (:class:`~optrobust.gaussian.GaussianRobustSolution`).
    """

    model: str
    norm: str
    eps: float
    bayes_error: float
    robust_error: float
    feasible_eps: float
    lower_bound: float
    certificate_gap: float

    def as_dict(self) -> dict[str, Any]:
        """The fields as a dict (the CLI's ``--json`` object)."""
        return asdict(self)


def gaussian_limits(model: GaussianModel, *, eps: float, p: Any = 2) -> GaussianLimits:
    """Limits of a Gaussian model: Bayes error, robust error at ``eps``, feasible eps."""
    p = check_p(p, allowed=(1, 2, math.inf))
    eps = check_eps(eps)
    sol = model.robust_solution(eps=eps, p=p)
    return GaussianLimits(
        model="gaussian", norm=norm_name(p), eps=eps, bayes_error=float(model.bayes_error()),
        robust_error=float(sol.error), feasible_eps=float(model.feasible_eps(p)),
        lower_bound=float(sol.lower_bound), certificate_gap=float(sol.gap))


@dataclass(frozen=True, kw_only=True)
class BernoulliLimits:
    """Limits of the symmetric Bernoulli model with ``k`` effective dimensions at one eps.

    ``threshold`` is the paper's ``s`` (``J <= s`` -> +1) for ``l0`` and ``None``
    otherwise; ``feasible_eps`` is an ``int`` for ``l0`` (changed coordinates).
    ``exact`` says whether the rates were computed exactly (``t`` a Fraction).
    """

    model: str
    norm: str
    eps: float
    k: int
    t: float
    d: int
    values: str
    bayes_error: float
    robust_error: float
    feasible_eps: int | float
    threshold: int | None
    exact: bool

    def as_dict(self) -> dict[str, Any]:
        """The fields as a dict, without ``threshold`` when it does not apply."""
        out = asdict(self)
        if out["threshold"] is None:
            del out["threshold"]
        return out


def bernoulli_limits(
    k: int, t: Any, *, eps: float, p: Any = 0, values: str = "pm1", d: int | None = None
) -> BernoulliLimits:
    """Limits of the symmetric Bernoulli model with ``k`` effective dimensions.

    O(1) memory and ``O(log k)`` binomial tails for any ``k <= 2**53`` (float
    ``t``); see :mod:`optrobust.bernoulli`.

    >>> lim = bernoulli_limits(50, 0.3, eps=10, p=0)
    >>> lim.feasible_eps, lim.threshold, round(lim.robust_error, 4)
    (16, 24, 0.0458)
    """
    p = check_p(p)
    model = BernoulliModel.symmetric(k, t, d=d, values=values)  # type: ignore[arg-type]
    sol = model.robust_solution(eps=eps, p=p)
    return BernoulliLimits(
        model="bernoulli", norm=norm_name(p), eps=sol.eps, k=model.k, t=float(model.t),
        d=model.d, values=model.values, bayes_error=float(model.bayes_error()),
        robust_error=float(sol.error), feasible_eps=model.feasible_eps(p),
        threshold=sol.threshold if p == 0 else None, exact=model.exact)


@dataclass(frozen=True, kw_only=True)
class FeasibleEpsTable:
    """Feasible eps of the Bernoulli model for every ``(k, t)``.

    Attributes
    ----------
    ks, ts : tuple
        Grid values (rows are ``k``, columns are ``t``).
    p : float
        The norm.
    values : str
        ``"pm1"`` or ``"01"``.
    feasible_eps : tuple of tuple of float
        ``feasible_eps[i][j]`` for ``ks[i]``, ``ts[j]`` (ints for ``l0``).
    bayes_error : tuple of tuple of float
    """

    ks: tuple[int, ...]
    ts: tuple[float, ...]
    p: float
    values: str
    feasible_eps: tuple[tuple[int | float, ...], ...]
    bayes_error: tuple[tuple[float, ...], ...]

    def rows(self) -> list[dict[str, Any]]:
        """One dict per grid cell: ``k, t, feasible_eps, bayes_error``."""
        return [
            {"k": k, "t": t, "feasible_eps": self.feasible_eps[i][j],
             "bayes_error": self.bayes_error[i][j]}
            for i, k in enumerate(self.ks)
            for j, t in enumerate(self.ts)
        ]

    def to_text(self) -> str:
        """A fixed-width table, ``k`` down, ``t`` across."""
        name = norm_name(self.p)
        unit = " (pixels in {0,1})" if self.values == "01" else ""
        head = f"Feasible {name} eps of the Bernoulli model{unit}: the smallest eps at which the"
        lines = [head, "optimal robust error over all classifiers is 1/2 (chance).", ""]
        cells = [_fmt(v) for row in self.feasible_eps for v in row]
        width = max(9, *(len(c) + 2 for c in cells), *(len(f"{t:g}") + 2 for t in self.ts))
        kw = max(8, *(len(str(k)) + 2 for k in self.ks))
        lines.append("k \\ t".rjust(kw) + "".join(f"{t:g}".rjust(width) for t in self.ts))
        for k, row in zip(self.ks, self.feasible_eps, strict=True):
            lines.append(str(k).rjust(kw) + "".join(_fmt(v).rjust(width) for v in row))
        return "\n".join(lines)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.6g}"


def _as_list(values: Any, *, name: str) -> list[Any]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
        raise InvalidTypeError(f"{name} must be a sequence of numbers, got {type(values).__name__}")
    items = list(np.asarray(values).ravel()) if isinstance(values, np.ndarray) else list(values)
    if not items:
        raise InvalidInputError(f"{name} must contain at least one value")
    return items


def feasible_eps_table(
    ks: Sequence[int], ts: Sequence[Any], *, p: Any = 0, values: str = "pm1"
) -> FeasibleEpsTable:
    """Feasible eps for every ``k`` in ``ks`` and ``t`` in ``ts`` (paper Remark 2, Figure 12).

    At most :data:`MAX_TABLE_CELLS` cells; each costs ``O(log k)`` binomial tails.

    Examples
    --------
    >>> tab = feasible_eps_table([10, 50], [0.1, 0.3], p=0)
    >>> tab.feasible_eps
    ((2, 4), (6, 16))
    """
    p = check_p(p)
    ks_ = tuple(check_int(k, name="k", minimum=1) for k in _as_list(ks, name="ks"))
    ts_ = tuple(float(check_t(t)) for t in _as_list(ts, name="ts"))
    if len(ks_) * len(ts_) > MAX_TABLE_CELLS:
        raise ResourceLimitError(
            f"the table has {len(ks_)} x {len(ts_)} cells, above the limit {MAX_TABLE_CELLS}")
    fe, be = [], []
    for k in ks_:
        row, brow = [], []
        for t in ts_:
            m = BernoulliModel.symmetric(k, t, values=values)  # type: ignore[arg-type]
            row.append(m.feasible_eps(p))
            brow.append(float(m.bayes_error()))
        fe.append(tuple(row))
        be.append(tuple(brow))
    return FeasibleEpsTable(ks=ks_, ts=ts_, p=p, values=values, feasible_eps=tuple(fe),
                            bayes_error=tuple(be))


def robust_error_curve(model: Any, eps_grid: Sequence[float], *, p: Any) -> np.ndarray:
    """Optimal robust error of ``model`` at each eps of ``eps_grid`` (float array)."""
    grid = _as_list(eps_grid, name="eps_grid")
    if len(grid) > MAX_CURVE_POINTS:
        raise ResourceLimitError(
            f"eps_grid has {len(grid)} budgets, above the limit {MAX_CURVE_POINTS}")
    return np.array([float(model.robust_error(eps=check_eps(e), p=p)) for e in grid])
