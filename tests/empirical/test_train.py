"""Training: schedules (known values), configs, methods, metrics, divergence handling."""

from __future__ import annotations

import json
import math

import pytest

torch = pytest.importorskip("torch")

from empirical import train as train_mod  # noqa: E402
from empirical.checkpoint import load_checkpoint, read_jsonl  # noqa: E402
from empirical.data import DataSpec, build_data  # noqa: E402
from empirical.schedules import (  # noqa: E402
    EpsSchedule,
    derive_seed,
    detect_rise,
    epochs_to_reach,
    paper_pgd_steps,
)
from empirical.train import (  # noqa: E402
    METRIC_KEYS,
    DivergenceError,
    TrainConfig,
    apply_preset,
    config_from_dict,
    train,
)

pytestmark = pytest.mark.empirical

DATA = DataSpec("gaussian", dim=5, distance=3.0, sigma=1.0, train_size=512, test_size=256)


def cfg(**kw):
    base = dict(data=DATA, model="mlp", method="adversarial", eps=0.5, norm="linf",
                epochs=2, batch_size=64, pgd_steps=5)
    base.update(kw)
    return TrainConfig(**base)


# --- known values -------------------------------------------------------------------------

@pytest.mark.parametrize("eps, inc", [(0.4, 0.01), (0.3, 0.01), (0.4, 0.04), (0.8, 0.04),
                                      (0.35, 0.02), (0.1, 0.03), (1.0, 0.5),
                                      (0.07, 0.01)])
def test_epochs_to_reach_is_the_first_epoch_at_eps(eps, inc):
    """Paper Sec. 3.4: IAT from 0 by +0.01 per epoch reaches 0.4 in epoch 41; checked here
    against the schedule itself (float-safe: 0.07 / 0.01 is 7.000000000000001, whose
    plain ceiling would add an epoch)."""
    n = epochs_to_reach(eps, inc)
    sched = EpsSchedule(eps, n + 5, 0.0, inc)
    assert math.isclose(sched.eps_at(n), eps, abs_tol=1e-12)
    assert sched.eps_at(n - 1) < eps - 1e-9
    if (eps, inc) == (0.4, 0.01):
        assert n == 41
    with pytest.raises(ValueError, match="increment"):
        epochs_to_reach(eps, 0.0)


def test_paper_pgd_steps_known_values():
    # Paper Sec. 3.1.1: steps = eps * 2.5 / step.  MNIST step 0.05: eps 0.3 -> 15 (the float
    # quotient is 15.000000000000002 and must not round up to 16), 0.4 -> 20, 0.5 -> 25.
    assert paper_pgd_steps(0.3, 0.05) == 15
    assert paper_pgd_steps(0.4, 0.05) == 20
    assert paper_pgd_steps(0.5, 0.05) == 25
    # CIFAR-10, step 2/255: eps 8/255 -> 10, 16/255 -> 20, 32/255 -> 40.
    assert paper_pgd_steps(8 / 255, 2 / 255) == 10
    assert paper_pgd_steps(16 / 255, 2 / 255) == 20
    assert paper_pgd_steps(32 / 255, 2 / 255) == 40
    assert paper_pgd_steps(0.31, 0.05) == 16  # 15.5 -> ceil
    assert paper_pgd_steps(0.0, 0.05) == 0
    with pytest.raises(ValueError, match="step_size"):
        paper_pgd_steps(0.3, 0.0)


def test_eps_schedules():
    # IAT on MNIST (Sec. 3.4): +0.01 per epoch from 0, capped at the target 0.4.
    s = EpsSchedule(0.4, 50, eps_start=0.0, increment=0.01)
    assert s.eps_at(1) == 0.0
    assert s.eps_at(31) == pytest.approx(0.30)
    assert s.eps_at(41) == pytest.approx(0.40)
    assert s.eps_at(50) == 0.4
    lin = EpsSchedule(0.4, 5, eps_start=0.0)
    assert [lin.eps_at(e) for e in range(1, 6)] == pytest.approx([0, 0.1, 0.2, 0.3, 0.4])
    assert EpsSchedule(0.3, 3).eps_at(2) == 0.3
    with pytest.raises(ValueError, match="eps_start"):
        EpsSchedule(0.3, 3, eps_start=0.5)
    with pytest.raises(ValueError, match="epoch"):
        lin.eps_at(0)


def test_detect_rise_and_seeds():
    assert not detect_rise([1.0], 1.5)
    assert not detect_rise([1.0, 1.4], 1.5)
    assert detect_rise([1.0, 0.5, 0.8], 1.5)
    with pytest.raises(ValueError, match="stop_on_rise"):
        detect_rise([1.0, 2.0], 1.0)
    seeds = {derive_seed(0, s, e) for s in ("order", "attack") for e in range(50)}
    assert len(seeds) == 100
    assert derive_seed(3, "order", 1) == derive_seed(3, "order", 1)


# --- configuration ------------------------------------------------------------------------

def test_config_roundtrip_and_validation():
    c = cfg(lr_milestones=(1, 2))
    assert config_from_dict(json.loads(json.dumps(c.to_dict()))) == c
    with pytest.raises(ValueError, match="method"):
        cfg(method="fancy")
    with pytest.raises(ValueError, match="norm"):
        cfg(norm="l3")
    with pytest.raises(ValueError, match="eps"):
        cfg(eps=0.0)
    with pytest.raises(ValueError, match="eps"):
        cfg(eps=-1.0)
    with pytest.raises(ValueError, match="init_from"):
        cfg(method="extended")
    with pytest.raises(ValueError, match="stop_on_rise"):
        cfg(stop_on_rise=2.0)
    with pytest.raises(ValueError, match="batch_size"):
        cfg(batch_size=0)
    with pytest.raises(TypeError, match="data"):
        TrainConfig(data={"name": "gaussian"})


def test_paper_presets():
    # Paper Sec. 3.1.1: Adam 1e-3, batch 128, PGD step 0.05 with steps = 2.5 eps / step,
    # 30 adversarial epochs, 5 extended.
    kw = apply_preset("paper-mnist", "adversarial", {"eps": 0.3, "data": {"train_size": 100}})
    c = TrainConfig(**{**kw, "data": DataSpec(**kw["data"])})
    assert (c.optimizer, c.lr, c.batch_size, c.epochs, c.model) == ("adam", 1e-3, 128, 30,
                                                                    "paper-cnn")
    assert c.pgd_settings(0.3) == (15, 0.05) and c.random_start
    assert c.data.name == "mnist" and c.data.train_size == 100
    ext = apply_preset("paper-mnist", "extended", {"epochs": 7})
    assert ext["epochs"] == 7  # explicit wins
    assert apply_preset("paper-mnist", "extended", {})["epochs"] == 5
    cif = apply_preset("paper-cifar10", "adversarial", {})
    assert (cif["lr"], cif["lr_milestones"], cif["weight_decay"], cif["epochs"]) == (
        0.1, (50, 100), 5e-4, 150)
    assert cif["pgd_step_size"] == 2 / 255 and cif["augment"]
    assert apply_preset("paper-cifar10", "extended", {})["augment"] is False
    with pytest.raises(ValueError, match="preset"):
        apply_preset("nope", "standard", {})


def test_augment_is_crop_and_flip():
    g = torch.Generator().manual_seed(0)
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    out = train_mod._augment(x, g, pad=2)
    assert out.shape == x.shape
    # every output image is a (possibly flipped) shifted window of the zero-padded input
    xp = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(2):
        hits = [(dy, dx, f) for dy in range(5) for dx in range(5) for f in (False, True)
                if torch.equal(out[i], (xp[i, :, dy:dy + 8, dx:dx + 8].flip(-1) if f
                                        else xp[i, :, dy:dy + 8, dx:dx + 8]))]
        assert hits


# --- runs ---------------------------------------------------------------------------------

def test_adversarial_training_lowers_adversarial_loss(tmp_path):
    c = cfg(epochs=4)
    r = train(c, tmp_path / "run", quiet=True)
    rows = read_jsonl(tmp_path / "run" / "metrics.jsonl")
    assert [list(row) for row in rows] == [list(METRIC_KEYS)] * 4
    assert [row["epoch"] for row in rows] == [1, 2, 3, 4]
    # untrained model's adversarial loss on chance-level 2-class data is about log 2 or more
    assert rows[-1]["train_adv_loss"] < rows[0]["train_adv_loss"]
    assert rows[-1]["train_adv_loss"] < math.log(2) - 0.05
    assert rows[-1]["test_clean_acc"] >= rows[-1]["test_adv_acc"]
    # Cross-check with the exact optimum (optrobust): no classifier has l_inf eps=0.5 robust
    # accuracy above 1 - R* = 0.649 on this Gaussian model; allow 3 binomial sd for n=256.
    opt = float(build_data(DATA).theory.robust_error(eps=0.5, p=math.inf))
    slack = 3 * math.sqrt(0.25 / 256)
    assert 0.5 < rows[-1]["test_adv_acc"] <= 1 - opt + slack
    assert r.epochs_completed == 4 and r.final == rows[-1]
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config_from_dict(saved) == c
    ck = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert ck["epoch"] == 4 and set(ck) >= {"model", "optimizer", "scheduler", "rng", "config"}
    assert (tmp_path / "run" / "best.pt").is_file()


def test_standard_training_has_no_adv_loss_and_reports_eps_check(tmp_path):
    rows = train(cfg(method="standard", eps=0.5), tmp_path / "s", quiet=True).metrics
    assert all(r["train_adv_loss"] is None for r in rows)
    assert all(r["test_adv_acc"] is not None for r in rows)
    rows0 = train(cfg(method="standard", eps=0.0), tmp_path / "s0", quiet=True).metrics
    assert all(r["test_adv_acc"] is None for r in rows0)


def test_existing_run_needs_resume(tmp_path):
    train(cfg(epochs=1), tmp_path / "r", quiet=True)
    with pytest.raises(ValueError, match="resume"):
        train(cfg(epochs=1), tmp_path / "r", quiet=True)
    with pytest.raises(ValueError, match="eps"):
        train(cfg(epochs=1, eps=0.25), tmp_path / "r", quiet=True, resume=True)
    with pytest.raises(FileNotFoundError):
        train(cfg(epochs=1), tmp_path / "missing", quiet=True, resume=True)


def test_extended_starts_from_given_weights(tmp_path):
    base = train(cfg(eps=0.2, epochs=2), tmp_path / "base", quiet=True)
    src = load_checkpoint(tmp_path / "base" / "checkpoint.pt")
    # With a negligible learning rate the extended run must stay at the source weights ...
    ext = cfg(method="extended", eps=0.5, epochs=1, lr=1e-12,
              init_from=str(tmp_path / "base" / "checkpoint.pt"))
    train(ext, tmp_path / "ext", quiet=True)
    got = load_checkpoint(tmp_path / "ext" / "checkpoint.pt")
    for k, v in src["model"].items():
        assert torch.allclose(got["model"][k], v, atol=1e-8)
    # ... while a fresh adversarial run with the same lr stays at a random init (far away).
    train(cfg(eps=0.5, epochs=1, lr=1e-12), tmp_path / "fresh", quiet=True)
    fresh = load_checkpoint(tmp_path / "fresh" / "checkpoint.pt")
    assert any(not torch.allclose(fresh["model"][k], v, atol=1e-3) for k, v in src["model"].items())
    # carry_optimizer continues Adam's step count: 2 source epochs + 1 epoch of 8 batches each
    carry = cfg(method="extended", eps=0.5, epochs=1, carry_optimizer=True,
                init_from=str(tmp_path / "base" / "checkpoint.pt"))
    train(carry, tmp_path / "carry", quiet=True)
    st = load_checkpoint(tmp_path / "carry" / "checkpoint.pt")["optimizer"]["state"]
    assert int(next(iter(st.values()))["step"]) == 3 * 8
    assert base.epochs_completed == 2


def test_iterative_schedule_and_stop_on_rise(tmp_path):
    r = train(cfg(method="iterative", eps=0.3, eps_start=0.1, epochs=3), tmp_path / "i",
              quiet=True)
    assert [row["eps"] for row in r.metrics] == pytest.approx([0.1, 0.2, 0.3])
    # eps 0 -> 1.5 in one step: the adversarial loss jumps, so a 1.05x factor stops it.
    c = cfg(method="iterative", eps=1.5, eps_start=0.0, eps_increment=1.5, epochs=4,
            stop_on_rise=1.05)
    r = train(c, tmp_path / "stop", quiet=True)
    assert r.stopped == {"epoch": 2, "eps": 1.5, "final_epoch": 1, "final_eps": 0.0}
    assert r.epochs_completed == 1 and len(r.metrics) == 2
    ck = load_checkpoint(tmp_path / "stop" / "checkpoint.pt")
    assert ck["epoch"] == 1 and ck["stopped"] == r.stopped
    assert len(read_jsonl(tmp_path / "stop" / "metrics.jsonl")) == 2
    again = train(c, tmp_path / "stop", quiet=True, resume=True)  # nothing left to do
    assert again.stopped == r.stopped and len(again.metrics) == 2


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    real = torch.nn.functional.cross_entropy
    calls = {"n": 0}

    class FakeF:
        pad = staticmethod(torch.nn.functional.pad)

        @staticmethod
        def cross_entropy(logits, y):
            calls["n"] += 1
            out = real(logits, y)
            return out * float("nan") if calls["n"] > 12 else out  # 8 batches per epoch

    monkeypatch.setattr(train_mod, "F", FakeF)
    with pytest.raises(DivergenceError, match="epoch 2"):
        train(cfg(method="standard", epochs=3), tmp_path / "nan", quiet=True)
    ck = load_checkpoint(tmp_path / "nan" / "checkpoint.pt")
    assert ck["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in ck["model"].values())
    assert len(read_jsonl(tmp_path / "nan" / "metrics.jsonl")) == 1
