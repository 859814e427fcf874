"""Maximum distance-3 independent sets: known values, solver agreement, checker."""

from __future__ import annotations

import networkx as nx
import pytest

from optrobust.hardness import (
    SOLVERS,
    distance2_pairs,
    is_distance3_independent_set,
    max_distance3_independent_set,
)

SMALL_ATLAS = [g for g in nx.graph_atlas_g()[1:] if g.number_of_nodes() <= 6]


# Known values.  Sources (hand derivations):
# * Petersen graph: diameter 2, so every two vertices are within distance 2 -> 1.
# * cycle C_n (n >= 3): chosen vertices need gaps of >= 3 around the cycle -> floor(n/3).
# * path P_n: vertices 0, 3, 6, ... are optimal -> ceil(n/3).
# * star K_{1,m}, complete K_n: diameter <= 2 -> 1.  Edgeless graph on n vertices -> n.
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        (nx.petersen_graph(), 1),
        (nx.cycle_graph(3), 1),
        (nx.cycle_graph(9), 3),
        (nx.cycle_graph(11), 3),
        (nx.path_graph(1), 1),
        (nx.path_graph(7), 3),
        (nx.path_graph(8), 3),
        (nx.path_graph(10), 4),
        (nx.star_graph(6), 1),
        (nx.complete_graph(6), 1),
        (nx.empty_graph(5), 5),
    ],
)
def test_known_values(graph, expected, solver):
    found = max_distance3_independent_set(graph, solver=solver)
    assert len(found) == expected
    assert is_distance3_independent_set(graph, found)


def test_solvers_agree_on_all_graphs_up_to_6_vertices():
    for g in SMALL_ATLAS:
        sizes = {s: len(max_distance3_independent_set(g, solver=s)) for s in SOLVERS}
        assert len(set(sizes.values())) == 1, (list(g.edges()), sizes)


@pytest.mark.parametrize("seed", range(6))
def test_sat_matches_networkx_on_random_graphs(seed):
    g = nx.gnp_random_graph(40, 0.08, seed=seed)
    assert len(max_distance3_independent_set(g)) == len(
        max_distance3_independent_set(g, solver="networkx"))


def test_checker_rejects_close_pairs_and_foreign_vertices():
    g = nx.path_graph(5)  # 0-1-2-3-4
    assert is_distance3_independent_set(g, [0, 3])
    assert is_distance3_independent_set(g, [])
    assert not is_distance3_independent_set(g, [0, 1])  # distance 1
    assert not is_distance3_independent_set(g, [0, 2])  # distance 2
    assert not is_distance3_independent_set(g, [0, 0])  # repeated member
    assert not is_distance3_independent_set(g, [0, 9])  # not a vertex
    # distance 3 across components is infinite: allowed
    h = nx.disjoint_union(nx.complete_graph(3), nx.complete_graph(3))
    assert is_distance3_independent_set(h, [0, 3])


def test_distance2_pairs_are_square_graph_edges():
    for g in SMALL_ATLAS[::7]:
        ours = distance2_pairs(g)
        square = nx.power(g, 2) if g.number_of_edges() else nx.Graph()
        assert ours == {frozenset(e) for e in square.edges()}


def test_string_vertices_are_kept():
    g = nx.Graph([("a", "b"), ("b", "c"), ("c", "d")])
    assert set(max_distance3_independent_set(g)) in ({"a", "d"},)


@pytest.mark.parametrize(
    ("graph", "solver", "error"),
    [
        (nx.Graph(), "sat", ValueError),
        (nx.Graph([(1, 1)]), "sat", ValueError),
        (nx.DiGraph([(0, 1)]), "sat", TypeError),
        (nx.MultiGraph([(0, 1)]), "sat", TypeError),
        ([(0, 1)], "sat", TypeError),
        (nx.path_graph(3), "magic", ValueError),
        (nx.path_graph(21), "brute", ValueError),
    ],
)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_bad_input(graph, solver, error):
    with pytest.raises(error, match="graph|solver"):
        max_distance3_independent_set(graph, solver=solver)


def test_maxsat_is_the_solver_name_and_sat_is_deprecated():
    assert SOLVERS == ("maxsat", "networkx", "brute")
    g = nx.path_graph(7)
    with pytest.warns(DeprecationWarning, match="'maxsat'"):
        old = max_distance3_independent_set(g, solver="sat")
    assert old == max_distance3_independent_set(g, solver="maxsat") == frozenset({0, 3, 6})
