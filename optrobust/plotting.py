"""Plots of optimal robust error against eps (matplotlib, an optional dependency).

The Agg backend is selected only when matplotlib has not been imported yet, so
an interactive session keeps its own backend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optrobust.bernoulli import BernoulliModel
from optrobust.errors import InvalidInputError, MissingDependencyError, ResourceLimitError
from optrobust.norms import norm_name
from optrobust.validation import check_int, check_p, check_t

__all__ = ["MAX_PANELS", "plot_bernoulli_robust_error"]

#: Most panels x curves in one figure.
MAX_PANELS = 400
#: Budgets evaluated per curve (l0 curves with more integer steps are subsampled).
_POINTS = 240


def _pyplot() -> Any:
    import sys

    try:
        if "matplotlib.pyplot" not in sys.modules:
            import matplotlib

            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            "plotting needs matplotlib: pip install 'optrobust[plot]'"
        ) from None
    return plt


def plot_bernoulli_robust_error(
    ks: Sequence[int],
    ts: Sequence[float],
    path: str | Path,
    *,
    p: Any = 0,
    values: str = "pm1",
) -> Path:
    """Optimal robust error against eps, one panel per ``k``, one curve per ``t``.

    The dashed vertical line of each curve marks its feasible eps (the error
    reaches 1/2 there and stays).  For ``k = 50, t = 0.3, p = 0`` this is the
    paper's Figure 12 (Appendix G), computed over *all* classifiers.

    Returns the path written (PNG).
    """
    p = check_p(p)
    ks = [check_int(k, name="k", minimum=1) for k in ks]
    ts_checked = [check_t(t) for t in ts]
    if not ks or not ts_checked:
        raise InvalidInputError("ks and ts must each contain at least one value")
    if len(ks) * len(ts_checked) > MAX_PANELS:
        raise ResourceLimitError(
            f"{len(ks)} panels x {len(ts_checked)} curves exceed the limit of {MAX_PANELS} curves")
    out = Path(path)
    if not out.parent.is_dir():
        raise InvalidInputError(f"plot path {str(out)!r}: directory does not exist")
    plt = _pyplot()
    n = len(ks)
    cols = min(n, 2)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 4.2 * rows), squeeze=False)
    cmap = plt.get_cmap("viridis")
    for idx, k in enumerate(ks):
        ax = axes[idx // cols][idx % cols]
        for j, t in enumerate(ts_checked):
            m = BernoulliModel.symmetric(int(k), t, values=values)  # type: ignore[arg-type]
            fe = float(m.feasible_eps(p))
            colour = cmap(j / max(len(ts_checked) - 1, 1))
            if p == 0:
                top = int(fe) + 1
                steps = (np.arange(0, top + 1) if top < _POINTS
                         else np.unique(np.linspace(0, top, _POINTS).round()).astype(np.int64))
                err = [float(m.robust_error(eps=int(e), p=p)) for e in steps]
                ax.step(steps, err, where="post", color=colour, label=f"t = {float(t):g}")
                if len(steps) <= 60:
                    ax.plot(steps, err, "o", ms=3, color=colour)
            else:
                hi = fe * 1.15 if fe > 0 else 1.0
                grid = np.linspace(0, hi, _POINTS)
                err = [float(m.robust_error(eps=e, p=p)) for e in grid]
                ax.plot(grid, err, color=colour, label=f"t = {float(t):g}")
            ax.axvline(fe, color=colour, ls="--", lw=0.8, alpha=0.7)
        ax.axhline(0.5, color="grey", lw=0.8, ls=":")
        ax.set_title(f"Bernoulli model, k = {k}, {norm_name(p)}")
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 5))
        ax.set_xlabel(f"{norm_name(p)} budget eps" + (" (changed pixels)" if p == 0 else ""))
        ax.set_ylabel("optimal robust error")
        ax.set_ylim(-0.02, 0.54)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    for idx in range(n, rows * cols):
        axes[idx // cols][idx % cols].axis("off")
    fig.suptitle("Optimal robust error over all classifiers (dashed: feasible eps)", fontsize=11)
    fig.tight_layout()
    try:
        fig.savefig(out, dpi=120)
    except (OSError, ValueError) as exc:  # unwritable path, unknown extension
        raise InvalidInputError(f"cannot write the plot to {str(out)!r}: {exc}") from None
    finally:
        plt.close(fig)
    return out
