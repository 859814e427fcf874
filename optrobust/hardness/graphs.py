"""Graph specifications for the ``hardness`` command.

Accepted forms of ``spec``:

* ``petersen`` -- the Petersen graph (10 vertices, 15 edges);
* ``cycle:N`` (``N >= 3``) and ``path:N`` (``N >= 1``);
* ``gnp:N,P,SEED`` -- Erdős–Rényi ``G(N, P)`` drawn with seed ``SEED``
  (:func:`networkx.gnp_random_graph`);
* a path to an edge-list file: one edge ``u v`` per line, a single token for an
  isolated vertex, ``#`` starts a comment.  Vertex names that are integers
  become ``int``.  An empty file, a self-loop or a line with more than two
  tokens is an error.
"""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx

from optrobust.hardness.independent_set import check_graph

__all__ = ["parse_graph_spec", "read_edge_list"]

#: Largest number of vertices a generated graph may have.
MAX_GENERATED_VERTICES = 100_000


def _count(text: str, *, what: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"graph {what} must be an integer >= {minimum}, got {text!r}") from None
    if not minimum <= value <= MAX_GENERATED_VERTICES:
        raise ValueError(f"graph {what} must be an integer in [{minimum}, "
                         f"{MAX_GENERATED_VERTICES}], got {value}")
    return value


def _vertex(token: str) -> int | str:
    try:
        return int(token)
    except ValueError:
        return token


def read_edge_list(path: str | Path) -> nx.Graph:
    """Read an edge-list file (format in the module docstring).

    Raises
    ------
    OSError
        If the file cannot be read.
    ValueError
        On an empty graph, a self-loop or a malformed line (its number is given).
    """
    graph = nx.Graph()
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            tokens = line.split("#", 1)[0].split()
            if not tokens:
                continue
            if len(tokens) > 2:
                raise ValueError(f"graph file {path}: line {number} must be 'u v' or 'v', "
                                 f"got {line.strip()!r}")
            names = [_vertex(t) for t in tokens]
            if len(names) == 1:
                graph.add_node(names[0])
            elif names[0] == names[1]:
                raise ValueError(f"graph file {path}: line {number} is a self-loop at "
                                 f"{names[0]!r}; graph must have no self-loops")
            else:
                graph.add_edge(names[0], names[1])
    if graph.number_of_nodes() == 0:
        raise ValueError(f"graph file {path} has no vertex (empty edge list)")
    return graph


def parse_graph_spec(spec: str) -> nx.Graph:
    """Build a graph from ``petersen``, ``cycle:N``, ``path:N``, ``gnp:N,P,SEED`` or a file.

    Examples
    --------
    >>> parse_graph_spec("cycle:5").number_of_edges()
    5
    >>> g = parse_graph_spec("gnp:8,0.5,1")
    >>> g.number_of_nodes()
    8
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError("graph must be petersen, cycle:N, path:N, gnp:N,P,SEED or a file path")
    text = spec.strip()
    kind, sep, rest = text.partition(":")
    kind = kind.lower()
    if text.lower() == "petersen":
        return nx.petersen_graph()
    if sep and kind == "cycle":
        return nx.cycle_graph(_count(rest, what="cycle length N", minimum=3))
    if sep and kind == "path":
        return nx.path_graph(_count(rest, what="path length N", minimum=1))
    if sep and kind == "gnp":
        parts = rest.split(",")
        if len(parts) != 3:
            raise ValueError(f"graph gnp spec must be gnp:N,P,SEED, got {spec!r}")
        n = _count(parts[0], what="gnp N", minimum=1)
        try:
            prob = float(parts[1])
        except ValueError:
            prob = math.nan
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"graph gnp P must be a probability in [0, 1], got {parts[1]!r}")
        seed = _count(parts[2], what="gnp SEED", minimum=0)
        return nx.gnp_random_graph(n, prob, seed=seed)
    path = Path(text)
    if path.is_file():
        return check_graph(read_edge_list(path))
    raise ValueError(f"graph must be petersen, cycle:N, path:N, gnp:N,P,SEED or an existing "
                     f"edge-list file, got {spec!r}")
