"""Tests of the LpBall threat model (projection, steps, random starts, feasibility check)."""

from __future__ import annotations

import itertools
import math

import pytest

torch = pytest.importorskip("torch")

from empirical.threat import LpBall  # noqa: E402

P_CASES = [(math.inf, 0.1), (2, 0.7), (0, 3)]


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(("p", "eps"), P_CASES)
@pytest.mark.parametrize("box", [(0.0, 1.0), (None, None)])
def test_project_is_feasible_and_idempotent(p, eps, box):
    gen = _gen()
    x = torch.rand(16, 3, 5, generator=gen)
    z = x + 2 * torch.randn(16, 3, 5, generator=gen)
    ball = LpBall(eps, p, *box)
    out = ball.project(z, x)
    ball.check(out, x)
    norms = ball.norms(out, x)
    assert float(norms.max()) <= eps + 1e-5
    if box[0] is not None:
        assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    torch.testing.assert_close(ball.project(out, x), out)


def test_linf_projection_is_the_exact_projection_on_the_intersection():
    # Independent formula: B_inf(x, eps) ∩ [l, u] is the box [max(x-eps, l), min(x+eps, u)],
    # and the Euclidean projection on a box is coordinate-wise clipping.
    gen = _gen(1)
    x = torch.rand(50, 7, generator=gen)
    z = x + torch.randn(50, 7, generator=gen)
    out = LpBall(0.2, "linf", 0.0, 1.0).project(z, x)
    lo = torch.clamp(x - 0.2, min=0.0)
    hi = torch.clamp(x + 0.2, max=1.0)
    torch.testing.assert_close(out, torch.min(torch.max(z, lo), hi))


def test_l2_projection_without_box_is_radial():
    # ||z - x|| > eps: projection is x + eps (z - x)/||z - x||; inside the ball: identity.
    x = torch.zeros(2, 3)
    z = torch.tensor([[3.0, 4.0, 0.0], [0.1, 0.2, 0.2]])
    out = LpBall(1.0, 2).project(z, x)
    torch.testing.assert_close(out, torch.tensor([[0.6, 0.8, 0.0], [0.1, 0.2, 0.2]]))


def test_l0_projection_matches_brute_force():
    # Oracle: enumerate every support S with |S| <= eps; the best point with support S is
    # clip(z) on S and x elsewhere; the exact projection minimizes ||point - z||_2.
    gen = _gen(2)
    d, eps = 6, 2
    ball = LpBall(eps, 0, 0.0, 1.0)
    for _ in range(20):
        x = torch.rand(1, d, generator=gen, dtype=torch.float64)
        z = x + 1.5 * torch.randn(1, d, generator=gen, dtype=torch.float64)
        clipped = z.clamp(0.0, 1.0)
        best = math.inf
        for r in range(eps + 1):
            for s in itertools.combinations(range(d), r):
                pt = x.clone()
                pt[0, list(s)] = clipped[0, list(s)]
                best = min(best, float((pt - z).norm()))
        out = ball.project(z, x)
        assert int((out != x).sum()) <= eps
        assert float((out - z).norm()) == pytest.approx(best, abs=1e-12)


def test_l0_projection_with_priority_keeps_highest_priority():
    x = torch.zeros(1, 5)
    z = torch.ones(1, 5)
    prio = torch.tensor([[0.1, 5.0, 0.3, 4.0, 0.2]])
    out = LpBall(2, 0, 0.0, 1.0).project(z, x, priority=prio)
    assert out.tolist() == [[0.0, 1.0, 0.0, 1.0, 0.0]]


@pytest.mark.parametrize(("p", "eps"), P_CASES)
def test_random_init_is_feasible_and_seeded(p, eps):
    x = torch.rand(32, 20, generator=_gen(3))
    ball = LpBall(eps, p, 0.0, 1.0)
    a = ball.random_init(x, _gen(4))
    b = ball.random_init(x, _gen(4))
    ball.check(a, x)
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, x)


def test_l2_random_init_is_uniform_in_the_ball():
    # Uniform in the d-ball of radius eps: P(||delta|| <= eps/2) = 2^-d (= 1/4 for d = 2).
    ball = LpBall(1.0, 2)
    x = torch.zeros(20000, 2)
    r = ball.random_init(x, _gen(5)).norm(dim=1)
    frac = float((r <= 0.5).double().mean())
    assert abs(frac - 0.25) < 4 * math.sqrt(0.25 * 0.75 / 20000)
    assert float(r.max()) <= 1.0 + 1e-6


def test_linf_random_init_is_uniform_in_the_cube():
    x = torch.zeros(20000, 1)
    d = LpBall(0.5, math.inf).random_init(x, _gen(6))
    # Uniform on [-0.5, 0.5]: mean 0, variance 1/12.
    assert abs(float(d.mean())) < 4 * math.sqrt(1 / 12 / 20000)
    assert float(d.var()) == pytest.approx(1 / 12, rel=0.05)


def test_l0_random_init_on_binary_inputs_flips_to_end_points():
    x = (torch.rand(64, 30, generator=_gen(7)) < 0.5).float()
    out = LpBall(4, 0, 0.0, 1.0).random_init(x, _gen(8))
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    assert int((out != x).sum(1).max()) <= 4


def test_steps():
    x = torch.zeros(2, 4)
    g = torch.tensor([[1.0, -2.0, 0.0, 3.0], [0.0, 0.0, 0.0, 0.0]])
    torch.testing.assert_close(LpBall(1, math.inf).step(x, g, 0.1),
                               torch.tensor([[0.1, -0.1, 0.0, 0.1], [0.0] * 4]))
    s2 = LpBall(1, 2).step(x, g, 0.5)
    assert float(s2[0].norm()) == pytest.approx(0.5)
    assert torch.equal(s2[1], x[1])  # zero gradient: no move
    # l0 on {0,1}: gains g_i * (1 - 0) for going up; top-2 positive gains are coords 3 and 0.
    s0 = LpBall(3, 0, 0.0, 1.0).step(x, g, 2)
    assert s0[0].tolist() == [1.0, 0.0, 0.0, 1.0]
    assert torch.equal(s0[1], x[1])


def test_check_raises_naming_the_violation():
    x = torch.full((1, 4), 0.5)
    with pytest.raises(RuntimeError, match="ball"):
        LpBall(0.1, math.inf).check(x + 0.2, x)
    with pytest.raises(RuntimeError, match="ball"):
        LpBall(0.3, 2).check(x + 0.2, x)  # norm 0.4
    with pytest.raises(RuntimeError, match="ball"):
        LpBall(1, 0).check(x + torch.tensor([[0.1, 0.1, 0, 0]]), x)
    with pytest.raises(RuntimeError, match="box"):
        LpBall(math.inf, math.inf, 0.0, 0.6).check(x + 0.2, x)
    with pytest.raises(RuntimeError, match="NaN"):
        LpBall(1, 2).check(x * math.nan, x)
    LpBall(0.2, math.inf, 0.0, 1.0).check(x + 0.2, x)  # boundary is inside (closed ball)
    LpBall(0.4, 2).check(x + 0.2, x)


def test_bad_arguments():
    with pytest.raises(ValueError, match="eps"):
        LpBall(-1, 2)
    with pytest.raises(ValueError, match="p must"):
        LpBall(1, 1)
    with pytest.raises(ValueError, match="lower"):
        LpBall(1, 2, 1.0, 0.0)
    with pytest.raises(ValueError, match="p=0"):
        LpBall(1, 0).step(torch.zeros(1, 2), torch.ones(1, 2), 1)
    assert LpBall(2.7, "l0").eps == 2


def test_resolve_box_and_eps_scale():
    """The box of an attack (default (0, 1); None; the lower=/upper= spelling) and the
    0-255 guard: l_inf eps >= width and l_2 eps >= diameter are refused unless forced."""
    from empirical.threat import DEFAULT_BOX, check_eps_scale, resolve_box

    assert resolve_box() == DEFAULT_BOX == (0.0, 1.0)
    assert resolve_box(None) == (None, None)
    assert resolve_box(lower=None, upper=None) == (None, None)
    assert resolve_box(lower=-1, upper=1) == (-1.0, 1.0)
    assert resolve_box((0, 255)) == (0.0, 255.0)
    for bad in ((1, 0), (0, math.inf), "01", (0, 1, 2)):
        with pytest.raises(ValueError):
            resolve_box(bad)
    check_eps_scale(0.999, math.inf, 0.0, 1.0)
    check_eps_scale(math.inf, math.inf, 0.0, 1.0)  # the deliberate unbounded attack
    check_eps_scale(8, math.inf, 0.0, 255.0)  # 8 on the 0-255 scale with a 0-255 box
    check_eps_scale(8, math.inf, None, None)  # no box: nothing to compare with
    check_eps_scale(8, math.inf, 0.0, 1.0, force=True)
    with pytest.raises(ValueError, match="0-255"):
        check_eps_scale(8, "linf", 0.0, 1.0)
    check_eps_scale(27.9, 2, 0.0, 1.0, dim=784)  # below sqrt(784) = 28
    with pytest.raises(ValueError, match="diameter"):
        check_eps_scale(28.0, 2, 0.0, 1.0, dim=784)
