"""Iterated local search for maximum-weight independent sets on large, dense graphs.

:func:`iterated_local_search` is the ILS of Andrade, Resende & Werneck ("Fast local
search for the maximum independent set problem", J. Heuristics 18, 2012; ARW) with the
weighted moves of Nogueira, Pinheiro & Subramanian ("A hybrid iterated local search
heuristic for the maximum weight independent set problem", Optim. Lett. 12, 2018;
ILS-VND).  It keeps, for every vertex ``v``, the number ``tau[v]`` of its neighbours in
the solution ``S`` (its *tightness*), their total weight and the *sum of their ids*:
when ``tau[v] == 1`` that sum is the unique solution neighbour of ``v``, in O(1).

Local search (run only around the vertices a move touched):

* insertion: a free vertex (``tau == 0``) joins ``S``;
* ``(omega, 1)``-swap: a vertex heavier than its solution neighbours joins ``S``
  and they leave (for unit weights this is insertion);
* ``(1, 2)``-swap: a solution vertex ``x`` leaves and two non-adjacent neighbours
  whose only solution neighbour is ``x`` join, when that raises the weight
  (the free vertices it leaves behind are then inserted, which gives ``(1, j)``-swaps).

Perturbation: one (rarely a few) non-solution vertex is forced into ``S``, chosen
from a random sample with a bias towards low tightness and towards vertices that
have been out of ``S`` for long; its solution neighbours leave.  After the local
search the new solution is kept when it is not lighter; a lighter one is kept with
probability ``1 / (1 + delta * delta_best)`` (ARW), otherwise the move is undone,
and after a while without a new best the search goes back to the best solution.

Every step keeps ``S`` independent; the returned set is the best one seen, made
maximal, so it weighs at least as much as ``start``.
"""

from __future__ import annotations

import math
import numbers
import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from optrobust.errors import InvalidInputError, InvalidTypeError
from optrobust.validation import check_finite_array, check_int, check_rng

__all__ = ["iterated_local_search"]

# Bit matrices (k * k / 8 bytes) are used for the adjacency tests among candidates up to
# this many vertices; above it the test marks neighbour lists instead.
_BITSET_MAX_K = 32768
# Candidate lists of a (1, 2)-swap longer than this are cut down (a sample for unit
# weights, the heaviest ones otherwise) before their pairwise adjacency is read.
_MAX_CANDIDATES = 192
_SAMPLE = 24  # vertices drawn per perturbation choice


def _check_inputs(k: Any, edges: Any, w: Any, start: Any
                  ) -> tuple[int, np.ndarray, np.ndarray, np.ndarray | None]:
    k = check_int(k, name="k")
    raw = np.asarray(edges)
    if raw.size == 0:
        raw = raw.reshape(0, 2)
    if raw.ndim != 2 or raw.shape[1] != 2:
        raise InvalidInputError(f"edges must have shape (m, 2), got {raw.shape}")
    if raw.dtype.kind not in "iu":
        raise InvalidTypeError(f"edges must be an integer array, got dtype {raw.dtype}")
    if raw.size:
        lo, hi = int(raw.min()), int(raw.max())
        if lo < 0 or hi >= k:
            raise InvalidInputError(f"edges must hold vertices in [0, {k}), got {lo}..{hi}")
        if np.any(raw[:, 0] == raw[:, 1]):
            raise InvalidInputError("edges must not hold self-loops (i, i)")
    weights = check_finite_array(w, name="w", ndim=1)
    if weights.shape != (k,):
        raise InvalidInputError(f"w must have shape ({k},), got {weights.shape}")
    if k and not np.all(weights > 0):
        raise InvalidInputError("w must hold positive weights")
    mask = None
    if start is not None:
        arr = np.asarray(start)
        if arr.shape != (k,):
            raise InvalidInputError(f"start must have shape ({k},), got {arr.shape}")
        if arr.dtype.kind == "b":
            mask = arr.copy()
        elif arr.dtype.kind in "iu" and np.all((arr == 0) | (arr == 1)):
            mask = arr.astype(bool)
        else:
            raise InvalidInputError("start must be a boolean mask of shape (k,)")
        if raw.size and np.any(mask[raw[:, 0]] & mask[raw[:, 1]]):
            raise InvalidInputError("start must be an independent set (two chosen "
                                    "vertices share an edge)")
    return k, raw, weights, mask


def _csr(k: int, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted, duplicate-free adjacency lists of the undirected graph (``indptr, indices``)."""
    idx = np.int32 if k < 2**31 else np.int64
    i = edges[:, 0].astype(idx)
    j = edges[:, 1].astype(idx)
    adj = sp.csr_array((np.ones(2 * i.size, dtype=np.int8),
                        (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(k, k))
    del i, j
    adj.sum_duplicates()
    return adj.indptr.astype(np.int64), adj.indices


def _bitset(k: int, indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Row-packed adjacency matrix (``bitorder='little'``), built in row blocks."""
    nbytes = (k + 7) // 8
    bits = np.zeros((k, nbytes), dtype=np.uint8)
    block = max(1, (1 << 24) // max(k, 1))
    for r0 in range(0, k, block):
        r1 = min(k, r0 + block)
        dense = np.zeros((r1 - r0, k), dtype=bool)
        lo, hi = indptr[r0], indptr[r1]
        rows = np.repeat(np.arange(r1 - r0), np.diff(indptr[r0:r1 + 1]))
        dense[rows, indices[lo:hi]] = True
        bits[r0:r1] = np.packbits(dense, axis=1, bitorder="little")
    return bits


class _Search:
    """Solution state with tightness counters, an undo log and the local search."""

    def __init__(self, k: int, indptr: np.ndarray, indices: np.ndarray, w: np.ndarray,
                 rng: np.random.Generator, deadline: float | None) -> None:
        self.k = k
        self.ptr = indptr.tolist()
        self.ind = indices
        self.w = w
        self.unit = bool(k == 0 or np.all(w == w[0]))
        self.rng = rng
        self.deadline = deadline
        self.s = np.zeros(k, dtype=bool)
        self.tau = np.zeros(k, dtype=np.int32)
        self.sid = np.zeros(k, dtype=np.int32 if k <= 46340 else np.int64)
        self.tw = None if self.unit else np.zeros(k, dtype=np.float64)
        self.weight = 0.0
        self.size = 0
        self.log: list[int] = []
        self.track = False
        self.dirty = np.zeros(k, dtype=bool)  # solution vertices queued for (1, 2)-swaps
        self.swap_q: list[int] = []
        self.free_q: list[int] = []
        self.out_since = np.zeros(k, dtype=np.int64)  # iteration a vertex last left S
        self.it = 0
        self.bits = _bitset(k, indptr, indices) if 0 < k <= _BITSET_MAX_K else None
        self.mark = None if self.bits is not None else np.zeros(k, dtype=bool)
        # rows with more than k / 16 neighbours are updated as whole vectors
        self.dense = None if self.bits is None else np.diff(indptr) > k // 16
        self.wsum_tol = 1e-9 * float(np.max(w)) if k else 0.0

    def nb(self, v: int) -> np.ndarray:
        return self.ind[self.ptr[v]:self.ptr[v + 1]]

    # ---- elementary moves -------------------------------------------------------------
    def row(self, v: int) -> np.ndarray | None:
        """The adjacency row of ``v`` as a length-``k`` 0/1 ``uint8`` vector, for dense rows.

        Whole-vector arithmetic on it is several times faster than fancy indexing when
        ``v`` has more than about ``k / 16`` neighbours.
        """
        if self.dense is None or not self.dense[v]:
            return None
        return np.unpackbits(self.bits[v], count=self.k, bitorder="little")

    def _shift(self, v: int, row: np.ndarray | None, sign: int) -> np.ndarray | None:
        """Add (``sign=1``) or take away (``-1``) ``v`` in its neighbours' counters.

        Returns the neighbour list when the sparse path was used (``row is None``).
        """
        wv = self.w[v]
        if row is None:
            nb = self.nb(v)
            self.tau[nb] += sign
            self.sid[nb] += sign * v
            if self.tw is not None:
                self.tw[nb] += sign * wv
            return nb
        op = np.add if sign > 0 else np.subtract
        op(self.tau, row, out=self.tau)
        op(self.sid, np.multiply(row, v, dtype=self.sid.dtype), out=self.sid)
        if self.tw is not None:
            op(self.tw, row * wv, out=self.tw)
        return None

    def add(self, v: int) -> None:
        row = self.row(v)
        wv = self.w[v]
        self.s[v] = True
        nb = self._shift(v, row, 1)
        self.weight += wv
        self.size += 1
        self.log.append(v)
        if self.track and not self.dirty[v]:
            # neighbours that just became 1-tight are owned by v
            if row is None:
                one = np.any(self.tau[nb] == 1)
            else:
                one = np.any(row.view(bool) & (self.tau == 1))
            if one:
                self.dirty[v] = True
                self.swap_q.append(v)

    def remove(self, v: int) -> None:
        row = self.row(v)
        wv = self.w[v]
        self.s[v] = False
        nb = self._shift(v, row, -1)
        self.weight -= wv
        self.size -= 1
        self.log.append(~v)
        self.out_since[v] = self.it
        if not self.track:
            return
        # the neighbours of v are outside S (S was independent)
        if row is None:
            t = self.tau[nb]
            if self.tw is None:
                free = nb[t == 0]
            else:
                free = nb[self.w[nb] > self.tw[nb] + self.wsum_tol]
            one = nb[t == 1]
        else:
            rb = row.view(bool)
            if self.tw is None:
                free = np.flatnonzero(rb & (self.tau == 0))
            else:
                free = np.flatnonzero(rb & (self.w > self.tw + self.wsum_tol))
            one = np.flatnonzero(rb & (self.tau == 1))
        if free.size:
            self.free_q.extend(free.tolist())
        if one.size:
            owners = np.unique(self.sid[one])
            owners = owners[~self.dirty[owners]]
            if owners.size:
                self.dirty[owners] = True
                self.swap_q.extend(owners.tolist())

    def force(self, v: int) -> None:
        """Put ``v`` into S and take its solution neighbours out."""
        nb = self.nb(v)
        t = int(self.tau[v])
        if t == 1:
            self.remove(int(self.sid[v]))
        elif t:
            row = self.row(v)
            out = nb[self.s[nb]] if row is None else np.flatnonzero(row.view(bool) & self.s)
            for x in out.tolist():
                self.remove(x)
        self.add(v)

    def undo(self, mark: int) -> None:
        track, self.track = self.track, False
        log = self.log
        while len(log) > mark:
            e = log.pop()
            if e >= 0:
                self.remove(e)
            else:
                self.add(~e)
            log.pop()
        self.track = track

    # ---- local search -----------------------------------------------------------------
    def _adjacent(self, c: np.ndarray) -> np.ndarray:
        """Boolean matrix of adjacency among the vertices ``c`` (diagonal True)."""
        if self.bits is not None:
            m = (self.bits[c[:, None], (c >> 3)[None, :]] >> (c & 7).astype(np.uint8)) & 1
            m = m.astype(bool)
        else:
            n = c.size
            m = np.zeros((n, n), dtype=bool)
            pos = np.full(self.k, -1, dtype=np.int64)
            pos[c] = np.arange(n)
            mark = self.mark
            mark[c] = True
            for a, u in enumerate(c.tolist()):
                nu = self.nb(u)
                hit = nu[mark[nu]]
                m[a, pos[hit]] = True
            mark[c] = False
        np.fill_diagonal(m, True)
        return m

    def try_swap(self, x: int) -> bool:
        """A (1, 2)-swap at the solution vertex ``x``, if one raises the weight."""
        row = self.row(x)
        if row is None:
            nb = self.nb(x)
            c = nb[self.tau[nb] == 1]
        else:
            c = np.flatnonzero(row.view(bool) & (self.tau == 1))
        if c.size < 2:
            return False
        w = self.w
        if c.size > _MAX_CANDIDATES:
            if self.unit:
                c = self.rng.choice(c, _MAX_CANDIDATES, replace=False)
            else:
                c = c[np.argsort(-w[c], kind="stable")[:_MAX_CANDIDATES]]
        adj = self._adjacent(c.astype(np.int64))
        if self.unit:
            a, b = np.nonzero(~adj)
            if a.size == 0:
                return False
            j = int(self.rng.integers(a.size))
            u, v = int(c[a[j]]), int(c[b[j]])
        else:
            wc = w[c]
            score = np.where(adj, -np.inf, wc[:, None] + wc[None, :])
            j = int(np.argmax(score))
            a, b = divmod(j, c.size)
            if not score[a, b] > w[x] + self.wsum_tol:
                return False
            u, v = int(c[a]), int(c[b])
        self.remove(x)
        self.add(u)
        self.add(v)
        return True

    def try_insert(self, v: int) -> None:
        """Insertion or (omega, 1)-swap of the non-solution vertex ``v``, if it pays."""
        if self.s[v]:
            return
        t = int(self.tau[v])
        if t == 0:
            self.add(v)
            return
        if self.tw is None or not self.w[v] > self.tw[v] + self.wsum_tol:
            return
        nb = self.nb(v)
        out = nb[self.s[nb]]
        if self.w[v] > math.fsum(self.w[out].tolist()):
            for x in out.tolist():
                self.remove(x)
            self.add(v)

    def local_search(self) -> bool:
        """Run the queued moves to a local optimum; False if the deadline passed."""
        rng = self.rng
        steps = 0
        while self.free_q or self.swap_q:
            steps += 1
            if (steps & 63) == 0 and self.deadline is not None \
                    and time.perf_counter() > self.deadline:
                self.drain()
                return False
            if self.free_q:
                q = self.free_q
                self.free_q = []
                if len(q) > 1:
                    arr = np.unique(np.asarray(q, dtype=np.int64))
                    if self.unit:
                        arr = rng.permutation(arr)
                    else:
                        arr = arr[np.argsort(-self.w[arr], kind="stable")]
                    q = arr.tolist()
                for v in q:
                    self.try_insert(v)
                continue
            x = self.swap_q.pop()
            self.dirty[x] = False
            if self.s[x]:
                self.try_swap(x)
        return True

    def drain(self) -> None:
        """Forget the queues (leaving S independent, not necessarily maximal)."""
        self.dirty[self.swap_q] = False
        self.swap_q = []
        self.free_q = []

    def queue_all(self) -> None:
        sol = np.flatnonzero(self.s)
        self.dirty[sol] = True
        self.swap_q = _rng_perm(self.rng, sol).tolist()
        if self.tw is None:
            self.free_q = np.flatnonzero((self.tau == 0) & ~self.s).tolist()
        else:
            self.free_q = np.flatnonzero(~self.s & (self.w > self.tw)).tolist()

    def complete(self) -> None:
        """Insert free vertices until S is maximal (no tracking of swaps)."""
        track, self.track = self.track, False
        free = np.flatnonzero((self.tau == 0) & ~self.s)
        if free.size:
            order = np.argsort(-self.w[free] / (np.diff(np.asarray(self.ptr))[free] + 1.0),
                               kind="stable")
            for v in free[order].tolist():
                if self.tau[v] == 0 and not self.s[v]:
                    self.add(v)
        self.track = track

    # ---- perturbation -----------------------------------------------------------------
    def pick(self) -> int:
        """A non-solution vertex, biased to low tightness and long absence from S."""
        rng = self.rng
        cand = rng.integers(0, self.k, size=_SAMPLE)
        cand = cand[~self.s[cand]]
        if cand.size == 0:
            out = np.flatnonzero(~self.s)
            return int(out[rng.integers(out.size)])
        if self.tw is None:
            cost = self.tau[cand].astype(np.float64)
        else:
            cost = self.tw[cand] / self.w[cand]
        age = self.it - self.out_since[cand]
        key = cost - 0.5 * np.minimum(age, 1000) / 1000 + 0.3 * rng.random(cand.size)
        return int(cand[np.argmin(key)])

    def set_to(self, target: np.ndarray) -> None:
        """Make S equal to ``target`` by toggling the vertices where they differ."""
        track, self.track = self.track, False
        for x in np.flatnonzero(self.s & ~target).tolist():
            self.remove(x)
        for x in np.flatnonzero(target & ~self.s).tolist():
            self.add(x)
        self.track = track
        self.log = []


def _rng_perm(rng: np.random.Generator, a: np.ndarray) -> np.ndarray:
    return rng.permutation(a) if a.size > 1 else a


def _greedy_order(k: int, indptr: np.ndarray, w: np.ndarray) -> np.ndarray:
    deg = np.diff(indptr)
    return np.argsort(-(w / (deg + 1.0)), kind="stable")


def iterated_local_search(k: int, edges: np.ndarray, w: np.ndarray,
                          start: np.ndarray | None = None, *,
                          deadline: float | None = None, max_iterations: int | None = None,
                          rng: np.random.Generator | int | None = 0) -> np.ndarray:
    """Boolean mask of an independent set at least as heavy as ``start`` (a maximal one).

    Iterated local search (Andrade, Resende & Werneck, J. Heuristics 2012) with the
    weighted ``(omega, 1)``- and ``(1, 2)``-swaps of Nogueira, Pinheiro & Subramanian
    (Optim. Lett. 2018); see the module docstring for the moves.

    Parameters
    ----------
    k : int
        Number of vertices ``0 .. k-1``.
    edges : numpy.ndarray
        Integer array of shape ``(m, 2)``, each undirected edge once (repeats are
        harmless), no self-loops.
    w : numpy.ndarray
        Positive finite weights, shape ``(k,)``.
    start : numpy.ndarray or None
        Boolean mask of an independent set to start from; ``None`` starts from the
        greedy set (vertices by decreasing ``w / (degree + 1)``).
    deadline : float or None
        Absolute ``time.perf_counter()`` value; the search stops soon after it passes.
    max_iterations : int or None
        Number of perturbations.  With ``deadline`` and ``max_iterations`` both ``None``
        the search stops after ``10 * k`` perturbations.
    rng : numpy.random.Generator, int or None
        Random source; an integer seed makes the result reproducible (without a
        deadline).

    Returns
    -------
    numpy.ndarray
        Boolean mask of shape ``(k,)``: an independent, maximal set, the heaviest one
        found, weighing at least as much as ``start``.

    Raises
    ------
    InvalidInputError
        If ``edges`` has the wrong shape or holds vertices outside ``[0, k)`` or
        self-loops, ``w`` is not a positive vector of length ``k``, ``start`` is not an
        independent boolean mask of length ``k``, or ``deadline`` / ``max_iterations``
        are out of range.

    Examples
    --------
    >>> import numpy as np
    >>> cycle = np.array([[i, (i + 1) % 7] for i in range(7)])
    >>> int(iterated_local_search(7, cycle, np.ones(7), max_iterations=50).sum())
    3
    """
    k, edges, w, start_mask = _check_inputs(k, edges, w, start)
    if deadline is not None:
        if isinstance(deadline, np.generic):
            deadline = deadline.item()
        if isinstance(deadline, bool) or not isinstance(deadline, numbers.Real) \
                or math.isnan(float(deadline)):
            raise InvalidInputError(f"deadline must be a perf_counter() time or None, "
                                    f"got {deadline!r}")
        deadline = float(deadline)
    if max_iterations is not None:
        max_iterations = check_int(max_iterations, name="max_iterations")
    gen = check_rng(rng)
    if k == 0:
        return np.zeros(0, dtype=bool)
    if deadline is None and max_iterations is None:
        max_iterations = 10 * k

    indptr, indices = _csr(k, edges)
    del edges
    search = _Search(k, indptr, indices, w, gen, deadline)
    if start_mask is not None:
        for v in np.flatnonzero(start_mask).tolist():
            search.add(v)
    else:
        for v in _greedy_order(k, indptr, w).tolist():
            if search.tau[v] == 0 and not search.s[v]:
                search.add(v)
    search.complete()
    search.log = []

    def passed() -> bool:
        return deadline is not None and time.perf_counter() > deadline

    if passed():
        return search.s.copy()
    search.track = True
    search.queue_all()
    if not search.local_search():
        search.complete()
        return search.s.copy()
    search.log = []
    best = search.s.copy()
    best_weight = search.weight
    tol = search.wsum_tol
    since_best = 0
    iteration = 0
    restart_after = max(200, 2 * search.size)
    while (max_iterations is None or iteration < max_iterations) and not passed():
        if search.size == k:
            break  # every vertex is in S: nothing to perturb
        iteration += 1
        search.it = iteration
        before = search.weight
        search.log = []
        n_force = 1
        while n_force < 4 and gen.random() < 0.5 / max(search.size, 1) * 50:
            n_force += 1
        v = search.pick()
        search.force(v)
        for _ in range(n_force - 1):
            # a further vertex at distance two from v (ARW)
            nb = search.nb(v)
            if nb.size == 0:
                break
            u = int(nb[gen.integers(nb.size)])
            nu = search.nb(u)
            far = nu[~search.s[nu]]
            if far.size == 0:
                break
            search.force(int(far[gen.integers(far.size)]))
        # the forced vertex's free neighbours of the removed ones are queued by remove()
        if not search.local_search():
            search.undo(0)
            break
        after = search.weight
        if after > best_weight + tol:
            best = search.s.copy()
            best_weight = after
            since_best = 0
            continue
        since_best += 1
        if after + tol >= before:
            pass  # equal (plateau) or better: keep
        else:
            scale = float(np.max(w)) if not search.unit else float(w[0])
            delta = (before - after) / scale
            delta_best = (best_weight - after) / scale
            if gen.random() >= 1.0 / (1.0 + delta * delta_best):
                search.undo(0)
        if since_best > restart_after and search.weight + tol < best_weight:
            search.set_to(best)
            since_best = 0
    search.track = False
    search.drain()
    search.set_to(best)
    search.complete()
    return search.s.copy()
