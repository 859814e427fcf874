"""NP-hardness of optimal robust classification (paper, Lemma 1 and Theorem 1).

* :func:`reduction_instance` -- graph -> finite distribution whose optimal
  robust error encodes the maximum distance-3 independent set;
* :func:`max_distance3_independent_set` -- that set by MaxSAT (RC2), networkx
  or brute force, checked by :func:`is_distance3_independent_set`;
* round trips :func:`independent_set_from_solution` and
  :func:`classifier_from_independent_set`.
"""

from __future__ import annotations

from optrobust.hardness.graphs import parse_graph_spec
from optrobust.hardness.independent_set import (
    SOLVERS,
    check_solver,
    distance2_pairs,
    is_distance3_independent_set,
    max_distance3_independent_set,
)
from optrobust.hardness.reduction import (
    DOMAINS,
    MAX_REDUCTION_ENTRIES,
    BallClassifier,
    ReductionInstance,
    classifier_from_independent_set,
    classifier_robust_error,
    gadget_points,
    independent_set_from_solution,
    max_reduction_vertices,
    printed_construction_points,
    reduction_dimension,
    reduction_instance,
)

__all__ = [
    "DOMAINS",
    "MAX_REDUCTION_ENTRIES",
    "SOLVERS",
    "BallClassifier",
    "ReductionInstance",
    "check_solver",
    "classifier_from_independent_set",
    "classifier_robust_error",
    "distance2_pairs",
    "gadget_points",
    "independent_set_from_solution",
    "is_distance3_independent_set",
    "max_distance3_independent_set",
    "max_reduction_vertices",
    "parse_graph_spec",
    "printed_construction_points",
    "reduction_dimension",
    "reduction_instance",
]
