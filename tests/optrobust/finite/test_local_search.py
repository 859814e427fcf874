"""iterated_local_search: validity, bounds against brute force, known optima, bad inputs."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optrobust.errors import InvalidInputError
from optrobust.finite import local_search
from optrobust.finite.local_search import iterated_local_search


def _independent(s: np.ndarray, edges: np.ndarray) -> bool:
    return not edges.size or not np.any(s[edges[:, 0]] & s[edges[:, 1]])


def _maximal(s: np.ndarray, edges: np.ndarray) -> bool:
    covered = s.copy()
    if edges.size:
        covered[edges[s[edges[:, 0]], 1]] = True
        covered[edges[s[edges[:, 1]], 0]] = True
    return bool(np.all(covered))


def _brute(k: int, edges: np.ndarray, w: np.ndarray) -> float:
    best = 0.0
    for bits in itertools.product([False, True], repeat=k):
        s = np.array(bits, dtype=bool)
        if _independent(s, edges):
            best = max(best, math.fsum(w[s].tolist()))
    return best


def _greedy(k: int, edges: np.ndarray, w: np.ndarray) -> np.ndarray:
    deg = np.bincount(edges.ravel(), minlength=k)
    nbrs = [set() for _ in range(k)]
    for a, b in edges.tolist():
        nbrs[a].add(b)
        nbrs[b].add(a)
    s = np.zeros(k, dtype=bool)
    for v in np.argsort(-(w / (deg + 1.0)), kind="stable").tolist():
        if not any(s[u] for u in nbrs[v]):
            s[v] = True
    return s


@st.composite
def graphs(draw):
    k = draw(st.integers(1, 12))
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True) if pairs else st.just([]))
    edges = np.array(chosen, dtype=np.int64).reshape(-1, 2)
    integer = draw(st.booleans())
    if integer:
        w = np.array(draw(st.lists(st.integers(1, 9), min_size=k, max_size=k)), dtype=float)
    else:
        w = np.array(draw(st.lists(st.floats(0.01, 10.0), min_size=k, max_size=k)))
    return k, edges, w


@settings(max_examples=60, deadline=None)
@given(graphs(), st.integers(0, 3), st.booleans())
def test_random_small_graphs(graph, seed, with_start):
    k, edges, w = graph
    start = None
    if with_start:
        rng = np.random.default_rng(seed)
        start = np.zeros(k, dtype=bool)
        for v in rng.permutation(k).tolist():  # a random maximal independent set
            if not any(start[edges[edges[:, 0] == v, 1]]) and \
                    not any(start[edges[edges[:, 1] == v, 0]]):
                start[v] = True
    s = iterated_local_search(k, edges, w, start, max_iterations=30, rng=seed)
    assert s.dtype == bool and s.shape == (k,)
    assert _independent(s, edges) and _maximal(s, edges)
    got = math.fsum(w[s].tolist())
    assert got >= math.fsum(w[_greedy(k, edges, w)].tolist()) - 1e-9
    if start is not None:
        assert got >= math.fsum(w[start].tolist()) - 1e-9
    assert got <= _brute(k, edges, w) + 1e-9


def _cycle(n: int) -> np.ndarray:
    return np.array([[i, (i + 1) % n] for i in range(n)])


def _petersen() -> np.ndarray:
    outer = [[i, (i + 1) % 5] for i in range(5)]
    spokes = [[i, i + 5] for i in range(5)]
    inner = [[5 + i, 5 + (i + 2) % 5] for i in range(5)]
    return np.array(outer + spokes + inner)


def test_known_optima():
    assert iterated_local_search(7, _cycle(7), np.ones(7), max_iterations=50).sum() == 3
    assert iterated_local_search(10, _petersen(), np.ones(10), max_iterations=50).sum() == 4
    star = np.array([[0, i] for i in range(1, 9)])
    # the centre is the greedy choice under these weights and the start; leaves win
    w = np.r_[5.0, np.ones(8)]
    s = iterated_local_search(9, star, w, np.eye(9, dtype=bool)[0], max_iterations=20)
    assert s.tolist() == [False] + [True] * 8
    # weighted: a path a-b-c with a heavy middle keeps the middle
    s = iterated_local_search(3, np.array([[0, 1], [1, 2]]), np.array([1.0, 3.0, 1.0]))
    assert s.tolist() == [False, True, False]


def test_no_edges_and_empty():
    assert iterated_local_search(4, np.zeros((0, 2), dtype=int), np.ones(4)).all()
    assert iterated_local_search(0, np.zeros((0, 2), dtype=int), np.ones(0)).shape == (0,)


def test_deterministic_and_improves_a_bad_start():
    rng = np.random.default_rng(5)
    k = 80
    a = np.triu(rng.random((k, k)) < 0.15, 1)
    edges = np.argwhere(a)
    w = np.ones(k)
    start = np.zeros(k, dtype=bool)
    start[0] = True
    s1 = iterated_local_search(k, edges, w, start, max_iterations=300, rng=3)
    s2 = iterated_local_search(k, edges, w, start, max_iterations=300, rng=3)
    assert np.array_equal(s1, s2)
    assert _independent(s1, edges) and _maximal(s1, edges)
    assert s1.sum() >= _greedy(k, edges, w).sum()


def test_without_bitset(monkeypatch):
    # the neighbour-marking adjacency test used for large k gives valid results too
    monkeypatch.setattr(local_search, "_BITSET_MAX_K", 0)
    rng = np.random.default_rng(1)
    k = 60
    edges = np.argwhere(np.triu(rng.random((k, k)) < 0.2, 1))
    for w in (np.ones(k), rng.random(k) + 0.1):
        s = iterated_local_search(k, edges, w, max_iterations=200, rng=0)
        assert _independent(s, edges) and _maximal(s, edges)
        assert w[s].sum() >= w[_greedy(k, edges, w)].sum() - 1e-9
    assert iterated_local_search(10, _petersen(), np.ones(10), max_iterations=50).sum() == 4


def test_deadline_passed_returns_quickly():
    rng = np.random.default_rng(2)
    k = 400
    edges = np.argwhere(np.triu(rng.random((k, k)) < 0.3, 1))
    start = np.zeros(k, dtype=bool)
    start[edges[0, 0]] = True
    t = time.perf_counter()
    s = iterated_local_search(k, edges, np.ones(k), start, deadline=t - 1.0)
    assert time.perf_counter() - t < 1.0
    assert _independent(s, edges) and _maximal(s, edges) and s[edges[0, 0]]
    # a short deadline without max_iterations stops on time
    t = time.perf_counter()
    s = iterated_local_search(k, edges, np.ones(k), deadline=t + 0.3)
    assert time.perf_counter() - t < 1.5
    assert _independent(s, edges) and _maximal(s, edges)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"edges": np.array([[0, 1, 2]])}, "edges"),
    ({"edges": np.array([[0, 5]])}, "edges"),
    ({"edges": np.array([[-1, 2]])}, "edges"),
    ({"edges": np.array([[1, 1]])}, "edges"),
    ({"w": np.array([1.0, -1.0, 1.0])}, "w"),
    ({"w": np.array([1.0, 0.0, 1.0])}, "w"),
    ({"w": np.ones(2)}, "w"),
    ({"w": np.array([1.0, np.nan, 1.0])}, "w"),
    ({"start": np.array([True, True, False])}, "start"),
    ({"start": np.array([True, False])}, "start"),
    ({"start": np.array([0.5, 0.0, 0.0])}, "start"),
    ({"max_iterations": -1}, "max_iterations"),
    ({"deadline": float("nan")}, "deadline"),
    ({"k": -1}, "k"),
])
def test_bad_inputs(kwargs, name):
    args = {"k": 3, "edges": np.array([[0, 1]]), "w": np.ones(3), "start": None}
    args.update(kwargs)
    with pytest.raises(InvalidInputError, match=name):
        iterated_local_search(args.pop("k"), args.pop("edges"), args.pop("w"),
                              args.pop("start"), **args)


def test_sparse_rows_with_bitset():
    # degrees far below k / 16: neighbour lists are updated by fancy indexing
    rng = np.random.default_rng(7)
    k = 300
    edges = np.argwhere(np.triu(rng.random((k, k)) < 0.01, 1))
    for w in (np.ones(k), rng.integers(1, 5, k).astype(float)):
        s = iterated_local_search(k, edges, w, max_iterations=400, rng=1)
        assert _independent(s, edges) and _maximal(s, edges)
        assert w[s].sum() >= w[_greedy(k, edges, w)].sum() - 1e-9


@pytest.mark.parametrize("scale", [2.0**-1000, 1e-300, 1.0, 1e300])
def test_units_of_the_weights_do_not_change_the_set(scale):
    """The search compares weights only relative to each other (a relative tolerance):
    scaling every weight by the same power of ten returns the same set."""
    rng = np.random.default_rng(3)
    k = 40
    pairs = np.array([(i, j) for i in range(k) for j in range(i + 1, k)])
    edges = pairs[rng.random(len(pairs)) < 0.15]
    w = rng.integers(1, 20, k).astype(float)
    ref = iterated_local_search(k, edges, w, max_iterations=300, rng=0)
    got = iterated_local_search(k, edges, w * scale, max_iterations=300, rng=0)
    np.testing.assert_array_equal(got, ref)
