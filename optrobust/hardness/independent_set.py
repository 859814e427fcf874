"""Maximum distance-3 independent sets: SAT solver, certificate checker, baselines.

A set ``S`` of vertices of a graph ``G`` is a *distance-3 independent set* when
every two distinct members are at graph distance at least 3 (paper,
Definition 2), i.e. ``S`` is an independent set of the square graph ``G^2``
(edges between vertices at distance 1 or 2).  Finding a maximum one is
NP-hard; the reduction of :mod:`optrobust.hardness.reduction` turns it into an
optimal-robust-classifier problem.

Three exact solvers are offered and checked against each other in the tests:

* ``"maxsat"`` -- weighted partial MaxSAT solved by python-sat's RC2 (with
  at-most-one detection, core exhaustion and core minimization): one variable
  per vertex, a hard clause ``(not x_u or not x_v)`` per edge of ``G^2``, a soft
  unit clause ``x_u`` of weight 1 per vertex;
* ``"networkx"`` -- a maximum clique of the complement of ``G^2``
  (:func:`networkx.max_weight_clique` with unit weights);
* ``"brute"`` -- enumeration of vertex subsets by decreasing size (``n <= 20``).

Every answer is passed through :func:`is_distance3_independent_set`, which
uses breadth-first search in ``G`` and shares no code with the solvers.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Hashable, Iterable
from typing import Any

import networkx as nx

from optrobust.errors import InvalidInputError, InvalidTypeError, SolverError

__all__ = [
    "SOLVERS",
    "check_graph",
    "check_solver",
    "distance2_pairs",
    "is_distance3_independent_set",
    "max_distance3_independent_set",
]

#: Names accepted by :func:`max_distance3_independent_set` (the library's one solver
#: vocabulary: ``"maxsat"`` as in :mod:`optrobust.finite`).  The old name ``"sat"`` is still
#: accepted for one release with a ``DeprecationWarning``.
SOLVERS = ("maxsat", "networkx", "brute")
_DEPRECATED_SOLVERS = {"sat": "maxsat"}

#: Largest graph the brute-force baseline accepts.
BRUTE_MAX_VERTICES = 20


def check_graph(graph: Any, *, name: str = "graph") -> nx.Graph:
    """Check a simple undirected networkx graph with at least one vertex.

    Raises
    ------
    InvalidTypeError
        If ``graph`` is not a :class:`networkx.Graph`, or is directed or a multigraph.
    InvalidInputError
        If ``graph`` has no vertex or has a self-loop.
    """
    if not isinstance(graph, nx.Graph):
        raise InvalidTypeError(f"{name} must be a networkx.Graph, got {type(graph).__name__}")
    if graph.is_directed() or graph.is_multigraph():
        raise InvalidTypeError(f"{name} must be a simple undirected networkx.Graph "
                               f"(not directed, not a multigraph)")
    if graph.number_of_nodes() == 0:
        raise InvalidInputError(f"{name} must have at least one vertex")
    loops = list(nx.selfloop_edges(graph))
    if loops:
        raise InvalidInputError(f"{name} must have no self-loops, found one at vertex "
                                f"{loops[0][0]!r}")
    return graph


def distance2_pairs(graph: nx.Graph) -> set[frozenset]:
    """Unordered pairs of distinct vertices at distance 1 or 2 (the edges of ``G^2``).

    Notes
    -----
    ``{u, v}`` is returned iff ``uv`` is an edge or ``u`` and ``v`` have a common
    neighbour.  Built from adjacency lists in ``O(sum_w deg(w)^2)``.
    """
    check_graph(graph)
    pairs: set[frozenset] = {frozenset(e) for e in graph.edges()}
    for w in graph.nodes():
        nbrs = list(graph.neighbors(w))
        for a, b in itertools.combinations(nbrs, 2):
            pairs.add(frozenset((a, b)))
    return pairs


def is_distance3_independent_set(graph: nx.Graph, vertices: Iterable[Hashable]) -> bool:
    """Certificate checker: are all members of ``vertices`` pairwise at distance >= 3?

    Parameters
    ----------
    graph : networkx.Graph
    vertices : iterable of vertices of ``graph``
        Repeated members are not allowed (a multiset is not a set).

    Returns
    -------
    bool
        ``False`` if a member is not a vertex of ``graph``, is repeated, or two
        members are at graph distance 1 or 2.

    Notes
    -----
    Independent of the solvers: for each member ``u`` a breadth-first search
    of depth 2 (:func:`networkx.single_source_shortest_path_length` with
    ``cutoff=2``) must meet no other member.

    References
    ----------
    Paper ``large-perturbations.md``, Appendix A, Definition 2.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.path_graph(4)
    >>> is_distance3_independent_set(g, [0, 3]), is_distance3_independent_set(g, [0, 2])
    (True, False)
    """
    check_graph(graph)
    members = list(vertices)
    chosen = set(members)
    if len(chosen) != len(members) or not all(v in graph for v in chosen):
        return False
    for u in chosen:
        near = nx.single_source_shortest_path_length(graph, u, cutoff=2)
        if any(v != u and v in chosen for v in near):
            return False
    return True


def _solve_sat(graph: nx.Graph) -> set:
    from pysat.examples.rc2 import RC2
    from pysat.formula import WCNF, IDPool

    pool = IDPool()
    wcnf = WCNF()
    for pair in distance2_pairs(graph):
        a, b = tuple(pair)
        wcnf.append([-pool.id(("v", a)), -pool.id(("v", b))])
    for v in graph.nodes():
        wcnf.append([pool.id(("v", v))], weight=1)
    # adapt: detect the at-most-one structure of the soft clauses (each closed
    # neighbourhood is a clique of G^2); exhaust/minz: smaller cores.
    with RC2(wcnf, adapt=True, exhaust=True, minz=True) as rc2:
        model = rc2.compute()
    if model is None:  # pragma: no cover - the all-false assignment satisfies the hard part
        raise SolverError("RC2 reported the hard clauses unsatisfiable")
    true_vars = {lit for lit in model if lit > 0}
    return {v for v in graph.nodes() if pool.id(("v", v)) in true_vars}


def _solve_networkx(graph: nx.Graph) -> set:
    square = nx.Graph()
    square.add_nodes_from(graph.nodes())
    square.add_edges_from(tuple(p) for p in distance2_pairs(graph))
    clique, _ = nx.max_weight_clique(nx.complement(square), weight=None)
    return set(clique)


def _solve_brute(graph: nx.Graph) -> set:
    n = graph.number_of_nodes()
    if n > BRUTE_MAX_VERTICES:
        raise InvalidInputError(f"graph must have at most {BRUTE_MAX_VERTICES} vertices for "
                                f"solver='brute', got {n}")
    nodes = list(graph.nodes())
    index = {v: i for i, v in enumerate(nodes)}
    near = [0] * n  # bitmask of vertices at distance 1 or 2
    for pair in distance2_pairs(graph):
        a, b = (index[v] for v in pair)
        near[a] |= 1 << b
        near[b] |= 1 << a
    for size in range(n, 0, -1):
        for combo in itertools.combinations(range(n), size):
            mask = 0
            for i in combo:
                mask |= 1 << i
            if all(near[i] & mask == 0 for i in combo):
                return {nodes[i] for i in combo}
    return set()  # pragma: no cover - a single vertex is always feasible


def check_solver(solver: Any) -> str:
    """Validate a solver name of :data:`SOLVERS`; ``"sat"`` maps to ``"maxsat"`` with a
    ``DeprecationWarning``."""
    if isinstance(solver, str) and solver in _DEPRECATED_SOLVERS:
        new = _DEPRECATED_SOLVERS[solver]
        warnings.warn(f"solver={solver!r} is deprecated; use solver={new!r} (the name used "
                      f"throughout optrobust)", DeprecationWarning, stacklevel=3)
        return new
    if not isinstance(solver, str) or solver not in SOLVERS:
        raise InvalidInputError(f"solver must be one of {', '.join(SOLVERS)}; got {solver!r}")
    return solver


def max_distance3_independent_set(graph: nx.Graph, solver: str = "maxsat") -> frozenset:
    """A maximum distance-3 independent set of ``graph``, checked by a certificate checker.

    Parameters
    ----------
    graph : networkx.Graph
        Simple undirected graph with at least one vertex and no self-loops.
    solver : {"maxsat", "networkx", "brute"}
        ``"maxsat"``: RC2 MaxSAT (python-sat); ``"networkx"``: maximum clique of the
        complement of ``G^2``; ``"brute"``: subset enumeration (at most 20 vertices).
        ``"sat"`` (the old name of ``"maxsat"``) still works with a ``DeprecationWarning``.

    Returns
    -------
    frozenset
        The vertices of a maximum distance-3 independent set.

    Raises
    ------
    InvalidTypeError, InvalidInputError
        On a graph that is not simple/undirected, empty, or with self-loops; on
        an unknown ``solver``; ``"brute"`` on more than 20 vertices.
    SolverError
        If a solver's answer fails the certificate check (a bug, never expected).

    Notes
    -----
    The MaxSAT instance is

    .. math:: \\max \\sum_{v \\in V} x_v \\quad \\text{s.t.}\\quad
              \\neg x_u \\vee \\neg x_v \\;\\; \\forall\\, \\{u, v\\}:\\ 1 \\le d_G(u, v) \\le 2.

    A maximum distance-3 independent set of ``G`` is a maximum independent set
    of ``G^2``, equivalently a maximum clique of the complement of ``G^2``.

    References
    ----------
    Paper ``large-perturbations.md``, Appendix A, Definition 2 (the problem
    ``Q_G``) and Lemma 1 / Theorem 1 (its reduction to ``P_{D,p,eps}``).
    A. Ignatiev, A. Morgado, J. Marques-Silva, "RC2: an efficient MaxSAT
    solver", JSAT 11 (2019).

    Examples
    --------
    >>> import networkx as nx
    >>> sorted(max_distance3_independent_set(nx.path_graph(7)))
    [0, 3, 6]
    >>> len(max_distance3_independent_set(nx.petersen_graph()))
    1
    """
    check_graph(graph)
    solver = check_solver(solver)
    if solver == "maxsat":
        found = _solve_sat(graph)
    elif solver == "networkx":
        found = _solve_networkx(graph)
    else:
        found = _solve_brute(graph)
    if not is_distance3_independent_set(graph, found):  # pragma: no cover - bug guard
        raise SolverError(f"solver {solver!r} returned a set that is not distance-3 independent")
    return frozenset(found)
