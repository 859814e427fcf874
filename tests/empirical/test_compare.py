"""The learned-vs-optimal comparison, end to end on a tiny synthetic task."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

torch = pytest.importorskip("torch")

import empirical.compare as cmp  # noqa: E402
import empirical.train  # noqa: E402
from empirical.compare import compare  # noqa: E402


def test_compare_gaussian_end_to_end(tmp_path):
    res = compare("gaussian-l2", tmp_path, eps_grid=[0.5, 1.0], epochs=1, train_size=300,
                  test_size=300, eval_steps=10, eval_restarts=1, use_autoattack=False)
    rows = res.rows
    assert [(r.eps, r.method) for r in rows] == [
        (e, m) for e in (0.5, 1.0) for m in ("adversarial", "extended", "iterative")]
    for r in rows:
        # Exact optimum of the population: Phi((2 eps - 3) / 2) for distance 3, sigma 1.
        assert math.isclose(r.optimal_error, 0.5 * math.erfc((3 - 2 * r.eps) / 2 / math.sqrt(2)),
                            rel_tol=1e-9)
        assert r.n_test == 300 and 0 <= r.learned_error <= 1
        # A learned error below the optimum by > 3 se would be a bug (and is flagged).
        assert not r.below_optimum, r
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["rows"][0].keys() >= {"eps", "method", "optimal_error", "learned_error", "n_test"}
    # results.json is exactly the result's to_dict(), in the keys and key order of the dict
    # compare returned before it became a dataclass.
    assert (tmp_path / "results.json").read_text() == json.dumps(res.to_dict(), indent=2) + "\n"
    assert list(saved) == ["task", "norm", "z", "preset", "eval", "data", "rows",
                           "optimal_curve"]
    assert list(saved["rows"][0]) == [
        "learned_error", "learned_clean_error", "per_attack_error", "n_test", "se", "attacks",
        "optimal_error", "bayes_error", "feasible_eps", "optimal_kind", "task", "eps", "method",
        "epochs", "seconds", "run", "below_optimum"]
    _check_deprecated_mapping(res)
    _check_deprecated_mapping(res.rows[0])
    assert "| eps | method |" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "results.png").read_bytes()[:4] == b"\x89PNG"
    # A second call reuses the finished runs instead of training again.
    again = compare("gaussian-l2", tmp_path, eps_grid=[0.5, 1.0], epochs=1, train_size=300,
                    test_size=300, eval_steps=10, eval_restarts=1, use_autoattack=False)
    assert [r.learned_error for r in again.rows] == [r.learned_error for r in rows]


def _check_deprecated_mapping(res):
    """The old dict access answers as the old dict did, each use with a DeprecationWarning."""
    old = res.to_dict()
    name = type(res).__name__
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.task = "other"
    first = next(iter(old))
    with pytest.warns(DeprecationWarning, match=f"{name}.to_dict"):
        assert res[first] == old[first]
    with pytest.warns(DeprecationWarning):
        assert res.get(first) == old[first] and res.get("no such key", 7) == 7
    with pytest.warns(DeprecationWarning):
        assert first in res and "no such key" not in res
    with pytest.warns(DeprecationWarning):
        assert list(res.keys()) == list(old)
    with pytest.warns(DeprecationWarning):
        assert dict(res.items()) == old and list(res.values()) == list(old.values())
    with pytest.warns(DeprecationWarning):
        assert list(res) == list(old)
    with pytest.warns(DeprecationWarning), pytest.raises(KeyError):
        res["no such key"]


def test_error_below_optimum_is_flagged(tmp_path, monkeypatch):
    def too_good(*args, **kwargs):
        return {"learned_error": 0.0, "learned_clean_error": 0.0, "per_attack_error": {},
                "n_test": 1000, "se": math.sqrt(1 / 1000) / math.sqrt(1000), "attacks": ["pgd"]}

    monkeypatch.setattr(cmp, "_evaluate_row", too_good)
    res = compare("gaussian-l2", tmp_path, eps_grid=[1.0], methods=["adversarial"], epochs=1,
                  train_size=100, test_size=100, use_autoattack=False)
    assert res.rows[0].below_optimum is True
    assert "BELOW OPTIMUM" in (tmp_path / "results.md").read_text()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"task": "nope"}, "task must be"), ({"task": "gaussian-l2", "methods": ["magic"]}, "methods"),
     ({"task": "gaussian-l2", "eps_grid": [-1.0]}, "eps_grid"),
     ({"task": "bernoulli-l0", "eps_grid": [1.5]}, "integers")],
)
def test_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        compare(out=tmp_path, **kwargs)


def test_optimal_curve_is_the_exact_step():
    """The plotted optimum is the exact one, not a line through the grid points.

    Bernoulli model on {-1,1}^d under l_inf: a perturbation below 1 never changes a sign, so the
    optimum is the Bayes error for every eps < 1 and 1/2 from eps = 1 on (paper Remark 2).
    Gaussian l2: Phi(-(||Delta||_2 / 2 - eps) / sigma) (paper Theorem 2) up to ||Delta||_2 / 2.
    """
    from scipy.stats import norm as normal

    from empirical.compare import optimal_curve
    from empirical.data import DataSpec, build_data

    theory = build_data(DataSpec(name="bernoulli", dim=20, k=10, t=0.1, train_size=10,
                                 test_size=10)).theory
    curve = optimal_curve(theory, "linf", 1.0)
    bayes = float(theory.bayes_error())
    assert curve[0] == [0.0, pytest.approx(bayes)]
    for e, v in curve:
        assert v == pytest.approx(bayes if e < 1 else 0.5), e
    assert any(e >= 1 for e, _ in curve) and len(curve) == 121
    steps = optimal_curve(theory, "l0", 4.0)
    assert [e for e, _ in steps] == [0.0, 1.0, 2.0, 3.0, 4.0]
    g = build_data(DataSpec(name="gaussian", dim=4, distance=3.0, sigma=1.0, train_size=10,
                            test_size=10)).theory
    for e, v in optimal_curve(g, "l2", 1.2, points=7):
        assert v == pytest.approx(normal.cdf(-(1.5 - e)), abs=1e-9)


# ---------------------------------------------------------------------------------------------
# Presets (paper-mnist / paper-cifar10) and the cifar10-linf task
# ---------------------------------------------------------------------------------------------

import pickle  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from empirical.cli import main  # noqa: E402
from empirical.config import PRESETS  # noqa: E402
from empirical.data import DataBundle  # noqa: E402


def _fake_images(shape, n_train=6, n_test=4):
    """A tiny image bundle (random pixels in [0, 1], two classes); no files needed."""
    gen = torch.Generator().manual_seed(0)
    x_tr, x_te = torch.rand(n_train, *shape, generator=gen), torch.rand(n_test, *shape,
                                                                         generator=gen)
    y_tr, y_te = torch.arange(n_train) % 2, torch.arange(n_test) % 2
    return DataBundle(train=torch.utils.data.TensorDataset(x_tr, y_tr),
                      test=torch.utils.data.TensorDataset(x_te, y_te), num_classes=2,
                      input_shape=tuple(shape), lower=0.0, upper=1.0, theory=None)


class _Recorder:
    """Stands in for ``train`` and ``_evaluate_row``: records what compare asks for."""

    def __init__(self):
        self.runs: list[tuple[Path, object]] = []
        self.evals: list[dict] = []

    def train(self, cfg, out_dir, *, resume=False, device="auto", quiet=False,
              stop_after=None):
        self.runs.append((Path(out_dir), cfg))

    def evaluate_row(self, task, ckpt, bundle, x, y, **kw):
        self.evals.append(kw)
        return {"learned_error": 0.5, "learned_clean_error": 0.1, "per_attack_error": {},
                "n_test": len(x), "se": 0.05, "attacks": ["pgd"]}

    def by_method(self):
        out: dict[str, list] = {}
        for _, cfg in self.runs:
            out.setdefault(cfg.method, []).append(cfg)
        return out


@pytest.fixture
def recorder(monkeypatch):
    rec = _Recorder()
    monkeypatch.setattr(empirical.train, "train", rec.train)  # called by train_or_reuse
    monkeypatch.setattr(cmp, "_evaluate_row", rec.evaluate_row)
    return rec


@pytest.fixture
def fake_mnist(monkeypatch):
    """build_data -> a tiny 1x28x28 bundle; records the DataSpec compare asked for."""
    specs = []

    def build(spec):
        specs.append(spec)
        return _fake_images((1, 28, 28))

    monkeypatch.setattr(cmp, "build_data", build)
    return specs


def _expected(preset: str, method: str) -> dict:
    """The preset's settings for ``method``, read from PRESETS (defaults, then by_method)."""
    p = {k: v for k, v in PRESETS[preset].items() if k not in ("by_method", "data")}
    p.update(PRESETS[preset]["by_method"][method])
    return p


_FIELDS = ("model", "optimizer", "lr", "momentum", "weight_decay", "lr_milestones", "lr_gamma",
           "batch_size", "augment", "random_start", "pgd_steps", "pgd_step_size", "epochs",
           "eps_increment")


def test_paper_mnist_preset_configs(tmp_path, recorder, fake_mnist):
    grid = (0.1, 0.3, 0.4)
    res = compare("mnist-linf", tmp_path, eps_grid=grid, preset="paper-mnist")
    cfgs = recorder.by_method()
    assert [len(cfgs[m]) for m in ("standard", "adversarial", "extended", "iterative")] == \
        [1, 3, 3, 3]
    for method, runs in cfgs.items():
        want = _expected("paper-mnist", method)
        for c in runs:
            for f in _FIELDS:
                default = getattr(cmp.TrainConfig, f, None)
                w = want.get(f, default)
                if f == "lr_milestones":
                    w = tuple(w or ())
                if method == "iterative" and f == "epochs":
                    continue  # checked below
                assert getattr(c, f) == w, (method, f)
            assert c.norm == "linf" and c.preset == "paper-mnist" and c.seed == 0
            # The full data set of the task's classes (3 vs 7), not the CPU subset.
            assert (c.data.name, c.data.train_size, c.data.test_size, c.data.classes) == (
                "mnist", None, None, (3, 7))
    # Paper Sec. 3.1.1 by hand: Adam 1e-3, batch 128, paper CNN, 30 adversarial epochs, 5
    # standard and 5 extended; PGD step 0.05 with 2.5 eps / 0.05 steps (eps 0.3 -> 15,
    # 0.4 -> 20).
    adv = {c.eps: c for c in cfgs["adversarial"]}
    assert (adv[0.3].optimizer, adv[0.3].lr, adv[0.3].batch_size, adv[0.3].model,
            adv[0.3].epochs) == ("adam", 1e-3, 128, "paper-cnn", 30)
    assert adv[0.3].pgd_settings(0.3) == (15, 0.05) and adv[0.4].pgd_settings(0.4) == (20, 0.05)
    assert cfgs["standard"][0].epochs == 5 and {c.epochs for c in cfgs["extended"]} == {5}
    # IAT: +0.01 per epoch from 0; eps 0.1 keeps the preset's 30 epochs, eps 0.4 needs 41
    # epochs to reach its target (epoch e uses min(eps, 0.01 (e - 1))).
    it = {c.eps: c for c in cfgs["iterative"]}
    assert {e: c.epochs for e, c in it.items()} == {0.1: 30, 0.3: 31, 0.4: 41}
    for c in it.values():
        assert c.eps_start == 0.0 and c.schedule().eps_at(c.epochs) == pytest.approx(c.eps)
        assert c.schedule().eps_at(c.epochs - 1) < c.eps or c.epochs == 30
    # Extended: from the standard model at the first budget, then from the adversarial model
    # of the previous budget.
    ext = {c.eps: c for c in cfgs["extended"]}
    assert ext[0.1].init_from == str(tmp_path / "standard" / "checkpoint.pt")
    assert ext[0.3].init_from == str(tmp_path / "eps=0.1" / "adversarial" / "checkpoint.pt")
    assert ext[0.4].init_from == str(tmp_path / "eps=0.3" / "adversarial" / "checkpoint.pt")
    # The data compare built: the full set, and a stronger evaluation.
    assert (fake_mnist[0].train_size, fake_mnist[0].test_size) == (None, None)
    assert all((e["steps"], e["restarts"], e["autoattack_max_iter"]) == (200, 5, 100)
               for e in recorder.evals)
    assert res.preset == "paper-mnist" and res.eval.steps == 200
    assert "preset paper-mnist" in (tmp_path / "results.md").read_text()


def test_paper_mnist_preset_on_l2_keeps_the_norm(tmp_path, recorder, fake_mnist):
    compare("mnist-l2", tmp_path, eps_grid=(1.0, 3.0), preset="paper-mnist")
    for _, c in recorder.runs:
        assert c.norm == "l2" and c.model == "paper-cnn" and c.optimizer == "adam"
        # The l_inf pixel step 0.05 does not carry over: 15 steps of 2.5 eps / 15 = eps / 6.
        assert (c.pgd_steps, c.pgd_step_size) == (cmp.L2_PRESET_PGD_STEPS, None)
        if c.method != "standard":
            assert c.pgd_settings(c.eps) == (15, pytest.approx(c.eps / 6))
    it = recorder.by_method()["iterative"]
    # Linear ramp 0 -> eps over the preset's 30 epochs (no l_inf increment for l2 budgets).
    assert all(c.eps_increment is None and c.epochs == 30 for c in it)
    assert it[0].schedule().eps_at(16) == pytest.approx(1.0 * 15 / 29)


def test_preset_overrides_win(tmp_path, recorder, fake_mnist):
    compare("mnist-linf", tmp_path, eps_grid=(0.3,), preset="paper-mnist", epochs=4,
            train_size=50, test_size=20, eval_steps=7, eval_restarts=2)
    cfgs = recorder.by_method()
    assert {m: [c.epochs for c in v] for m, v in cfgs.items()} == {
        "standard": [4], "adversarial": [4], "extended": [2], "iterative": [4]}
    for _, c in recorder.runs:  # everything else still from the preset
        assert (c.model, c.pgd_step_size, c.data.train_size, c.data.test_size) == (
            "paper-cnn", 0.05, 50, 20)
    assert cfgs["iterative"][0].eps_increment == 0.01  # explicit epochs: no extension
    assert all((e["steps"], e["restarts"]) == (7, 2) for e in recorder.evals)


def test_no_preset_configs_unchanged(tmp_path, recorder, fake_mnist):
    """Without a preset the runs are the task's CPU defaults (finished runs stay reusable)."""
    res = compare("mnist-linf", tmp_path, eps_grid=(0.2,))
    for _, c in recorder.runs:
        assert (c.model, c.optimizer, c.lr, c.batch_size, c.pgd_steps, c.pgd_step_size,
                c.preset) == ("small-cnn", "adam", 1e-3, 128, 10, None, None)
        assert (c.data.train_size, c.data.test_size) == (2000, 1000)
    assert {c.method: c.epochs for _, c in recorder.runs} == {
        "standard": 5, "adversarial": 5, "extended": 2, "iterative": 5}
    assert all((e["steps"], e["restarts"], e["autoattack_max_iter"]) == (50, 3, 20)
               for e in recorder.evals)
    assert res.preset is None


@pytest.mark.parametrize(("task", "preset"), [("gaussian-l2", "paper-cifar10"),
                                              ("mnist-linf", "paper-cifar10"),
                                              ("cifar10-linf", "paper-mnist"),
                                              ("bernoulli-l0", "paper-mnist")])
def test_preset_task_mismatch(tmp_path, task, preset):
    with pytest.raises(ValueError, match=f"preset '{preset}' does not fit task '{task}'"):
        compare(task, tmp_path / "out", preset=preset)
    assert not (tmp_path / "out").exists()  # rejected before anything is built


def test_bad_preset_and_counts(tmp_path):
    with pytest.raises(ValueError, match="preset must be one of paper-mnist, paper-cifar10"):
        compare("mnist-linf", tmp_path, preset="paper-imagenet")
    for kw in ({"epochs": 0}, {"eval_steps": -1}, {"eval_restarts": 1.5}):
        with pytest.raises(ValueError, match=next(iter(kw))):
            compare("gaussian-l2", tmp_path, **kw)


@pytest.mark.parametrize(("argv", "needle"), [
    (["--task", "gaussian-l2", "--preset", "paper-cifar10"],
     "preset 'paper-cifar10' does not fit task 'gaussian-l2'"),
    (["--task", "mnist-linf", "--preset", "paper-imagenet"], "invalid choice"),
    (["--task", "mnist-linf", "--preset", "paper-mnist", "--epochs", "0"],
     "--epochs must be an integer >= 1"),
])
def test_cli_bad_preset_exits_2(tmp_path, capsys, argv, needle):
    try:
        rc = main(["compare", *argv, "--out", str(tmp_path / "o")])
    except SystemExit as exc:  # argparse's own errors (the _Parser exits with status 2)
        rc = exc.code
    assert rc == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1, err


def test_cli_preset_overrides(tmp_path, capsys, recorder, fake_mnist):
    rc = main(["compare", "--task", "mnist-l2", "--preset", "paper-mnist", "--eps-grid", "2",
               "--epochs", "3", "--train-size", "40", "--steps", "9", "--out", str(tmp_path),
               "--quiet", "--json", "--device", "cpu"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["preset"] == "paper-mnist" and out["eval"] == {
        "steps": 9, "restarts": 5, "autoattack_max_iter": 100}
    assert {c.method: c.epochs for _, c in recorder.runs} == {
        "standard": 3, "adversarial": 3, "extended": 1, "iterative": 3}
    # --train-size wins; the test set stays the full one of the preset.
    assert all((c.data.train_size, c.data.test_size, c.model, c.norm) ==
               (40, None, "paper-cnn", "l2") for _, c in recorder.runs)


def _write_fake_cifar(root: Path, per_batch: int = 10) -> None:
    """CIFAR-10 in torchvision's layout: random images, one per class and batch, except that
    images 0 and 1 (classes 0 and 1) of ``data_batch_1`` and of ``test_batch`` differ by
    10/255 in every pixel: an l_inf conflict exactly when 2 eps >= 10/255."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(20, 236, size=(per_batch, 3072), dtype=np.uint8)
        if name in ("data_batch_1", "test_batch"):
            data[1] = data[0] + 10
        with open(folder / name, "wb") as fh:
            pickle.dump({"data": data, "labels": [i % 10 for i in range(per_batch)]}, fh)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, fh)


@pytest.fixture
def fake_cifar(tmp_path, monkeypatch):
    from torchvision import datasets
    from torchvision.datasets import cifar

    root = tmp_path / "data"
    _write_fake_cifar(root)
    # The generated files are not the real ones: bypass torchvision's md5 checks only.
    monkeypatch.setattr(datasets.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(cifar, "check_integrity", lambda *args, **kwargs: True)
    return root


def test_cifar10_task_end_to_end(tmp_path, fake_cifar):
    task = cmp.TASKS["cifar10-linf"]
    assert task.eps_grid == (8 / 255, 16 / 255, 32 / 255) and task.norm == "linf"
    assert task.data.name == "cifar10" and task.data.classes is None  # ten classes
    out = tmp_path / "cmp"
    res = compare("cifar10-linf", out, eps_grid=[4 / 255, 8 / 255], epochs=1,
                  data_root=str(fake_cifar), eval_steps=2, eval_restarts=1,
                  use_autoattack=False)
    rows = res.rows
    # An image task's row: the sample optima and the Bernoulli limit, in the old key order.
    assert list(rows[0].to_dict()) == [
        "learned_error", "learned_clean_error", "per_attack_error", "n_test", "se", "attacks",
        "optimal_kind", "optimal_error", "optimal_error_train", "bernoulli_limit_eps", "task",
        "eps", "method", "epochs", "seconds", "run", "below_optimum"]
    assert (out / "results.json").read_text() == json.dumps(res.to_dict(), indent=2) + "\n"
    assert res.optimal_curve is None and "optimal_curve" not in res.to_dict()
    assert [(r.eps, r.method) for r in rows] == [
        (e, m) for e in (4 / 255, 8 / 255) for m in ("adversarial", "extended", "iterative")]
    for r in rows:
        # Exact optimum of the sample: the one close pair (l_inf distance 10/255, classes 0
        # and 1) conflicts at eps = 8/255 (2 eps = 16/255) but not at 4/255 (8/255); one of
        # its two points must then be lost: 1/10 of the test set, 1/50 of the train set.
        conflict = r.eps > 5 / 255
        assert r.optimal_error == pytest.approx(0.1 if conflict else 0.0, abs=1e-12)
        assert r.optimal_error_train == pytest.approx(0.02 if conflict else 0.0, abs=1e-12)
        assert r.bernoulli_limit_eps == 0.5 and r.n_test == 10
        assert 0.0 <= r.learned_error <= 1.0
    from empirical.checkpoint import load_checkpoint

    for r in rows:  # the CPU-sized defaults: small CNN, the whole (tiny) fake sets
        c = load_checkpoint(str(Path(r.run) / "checkpoint.pt"))["config"]
        assert (c["model"], c["data"]["name"], c["data"]["classes"], c["epochs"]) == (
            "small-cnn", "cifar10", None, 1)
    md = (out / "results.md").read_text()
    assert "cifar10-linf" in md and "eps = 0.5" in md
    assert (out / "results.png").read_bytes()[:4] == b"\x89PNG"


def test_paper_cifar10_preset_configs_on_fake_files(tmp_path, fake_cifar, recorder):
    compare("cifar10-linf", tmp_path / "cmp", eps_grid=[8 / 255, 16 / 255],
            data_root=str(fake_cifar), preset="paper-cifar10")
    cfgs = recorder.by_method()
    for method, runs in cfgs.items():
        want = _expected("paper-cifar10", method)
        for c in runs:
            for f in _FIELDS:
                w = want.get(f, getattr(cmp.TrainConfig, f, None))
                assert getattr(c, f) == (tuple(w) if f == "lr_milestones" else w), (method, f)
            assert (c.data.train_size, c.data.test_size, c.data.classes) == (None, None, None)
    # Paper Sec. 3.1.1 by hand: ResNet-50, SGD 0.1 (x0.1 at epochs 50 and 100), wd 5e-4,
    # augmentation, 150 epochs; PGD step 2/255 with 2.5 eps / step steps (8/255 -> 10);
    # extended: 5 epochs without augmentation; IAT: linear 0 -> eps over the 150 epochs.
    adv = cfgs["adversarial"][0]
    assert (adv.model, adv.optimizer, adv.lr, adv.lr_milestones, adv.weight_decay,
            adv.augment, adv.epochs) == ("resnet50", "sgd", 0.1, (50, 100), 5e-4, True, 150)
    assert adv.pgd_settings(8 / 255) == (10, pytest.approx(2 / 255))
    assert all(c.epochs == 5 and not c.augment for c in cfgs["extended"])
    assert all(c.epochs == 150 and c.eps_increment is None and c.eps_start == 0.0
               for c in cfgs["iterative"])
    assert cfgs["standard"][0].epochs == 150
    assert all((e["steps"], e["restarts"]) == (200, 5) for e in recorder.evals)
