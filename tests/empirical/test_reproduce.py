"""``empirical.reproduce`` and ``optrobust-empirical reproduce`` end to end on tiny synthetic data."""

from __future__ import annotations

import json
import math
from dataclasses import FrozenInstanceError, replace

import pytest

from empirical import reproduce as rp
from empirical.data import DataSpec, build_data

# Bernoulli model on {-1,1}^12 with k = 8 effective pixels and bias t = 0.1: the Bayes error
# is large (about 0.3), so the exact optimum at eps < 1 is well below 100% accuracy, and at
# eps = 1 (the feasible eps for l_inf on {-1,1}) it is exactly chance (paper Remark 2).
TINY = replace(
    rp.SETUPS["bernoulli"], name="tiny",
    data=DataSpec(name="bernoulli", dim=12, k=8, t=0.1, train_size=300, test_size=400),
    epochs=2, standard_epochs=1, extended_epochs=1, figure1_eps=(0.3, 0.6),
    figure2_pairs=((0.6, 1.0),), iterative_target=1.0, iterative_increment=0.5,
    table_eps=(0.6, 1.0), eval_steps=20, eval_step_size=0.1)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep")
    res = rp.reproduce(TINY, out, quiet=True)
    return out, res


def test_planned_runs_dependencies(tmp_path):
    runs = rp.planned_runs(rp.SETUPS["mnist"], out=tmp_path)
    # Every extended run starts from the adversarial run at its smaller eps, planned earlier.
    names = list(runs)
    for name, cfg in runs.items():
        if cfg.method == "extended":
            a, b = (float(v) for v in name.split("-")[1:])
            src = f"adv-{a:g}"
            assert cfg.init_from == str(tmp_path / "runs" / src / "checkpoint.pt")
            assert names.index(src) < names.index(name)
            assert cfg.eps == b > a
    # Paper Section 3.1.1: PGD step 0.05 and steps = 2.5 eps / 0.05 (0.3 -> 15, 0.4 -> 20).
    assert runs["adv-0.3"].pgd_settings(0.3) == (15, 0.05)
    assert runs["adv-0.4"].pgd_settings(0.4) == (20, 0.05)
    # IAT reaches its target and keeps it for the last two epochs.
    iat = runs["iat-0-0.4"]
    sched = iat.schedule()
    assert sched.eps_at(1) == 0.0
    assert [sched.eps_at(e) for e in (iat.epochs - 2, iat.epochs - 1, iat.epochs)] == [0.4] * 3
    # Table 1 alone plans only what it needs.
    only = rp.planned_runs(rp.SETUPS["mnist"], ("table1",), out=tmp_path)
    assert set(only) == {"standard", "adv-0.3", "adv-0.4", "ext-0.3-0.4", "iat-0-0.4"}


def test_outputs_and_curves(tiny_run):
    out, res = tiny_run
    for name in ("figure1", "figure2", "figure7", "table1"):
        assert (out / f"{name}.json").exists()
    for name in ("figure1", "figure2", "figure7"):
        assert (out / f"{name}.png").stat().st_size > 5000
    f1 = json.loads((out / "figure1.json").read_text())
    assert set(f1["train_adv_loss"]) == {"0.3", "0.6"}
    assert all(len(v) == TINY.epochs for v in f1["train_adv_loss"].values())
    assert f1["constant_loss"] == pytest.approx(math.log(2))
    # reproduce.json is exactly to_dict(): the dict reproduce returned before, in its key order.
    assert (out / "reproduce.json").read_text() == \
        json.dumps(res.to_dict(), indent=2, default=str) + "\n"
    assert list(res.to_dict()) == ["setup", "experiments", "runs", "train_seconds", "figure1",
                                   "figure2", "figure7", "table1", "seconds"]
    assert res.to_dict()["runs"] == {n: c.to_dict() for n, c in res.runs.items()}
    assert res.figure1 == f1 and res.experiments == rp.EXPERIMENTS
    with pytest.raises(FrozenInstanceError):
        res.seconds = 0.0
    with pytest.warns(DeprecationWarning, match="ReproduceResult.to_dict"):
        assert res["table1"] == res.table1 and res.get("figure3") is None
    with pytest.warns(DeprecationWarning):
        assert "figure7" in res and list(res.keys()) == list(res.to_dict())
    f2 = res.figure2["panels"][0]
    assert (len(f2["base"]), len(f2["extended"]), len(f2["scratch"])) == (2, 1, 2)
    f7 = res.figure7
    assert f7["eps"][0] == 0.0 and f7["eps"][-1] == 1.0
    # The training log and the figure data are the same numbers.
    metrics = [json.loads(line) for line in
               (out / "runs" / "adv-0.6" / "metrics.jsonl").read_text().splitlines()]
    assert f1["train_adv_loss"]["0.6"] == [m["train_adv_loss"] for m in metrics]


def test_table1_against_exact_optimum(tiny_run):
    out, res = tiny_run
    t = res.table1
    theory = build_data(TINY.data).theory
    # The optimum column is the exact population optimum of the Bernoulli model.
    for e in TINY.table_eps:
        assert t["optimal_accuracy"][f"{e:g}"] == pytest.approx(
            1 - float(theory.robust_error(eps=e, p=math.inf)))
    assert t["optimal_accuracy"]["1"] == pytest.approx(0.5)
    assert t["optimal_accuracy"]["0.6"] == pytest.approx(1 - float(theory.bayes_error()))
    models = [r["model"] for r in t["rows"]]
    assert models == ["standard", "adv-0.6", "adv-1", "ext-0.6-1", "iat-0-1"]
    for r in t["rows"]:
        assert r["n"] == 400
        for e in ("0.6", "1"):
            d = r[e]
            # Per-sample worst case: at most every single attack's accuracy, at most clean.
            assert d["worst"] <= min(v for k, v in d.items() if k != "worst") + 1e-12
            assert d["worst"] <= r["clean"] + 1e-12
        # A strong attack never leaves a model more accurate than the optimum allows.
        assert r["above_optimum"] == []
    text = (out / "table1.md").read_text()
    assert "exact optimum, population" in text and "ABOVE" not in text


def test_rerun_reuses_runs_and_evaluations(tiny_run):
    out, _ = tiny_run
    ckpt = out / "runs" / "adv-0.6" / "checkpoint.pt"
    cache = out / "eval" / "adv-0.6@0.6.json"
    before = (ckpt.stat().st_mtime_ns, cache.stat().st_mtime_ns)
    rp.reproduce(TINY, out, experiments=("figure1", "table1"), quiet=True)
    assert (ckpt.stat().st_mtime_ns, cache.stat().st_mtime_ns) == before


def test_weak_attack_is_flagged(tmp_path, monkeypatch):
    """An attack that does nothing leaves accuracy above the eps = 1 optimum (1/2): flagged."""
    import empirical.evaluate as ev

    def no_attack(name, **kw):
        return lambda model, x, y: x

    monkeypatch.setattr(ev, "make_attack", no_attack)
    setup = replace(TINY, figure2_pairs=(), table_eps=(1.0,), standard_epochs=4)
    res = rp.reproduce(setup, tmp_path, experiments=("table1",), quiet=True)
    rows = {r["model"]: r for r in res.table1["rows"]}
    assert rows["standard"]["1"]["worst"] == rows["standard"]["clean"] > 0.62
    assert rows["standard"]["above_optimum"] == [1.0]
    assert "ABOVE OPTIMUM" in (tmp_path / "table1.md").read_text()


@pytest.mark.parametrize("kwargs, match", [
    ({"setup": "nope"}, "setup must be one of"),
    ({"experiments": ("figure3",)}, "experiments must be among"),
    ({"epochs": 0}, "epochs must be an integer"),
    ({"figure1_eps": (0.3, math.inf)}, "figure1_eps must be finite budgets"),
    ({"figure2_pairs": ((0.4, 0.3),)}, "figure2_pairs must be pairs"),
    ({"figure2_pairs": ()}, "figure2_pairs must be pairs"),
])
def test_bad_arguments(tmp_path, kwargs, match):
    setup = kwargs.pop("setup", TINY)
    with pytest.raises(ValueError, match=match):
        rp.reproduce(setup, tmp_path, **kwargs)


def test_cli(tmp_path, capsys):
    from empirical.cli import main

    assert main(["reproduce", "--experiment", "figure3", "--out", str(tmp_path)]) == 2
    assert "--experiment must be" in capsys.readouterr().err
    assert main(["reproduce", "--figure1-eps", "0.3,x", "--out", str(tmp_path)]) == 2
    assert "--figure1-eps" in capsys.readouterr().err
    assert main(["reproduce", "--setup", "bernoulli", "--experiment", "figure1",
                 "--train-size", "100", "--test-size", "50", "--epochs", "1",
                 "--out", str(tmp_path), "--quiet", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["experiments"] == ["figure1"]
    assert set(payload["figure1"]["train_adv_loss"]) == {"0.2", "0.4", "0.6", "0.7", "0.8", "0.9"}
    assert main(["reproduce", "--setup", "bernoulli", "--experiment", "figure1",
                 "--figure1-eps", "0.9,1/2", "--train-size", "100", "--test-size", "50",
                 "--epochs", "1", "--out", str(tmp_path), "--quiet", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload["figure1"]["train_adv_loss"]) == {"0.5", "0.9"}
    assert main(["reproduce", "--figure2-pairs", "0.3-0.4", "--out", str(tmp_path)]) == 2
    assert "expected A:B" in capsys.readouterr().err
    assert main(["reproduce", "--setup", "bernoulli", "--experiment", "figure2",
                 "--figure2-pairs", "0.5:0.9", "--train-size", "100", "--test-size", "50",
                 "--epochs", "1", "--out", str(tmp_path), "--quiet", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [(p["from"], p["to"]) for p in payload["figure2"]["panels"]] == [(0.5, 0.9)]
    assert (tmp_path / "figure1.png").exists()


def test_interrupted_run_resumes(tmp_path):
    """A run stopped after one epoch (as if killed) is resumed, not restarted or skipped."""
    from empirical.train import train

    setup = replace(TINY, figure1_eps=(0.3,), epochs=3)
    runs = rp.planned_runs(setup, ("figure1",), out=tmp_path)
    train(runs["adv-0.3"], tmp_path / "runs" / "adv-0.3", quiet=True, stop_after=1)
    first = (tmp_path / "runs" / "adv-0.3" / "metrics.jsonl").read_text().splitlines()
    assert len(first) == 1
    res = rp.reproduce(setup, tmp_path, experiments=("figure1",), quiet=True)
    rows = [json.loads(line) for line in
            (tmp_path / "runs" / "adv-0.3" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert rows[0] == json.loads(first[0])  # the finished epoch is kept, not retrained
    assert len(res.figure1["train_adv_loss"]["0.3"]) == 3
    # Experiments not run are None here and absent from the old dict.
    assert res.figure2 is res.figure7 is res.table1 is None
    assert list(res.to_dict()) == ["setup", "experiments", "runs", "train_seconds", "figure1",
                                   "seconds"]
