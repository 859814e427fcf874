"""Soundness of the held-out certificate (optrobust.finite.pruned_nn.PrunedNearestNeighbor.certify).

Statement (docs/theory.md, "Held-out estimate: adversarial pruning + certified 1-NN"): if
``certify(x, y, eps)`` is true, every ``x'`` of the closed ``l_p`` ball of radius ``eps``
around ``x`` (intersected with the box, if one is given) has a nearest kept training point of
label ``y`` only, so the 1-NN predicts ``y`` there.  Oracles: in 1-D the exact robust status
(the label changes only at midpoints of consecutive kept points of different labels); in 2-D
an exhaustive search over a fine grid of the ball and of its boundary.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

from optrobust.finite.pruned_nn import PrunedNearestNeighbor

#: Coordinates on a half-integer lattice make exact ties (touching balls, equidistant
#: points) common, which is where an unsound check would fail.
_coord = st.integers(-6, 6).map(lambda v: v / 2)


def _ball_grid(x: np.ndarray, eps: float, p: float, box: tuple[float, float] | None,
               k: int = 24) -> np.ndarray:
    """Points of the closed ball around ``x`` in 2-D: a grid of the interior and the boundary."""
    t = np.linspace(-eps, eps, 2 * k + 1)
    gx, gy = np.meshgrid(t, t)
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    ang = np.linspace(0.0, 2 * math.pi, 8 * k, endpoint=False)
    u = np.column_stack([np.cos(ang), np.sin(ang)])
    if p == 2:
        pts = pts[np.hypot(pts[:, 0], pts[:, 1]) <= eps]
        pts = np.vstack([pts, eps * u])
    elif p == 1:
        pts = pts[np.abs(pts).sum(axis=1) <= eps]
        pts = np.vstack([pts, eps * u / np.abs(u).sum(axis=1, keepdims=True)])
    else:
        pts = np.vstack([pts, eps * u / np.abs(u).max(axis=1, keepdims=True)])
    pts = x[None, :] + pts
    if box is not None:
        pts = np.clip(pts, box[0], box[1])  # clipping keeps l_inf-ball points in the ball
    return pts


def _nearest_labels_all(h: PrunedNearestNeighbor, z: np.ndarray, y: int) -> np.ndarray:
    """Whether the nearest kept points of each row of ``z`` all carry label ``y`` (no tie
    with another label), computed in exact-enough arithmetic on the lattice data."""
    metric = {1: "cityblock", 2: "euclidean", math.inf: "chebyshev"}[h.p]
    dist = cdist(z, h.points, metric=metric)
    best = dist.min(axis=1, keepdims=True)
    near = dist <= best * (1 + 1e-12) + 1e-12
    return ~np.any(near & (h.labels[None, :] != y), axis=1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_coord, _coord, st.integers(0, 2)), min_size=2, max_size=10),
       st.lists(st.tuples(_coord, _coord, st.integers(0, 2)), min_size=1, max_size=6),
       st.sampled_from([1, 2, math.inf]), st.sampled_from([0.0, 0.25, 0.5, 1.0]),
       st.sampled_from([0.25, 0.5, 0.75, 1.0]), st.booleans())
def test_certified_points_cannot_be_flipped_2d(train, test, p, prune_eps, eps, use_box):
    """2-D: no point of a fine grid of a certified ball (and of its boundary) is classified
    otherwise, nor tied with another label."""
    x = np.array([t[:2] for t in train], dtype=float)
    y = np.array([t[2] for t in train])
    xt = np.array([t[:2] for t in test], dtype=float)
    yt = np.array([t[2] for t in test])
    box = (-2.0, 2.0) if (use_box and p == math.inf) else None
    h = PrunedNearestNeighbor(eps=prune_eps, p=p).fit(x, y)
    ok = h.certify(xt, yt, eps=eps, box=box)
    for i in np.flatnonzero(ok):
        if box is not None and np.any(np.abs(xt[i]) > 2.0 + eps):
            continue  # the ball misses the box: nothing to attack
        z = _ball_grid(xt[i], eps, p, box)
        assert _nearest_labels_all(h, z, int(yt[i])).all(), (xt[i], yt[i])
        assert (h.predict(z) == yt[i]).all()


def _exact_robust_1d(h: PrunedNearestNeighbor, x: float, y: int, eps: float) -> bool:
    """Exact in 1-D: the label is constant between midpoints of consecutive kept points of
    different labels and tied at them."""
    order = np.argsort(h.points[:, 0], kind="stable")
    pts, lab = h.points[order, 0], h.labels[order]
    d = np.abs(pts - x)
    if np.any((d <= d.min()) & (lab != y)):
        return False
    mids = (pts[:-1] + pts[1:])[lab[:-1] != lab[1:]] / 2
    return not np.any((mids >= x - eps) & (mids <= x + eps))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(-8, 8), st.integers(0, 2)), min_size=2, max_size=12),
       st.lists(st.tuples(st.integers(-16, 16), st.integers(0, 2)), min_size=1, max_size=8),
       st.sampled_from([1, 2, math.inf]), st.sampled_from([0.0, 0.5, 1.0]),
       st.sampled_from([0.25, 0.5, 1.0, 1.5]))
def test_certified_implies_exactly_robust_1d(train, test, p, prune_eps, eps):
    """1-D (where l1 = l2 = l_inf): certified implies robust by the exact oracle."""
    x = np.array([[t[0] / 2] for t in train])
    y = np.array([t[1] for t in train])
    xt = np.array([[t[0] / 4] for t in test])
    yt = np.array([t[1] for t in test])
    h = PrunedNearestNeighbor(eps=prune_eps, p=p).fit(x, y)
    ok = h.certify(xt, yt, eps=eps)
    for i in np.flatnonzero(ok):
        assert _exact_robust_1d(h, float(xt[i, 0]), int(yt[i]), eps), (xt[i], yt[i])


def test_the_oracles_detect_flips():
    """The oracles have power: on a fixed instance they find flips for uncertified points,
    and the certificate is not vacuous (some points are certified)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, size=(30, 2))
    y = (x[:, 0] + 0.3 * rng.normal(size=30) > 0).astype(int)
    xt = rng.uniform(-3, 3, size=(60, 2))
    yt = (xt[:, 0] > 0).astype(int)
    h = PrunedNearestNeighbor(eps=0.2, p=2).fit(x, y)
    ok = h.certify(xt, yt, eps=0.4)
    flips = [not _nearest_labels_all(h, _ball_grid(xt[i], 0.4, 2, None), int(yt[i])).all()
             for i in np.flatnonzero(~ok)]
    assert 0 < ok.sum() < 60
    assert sum(flips) >= len(flips) // 2
