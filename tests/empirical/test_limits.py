"""``optrobust-empirical limits`` and empirical.limits: end to end on a small MNIST subset,
CIFAR-10 on generated files, cross-checks against the library functions, bad input."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from empirical.cli import main  # noqa: E402
from empirical.data import DataSpec, build_data  # noqa: E402
from empirical.limits import flat_images, run_limits  # noqa: E402
from optrobust.finite import FiniteDistribution, optimal_robust_error  # noqa: E402
from optrobust.finite.pruned_nn import held_out_estimate  # noqa: E402

#: MNIST in torchvision's layout beside the clone (CI has ../shared next to the repository).
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

needs_mnist = pytest.mark.skipif(not (SHARED_DATA / "MNIST" / "raw").is_dir(),
                                 reason="../shared/data/MNIST not present")


@needs_mnist
def test_mnist_l2_end_to_end_matches_the_library(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["limits", "--dataset", "mnist", "--data-root", str(SHARED_DATA),
               "--train-size", "300", "--test-size", "120", "--norm", "l2",
               "--eps-grid", "1,3,2", "--out", str(out), "--quiet", "--json"])
    assert rc == 0
    payload = json.loads(capsys.readouterr().out)
    saved = json.loads((out / "results.json").read_text())
    assert payload["rows"] == saved["rows"]
    assert [r["eps"] for r in saved["rows"]] == [1.0, 2.0, 3.0]
    assert (saved["n_train"], saved["n_test"], saved["dim"]) == (300, 120, 784)
    assert (out / "limits.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "results.md").read_text()
    assert "| eps | test-sample optimum |" in md and md.count("\n| ") >= 4
    # Cross-check with the library on the same images.
    b = build_data(DataSpec(name="mnist", data_root=str(SHARED_DATA), train_size=300,
                            test_size=120))
    x, y = flat_images(b.train)
    xt, yt = flat_images(b.test)
    assert np.all(xt * 255 == np.round(xt * 255)) and xt.min() == 0 and xt.max() == 1
    for row in saved["rows"]:
        opt = optimal_robust_error(FiniteDistribution(xt, yt), eps=row["eps"], p=2)
        assert row["status"] == "exact" and row["lower"] == pytest.approx(opt.error)
        est = held_out_estimate(x, y, xt, yt, eps=row["eps"], p=2, box=(0, 1))
        h = row["held_out"]
        assert (h["error"], h["n_certified"], h["n_kept"]) == (est.error, est.n_certified,
                                                               est.n_kept)
        assert h["ci_low"] <= h["error"] <= h["ci_high"]
        assert row["lower"] <= h["error"]  # the held-out classifier is one candidate
        assert row["constant_error"] == pytest.approx(1 - np.bincount(yt).max() / 120)


@needs_mnist
def test_mnist_linf_three_vs_seven_reaches_the_constant(tmp_path):
    """3 vs 7 at l_inf eps = 0.5: every two images are within 1 = 2 eps, the optimum is the
    constant classifier's error, and eps = 0.5 is the feasible eps of the grid."""
    payload = run_limits(dataset="mnist", data_root=str(SHARED_DATA), p=math.inf,
                         eps_grid=[0.1, 0.5], out=tmp_path, classes=(3, 7), train_size=120,
                         test_size=60, progress=False)
    rows = payload["rows"]
    assert rows[0]["lower"] == 0.0
    assert rows[1]["lower"] == rows[1]["upper"] == pytest.approx(rows[1]["constant_error"])
    assert payload["feasible_eps"] == 0.5
    assert rows[1]["held_out"]["n_kept"] == 61  # the larger class of the training subset
    assert 0 <= rows[0]["held_out"]["error"] <= 1


def _write_cifar(root, n_per_batch: int, rng: np.random.Generator) -> None:
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8)
        with open(folder / name, "wb") as fh:
            pickle.dump({"data": data, "labels": [i % 10 for i in range(n_per_batch)]}, fh)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, fh)


def test_cifar10_on_generated_files(tmp_path, monkeypatch):
    # Fake files in torchvision's layout: only the md5 checks are bypassed (this test only).
    from torchvision import datasets
    from torchvision.datasets import cifar

    _write_cifar(tmp_path, 30, np.random.default_rng(0))
    monkeypatch.setattr(datasets.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(cifar, "check_integrity", lambda *args, **kwargs: True)
    payload = run_limits(dataset="cifar10", data_root=str(tmp_path), p=2, eps_grid=[1.0, 30.0],
                         out=tmp_path / "out", classes=(0, 1, 2), test_size=9,
                         progress=False)
    assert (payload["n_train"], payload["n_test"], payload["dim"]) == (45, 9, 3072)
    # Uniform random images are ~ sqrt(3072/6) = 22.6 apart in l2: nothing conflicts at
    # eps = 1, everything at eps = 30 (the constant classifier is optimal).
    r1, r30 = payload["rows"]
    assert r1["lower"] == 0.0 and r1["conflicts"] == 0
    assert r30["lower"] == pytest.approx(r30["constant_error"]) and payload["feasible_eps"] == 30
    assert (tmp_path / "out" / "limits.png").is_file()


@pytest.mark.parametrize("argv,match", [
    (["--data-root", "MISSING"], "mnist"),
    (["--eps-grid", "a,b"], "--eps-grid"),
    (["--eps-grid", "-1"], "--eps-grid"),
    (["--eps-grid", "1,inf"], "--eps-grid"),
    (["--time-limit", "0"], "--time-limit"),
    (["--classes", "3"], "classes"),
    (["--classes", "3,11"], "classes"),
    (["--norm", "l0"], "--norm"),
    (["--norm", "linf", "--eps-grid", "1"], "eps_grid"),
    (["--train-size", "0"], "train-size"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, argv, match):
    base = {"--dataset": "mnist", "--data-root": str(SHARED_DATA), "--eps-grid": "1",
            "--norm": "l2", "--train-size": "20", "--test-size": "20",
            "--out": str(tmp_path / "o")}
    for flag, value in zip(argv[::2], argv[1::2], strict=True):
        base[flag] = value if value != "MISSING" else str(tmp_path / "nothing")
    args = ["limits", "--quiet"] + [t for kv in base.items() for t in kv]
    try:
        rc = main(args)
    except SystemExit as exc:  # argparse errors
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "Traceback" not in err and match in err, err
