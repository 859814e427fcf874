"""No side effects (issue 11): every public attack and evaluator leaves the model as it was.

Statement: after ``f(model, ...)`` returns (or raises), every submodule's ``training`` flag,
every parameter value, every buffer (BatchNorm running statistics and batch counters) and
every parameter's ``.grad`` (the same tensor object with the same values) equal what they
were before.  The test model has BatchNorm2d, BatchNorm1d and Dropout, is left in train
mode with one BatchNorm frozen in eval mode (mixed modes), and has populated gradients, as
in the middle of a training step between ``backward()`` and ``optimizer.step()``.
"""

from __future__ import annotations

import importlib.util

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from empirical import attacks  # noqa: E402
from empirical.audit import audit  # noqa: E402
from empirical.checklist import run_checklist  # noqa: E402
from empirical.evaluate import evaluate, make_attack, strong_attacks  # noqa: E402

pytestmark = pytest.mark.empirical

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
HAS_ART = importlib.util.find_spec("art") is not None
HAS_TA = importlib.util.find_spec("torchattacks") is not None


def _model(device: str) -> nn.Module:
    torch.manual_seed(0)
    m = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
        nn.Linear(4 * 6 * 6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(16, 4)).to(device)
    m.train()
    x = torch.rand(16, 1, 8, 8, device=device)
    y = torch.arange(16, device=device) % 4
    nn.functional.cross_entropy(m(x), y).backward()  # populated .grad, BN stats moved once
    m[5].eval()  # a frozen BatchNorm1d inside a model in train mode
    return m


def _snapshot(m: nn.Module) -> dict:
    return {"modes": [(name, sub.training) for name, sub in m.named_modules()],
            "state": {k: v.detach().clone() for k, v in m.state_dict().items()},
            "grad_ids": [id(p.grad) for p in m.parameters()],
            "grads": [p.grad.detach().clone() for p in m.parameters()]}


def _assert_same(m: nn.Module, before: dict) -> None:
    after = _snapshot(m)
    assert after["modes"] == before["modes"]
    assert after["state"].keys() == before["state"].keys()
    for k, v in before["state"].items():
        assert torch.equal(after["state"][k], v), k
    assert after["grad_ids"] == before["grad_ids"]
    for a, b in zip(after["grads"], before["grads"], strict=True):
        assert torch.equal(a, b)


def _data(device: str) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(6, 1, 8, 8, generator=gen).to(device)
    y = torch.tensor([0, 1, 2, 3, 1, 2], device=device)
    return x, y


def _calls() -> dict:
    """name -> f(model, x, y), one per public attack and evaluator."""
    pgd_kw = dict(eps=0.1, p="linf", steps=3, step_size=0.05)
    calls = {
        "pgd": lambda m, x, y: attacks.pgd(m, x, y, **pgd_kw),
        "pgd_targeted_all": lambda m, x, y: attacks.pgd(m, x, y, targeted="all", **pgd_kw),
        "pgd_l2_normalized": lambda m, x, y: attacks.pgd(
            m, x, y, eps=0.5, p=2, steps=2, step_size=0.2, normalize=(0.5, 0.25)),
        "fgsm": lambda m, x, y: attacks.fgsm(m, x, y, eps=0.1),
        "random_noise": lambda m, x, y: attacks.random_noise(m, x, y, eps=0.1, samples=3),
        "transfer": lambda m, x, y: attacks.transfer(m, m, x, y, select_on="target", **pgd_kw),
        "evaluate": lambda m, x, y: evaluate(
            m, x, y, {"pgd": make_attack("pgd", eps=0.1, steps=2)}, batch_size=4),
        "evaluate_strong": lambda m, x, y: evaluate(
            m, x, y, strong_attacks(x, eps=0.1, p="linf", steps=2, autoattack_max_iter=2)),
        "run_checklist": lambda m, x, y: run_checklist(
            m, x, y, eps=0.1, steps=2, autoattack="auto", autoattack_max_iter=2),
        "run_checklist_batch_of_one": lambda m, x, y: run_checklist(
            m, x[:1], y[:1], eps=0.1, steps=2, autoattack="off", transfer_source="off"),
        "audit": lambda m, x, y: audit(
            m, x, y, eps=[0.05, 0.1], autoattack="reduced" if HAS_ART else "off", steps=2,
            restarts=1, checklist=True, checklist_n=4, progress=False),
    }
    if HAS_ART:
        calls["autoattack"] = lambda m, x, y: attacks.autoattack(m, x, y, eps=0.1, max_iter=2)
    if HAS_TA:
        calls["torchattacks_autoattack"] = lambda m, x, y: attacks.torchattacks_autoattack(
            m, x, y, eps=0.9)  # everything breaks early: Square (5000 queries) idles
    return calls


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(_calls()))
def test_model_untouched(name, device):
    m = _model(device)
    x, y = _data(device)
    before = _snapshot(m)
    out = _calls()[name](m, x, y)
    _assert_same(m, before)
    if isinstance(out, torch.Tensor):
        assert out.device == x.device and out.shape == x.shape


@pytest.mark.parametrize("device", DEVICES)
def test_untouched_after_an_error(device):
    """The guard restores the model also when the attacked function raises."""
    m = _model(device)
    x, y = _data(device)
    before = _snapshot(m)

    def boom(xb):
        raise RuntimeError("inside the model")

    handle = m[0].register_forward_pre_hook(lambda mod, inp: boom(inp))
    with pytest.raises(RuntimeError, match="inside the model"):
        attacks.pgd(m, x, y, eps=0.1, p="linf", steps=2, step_size=0.05)
    handle.remove()
    _assert_same(m, before)


def test_attacks_work_under_no_grad():
    """A caller inside ``torch.no_grad()`` still gets a gradient attack."""
    m = _model("cpu")
    x, y = _data("cpu")
    with torch.no_grad():
        xa = attacks.pgd(m, x, y, eps=0.1, p="linf", steps=3, step_size=0.05,
                         random_start=False)
    assert (xa - x).abs().max() > 0


def test_optimizer_step_unchanged_by_an_attack_in_between():
    """backward(); attack(); step() gives the same parameters as backward(); step()."""
    results = []
    for attack_in_between in (False, True):
        m = _model("cpu")
        x, y = _data("cpu")
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        opt.zero_grad()
        nn.functional.cross_entropy(m(x), y).backward()
        if attack_in_between:
            attacks.pgd(m, x, y, eps=0.1, p="linf", steps=2, step_size=0.05)
            if HAS_ART:
                attacks.autoattack(m, x, y, eps=0.1, max_iter=1)
        opt.step()
        results.append([p.detach().clone() for p in m.parameters()])
    for a, b in zip(*results, strict=True):
        assert torch.equal(a, b)
