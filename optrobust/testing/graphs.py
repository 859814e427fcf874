"""Hypothesis strategies for simple undirected graphs (the inputs of Lemma 1)."""

from __future__ import annotations

import math

import networkx as nx
from hypothesis import strategies as st

__all__ = ["graphs", "norms_and_domains"]


@st.composite
def graphs(draw, *, min_vertices: int = 1, max_vertices: int = 12) -> nx.Graph:
    """A simple undirected graph on ``0..n-1`` (``min_vertices <= n <= max_vertices``).

    Each of the ``C(n, 2)`` possible edges is drawn independently, with an edge
    density drawn first so that sparse, dense, empty and complete graphs all occur.
    """
    n = draw(st.integers(min_vertices, max_vertices), label="n")
    density = draw(st.sampled_from((0.0, 0.15, 0.3, 0.5, 0.8, 1.0)), label="density")
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    for i in range(n):
        for j in range(i + 1, n):
            if density == 1.0 or (density > 0 and draw(st.floats(0, 1)) < density):
                graph.add_edge(i, j)
    return graph


def norms_and_domains() -> st.SearchStrategy:
    """Pairs ``(p, domain)`` with ``p`` in ``{0, 1, 2, inf}`` and both domains."""
    return st.tuples(st.sampled_from((0, 1, 2, math.inf)),
                     st.sampled_from(("support", "continuous")))
