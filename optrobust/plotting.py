"""Plots of optimal robust error against eps (matplotlib, an optional dependency)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optrobust.bernoulli import BernoulliModel
from optrobust.norms import norm_name, parse_p

__all__ = ["plot_bernoulli_robust_error"]


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise ValueError(
            "--plot needs matplotlib: pip install 'optrobust[plot]'"
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
    p = parse_p(p)
    plt = _pyplot()
    n = len(ks)
    cols = min(n, 2)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 4.2 * rows), squeeze=False)
    cmap = plt.get_cmap("viridis")
    for idx, k in enumerate(ks):
        ax = axes[idx // cols][idx % cols]
        for j, t in enumerate(ts):
            m = BernoulliModel.symmetric(int(k), t, values=values)  # type: ignore[arg-type]
            fe = float(m.feasible_eps(p))
            colour = cmap(j / max(len(ts) - 1, 1))
            if p == 0:
                grid = np.arange(0, int(fe) + 2)
                err = [float(m.robust_error(eps=e, p=p)) for e in grid]
                ax.step(grid, err, where="post", color=colour, label=f"t = {t:g}")
                if len(grid) <= 60:
                    ax.plot(grid, err, "o", ms=3, color=colour)
            else:
                hi = fe * 1.15 if fe > 0 else 1.0
                grid = np.linspace(0, hi, 200)
                err = [float(m.robust_error(eps=e, p=p)) for e in grid]
                ax.plot(grid, err, color=colour, label=f"t = {t:g}")
            ax.axvline(fe, color=colour, ls="--", lw=0.8, alpha=0.7)
        ax.axhline(0.5, color="grey", lw=0.8, ls=":")
        ax.set_title(f"Bernoulli model, k = {k}, {norm_name(p)}")
        ax.set_xlabel(f"{norm_name(p)} budget eps" + (" (changed pixels)" if p == 0 else ""))
        ax.set_ylabel("optimal robust error")
        ax.set_ylim(-0.02, 0.54)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    for idx in range(n, rows * cols):
        axes[idx // cols][idx % cols].axis("off")
    fig.suptitle("Optimal robust error over all classifiers (dashed: feasible eps)", fontsize=11)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
