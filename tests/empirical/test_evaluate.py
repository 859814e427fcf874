"""Evaluation: per-sample worst case over attacks, checkpoint round trip, Appendix-C checks."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from empirical.data import DataSpec  # noqa: E402
from empirical.evaluate import evaluate, load_run, make_attack  # noqa: E402
from empirical.train import TrainConfig, train  # noqa: E402

pytestmark = pytest.mark.empirical


class Threshold(torch.nn.Module):
    """1-d classifier: class 1 iff x > 0 (logits -x, x)."""

    def forward(self, x):
        v = x.reshape(len(x), -1)[:, :1]
        return torch.cat([-v, v], dim=1)


def shift(delta):
    def fn(model, x, y):
        return x + delta
    return fn


def test_worst_case_matches_brute_force():
    x = torch.tensor([[-2.0], [-0.5], [0.3], [1.5], [0.2], [-0.1]])
    y = torch.tensor([0, 0, 1, 1, 0, 1])
    res = evaluate(Threshold(), x, y, {"up": shift(1.0), "down": shift(-1.0)}, batch_size=4)
    # by hand: clean correct = [T, T, T, T, F, F];  x+1 = [-1, .5, 1.3, 2.5]: [T, F, T, T];
    # x-1 = [-3, -1.5, -.7, .5]: [T, T, F, T];  worst case: x=-2 and x=1.5 survive both.
    assert res.clean_accuracy == pytest.approx(4 / 6)
    assert res.per_attack == {"up": pytest.approx(3 / 6), "down": pytest.approx(3 / 6)}
    assert res.robust_accuracy == pytest.approx(2 / 6)
    assert res.n == 6
    # brute force independently: a sample counts iff all three predictions are right
    preds = [Threshold()(x + d).argmax(1) == y for d in (0.0, 1.0, -1.0)]
    assert res.robust_accuracy == pytest.approx(float(torch.stack(preds).all(0).float().mean()))


def test_no_attack_and_identity_attack_give_clean_accuracy():
    x = torch.linspace(-1, 1, 11).reshape(-1, 1)
    y = (x[:, 0] > 0.25).long()
    m = Threshold()
    a = evaluate(m, x, y, {})
    b = evaluate(m, x, y, {"id": shift(0.0)})
    assert a.robust_accuracy == a.clean_accuracy == b.robust_accuracy == b.clean_accuracy
    with pytest.raises(ValueError, match="batch_size"):
        evaluate(m, x, y, {}, batch_size=0)
    with pytest.raises(ValueError, match="equal lengths"):
        evaluate(m, x, y[:3], {})


def test_make_attack_validation():
    with pytest.raises(ValueError, match="attack"):
        make_attack("cw", eps=0.1)
    with pytest.raises(ValueError, match="p"):
        make_attack("pgd", eps=0.1, p="l7")
    with pytest.raises(ValueError, match="not both"), pytest.warns(DeprecationWarning):
        make_attack("pgd", eps=0.1, p="l2", norm="l2")
    with pytest.raises(ValueError, match="step_size"):
        make_attack("pgd", eps=math.inf)
    with pytest.raises(ValueError, match="steps"):
        make_attack("pgd", eps=0.1, steps=0)
    with pytest.raises(ValueError, match="eps"):
        make_attack("pgd", eps=-0.1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    c = TrainConfig(data=DataSpec("gaussian", dim=5, train_size=512, test_size=256),
                    model="mlp", method="adversarial", eps=0.5, norm="l2", epochs=3,
                    batch_size=64, pgd_steps=5)
    r = train(c, out, quiet=True)
    return out, r


def test_load_run_reproduces_training_metrics(trained):
    out, r = trained
    run = load_run(str(out / "checkpoint.pt"))
    assert run.epoch == 3
    x, y = run.bundle.test.tensors
    res = evaluate(run.model, x, y, {})
    assert res.clean_accuracy == r.metrics[-1]["test_clean_acc"]
    with pytest.raises(FileNotFoundError, match="checkpoint"):
        load_run(str(out / "nope.pt"))


def test_appendix_c_sanity_checks(trained):
    """Paper App. C items 1, 2, 5, 6: FGSM <= PGD strength, unbounded PGD -> 0 accuracy,
    more steps never help the model, accuracy falls as eps grows."""
    out, _ = trained
    run = load_run(str(out / "checkpoint.pt"))
    x, y = run.bundle.test.tensors
    m = run.model

    def acc(name, eps, **kw):
        return evaluate(m, x, y, {name: make_attack(name, eps=eps, p="l2", box=None, **kw)})

    pgd = acc("pgd", 0.5, steps=20).robust_accuracy
    fgsm = acc("fgsm", 0.5).robust_accuracy
    assert pgd <= fgsm + 0.02
    both = evaluate(m, x, y, {"pgd": make_attack("pgd", eps=0.5, p="l2", box=None, steps=20),
                              "fgsm": make_attack("fgsm", eps=0.5, p="l2", box=None)})
    assert both.robust_accuracy <= min(both.per_attack.values())
    assert acc("pgd", math.inf, steps=50, step_size=1.0).robust_accuracy == 0.0
    assert acc("pgd", 0.5, steps=60).robust_accuracy <= pgd + 0.02
    accs = [acc("pgd", e, steps=20).robust_accuracy for e in (0.25, 0.5, 1.0, 2.0)]
    assert all(a >= b - 0.02 for a, b in zip(accs, accs[1:], strict=False))
    noise = acc("noise", 0.5, restarts=5).robust_accuracy
    assert noise >= pgd - 0.02  # random noise is no stronger than PGD
