"""matplotlib for the experiments: one place that selects the file-only Agg backend.

Every figure of :mod:`empirical` is written to a PNG; none is shown on screen, so the
backend is ``Agg`` (no display needed, works on a headless machine).  The theory package
has its own optional plotting in :mod:`optrobust.plotting`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["pyplot"]


def pyplot() -> Any:
    """``matplotlib.pyplot`` with the Agg backend selected (matplotlib is imported lazily)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
