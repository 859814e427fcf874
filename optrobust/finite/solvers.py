"""Maximum-weight independent sets in conflict graphs (flow, MaxSAT, MILP, brute force).

The optimal robust error of a finite distribution is ``1 - (max weight of an
independent set of the conflict graph)``; this module computes such sets.

* ``"flow"``: two labels make the graph bipartite; a maximum-weight independent
  set is the complement of a minimum-weight vertex cover, read off a minimum
  ``s``-``t`` cut (``scipy.sparse.csgraph.maximum_flow``, integer capacities).
* ``"maxsat"``: weighted partial MaxSAT, a soft unit clause ``[x_i]`` of weight
  ``w_i`` per pair and a hard clause ``[-x_i, -x_j]`` per conflict, solved by
  RC2 (python-sat).
* ``"milp"``: ``max sum w_i x_i`` over binary ``x`` s.t. ``sum_{i in K} x_i <= 1``
  for every clique ``K`` of a greedy edge clique cover of the conflict graph
  (``scipy.optimize.milp``, HiGHS, relative gap 0).  Every conflict lies in some
  ``K`` and every ``K`` is a clique, so the binary solutions are exactly the
  independent sets, as with one ``x_i + x_j <= 1`` row per conflict; but the LP
  relaxation is tighter (the edge rows admit ``x = 1/2`` everywhere), which helps
  on dense multi-class graphs: 500 MNIST digits, l2, eps = 5 (44882 conflicts)
  take 2.5 s instead of 16.5 s with the edge rows.  Components above
  ``CLIQUE_MAX_N`` vertices fall back to the edge rows.  A component in which
  every two pairs of different labels conflict ("label-complete", e.g. every
  image pair at l_inf eps = 1/2 on [0, 1] pixels) is solved in closed form: an
  independent set holds one label only, so the heaviest label wins (500 MNIST
  digits at l_inf eps = 1/2, 112465 conflicts: 0.02 s, against 74 s for HiGHS
  on the edge rows).
* ``"brute"``: every subset of the ``n <= 20`` pairs (an oracle for tests).

MaxSAT and MILP are run per connected component of the conflict graph
(isolated pairs are robust for free).

:func:`solve_independent_set` is the time-limited form: a verified independent set and a
certified upper bound on the maximum weight (greedy + local search incumbents; clique
partition, clique-row LP by weak duality with cutting planes, HiGHS MILP dual bound;
docs/theory.md, "Dataset limits: certified bounds").
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse.csgraph import breadth_first_order, connected_components, maximum_flow

from optrobust.errors import InvalidInputError, SolverError
from optrobust.finite.conflict import ConflictGraph
from optrobust.finite.local_search import iterated_local_search
from optrobust.validation import check_time_limit

__all__ = ["SOLVERS", "BRUTE_MAX_N", "CLIQUE_MAX_N", "MILP_NODE_LIMIT", "IndependentSetBound",
           "clique_cover", "clique_partition_bound", "greedy_independent_set",
           "improve_independent_set", "lp_dual_bound", "max_weight_independent_set",
           "solve_independent_set"]

SOLVERS = ("auto", "flow", "maxsat", "milp", "brute")
BRUTE_MAX_N = 20
#: Largest component (vertices) given a clique cover; it builds two dense k x k bool arrays.
CLIQUE_MAX_N = 6000


def _check_solver(solver: Any) -> str:
    if solver not in SOLVERS:
        raise InvalidInputError(f"solver must be one of {SOLVERS}, got {solver!r}")
    return str(solver)


def _flow(graph: ConflictGraph, iw: np.ndarray) -> np.ndarray:
    """Max-weight independent set of a bipartite graph by a minimum cut."""
    n = graph.n
    classes = np.unique(graph.labels)
    left = graph.labels == classes[0]
    robust = np.ones(n, dtype=bool)
    if graph.n_edges == 0:
        return robust
    i, j = graph.edges[:, 0], graph.edges[:, 1]
    a = np.where(left[i], i, j)  # endpoint on the left side
    b = np.where(left[i], j, i)
    big = int(iw.sum()) + 1
    if big >= 2**31 - 1:
        raise ValueError("weights are too large for the integer max-flow solver; use "
                         "solver='milp'")
    s, t = n, n + 1
    left_idx = np.flatnonzero(left)
    right_idx = np.flatnonzero(~left)
    rows = np.concatenate([np.full(left_idx.size, s), a, right_idx])
    cols = np.concatenate([left_idx, b, np.full(right_idx.size, t)])
    caps = np.concatenate([iw[left_idx], np.full(a.size, big), iw[right_idx]]).astype(np.int32)
    cap = sp.csr_array((caps, (rows, cols)), shape=(n + 2, n + 2))
    cap.sum_duplicates()
    res = maximum_flow(cap, s, t, method="dinic")
    flow = sp.csr_array(res.flow)
    # Residual capacities: cap - flow on forward arcs, +flow on reverse arcs.
    residual = (cap.astype(np.int64) - flow.astype(np.int64)).tocsr()
    residual.data[residual.data < 0] = 0
    residual.eliminate_zeros()
    reach = np.zeros(n + 2, dtype=bool)
    reach[breadth_first_order(residual, s, directed=True, return_predecessors=False)] = True
    # Min cut (S, T): cover = (left not in S) + (right in S); independent set = complement.
    robust[left_idx] = reach[left_idx]
    robust[right_idx] = ~reach[right_idx]
    return robust


def _components(graph: ConflictGraph) -> list[np.ndarray]:
    """Vertex sets of the connected components with at least one edge."""
    if graph.n_edges == 0:
        return []
    ncomp, comp = connected_components(graph.adjacency(), directed=False)
    sizes = np.bincount(comp, minlength=ncomp)
    order = np.argsort(comp, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    return [order[bounds[c]:bounds[c + 1]] for c in range(ncomp) if sizes[c] > 1]


def _local_edges(graph: ConflictGraph, verts: np.ndarray) -> np.ndarray:
    pos = np.full(graph.n, -1, dtype=np.int64)
    pos[verts] = np.arange(verts.size)
    e = pos[graph.edges]
    return e[(e[:, 0] >= 0) & (e[:, 1] >= 0)]


def _maxsat_component(w: np.ndarray, edges: np.ndarray) -> np.ndarray:
    from pysat.examples.rc2 import RC2
    from pysat.formula import WCNF

    wcnf = WCNF()
    for u, v in edges.tolist():
        wcnf.append([-(u + 1), -(v + 1)])
    for k, wk in enumerate(w.tolist()):
        if wk > 0:
            wcnf.append([k + 1], weight=wk)
    with RC2(wcnf) as rc2:
        model = rc2.compute()
    if model is None:  # pragma: no cover - the all-false assignment is always feasible
        raise RuntimeError("RC2 reported the conflict formula unsatisfiable")
    chosen = np.zeros(w.size, dtype=bool)
    for lit in model:
        if 0 < lit <= w.size:
            chosen[lit - 1] = True
    return chosen


def clique_cover(k: int, edges: np.ndarray) -> list[np.ndarray]:
    """Greedy edge clique cover: cliques of the graph that together contain every edge.

    Parameters
    ----------
    k : int
        Number of vertices ``0 .. k-1``.
    edges : numpy.ndarray, shape (m, 2)
        Undirected edges (no self-loops).

    Returns
    -------
    list of numpy.ndarray
        Vertex sets; each is a clique, and each edge has both ends in one of them.

    Notes
    -----
    Vertices are visited by decreasing degree; while vertex ``v`` has an
    uncovered edge, a clique is grown from ``v`` by adding the common neighbour
    with the most uncovered edges to the clique so far, until no common
    neighbour is left (a maximal clique, hence a strong MILP row).  Each clique
    covers at least one new edge, so the loop ends.  Memory: two ``k x k`` bool
    arrays.
    """
    adj = np.zeros((k, k), dtype=bool)
    adj[edges[:, 0], edges[:, 1]] = True
    adj[edges[:, 1], edges[:, 0]] = True
    uncovered = adj.copy()
    cliques = []
    for v in np.argsort(-adj.sum(axis=1), kind="stable").tolist():
        while uncovered[v].any():
            members = [v]
            cand = adj[v].copy()
            gain = uncovered[v].astype(np.int64)
            while True:
                score = np.where(cand, gain, -1)
                u = int(np.argmax(score))
                if score[u] < 0:
                    break
                members.append(u)
                cand &= adj[u]
                gain += uncovered[u]
            clique = np.array(members, dtype=np.int64)
            uncovered[np.ix_(clique, clique)] = False
            cliques.append(clique)
    return cliques


def _label_complete(labels: np.ndarray, n_edges: int) -> bool:
    """Whether ``n_edges`` edges (all between different labels) join every such pair."""
    counts = np.unique(labels, return_counts=True)[1].astype(np.int64)
    return n_edges == (int(counts.sum()) ** 2 - int((counts**2).sum())) // 2


def _milp_component(w: np.ndarray, edges: np.ndarray, labels: np.ndarray) -> np.ndarray:
    k = w.size
    if _label_complete(labels, edges.shape[0]):
        # An independent set holds one label only; all pairs of one label are independent.
        _, inv = np.unique(labels, return_inverse=True)
        mass = np.bincount(inv.reshape(-1), weights=np.asarray(w, dtype=float))
        return inv.reshape(-1) == int(np.argmax(mass))
    rows_of = clique_cover(k, edges) if k <= CLIQUE_MAX_N else list(edges)
    return _milp_rows(w, rows_of)


def _milp_rows(w: np.ndarray, rows_of: list[np.ndarray]) -> np.ndarray:
    """``max w.x`` over binary ``x`` with ``sum_{i in R} x_i <= 1`` per row ``R`` (HiGHS, gap 0)."""
    k = w.size
    rows = np.repeat(np.arange(len(rows_of)), [len(r) for r in rows_of])
    a = sp.csr_array(
        (np.ones(rows.size), (rows, np.concatenate(rows_of))), shape=(len(rows_of), k)
    )
    res = milp(
        c=-np.asarray(w, dtype=float),
        constraints=LinearConstraint(a, -np.inf, 1.0),
        integrality=np.ones(k),
        bounds=Bounds(0.0, 1.0),
        options={"mip_rel_gap": 0.0},
    )
    if res.x is None:  # pragma: no cover
        raise RuntimeError(f"HiGHS MILP failed: {res.message}")
    return res.x > 0.5


def _brute(graph: ConflictGraph, w: np.ndarray) -> np.ndarray:
    n = graph.n
    if n > BRUTE_MAX_N:
        raise ValueError(f"solver='brute' enumerates all 2^n subsets and needs n <= "
                         f"{BRUTE_MAX_N} pairs, got n = {n}")
    masks = np.arange(2**n, dtype=np.int64)
    ok = np.ones(masks.size, dtype=bool)
    for u, v in graph.edges.tolist():
        ok &= ~(((masks >> u) & 1).astype(bool) & ((masks >> v) & 1).astype(bool))
    bits = ((masks[:, None] >> np.arange(n)) & 1).astype(bool)
    value = np.where(ok, bits.astype(float) @ np.asarray(w, dtype=float), -1.0)
    return bits[int(np.argmax(value))]


def _augment(graph: ConflictGraph, chosen: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Add zero-weight pairs that conflict with nothing chosen (never changes the value)."""
    zero = np.flatnonzero((w == 0) & ~chosen)
    if zero.size == 0:
        return chosen
    adj = graph.adjacency()
    out = chosen.copy()
    for v in zero.tolist():
        nb = adj.indices[adj.indptr[v]:adj.indptr[v + 1]]
        if not np.any(out[nb]):
            out[v] = True
    return out


def max_weight_independent_set(graph: ConflictGraph, *, solver: str = "auto",
                               integer_weights: np.ndarray | None = None
                               ) -> tuple[np.ndarray, str]:
    """A maximum-weight independent set of a conflict graph.

    Parameters
    ----------
    graph : ConflictGraph
    solver : {"auto", "flow", "maxsat", "milp", "brute"}
        ``"auto"`` picks ``"flow"`` for at most two labels with integer-representable
        weights, else ``"milp"`` (on ten-digit MNIST subsets it was at most 2.6x
        slower than RC2, while RC2 ran past 60 s where the MILP took 1.5 s;
        docs/benchmarks.md, part 2b).
    integer_weights : numpy.ndarray, optional
        Integers proportional to ``graph.weights``; required by ``"flow"``
        (``FiniteDistribution.integer_weights()``) and used by the others for
        exact arithmetic when given.

    Returns
    -------
    robust : numpy.ndarray of bool, shape (n,)
        The chosen pairs.
    solver : str
        The solver actually used.

    Notes
    -----
    ``max_{S independent} sum_{i in S} w_i``; for a bipartite graph this equals
    ``sum_i w_i - (min vertex cover) = sum_i w_i - maxflow`` (König-Egerváry,
    weighted form via max-flow/min-cut).

    References
    ----------
    Source paper, Appendix A, eq. (18)-(21) (the optimization this solves).
    """
    solver = _check_solver(solver)
    n_classes = np.unique(graph.labels).size
    w = integer_weights if integer_weights is not None else graph.weights
    if solver == "auto":
        solver = "flow" if n_classes <= 2 and integer_weights is not None else "milp"
    if solver == "flow":
        if n_classes > 2:
            raise ValueError(f"solver='flow' needs at most 2 labels (a bipartite conflict "
                             f"graph), got {n_classes}; use 'maxsat' or 'milp'")
        if integer_weights is None:
            raise ValueError("solver='flow' needs weights proportional to integers "
                             "(FiniteDistribution.integer_weights() is None); use 'milp'")
        chosen = _flow(graph, np.asarray(integer_weights, dtype=np.int64))
    elif solver == "brute":
        chosen = _brute(graph, w)
    else:
        chosen = np.ones(graph.n, dtype=bool)
        for verts in _components(graph):
            wv, ev = np.asarray(w)[verts], _local_edges(graph, verts)
            chosen[verts] = (_maxsat_component(wv, ev) if solver == "maxsat"
                             else _milp_component(wv, ev, graph.labels[verts]))
    return _augment(graph, chosen, np.asarray(w)), solver


# --------------------------------------------------------------------------- certified bounds
@dataclass(frozen=True, kw_only=True)
class IndependentSetBound:
    """A verified independent set and a certified upper bound on the maximum weight.

    Attributes
    ----------
    robust : numpy.ndarray of bool, shape (n,)
        An independent set of the graph (checked with ``ConflictGraph.is_independent``).
    weight : float
        Its weight ``sum(graph.weights[robust])`` (weights normalized to sum 1).
    upper : float
        Certified upper bound on the maximum independent weight; ``== weight`` when
        ``status == "exact"``.
    status : {"exact", "bounded"}
        ``"exact"``: ``robust`` is a maximum-weight independent set.
    solver : str
        The methods that ran, joined by ``"+"`` (``"flow"``, ``"milp"``, ``"lp"``,
        ``"label-complete"``, ``"greedy"``, ``"maxsat"``, ``"brute"``, ``"none"``).
    components : int
        Connected components with at least one edge.
    largest_component : int
        Vertices of the largest of them (0 without edges).
    exact_components : int
        How many of them were solved to optimality.
    seconds : float
        Wall time of the call.
    """

    robust: np.ndarray
    weight: float
    upper: float
    status: str
    solver: str
    components: int = 0
    largest_component: int = 0
    exact_components: int = 0
    seconds: float = 0.0

    @property
    def gap(self) -> float:
        """``upper - weight`` (0 when exact)."""
        return self.upper - self.weight


def _csr_local(k: int, edges: np.ndarray) -> sp.csr_array:
    i, j = edges[:, 0], edges[:, 1]
    return sp.csr_array((np.ones(2 * i.size, dtype=bool),
                         (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(k, k))


def greedy_independent_set(k: int, edges: np.ndarray, w: np.ndarray,
                           start: np.ndarray | None = None,
                           order: np.ndarray | None = None) -> np.ndarray:
    """A maximal independent set, grown greedily (optionally from an independent ``start``).

    Vertices are visited by decreasing ``w_v / (deg_v + 1)`` (or in ``order``); a vertex
    joins when none of its neighbours has.  The result is independent by construction and
    maximal (no vertex can be added), so its weight is at least that of ``start``.
    """
    adj = _csr_local(k, edges)
    w = np.asarray(w, dtype=float)
    chosen = np.zeros(k, dtype=bool) if start is None else np.asarray(start, dtype=bool).copy()
    blocked = chosen.copy()
    for v in np.flatnonzero(chosen).tolist():
        blocked[adj.indices[adj.indptr[v]:adj.indptr[v + 1]]] = True
    if order is None:
        deg = np.diff(adj.indptr)
        order = np.argsort(-(w / (deg + 1.0)), kind="stable")
    indptr, indices = adj.indptr, adj.indices
    for v in order.tolist():
        if not blocked[v]:
            chosen[v] = True
            blocked[v] = True
            blocked[indices[indptr[v]:indptr[v + 1]]] = True
    return chosen


def clique_partition_bound(w: np.ndarray, cliques: list[np.ndarray], k: int) -> float:
    """``sum_P max_{i in P} w_i`` over a partition of the vertices into cliques.

    Cliques are taken largest first in passes with a halving threshold ``t``: a clique
    becomes a part (its vertices not yet taken) when at least ``t`` of them are free;
    vertices left over are singletons.  An independent set meets each part in at most one
    vertex, so this is an upper bound on the maximum independent weight (docs/theory.md,
    "Dataset limits: certified bounds").
    """
    w = np.asarray(w, dtype=float)
    part = np.full(k, -1, dtype=np.int64)
    ordered = sorted(cliques, key=len, reverse=True)
    t = len(ordered[0]) if ordered else 0
    while t >= 2:
        for c, clique in enumerate(ordered):
            free = clique[part[clique] < 0]
            if free.size >= t:
                part[free] = c
        t = t // 2 if t > 3 else t - 1
    single = part < 0
    total = math.fsum(w[single].tolist())
    if np.any(~single):
        best = np.zeros(int(part.max()) + 1)
        np.maximum.at(best, part[~single], w[~single])
        total += math.fsum(best.tolist())
    return total


def _row_matrix(rows_of: list[np.ndarray], k: int) -> sp.csr_array:
    rows = np.repeat(np.arange(len(rows_of)), [len(r) for r in rows_of])
    return sp.csr_array((np.ones(rows.size), (rows, np.concatenate(rows_of))),
                        shape=(len(rows_of), k))


#: HiGHS branch-and-bound node limit of the time-limited MILP (``None``: none); a tuning and
#: test hook that forces the "stopped early" path on small instances.
MILP_NODE_LIMIT: int | None = None
#: Relative slack added to bounds computed in floating point (summation rounding).
_FP_SLACK = 1e-9
#: Relative slack added to HiGHS's MIP dual bound (its feasibility tolerances are 1e-7).
_MIP_SLACK = 1e-6


def lp_dual_bound(w: np.ndarray, a: sp.csr_array, *, time_limit: float | None = None,
                  method: str = "highs") -> tuple[float, np.ndarray, np.ndarray] | None:
    """Weak-duality bound of the clique-row LP ``max w.x, A x <= 1, 0 <= x <= 1``.

    Returns ``(bound, x, y)`` with ``x`` the LP solution and ``y`` the row duals used, or
    ``None`` when HiGHS did not finish.  ``method``: a ``scipy.optimize.linprog`` HiGHS
    method (``"highs-ipm"`` is about twice as fast on large clique LPs).

    For *any* ``y >= 0`` (here: the LP duals HiGHS reports, clipped at 0),
    ``sum_K y_K + sum_i max(0, w_i - (A^T y)_i)`` bounds every ``x`` in the polytope, in
    particular every independent set; it is recomputed here from ``y`` (so HiGHS's
    tolerances do not matter) and padded by a relative ``1e-9`` for rounding.
    """
    opts: dict[str, Any] = {}
    if time_limit is not None:
        opts["time_limit"] = max(float(time_limit), 1e-3)
    res = linprog(-np.asarray(w, dtype=float), A_ub=a, b_ub=np.ones(a.shape[0]),
                  bounds=(0.0, 1.0), method=method, options=opts)
    if res.status != 0 or res.x is None or getattr(res, "ineqlin", None) is None:
        return None
    y = np.clip(-np.asarray(res.ineqlin.marginals, dtype=float), 0.0, None)
    return _dual_value(np.asarray(w, dtype=float), a, y), np.asarray(res.x), y


def _milp_limited(w: np.ndarray, a: sp.csr_array, time_limit: float | None
                  ) -> tuple[np.ndarray | None, float, bool]:
    """HiGHS MILP under a time limit: (rounded incumbent or None, upper bound, optimal)."""
    opts: dict[str, Any] = {"mip_rel_gap": 0.0}
    if time_limit is not None:
        opts["time_limit"] = max(float(time_limit), 1e-3)
    if MILP_NODE_LIMIT is not None:
        opts["node_limit"] = int(MILP_NODE_LIMIT)
    k = w.size
    res = milp(c=-np.asarray(w, dtype=float), constraints=LinearConstraint(a, -np.inf, 1.0),
               integrality=np.ones(k), bounds=Bounds(0.0, 1.0), options=opts)
    if res.status not in (0, 1):
        raise SolverError(f"HiGHS MILP failed: {res.message}")
    x = None if res.x is None else np.asarray(res.x) > 0.5
    dual = getattr(res, "mip_dual_bound", None)
    total = math.fsum(np.abs(w).tolist())
    upper = math.inf
    if dual is not None and math.isfinite(dual):
        upper = -float(dual) + _MIP_SLACK * total + _FP_SLACK
    return x, upper, res.status == 0 and x is not None


def _repair(k: int, edges: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Drop vertices of ``x`` until it is independent (lower index of a violated edge)."""
    x = x.copy()
    if edges.size:
        bad = x[edges[:, 0]] & x[edges[:, 1]]
        while np.any(bad):
            x[edges[bad, 0]] = False
            bad = x[edges[:, 0]] & x[edges[:, 1]]
    return x


def _sub_graph(graph: ConflictGraph, verts: np.ndarray, edges: np.ndarray,
               w: np.ndarray) -> ConflictGraph:
    return ConflictGraph(n=verts.size, edges=edges, labels=graph.labels[verts],
                         weights=np.asarray(w, dtype=float) / max(float(np.sum(w)), 1e-300),
                         eps=graph.eps, p=graph.p, domain=graph.domain, rtol=graph.rtol)


#: Components with more edges than this (or more than ``CLIQUE_MAX_N`` vertices) take the
#: cutting-plane path under a time limit (:func:`_cutting_plane_bound`).
LARGE_EDGES = 50_000


def _grow_clique(indptr: np.ndarray, indices: np.ndarray, start: int,
                 score: np.ndarray, mark: np.ndarray | None = None) -> np.ndarray:
    """A maximal clique containing ``start``, adding the common neighbour of highest score.

    ``mark``: an all-False boolean scratch array of length ``k`` (returned all-False), to
    save its allocation across calls.
    """
    if mark is None:
        mark = np.zeros(indptr.size - 1, dtype=bool)
    members = [start]
    cand = indices[indptr[start]:indptr[start + 1]]
    while cand.size:
        u = int(cand[int(np.argmax(score[cand]))])
        members.append(u)
        nu = indices[indptr[u]:indptr[u + 1]]
        mark[nu] = True
        cand = cand[mark[cand]]
        mark[nu] = False
    return np.sort(np.array(members, dtype=np.int64))


def improve_independent_set(k: int, edges: np.ndarray, w: np.ndarray, chosen: np.ndarray,
                            *, deadline: float | None = None, max_passes: int = 50
                            ) -> np.ndarray:
    """Local search: (1, 2)-swaps on an independent set, then greedy completion.

    A swap removes one chosen vertex ``v`` and adds two non-adjacent vertices whose only
    chosen neighbour is ``v`` (Andrade, Resende & Werneck, J. Heuristics 2012), when that
    raises the weight.  Every step keeps the set independent; the result is maximal and at
    least as heavy as ``chosen``.
    """
    w = np.asarray(w, dtype=float)
    adj = _csr_local(k, edges)
    adj.sort_indices()
    indptr, indices = adj.indptr, adj.indices
    s = greedy_independent_set(k, edges, w, start=chosen)
    tight = (adj @ s.astype(np.int64)).astype(np.int64)  # chosen neighbours of each vertex
    for _ in range(max_passes):
        improved = False
        for v in np.flatnonzero(s).tolist():
            if deadline is not None and time.perf_counter() > deadline:
                return s
            if not s[v]:
                continue
            nb = indices[indptr[v]:indptr[v + 1]]
            cand = nb[(tight[nb] == 1) & ~s[nb]]
            if cand.size < 2:
                continue
            cand = cand[np.argsort(-w[cand], kind="stable")]
            done = False
            for u in cand.tolist():
                nu = indices[indptr[u]:indptr[u + 1]]
                rest = cand[(cand != u) & ~np.isin(cand, nu, assume_unique=True)]
                if rest.size == 0:
                    continue
                # u plus a greedy independent subset of the 1-tight vertices beside it.
                add = [u]
                blocked = set(nu.tolist())
                for x in rest.tolist():
                    if x not in blocked:
                        add.append(x)
                        blocked.update(indices[indptr[x]:indptr[x + 1]].tolist())
                if math.fsum(w[add].tolist()) <= w[v]:
                    continue
                s[v] = False
                tight[nb] -= 1
                for x in add:
                    s[x] = True
                    tight[indices[indptr[x]:indptr[x + 1]]] += 1
                improved = done = True
                break
            if done:
                continue
        if not improved:
            break
    return greedy_independent_set(k, edges, w, start=s)


def _quiet_highs() -> Any:
    """A ``highspy.Highs`` with its output off (its banner goes to stdout at first use)."""
    import os
    import sys

    import highspy

    sys.stdout.flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
    h.setOptionValue("output_flag", False)
    return h


def _dual_value(w: np.ndarray, a: sp.csr_array, y: np.ndarray) -> float:
    """``sum y + sum_i max(0, w_i - (A^T y)_i)`` for ``y >= 0``: an upper bound (B3)."""
    y = np.clip(np.asarray(y, dtype=float), 0.0, None)
    reduced = w - a.T @ y
    bound = math.fsum(y.tolist()) + math.fsum(np.clip(reduced, 0.0, None).tolist())
    return bound * (1.0 + _FP_SLACK) + _FP_SLACK


def _clique_lp(w: np.ndarray, rows: list[np.ndarray], time_limit: float
               ) -> tuple[float, np.ndarray, np.ndarray] | None:
    """``max w.x, x(K) <= 1 (K in rows), 0 <= x <= 1`` by interior point, no crossover.

    Returns ``(bound, x, y)``: ``bound`` is recomputed from the reported row duals ``y``
    clipped at 0 (:func:`_dual_value`), so it is a valid upper bound whatever the
    accuracy of the interior-point solution; ``None`` when the solver gave no duals.
    HiGHS's IPM is about 10x faster here than dual simplex, warm-started or not, on the
    10^4 x 4 10^4 clique LPs of MNIST (benchmarks/bench_clique_lp.py); crossover costs little
    but is not needed, since an approximate dual is all the bound needs.
    """
    k = w.size
    a = _row_matrix(rows, k)
    try:
        import highspy
    except ImportError:
        return lp_dual_bound(w, a, time_limit=time_limit, method="highs-ipm")
    h = _quiet_highs()
    h.addVars(k, np.zeros(k), np.ones(k))
    h.changeColsCost(k, np.arange(k, dtype=np.int32), -w)
    h.addRows(len(rows), np.full(len(rows), -np.inf), np.ones(len(rows)), a.indices.size,
              a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32), a.data)
    h.setOptionValue("solver", "ipm")
    h.setOptionValue("run_crossover", "off")
    h.setOptionValue("time_limit", max(float(time_limit), 1e-3))
    h.run()
    if h.getModelStatus() not in (highspy.HighsModelStatus.kOptimal,
                                  highspy.HighsModelStatus.kUnknown):
        return None
    sol = h.getSolution()
    y = np.clip(-np.asarray(sol.row_dual, dtype=float), 0.0, None)
    if y.size != len(rows) or not np.all(np.isfinite(y)):
        return None
    x = np.clip(np.asarray(sol.col_value, dtype=float), 0.0, 1.0)
    return _dual_value(w, a, y), x, y


def _separate(indptr: np.ndarray, indices: np.ndarray, x: np.ndarray, tie: np.ndarray,
              seen: set[bytes], deadline: float) -> list[np.ndarray]:
    """Cliques grown around the vertices of largest ``x`` whose ``x``-sum exceeds 1."""
    new: list[np.ndarray] = []
    inside = np.zeros(x.size, dtype=bool)  # a start already in a new cut of this pass
    mark = np.zeros(x.size, dtype=bool)
    for v in np.argsort(-x, kind="stable").tolist():
        if x[v] <= 1e-4 or time.perf_counter() > deadline:
            break
        if inside[v]:
            continue
        c = _grow_clique(indptr, indices, v, x + tie, mark)
        if float(x[c].sum()) > 1.0 + 1e-4:
            key = c.tobytes()
            if key not in seen:
                seen.add(key)
                new.append(c)
                inside[c] = True
    return new


def _cutting_plane_bound(k: int, ev: np.ndarray, wf: np.ndarray, labels: np.ndarray,
                         deadline: float, value: Any, closed: Any
                         ) -> tuple[np.ndarray, float, np.ndarray | None]:
    """Clique-row LP by cutting planes: (incumbent, weak-duality bound, last LP solution).

    Rows start as one greedy maximal clique per vertex (a cover of the vertices); each
    round solves the LP over the rows kept (:func:`_clique_lp`), rounds its solution
    greedily into an incumbent, drops the rows that are slack with a zero dual, and
    adds cliques grown around the LP solution whose ``x``-sum exceeds 1, while time is
    left.  Every LP over a subset of clique rows is a relaxation of the independent-set
    problem, and every ``y >= 0`` gives a weak-duality bound (docs/theory.md, B3), so the
    smallest bound seen is kept.  Incumbents come from iterated local search
    (:func:`~optrobust.finite.local_search.iterated_local_search`; a tenth of the time
    from the heaviest label before the rounds, the last 15% after them from the best set
    found) and from the LP roundings; the rounds stop early when ``closed(incumbent,
    bound)`` (the bound meets the incumbent).
    """
    adj = _csr_local(k, ev)
    adj.sort_indices()
    indptr, indices = adj.indptr, adj.indices
    deg = np.diff(indptr).astype(float)
    rng = np.random.default_rng(0)
    score = deg + rng.random(k)
    rows: dict[bytes, np.ndarray] = {}
    best = greedy_independent_set(k, ev, wf)
    upper = math.fsum(wf.tolist())
    covered = np.zeros(k, dtype=bool)
    mark = np.zeros(k, dtype=bool)
    for v in np.argsort(-wf / (deg + 1.0), kind="stable").tolist():
        if covered[v]:
            continue
        # Prefer vertices not covered yet (a partition-like cover: the bound B2 is tight
        # when the cliques are large and disjoint), then high degree.
        c = _grow_clique(indptr, indices, v, score + (~covered) * (2.0 * k + 2.0), mark)
        covered[c] = True
        rows.setdefault(c.tobytes(), c)
        if time.perf_counter() > deadline:
            break
    upper = min(upper, clique_partition_bound(wf, list(rows.values()), k))
    x_last = None
    active = list(rows.values())
    # Local search works on positive weights; a zero weight becomes a negligible one (the
    # set found is independent whatever the weights, and is valued with the true ones).
    positive = wf[wf > 0]
    wl = np.where(wf > 0, wf, (positive.min() if positive.size else 1.0) * 1e-9)

    def search(start: np.ndarray, until: float) -> None:
        nonlocal best
        if until > time.perf_counter():
            cand = iterated_local_search(k, ev, wl, start, deadline=until, rng=0,
                                         max_iterations=20 * k + 1000)
            if value(cand) > value(best):
                best = cand

    # A first incumbent from the heaviest label (a tenth of the time): a good one lets the
    # LP rounds stop as soon as the bound meets it.
    now = time.perf_counter()
    search(greedy_independent_set(k, ev, wf, start=_heaviest_label(labels, wf)),
           now + 0.1 * max(deadline - now, 0.0))
    now = time.perf_counter()
    lp_deadline = now + 0.85 * max(deadline - now, 0.0)  # the rest: local search
    while time.perf_counter() < lp_deadline:
        lp = _clique_lp(wf, active, lp_deadline - time.perf_counter())
        if lp is None:
            break
        upper = min(upper, lp[0])
        x, y = lp[1], lp[2]
        x_last = x
        cand = greedy_independent_set(k, ev, wf, order=np.argsort(-(x + 1e-9 * score),
                                                                  kind="stable"))
        if value(cand) > value(best):
            best = cand
        if closed(value(best), upper):
            break
        # Keep the rows that bind (dual > 0 or tight); a dropped row that is violated
        # again later is found again by the separation.
        load = _row_matrix(active, k) @ x
        active = [r for r, yk, lk in zip(active, y.tolist(), load.tolist(), strict=True)
                  if yk > 1e-7 or lk > 1.0 - 1e-4]
        seen = {r.tobytes() for r in active}
        added: list[np.ndarray] = []
        for noise in (0.0, 1e-2, 1e-1):
            tie = 1e-9 * score + (noise * rng.random(k) if noise else 0.0)
            added += _separate(indptr, indices, x, tie, seen, lp_deadline)
        if not added:
            break
        active += added
    search(best, deadline)  # from the best set so far (the LP roundings included)
    return best, upper, x_last


def _heaviest_label(labels: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mask of the label of largest total weight (always an independent set)."""
    _, inv = np.unique(labels, return_inverse=True)
    inv = inv.reshape(-1)
    return inv == int(np.argmax(np.bincount(inv, weights=np.asarray(w, dtype=float))))


def _component_bound(graph: ConflictGraph, verts: np.ndarray, w: np.ndarray,
                     integral: bool, deadline: float | None, used: set[str]
                     ) -> tuple[np.ndarray, float, bool]:
    """One component: (independent mask, upper bound in ``w`` units, exact?)."""
    k = verts.size
    wv = np.asarray(w)[verts]
    ev = _local_edges(graph, verts)
    labels = graph.labels[verts]
    wf = wv.astype(float)
    if _label_complete(labels, ev.shape[0]):
        used.add("label-complete")
        x = _milp_component(wv, ev, labels)
        return x, math.fsum(wf[x].tolist()), True
    if integral and np.unique(labels).size <= 2:
        used.add("flow")
        x = _flow(_sub_graph(graph, verts, ev, wv), np.asarray(wv, dtype=np.int64))
        return x, math.fsum(wf[x].tolist()), True
    if deadline is None:
        used.add("milp")
        x = _milp_component(wv, ev, labels)
        return x, math.fsum(wf[x].tolist()), True

    def value(mask: np.ndarray) -> float:
        return math.fsum(wf[mask].tolist())

    def closed(inc: float, up: float) -> bool:
        if integral:
            return math.floor(up + 1e-7) <= round(inc)
        return up <= inc

    used.add("greedy")
    if k > CLIQUE_MAX_N or ev.shape[0] > LARGE_EDGES:
        used.add("lp-cuts")
        best, upper, _ = _cutting_plane_bound(k, ev, wf, labels, deadline, value, closed)
        if integral:
            upper = float(math.floor(upper + 1e-7))
        exact = closed(value(best), upper)
        return best, (value(best) if exact else max(upper, value(best))), exact
    cliques = clique_cover(k, ev) if k <= CLIQUE_MAX_N else list(ev)
    best = greedy_independent_set(k, ev, wf)
    _, inv = np.unique(labels, return_inverse=True)
    heaviest = inv.reshape(-1) == int(np.argmax(np.bincount(inv.reshape(-1), weights=wf)))
    if value(heaviest) > value(best):  # one label is always independent
        best = greedy_independent_set(k, ev, wf, start=heaviest)
    upper = min(clique_partition_bound(wf, cliques, k), math.fsum(wf.tolist()))
    if closed(value(best), upper):
        return best, value(best), True
    a = _row_matrix(cliques, k)
    remaining = deadline - time.perf_counter()
    if remaining > 0:
        used.add("lp")
        lp = lp_dual_bound(wf, a, time_limit=remaining)
        if lp is not None:
            upper = min(upper, lp[0])
            rounded = greedy_independent_set(k, ev, wf, order=np.argsort(-lp[1], kind="stable"))
            if value(rounded) > value(best):
                best = rounded
            if closed(value(best), upper):
                return best, value(best), True
    remaining = deadline - time.perf_counter()
    if remaining > 0:
        used.add("milp")
        x, mip_upper, optimal = _milp_limited(wf, a, remaining)
        if x is not None:
            x = greedy_independent_set(k, ev, wf, start=_repair(k, ev, x))
            if optimal or value(x) > value(best):
                best = x
        if optimal:
            return best, value(best), True
        upper = min(upper, mip_upper)
    if closed(value(best), upper):
        return best, value(best), True
    if integral:
        upper = float(math.floor(upper + 1e-7))
    return best, max(upper, value(best)), False


def solve_independent_set(graph: ConflictGraph, *, time_limit: float | None = None,
                          solver: str = "auto", integer_weights: Any = None
                          ) -> IndependentSetBound:
    """A maximum-weight independent set, or a certified interval under a time limit.

    Parameters
    ----------
    graph : ConflictGraph
    time_limit : float, optional
        Seconds for the solve (``None``: solve to optimality, as
        :func:`max_weight_independent_set`).  Components are taken smallest first, each
        with a share of the remaining time proportional to its size.  Label-complete
        and two-label components are exact in polynomial time (closed form, max-flow)
        and always finish; any other component gets a greedy maximal independent set
        and a clique-partition bound first (both polynomial, so every call ends with
        numbers), then the clique-row LP (weak-duality bound, LP-rounded incumbent) and
        the HiGHS MILP (incumbent, dual bound) while time is left.
    solver : {"auto", "flow", "maxsat", "milp", "brute"}
        ``"auto"``/``"milp"``: the procedure above.  ``"flow"``, ``"maxsat"``,
        ``"brute"``: :func:`max_weight_independent_set` (exact; ``"maxsat"`` takes no
        time limit).
    integer_weights : numpy.ndarray, optional
        Integers proportional to ``graph.weights``; with them the bounds are rounded down
        to integers and the max-flow applies to two-label components.

    Returns
    -------
    IndependentSetBound

    Raises
    ------
    InvalidInputError
        ``time_limit <= 0`` or not finite, an unknown ``solver``, ``"maxsat"`` with a
        time limit, ``integer_weights`` of the wrong shape.

    Notes
    -----
    ``weight = w(S) <= max_{S' independent} w(S') <= upper``: the left inequality
    because ``S`` is checked independent, the right one because every bound used is an
    upper bound of the independent-set polytope's maximum (docs/theory.md, "Dataset
    limits: certified bounds", Propositions B1-B3).  The robust error of a finite
    distribution therefore lies in ``[1 - upper, 1 - weight]``.
    """
    t0 = time.perf_counter()
    solver = _check_solver(solver)
    time_limit = check_time_limit(time_limit)
    if integer_weights is not None:
        integer_weights = np.asarray(integer_weights)
        if integer_weights.shape != (graph.n,):
            raise InvalidInputError(f"integer_weights must have shape ({graph.n},), got "
                                    f"{integer_weights.shape}")
        integer_weights = integer_weights.astype(np.int64)
    comps = _components(graph)
    sizes = [int(c.size) for c in comps]
    info = {"components": len(comps), "largest_component": max(sizes, default=0)}
    if solver == "maxsat" and time_limit is not None:
        raise InvalidInputError("solver='maxsat' cannot stop at a time limit; use 'auto' or "
                                "'milp' with time_limit, or time_limit=None")
    if solver in ("flow", "maxsat", "brute"):
        robust, used = max_weight_independent_set(graph, solver=solver,
                                                  integer_weights=integer_weights)
        if not graph.is_independent(robust):  # pragma: no cover - solver bug guard
            raise SolverError(f"solver {used!r} returned a set that is not independent")
        wt = math.fsum(graph.weights[robust].tolist())
        return IndependentSetBound(robust=robust, weight=wt, upper=wt, status="exact",
                                   solver=used, exact_components=len(comps),
                                   seconds=time.perf_counter() - t0, **info)
    integral = integer_weights is not None
    w = integer_weights if integral else np.asarray(graph.weights, dtype=float)
    deadline = None if time_limit is None else t0 + time_limit
    robust = np.ones(graph.n, dtype=bool)
    upper_w = []   # per-component upper bounds, in units of w
    used: set[str] = set()
    n_exact = 0
    order = np.argsort(sizes, kind="stable")
    left = float(sum(sizes))
    for c in order.tolist():
        verts = comps[c]
        robust[verts] = False
        if deadline is None:
            comp_deadline = None
        else:
            share = (deadline - time.perf_counter()) * verts.size / left
            comp_deadline = time.perf_counter() + max(share, 0.0)
        left -= verts.size
        x, up, exact = _component_bound(graph, verts, w, integral, comp_deadline, used)
        robust[verts] = x
        upper_w.append(up)
        n_exact += bool(exact)
    robust = _augment(graph, robust, np.asarray(w))
    if not graph.is_independent(robust):  # pragma: no cover - solver bug guard
        raise SolverError("the incumbent is not an independent set")
    isolated = np.ones(graph.n, dtype=bool)
    for verts in comps:
        isolated[verts] = False
    exact = n_exact == len(comps)
    if integral:
        total = int(integer_weights.sum())
        got = int(integer_weights[robust].sum())
        up_int = int(integer_weights[isolated].sum()) + int(sum(round(u) for u in upper_w))
        weight = got / total
        upper = weight if exact else max(up_int, got) / total
    else:
        weight = math.fsum(graph.weights[robust].tolist())
        up = math.fsum(graph.weights[isolated].tolist()) + math.fsum(upper_w)
        upper = weight if exact else max(up * (1.0 + _FP_SLACK), weight)
    return IndependentSetBound(
        robust=robust, weight=weight, upper=min(upper, 1.0) if not exact else upper,
        status="exact" if exact else "bounded", solver="+".join(sorted(used)) or "none",
        exact_components=n_exact, seconds=time.perf_counter() - t0, **info)
