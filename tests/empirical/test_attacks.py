"""Attack invariants and cross-checks against exact worst cases of linear models."""

from __future__ import annotations

import itertools
import math

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from empirical.attacks import autoattack, fgsm, pgd, random_noise, transfer  # noqa: E402
from empirical.threat import LpBall  # noqa: E402


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _loss(model, x, y) -> float:
    with torch.no_grad():
        return float(F.cross_entropy(model(x), y))


def _acc(model, x, y) -> float:
    with torch.no_grad():
        return float((model(x).argmax(1) == y).double().mean())


def _fooled(model, x, y) -> torch.Tensor:
    with torch.no_grad():
        return model(x).argmax(1) != y


def _linear(w: torch.Tensor, b: float = 0.0) -> nn.Module:
    """Two logits (0, w.x + b): class 1 iff w.x + b > 0."""
    lin = nn.Linear(len(w), 2)
    with torch.no_grad():
        lin.weight.copy_(torch.stack([torch.zeros_like(w), w]))
        lin.bias.copy_(torch.tensor([0.0, b]))
    return lin.double()


@pytest.mark.parametrize(("p", "eps", "step"), [(math.inf, 0.1, 0.02), (2, 0.5, 0.1),
                                                (0, 3, 1)])
def test_ball_and_box_respected(box_mlp, p, eps, step):
    model, x, y = box_mlp
    ball = LpBall(eps, p, 0.0, 1.0)
    for x_adv in (
        pgd(model, x, y, eps=eps, p=p, steps=5, step_size=step, lower=0, upper=1,
            restarts=2, generator=_gen()),
        fgsm(model, x, y, eps=eps, p=p, lower=0, upper=1),
        random_noise(model, x, y, eps=eps, p=p, samples=5, lower=0, upper=1, generator=_gen()),
    ):
        assert x_adv.shape == x.shape
        assert float(x_adv.min()) >= 0.0 and float(x_adv.max()) <= 1.0
        assert float(ball.norms(x_adv, x).max()) <= eps + 1e-5


def test_pgd_stronger_than_fgsm_stronger_than_clean(box_mlp):
    # Appendix C item 1 of the paper: PGD must beat FGSM, which must beat no attack.
    model, x, y = box_mlp
    clean = _loss(model, x, y)
    f = _loss(model, fgsm(model, x, y, eps=0.1, lower=0, upper=1), y)
    g = _loss(model, pgd(model, x, y, eps=0.1, p="linf", steps=20, step_size=0.025,
                         lower=0, upper=1, generator=_gen()), y)
    assert g >= f > clean
    assert _acc(model, x, y) > 0.85


def test_unbounded_pgd_drives_accuracy_to_zero(gaussian_bundle, gaussian_mlp):
    # Appendix C item 2: an unbounded attack must reach zero accuracy.
    x, y = gaussian_bundle.test.tensors
    assert _acc(gaussian_mlp, x, y) > 0.85
    x_adv = pgd(gaussian_mlp, x, y, eps=math.inf, p=2, steps=30, step_size=1.0, box=None,
                generator=_gen())
    # ~0 rather than exactly 0: a ReLU network can have regions with constant logits (all
    # units off), where every gradient attack stalls; this seeded case reaches 0.
    assert _acc(gaussian_mlp, x_adv, y) <= 0.01


@pytest.mark.parametrize("p", [math.inf, 2])
def test_more_steps_and_restarts_never_help_the_model(gaussian_bundle, gaussian_mlp, p):
    # The returned point is the best iterate over all steps and restarts in the order
    # (fooled, loss) and the random starts come from the same seeded generator, so the
    # fooled set can only grow (Appendix C items 4-5).
    x, y = gaussian_bundle.test.tensors
    eps = 0.5 if p == 2 else 0.2
    base = dict(eps=eps, p=p, step_size=eps / 4, box=None)
    weak = _fooled(gaussian_mlp, pgd(gaussian_mlp, x, y, steps=3, generator=_gen(9), **base), y)
    more_steps = _fooled(gaussian_mlp, pgd(gaussian_mlp, x, y, steps=15, generator=_gen(9),
                                           **base), y)
    more_restarts = _fooled(gaussian_mlp, pgd(gaussian_mlp, x, y, steps=3, restarts=4,
                                              generator=_gen(9), **base), y)
    assert bool((weak <= more_steps).all()) and bool((weak <= more_restarts).all())
    assert int(more_steps.sum()) >= int(weak.sum()) > 0


def test_linf_pgd_finds_the_exact_worst_case_of_a_linear_model():
    # Oracle: for f(x) = w.x + b the worst case in the l_inf ball ∩ box moves every coordinate
    # to the end of [max(x - eps, 0), min(x + eps, 1)] opposing the label.
    gen = _gen(10)
    w = torch.randn(8, generator=gen, dtype=torch.float64)
    model = _linear(w, 0.1)
    x = torch.rand(64, 8, generator=gen, dtype=torch.float64)
    y = (x @ w + 0.1 > 0).long()
    eps = 0.15
    lo, hi = (x - eps).clamp(min=0), (x + eps).clamp(max=1)
    direction = (2 * y - 1).unsqueeze(1) * w  # increasing this lowers the true-class margin
    worst = torch.where(direction > 0, lo, hi)
    x_adv = pgd(model, x, y, eps=eps, p="linf", steps=10, step_size=0.05, lower=0, upper=1,
                generator=_gen())
    assert torch.equal(_fooled(model, x_adv, y), _fooled(model, worst, y))
    margin = lambda z: (2 * y - 1) * (z @ w + 0.1)  # noqa: E731
    torch.testing.assert_close(margin(x_adv), margin(worst))


def test_l2_pgd_matches_the_exact_linear_worst_case():
    # Oracle (no box): the l2 worst case of w.x + b is x -/+ eps w / ||w|| (two steps of 0.2
    # from x reach it exactly), so a point is
    # fooled iff its distance |w.x + b| / ||w|| to the boundary is < eps.
    gen = _gen(11)
    w = torch.randn(5, generator=gen, dtype=torch.float64)
    model = _linear(w)
    x = torch.randn(200, 5, generator=gen, dtype=torch.float64)
    y = (x @ w > 0).long()
    eps = 0.4
    x_adv = pgd(model, x, y, eps=eps, p=2, steps=5, step_size=0.2, random_start=False,
                box=None)
    dist = (x @ w).abs() / w.norm()
    expected = dist < eps - 1e-9
    got = _fooled(model, x_adv, y)
    ambiguous = (dist - eps).abs() < 1e-6
    assert torch.equal(got[~ambiguous], expected[~ambiguous])


def test_l0_pgd_matches_brute_force_on_binary_inputs():
    # Oracle: enumerate every set of at most eps coordinates to flip in {-1,1}^d and keep
    # the flip with the lowest true-class margin of a linear model.
    gen = _gen(12)
    d, eps = 8, 2
    w = torch.randn(d, generator=gen, dtype=torch.float64)
    model = _linear(w, 0.3)
    x = torch.where(torch.rand(40, d, generator=gen) < 0.5, -1.0, 1.0).double()
    y = (x @ w + 0.3 > 0).long()
    x_adv = pgd(model, x, y, eps=eps, p="l0", steps=4, step_size=1, lower=-1, upper=1,
                random_start=False)
    assert set(x_adv.unique().tolist()) <= {-1.0, 1.0}
    assert int((x_adv != x).sum(1).max()) <= eps
    sign = (2 * y - 1).double()
    best = torch.full((len(x),), math.inf, dtype=torch.float64)
    for r in range(eps + 1):
        for s in itertools.combinations(range(d), r):
            z = x.clone()
            z[:, list(s)] *= -1
            best = torch.minimum(best, sign * (z @ w + 0.3))
    got = sign * (x_adv @ w + 0.3)
    torch.testing.assert_close(got, best)


def test_targeted_attack_reaches_the_target(box_mlp):
    model, x, y = box_mlp
    target = (y + 1) % 3
    x_adv = pgd(model, x, y, eps=0.5, p="linf", steps=20, step_size=0.05, lower=0, upper=1,
                targeted=target, generator=_gen())
    with torch.no_grad():
        before = F.cross_entropy(model(x), target)
        after = F.cross_entropy(model(x_adv), target)
    assert float(after) < float(before)
    x_all = pgd(model, x, y, eps=0.1, p="linf", steps=10, step_size=0.025, lower=0, upper=1,
                targeted="all", generator=_gen())
    LpBall(0.1, math.inf, 0, 1).check(x_all, x)
    assert _loss(model, x_all, y) > _loss(model, x, y)


def test_model_mode_restored_and_inputs_untouched(box_mlp):
    model, x, y = box_mlp
    x0 = x.clone()
    model.zero_grad(set_to_none=True)
    model.train()
    try:
        pgd(model, x, y, eps=0.1, p="linf", steps=2, step_size=0.05)
        assert model.training
        with pytest.raises(ValueError, match="steps"):
            pgd(model, x, y, eps=0.1, p="linf", steps=-1, step_size=0.05)
        assert model.training
    finally:
        model.eval()
    assert torch.equal(x, x0)
    assert all(prm.grad is None for prm in model.parameters())


def test_random_noise_uses_cube_vertices():
    model = _linear(torch.ones(4, dtype=torch.float64))
    x = torch.full((10, 4), 0.5, dtype=torch.float64)
    y = torch.ones(10, dtype=torch.long)
    out = random_noise(model, x, y, eps=0.1, samples=3, generator=_gen())
    torch.testing.assert_close((out - x).abs(), torch.full_like(x, 0.1))


def test_transfer_from_the_same_model_equals_pgd(box_mlp):
    model, x, y = box_mlp
    kw = dict(eps=0.1, p="linf", steps=5, step_size=0.025, lower=0, upper=1)
    a = transfer(model, model, x, y, generator=_gen(3), **kw)
    b = pgd(model, x, y, generator=_gen(3), **kw)
    assert torch.equal(a, b)
    c = transfer(model, model, x, y, select_on="target", generator=_gen(3), **kw)
    assert _loss(model, c, y) >= _loss(model, x, y)


def test_bad_arguments(box_mlp):
    model, x, y = box_mlp
    with pytest.raises(ValueError, match="p must"):
        pgd(model, x, y, eps=0.1, p=1, steps=1, step_size=0.1)
    with pytest.raises(ValueError, match="step_size"):
        pgd(model, x, y, eps=0.1, p=2, steps=1, step_size=0)
    with pytest.raises(ValueError, match="restarts"):
        pgd(model, x, y, eps=0.1, p=2, steps=1, step_size=0.1, restarts=0)
    with pytest.raises(ValueError, match="y must"):
        pgd(model, x, y[:3], eps=0.1, p=2, steps=1, step_size=0.1)
    with pytest.raises(ValueError, match="eps"):
        fgsm(model, x, y, eps=math.inf)
    with pytest.raises(ValueError, match="targeted"):
        pgd(model, x, y, eps=0.1, p=2, steps=1, step_size=0.1, targeted="some")


@pytest.mark.slow
def test_autoattack_adapter():
    # ART's AutoAttack (optional extra); its Square member needs image-shaped inputs.
    pytest.importorskip("art")
    pytest.importorskip("multiprocess")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(4 * 8 * 8, 3)).eval()
    x = torch.rand(8, 1, 8, 8, generator=_gen(20))
    y = model(x).argmax(1).detach()
    x_aa = autoattack(model, x, y, eps=0.1, p="linf", max_iter=10)
    LpBall(0.1, math.inf, 0, 1).check(x_aa, x)
    x_pgd = pgd(model, x, y, eps=0.1, p="linf", steps=10, step_size=0.025, lower=0, upper=1,
                generator=_gen())
    # The ensemble contains APGD (a PGD variant), so it should not be much weaker than PGD.
    assert _acc(model, x_aa, y) <= _acc(model, x_pgd, y) + 0.25
    assert _acc(model, x_aa, y) < 1.0
    with pytest.raises(ValueError, match="p must"):
        autoattack(model, x, y, eps=1, p=0)


# ------------------------------------------------------------------ safe defaults (issue 11)

def test_default_box_is_the_unit_box(box_mlp):
    """Without any box argument every attack stays in [0, 1] (before issue 11 the default
    was no box: 43% of the pixels left [0, 1] at eps 0.3 near the edges)."""
    model, x, y = box_mlp
    edge = x.clone()
    edge[:, :6] = torch.where(edge[:, :6] > 0.5, 1.0, 0.0)  # pixels on the box faces
    for x_adv in (pgd(model, edge, y, eps=0.3, p="linf", steps=3, step_size=0.1,
                      generator=_gen()),
                  fgsm(model, edge, y, eps=0.3),
                  random_noise(model, edge, y, eps=0.3, samples=3, generator=_gen())):
        assert float(x_adv.min()) >= 0.0 and float(x_adv.max()) <= 1.0
    unboxed = pgd(model, edge, y, eps=0.3, p="linf", steps=3, step_size=0.1, box=None,
                  generator=_gen())
    assert float(unboxed.min()) < 0.0 or float(unboxed.max()) > 1.0
    # lower=/upper= (the older spelling) is the same box
    a = pgd(model, x, y, eps=0.2, p=2, steps=3, step_size=0.1, generator=_gen())
    b = pgd(model, x, y, eps=0.2, p=2, steps=3, step_size=0.1, lower=0.0, upper=1.0,
            generator=_gen())
    assert torch.equal(a, b)


@pytest.mark.parametrize("call", ["pgd", "fgsm", "noise"])
def test_eps_on_the_0_255_scale_is_refused(box_mlp, call):
    model, x, y = box_mlp
    fns = {"pgd": lambda **kw: pgd(model, x, y, p="linf", steps=1, step_size=1.0, **kw),
           "fgsm": lambda **kw: fgsm(model, x, y, **kw),
           "noise": lambda **kw: random_noise(model, x, y, samples=1, **kw)}
    from optrobust.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="0-255"):
        fns[call](eps=8)
    with pytest.raises(InvalidInputError, match="box width"):
        fns[call](eps=1.0)  # exactly the width: every point of the box is reachable
    out = fns[call](eps=8, force=True)  # deliberate: accepted, and still in the box
    assert float(out.min()) >= 0 and float(out.max()) <= 1
    fns[call](eps=0.99)  # below the width: fine


def test_inputs_outside_the_box_and_two_box_spellings_are_refused(box_mlp):
    model, x, y = box_mlp
    with pytest.raises(ValueError, match="outside the box"):
        pgd(model, 255 * x, y, eps=0.1, p="linf", steps=1, step_size=0.1)
    with pytest.raises(ValueError, match="not both"):
        fgsm(model, x, y, eps=0.1, box=(0, 2), lower=0.0)
    with pytest.raises(ValueError, match="lower < upper"):
        fgsm(model, x, y, eps=0.1, box=(1, 0))


def test_normalize_equals_a_model_that_normalizes_itself(box_mlp):
    """normalize=(mean, std) attacks model((x - mean) / std) in pixel space: the same points
    as attacking a model with the normalization built in (same seed)."""
    model, x, y = box_mlp
    mean, std = 0.3, 0.2

    class Built(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, z):
            return self.inner((z - mean) / std)

    kw = dict(eps=0.05, p="linf", steps=5, step_size=0.02)
    a = pgd(Built(), x, y, generator=_gen(3), **kw)
    b = pgd(model, x, y, normalize=(mean, std), generator=_gen(3), **kw)
    assert torch.allclose(a, b, atol=1e-6)
    LpBall(0.05, math.inf, 0, 1).check(b, x)
    with pytest.raises(ValueError, match="std"):
        fgsm(model, x, y, eps=0.1, normalize=(0.0, 0.0))


def test_torchattacks_adapter_agrees_with_its_contract():
    """torchattacks' standard AutoAttack (optional): feasible output, no weaker than clean,
    and refuses what it cannot do (another box, fewer than 4 classes)."""
    pytest.importorskip("torchattacks")
    from empirical.attacks import torchattacks_autoattack

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(4 * 8 * 8, 4)).eval()
    x = torch.rand(6, 1, 8, 8, generator=_gen(20))
    y = model(x).argmax(1).detach()
    x_ta = torchattacks_autoattack(model, x, y, eps=0.9)  # everything breaks in APGD-CE
    LpBall(0.9, math.inf, 0, 1).check(x_ta, x)
    assert _acc(model, x_ta, y) == 0.0
    with pytest.raises(ValueError, match=r"box \(0, 1\)"):
        torchattacks_autoattack(model, 2 * x - 1, y, eps=0.1, box=(-1, 1))
    small = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))
    with pytest.raises(ValueError, match="4 classes"):
        torchattacks_autoattack(small, x, torch.zeros(6, dtype=torch.long), eps=0.1)
