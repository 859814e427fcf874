"""Exact optimal robust classifiers for finite distributions.

``optimal_robust_error(dist, eps=..., p=..., domain=...)`` returns the optimal
robust error over deterministic classifiers with an attaining classifier;
:func:`soft_robust_error_lower_bound` is the separate optimum (or lower bound)
over randomized classifiers.  :func:`dataset_limits` answers the same question for a
real data sample over an eps grid, exact or with certified bounds, next to the held-out
estimate of a concrete classifier (:func:`held_out_estimate`: adversarial pruning and a
certified 1-nearest-neighbour); together they bracket the population limit.
"""

from __future__ import annotations

from optrobust.finite.classifier import NearestRobustCenterClassifier, SupportLabeling
from optrobust.finite.conflict import DOMAINS, ConflictGraph, conflict_graph
from optrobust.finite.dataset_limits import DatasetLimit, dataset_limits, feasible_eps
from optrobust.finite.distribution import FiniteDistribution
from optrobust.finite.pruned_nn import (
    HeldOutEstimate,
    PrunedNearestNeighbor,
    held_out_curve,
    held_out_estimate,
)
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
    "HeldOutEstimate",
    "IndependentSetBound",
    "NearestRobustCenterClassifier",
    "PrunedNearestNeighbor",
    "RobustSolution",
    "SoftRobustBound",
    "SupportLabeling",
    "conflict_graph",
    "conflict_triples",
    "dataset_limits",
    "feasible_eps",
    "held_out_curve",
    "held_out_estimate",
    "max_weight_independent_set",
    "optimal_robust_error",
    "soft_robust_error_lower_bound",
    "solve_independent_set",
]
