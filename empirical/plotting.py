"""matplotlib for the experiments: one place that selects the file-only Agg backend.

Every figure of :mod:`empirical` is written to a PNG; none is shown on screen, so the
backend is ``Agg`` (no display needed, works on a headless machine).  The theory package
has its own optional plotting in :mod:`optrobust.plotting`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["pyplot", "titled_layout"]


def pyplot() -> Any:
    """``matplotlib.pyplot`` with the Agg backend selected (matplotlib is imported lazily)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def titled_layout(fig: Any, title: str, *, fontsize: float = 11.0) -> Any:
    """Give ``fig`` the figure title ``title``, wrapped to its width, and lay it out.

    ``fig.suptitle`` followed by ``tight_layout()`` lets a long title run past the figure's
    edges (and over the panels' own titles); here the title is wrapped at the figure's
    width and ``tight_layout`` keeps the rows it needs free.  Returns the title artist.
    """
    import textwrap

    width_px = fig.get_figwidth() * 72.0  # text is measured in points
    chars = max(20, int(width_px / (0.55 * fontsize)))  # ~0.55 em per character
    lines = textwrap.wrap(title, width=chars) or [""]
    text = fig.suptitle("\n".join(lines), fontsize=fontsize)
    top = 1.0 - (len(lines) * fontsize * 1.35 + 6) / (fig.get_figheight() * 72.0)
    fig.tight_layout(rect=(0.0, 0.0, 1.0, max(0.5, top)))
    return text
