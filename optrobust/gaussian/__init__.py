"""Two Gaussian classes with a shared covariance: exact Bayes and optimal robust error.

The model and its numerical contract are documented in :mod:`optrobust.gaussian.model`.
"""

from __future__ import annotations

from optrobust.gaussian.model import (
    GAUSSIAN_MAX_CONDITION,
    GAUSSIAN_RTOL,
    GaussianModel,
    GaussianRobustSolution,
    LinearClassifier,
)

__all__ = [
    "GAUSSIAN_MAX_CONDITION",
    "GAUSSIAN_RTOL",
    "GaussianModel",
    "GaussianRobustSolution",
    "LinearClassifier",
]
