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

from optrobust.errors import InvalidInputError, ResourceLimitError
from optrobust.hardness.independent_set import check_graph

__all__ = ["MAX_GENERATED_VERTICES", "parse_graph_spec", "read_edge_list"]

#: Largest number of vertices a generated graph may have (unless ``max_vertices`` is smaller).
MAX_GENERATED_VERTICES = 100_000
#: Largest seed of ``gnp:N,P,SEED`` (numpy's legacy seeds are 32-bit).
_MAX_SEED = 2**32 - 1


def _count(text: str, *, what: str, minimum: int, maximum: int = MAX_GENERATED_VERTICES) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InvalidInputError(f"graph {what} must be an integer >= {minimum}, "
                                f"got {text!r}") from None
    if value < minimum:
        raise InvalidInputError(f"graph {what} must be an integer >= {minimum}, got {value}")
    if value > maximum:
        raise InvalidInputError(f"graph {what} must be an integer in [{minimum}, {maximum}], "
                                f"got {value}")
    return value


def _check_size(n: int, max_vertices: int, spec: str) -> None:
    if n > max_vertices:
        raise ResourceLimitError(f"graph {spec!r} has {n} vertices, more than the bound of "
                                 f"{max_vertices} for this computation")


def _vertex(token: str) -> int | str:
    try:
        return int(token)
    except ValueError:
        return token


def read_edge_list(path: str | Path) -> nx.Graph:
    """Read an edge-list file (format in the module docstring).

    Raises
    ------
    InvalidInputError
        If the file cannot be read or decoded; on an empty graph, a self-loop or a
        malformed line (its number is given).
    """
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.readlines()
    except OSError as exc:
        raise InvalidInputError(f"graph file {path} cannot be read: "
                                f"{exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"graph file {path} is not a UTF-8 text edge list: "
                                f"{exc}") from None
    graph = nx.Graph()
    for number, line in enumerate(lines, start=1):
        tokens = line.split("#", 1)[0].split()
        if not tokens:
            continue
        if len(tokens) > 2:
            raise InvalidInputError(f"graph file {path}: line {number} must be 'u v' or 'v', "
                                    f"got {line.strip()!r}")
        names = [_vertex(t) for t in tokens]
        if len(names) == 1:
            graph.add_node(names[0])
        elif names[0] == names[1]:
            raise InvalidInputError(f"graph file {path}: line {number} is a self-loop at "
                                    f"{names[0]!r}; graph must have no self-loops")
        else:
            graph.add_edge(names[0], names[1])
    if graph.number_of_nodes() == 0:
        raise InvalidInputError(f"graph file {path} has no vertex (empty edge list)")
    return graph


def parse_graph_spec(spec: str, *, max_vertices: int = MAX_GENERATED_VERTICES) -> nx.Graph:
    """Build a graph from ``petersen``, ``cycle:N``, ``path:N``, ``gnp:N,P,SEED`` or a file.

    ``max_vertices`` bounds the work up front: a generated graph with more vertices is
    refused *before* it is built, a file graph right after reading it
    (:class:`~optrobust.errors.ResourceLimitError`).  Malformed specifications raise
    :class:`~optrobust.errors.InvalidInputError`.

    Examples
    --------
    >>> parse_graph_spec("cycle:5").number_of_edges()
    5
    >>> g = parse_graph_spec("gnp:8,0.5,1")
    >>> g.number_of_nodes()
    8
    """
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidInputError("graph must be petersen, cycle:N, path:N, gnp:N,P,SEED or a "
                                "file path")
    text = spec.strip()
    kind, sep, rest = text.partition(":")
    kind = kind.lower()
    if text.lower() == "petersen":
        _check_size(10, max_vertices, text)
        return nx.petersen_graph()
    if sep and kind in ("cycle", "path"):
        n = _count(rest, what=f"{kind} length N", minimum=3 if kind == "cycle" else 1)
        _check_size(n, max_vertices, text)
        return nx.cycle_graph(n) if kind == "cycle" else nx.path_graph(n)
    if sep and kind == "gnp":
        parts = rest.split(",")
        if len(parts) != 3:
            raise InvalidInputError(f"graph gnp spec must be gnp:N,P,SEED, got {spec!r}")
        n = _count(parts[0], what="gnp N", minimum=1)
        try:
            prob = float(parts[1])
        except ValueError:
            prob = math.nan
        if not 0.0 <= prob <= 1.0:
            raise InvalidInputError(f"graph gnp P must be a probability in [0, 1], "
                                    f"got {parts[1]!r}")
        seed = _count(parts[2], what="gnp SEED", minimum=0, maximum=_MAX_SEED)
        _check_size(n, max_vertices, text)
        return nx.gnp_random_graph(n, prob, seed=seed)
    path = Path(text)
    try:
        is_file = path.is_file()
    except OSError:  # e.g. a name longer than the file system allows: not a file
        is_file = False
    if is_file:
        graph = check_graph(read_edge_list(path))
        _check_size(graph.number_of_nodes(), max_vertices, text)
        return graph
    raise InvalidInputError(f"graph must be petersen, cycle:N, path:N, gnp:N,P,SEED or an "
                            f"existing edge-list file, got {_short(spec)}")


def _short(text: str, limit: int = 80) -> str:
    """``repr`` of a user's text, cut to ``limit`` characters for a one-line message."""
    r = repr(text)
    return r if len(r) <= limit else r[: limit - 5] + "...'"
