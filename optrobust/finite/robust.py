"""The optimal robust error of a finite distribution (deterministic classifiers).

Statement (pairwise sufficiency).  For a set ``R`` of pairs, some
deterministic classifier is robustly correct on every pair of ``R`` iff no two
pairs of ``R`` conflict (:mod:`optrobust.finite.conflict`).  Hence the optimal
robust error is ``1 - max{w(R) : R independent in the conflict graph}``.

Proof.  Necessity: a classifier correct on both ``B(x_i)`` and ``B(x_j)``
with ``y_i != y_j`` would give two labels to a point of ``B(x_i) ∩ B(x_j)``
(continuous) or to a support point in both balls (support).  Sufficiency,
continuous: define ``h(z)`` as the label of the nearest point of ``R``
(:class:`~optrobust.finite.classifier.NearestRobustCenterClassifier`); if
``z ∈ B(x_i)`` then every ``x_j ∈ R`` of another label is farther than ``eps``
from ``z`` (triangle inequality and ``||x_i - x_j|| > 2 eps``), so ``h(z) =
y_i``.  Sufficiency, support: give every support point in some ``B(x_i)``,
``i ∈ R``, the label ``y_i`` (well defined since two balls of different labels
in ``R`` share no support point) and any label elsewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from optrobust._validation import check_eps
from optrobust.finite.classifier import NearestRobustCenterClassifier, SupportLabeling
from optrobust.finite.conflict import (
    DEFAULT_RTOL,
    ConflictGraph,
    ball_incidence,
    check_domain,
    conflict_graph,
    support_points,
)
from optrobust.finite.distribution import FiniteDistribution
from optrobust.finite.solvers import max_weight_independent_set
from optrobust.norms import parse_p

__all__ = ["RobustSolution", "optimal_robust_error", "robust_error_of_set"]


@dataclass(frozen=True)
class RobustSolution:
    """An optimal deterministic robust classifier of a finite distribution.

    Attributes
    ----------
    error : float
        Optimal robust error ``1 - sum_{i robust} w_i`` (weights normalized).
    robust : numpy.ndarray of bool, shape (n,)
        Which (point, label) pairs the classifier gets right on their whole ball.
    solver : str
        ``"flow"``, ``"maxsat"``, ``"milp"`` or ``"brute"``.
    classifier : NearestRobustCenterClassifier or SupportLabeling
        Attains ``error``: ``.predict(X)`` (for ``support`` also ``.labeling``).
    eps, p, domain
        The threat model.
    n_conflicts : int
        Number of edges of the conflict graph.
    """

    error: float
    robust: np.ndarray
    solver: str
    classifier: Any
    eps: float
    p: float
    domain: str
    n_conflicts: int

    @property
    def robust_weight(self) -> float:
        """``1 - error``: the mass of robustly-correct pairs."""
        return 1.0 - self.error


def robust_error_of_set(dist: FiniteDistribution, robust: np.ndarray) -> float:
    """``1 - w(R)``, exactly rounded when the weights are proportional to integers."""
    robust = np.asarray(robust, dtype=bool)
    iw = dist.integer_weights()
    if iw is not None:
        total = int(iw.sum())
        return (total - int(iw[robust].sum())) / total
    return max(0.0, 1.0 - math.fsum(dist.weights[robust].tolist()))


def _default_label(dist: FiniteDistribution) -> int:
    classes, inv = np.unique(dist.labels, return_inverse=True)
    mass = np.bincount(inv.reshape(-1), weights=dist.weights)
    return int(classes[int(np.argmax(mass))])


def _support_classifier(dist: FiniteDistribution, robust: np.ndarray, eps: float,
                        p: float, rtol: float) -> SupportLabeling:
    uniq, point_of = support_points(dist)
    _, inside = ball_incidence(dist, eps=eps, p=p, rtol=rtol)
    m = uniq.shape[0]
    labeling = np.full(m, _default_label(dist), dtype=np.int64)
    # Elsewhere: the heaviest label sitting on the point itself (cosmetic).
    order = np.argsort(dist.weights, kind="stable")
    labeling[point_of[order]] = dist.labels[order]
    inside = inside.tocsr()
    for i in np.flatnonzero(robust).tolist():
        u = point_of[i]
        labeling[inside.indices[inside.indptr[u]:inside.indptr[u + 1]]] = dist.labels[i]
    return SupportLabeling(support_points=uniq, labeling=labeling)


def optimal_robust_error(dist: FiniteDistribution, *, eps: Any, p: Any,
                         domain: str = "continuous", solver: str = "auto",
                         rtol: float = DEFAULT_RTOL,
                         graph: ConflictGraph | None = None) -> RobustSolution:
    """Optimal robust error over deterministic classifiers, with an attaining classifier.

    Parameters
    ----------
    dist : FiniteDistribution
    eps : float
        Budget ``eps >= 0`` of the closed ball ``B_p^eps(x)``.
    p : {0, 1, 2, inf} or str
    domain : {"continuous", "support"}
        ``"continuous"``: the classifier is any function on R^d; ``"support"``:
        inputs and perturbations are the support points only.
    solver : {"auto", "flow", "maxsat", "milp", "brute"}
        ``"auto"``: max-flow for two labels (integer-proportional weights), else
        MILP (HiGHS).  ``"flow"`` needs <= 2 labels; ``"brute"`` needs n <= 20.
    rtol : float
        Tie tolerance of the distance comparisons (see :mod:`optrobust.finite.conflict`).
    graph : ConflictGraph, optional
        A conflict graph already computed for the same ``dist``, ``eps``, ``p``,
        ``domain`` (skips the distance computation).

    Returns
    -------
    RobustSolution

    Raises
    ------
    ValueError
        Bad ``eps``, ``p``, ``domain``, ``solver``, or a solver that does not
        apply (``flow`` with 3+ labels, ``brute`` with n > 20).

    Notes
    -----
    ``R*_{p,eps}(D) = min_h P_{(x,y)~D}[exists x' in B_p^eps(x): h(x') != y]
    = 1 - max{ sum_{i in S} w_i : S independent in the conflict graph }``
    (module docstring for the proof).

    References
    ----------
    Source paper, Definitions 4-5 (eq. (5)) and Appendix A, eqs. (18)-(21).

    Examples
    --------
    >>> d = FiniteDistribution([[0.0], [1.0]], [0, 1])
    >>> optimal_robust_error(d, eps=0.5, p=2).error   # touching closed balls conflict
    0.5
    >>> optimal_robust_error(d, eps=0.49, p=2).error
    0.0
    """
    if graph is None:
        graph = conflict_graph(dist, eps=eps, p=p, domain=domain, rtol=rtol)
    elif (not isinstance(graph, ConflictGraph) or graph.n != dist.n
          or graph.eps != check_eps(eps) or graph.p != parse_p(p)
          or graph.domain != check_domain(domain)):
        raise ValueError("graph must be the ConflictGraph of dist for the same eps, p, domain")
    robust, used = max_weight_independent_set(
        graph, solver=solver, integer_weights=dist.integer_weights()
    )
    if graph.domain == "continuous":
        classifier: Any = NearestRobustCenterClassifier(
            centers=dist.points[robust], center_labels=dist.labels[robust],
            default=_default_label(dist), p=graph.p, eps=graph.eps,
        )
    else:
        classifier = _support_classifier(dist, robust, graph.eps, graph.p, graph.rtol)
    robust.setflags(write=False)
    return RobustSolution(
        error=robust_error_of_set(dist, robust), robust=robust, solver=used,
        classifier=classifier, eps=graph.eps, p=graph.p, domain=graph.domain,
        n_conflicts=graph.n_edges,
    )
