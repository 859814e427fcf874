"""Feasible-eps limits: pure functions the CLI formats.

The *feasible eps* of a model and a norm is the smallest budget at which the
optimal robust error over all classifiers reaches chance level, 1/2: from
there on no classifier, however trained, beats a coin flip under attack.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optrobust._validation import check_eps, check_int, check_t
from optrobust.bernoulli import BernoulliModel
from optrobust.gaussian import GaussianModel
from optrobust.norms import norm_name, parse_p

__all__ = [
    "FeasibleEpsTable",
    "bernoulli_limits",
    "feasible_eps_table",
    "gaussian_limits",
    "gaussian_from_distance",
    "robust_error_curve",
]


def gaussian_from_distance(distance: float, *, sigma: float = 1.0, dim: int = 1) -> GaussianModel:
    """Isotropic model with ``mu_pos = -mu_neg = (distance/2) e_1`` in ``R^dim``.

    Under ``l2`` every isotropic model with ``||mu_pos - mu_neg||_2 = distance``
    is equivalent to this one; under ``l1``/``l_inf`` the direction of the means
    matters, so give the means themselves.
    """
    distance = check_eps(distance, name="distance")
    dim = check_int(dim, name="dim", minimum=1)
    mu = np.zeros(dim)
    mu[0] = distance / 2.0
    return GaussianModel(mu, -mu, sigma=sigma)


def gaussian_limits(model: GaussianModel, *, eps: float, p: Any = 2) -> dict[str, Any]:
    """``{model, norm, eps, bayes_error, robust_error, feasible_eps}`` plus the certificate gap."""
    p = parse_p(p, allowed=(1, 2, math.inf))
    sol = model.robust_solution(eps=eps, p=p)
    return {
        "model": "gaussian",
        "norm": norm_name(p),
        "eps": float(eps),
        "bayes_error": model.bayes_error(),
        "robust_error": sol.error,
        "feasible_eps": model.feasible_eps(p),
        "lower_bound": sol.lower_bound,
        "certificate_gap": sol.gap,
    }


def bernoulli_limits(
    k: int, t: Any, *, eps: float, p: Any = 0, values: str = "pm1", d: int | None = None
) -> dict[str, Any]:
    """Limits of the symmetric Bernoulli model with ``k`` effective dimensions.

    Returns ``{model, norm, eps, bayes_error, robust_error, feasible_eps}`` and
    ``threshold`` (the paper's ``s``) for ``l0``.
    """
    p = parse_p(p)
    model = BernoulliModel.symmetric(k, t, d=d, values=values)  # type: ignore[arg-type]
    sol = model.robust_solution(eps=eps, p=p)
    out: dict[str, Any] = {
        "model": "bernoulli",
        "norm": norm_name(p),
        "eps": check_eps(eps),
        "bayes_error": float(model.bayes_error()),
        "robust_error": float(sol.error),
        "feasible_eps": model.feasible_eps(p),
    }
    if p == 0:
        out["threshold"] = sol.threshold
    out["k"] = model.k
    out["t"] = float(model.t)
    return out


@dataclass(frozen=True)
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
        ``feasible_eps[i][j]`` for ``ks[i]``, ``ts[j]``.
    bayes_error : tuple of tuple of float
    """

    ks: tuple[int, ...]
    ts: tuple[float, ...]
    p: float
    values: str
    feasible_eps: tuple[tuple[float, ...], ...]
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
        width = max(9, *(len(_fmt(v)) + 2 for row in self.feasible_eps for v in row))
        lines.append("k \\ t".rjust(8) + "".join(f"{t:g}".rjust(width) for t in self.ts))
        for k, row in zip(self.ks, self.feasible_eps, strict=True):
            lines.append(str(k).rjust(8) + "".join(_fmt(v).rjust(width) for v in row))
        return "\n".join(lines)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.6g}"


def feasible_eps_table(
    ks: Sequence[int], ts: Sequence[Any], *, p: Any = 0, values: str = "pm1"
) -> FeasibleEpsTable:
    """Feasible eps for every ``k`` in ``ks`` and ``t`` in ``ts`` (paper Remark 2, Figure 12).

    Examples
    --------
    >>> tab = feasible_eps_table([10, 50], [0.1, 0.3], p=0)
    >>> tab.feasible_eps
    ((2, 4), (6, 16))
    """
    p = parse_p(p)
    if not ks:
        raise ValueError("ks must contain at least one k")
    if not ts:
        raise ValueError("ts must contain at least one t")
    ks_ = tuple(check_int(k, name="k", minimum=1) for k in ks)
    ts_ = tuple(float(check_t(t)) for t in ts)
    fe, be = [], []
    for k in ks_:
        row, brow = [], []
        for t in ts_:
            m = BernoulliModel.symmetric(k, t, values=values)  # type: ignore[arg-type]
            row.append(m.feasible_eps(p))
            brow.append(float(m.bayes_error()))
        fe.append(tuple(row))
        be.append(tuple(brow))
    return FeasibleEpsTable(ks_, ts_, p, values, tuple(fe), tuple(be))


def robust_error_curve(model: Any, eps_grid: Sequence[float], *, p: Any) -> np.ndarray:
    """Optimal robust error of ``model`` at each eps of ``eps_grid`` (float array)."""
    return np.array([float(model.robust_error(eps=e, p=p)) for e in eps_grid])
