"""Exact optimal robust classifiers for finite distributions.

``optimal_robust_error(dist, eps=..., p=..., domain=...)`` returns the optimal
robust error over deterministic classifiers with an attaining classifier;
:func:`soft_robust_error_lower_bound` is the separate optimum (or lower bound)
over randomized classifiers.
"""

from __future__ import annotations

from optrobust.finite.classifier import NearestRobustCenterClassifier, SupportLabeling
from optrobust.finite.conflict import DOMAINS, ConflictGraph, conflict_graph
from optrobust.finite.dataset_limits import DatasetLimit, dataset_limits, feasible_eps
from optrobust.finite.distribution import FiniteDistribution
from optrobust.finite.robust import RobustSolution, optimal_robust_error
from optrobust.finite.soft import SoftRobustBound, conflict_triples, soft_robust_error_lower_bound
from optrobust.finite.solvers import (
    SOLVERS,
    IndependentSetBound,
    max_weight_independent_set,
    solve_independent_set,
)

__all__ = [
    "DOMAINS",
    "SOLVERS",
    "ConflictGraph",
    "DatasetLimit",
    "FiniteDistribution",
    "IndependentSetBound",
    "NearestRobustCenterClassifier",
    "RobustSolution",
    "SoftRobustBound",
    "SupportLabeling",
    "conflict_graph",
    "conflict_triples",
    "dataset_limits",
    "feasible_eps",
    "max_weight_independent_set",
    "optimal_robust_error",
    "soft_robust_error_lower_bound",
    "solve_independent_set",
]
