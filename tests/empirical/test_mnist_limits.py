"""Certified optimal robust error of 10-class MNIST subsets (benchmarks/mnist_limits.py).

Every test reads MNIST from ``../shared/data`` beside the repository and is skipped when it is
missing there.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

from optrobust.finite import conflict_graph, optimal_robust_error

pytest.importorskip("torchvision")

#: MNIST in torchvision's layout beside the clone (CI has ../shared next to the repository).
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

needs_mnist = pytest.mark.skipif(not (SHARED_DATA / "MNIST" / "raw").is_dir(),
                                 reason="MNIST not present at ../shared/data/MNIST/raw")
pytestmark = needs_mnist

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "mnist_limits.py"


@pytest.fixture(scope="module")
def ml():
    spec = importlib.util.spec_from_file_location("mnist_limits", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def test100(ml):
    return ml.load_subset(100, "test", data_root=SHARED_DATA)


def test_subset_is_ten_class_stratified_in_unit_box(ml, test100):
    assert test100.n == 100 and test100.dim == 784
    assert test100.points.min() >= 0.0 and test100.points.max() <= 1.0
    # MNIST test counts 980..1135 per digit: every digit gets 9..11 of 100 images.
    counts = np.bincount(test100.labels, minlength=10)
    assert counts.sum() == 100 and counts.min() >= 9 and counts.max() <= 12


def test_tiny_multiclass_optimum_matches_brute_force(ml):
    # 20 training images (2 per digit): all 2^20 subsets of pairs is the oracle.
    d = ml.load_subset(20, "train", data_root=SHARED_DATA)
    assert np.bincount(d.labels).tolist() == [2] * 10
    seen_positive = False
    for p, eps in ((2, 4.0), (2, 4.5), (2, 5.0), (math.inf, 0.5)):
        g = conflict_graph(d, eps=eps, p=p)
        errs = {s: optimal_robust_error(d, eps=eps, p=p, graph=g, solver=s).error
                for s in ("milp", "maxsat", "brute")}
        assert max(errs.values()) - min(errs.values()) < 1e-12, (p, eps, errs)
        seen_positive |= 0 < errs["brute"] < 1 - 2 / 20
    assert seen_positive  # at least one instance between the trivial values


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_rows_bracket_the_exact_optimum_on_100_images(ml, test100, norm):
    # The exact optimum by an independent backend (MaxSAT on the edge encoding) lies in each
    # row's interval, also when the solver gets no time at all (bounded rows).
    for tl in (None, 1e-9):
        rows = ml.run(test100, norm, list(ml.GRIDS[norm]), time_limit=tl, check_max_n=100)
        assert all(r["check_ok"] for r in rows), rows
        if tl is None:
            assert all(r["status"] == "exact" for r in rows)
    assert all(r["upper"] <= r["constant_error"] for r in rows)
    if norm == "linf":  # eps 1/2 on [0, 1] pixels: label-complete, the constant classifier
        assert rows[-1]["upper"] == rows[-1]["lower"] == rows[-1]["constant_error"]


def test_linf_half_is_one_minus_max_class_share(ml, test100):
    # Pixels in [0, 1]: every two images are within l_inf distance 1 = 2 eps, so all pairs
    # of different digits conflict and only one digit can be kept: 1 - (max class share).
    counts = np.bincount(test100.labels)
    (row,) = ml.run(test100, "linf", [0.5], time_limit=1.0, check_max_n=100)
    assert row["solver"] == "label-complete" and row["check_ok"]
    assert row["conflicts"] == (100**2 - int((counts**2).sum())) // 2
    assert row["lower"] == row["upper"] == 1 - counts.max() / 100 == row["constant_error"]


def test_monotone_in_eps_and_nested_graphs(ml, test100):
    for norm, grid in ml.GRIDS.items():
        errors, edges = [], []
        for eps in grid:
            g = conflict_graph(test100, eps=eps, p=ml.P[norm])
            errors.append(optimal_robust_error(test100, eps=eps, p=ml.P[norm], graph=g).error)
            edges.append({tuple(e) for e in g.edges.tolist()})
        assert errors == sorted(errors), (norm, errors)
        assert all(a <= b for a, b in zip(edges[:-1], edges[1:], strict=True)), norm


def test_eps0_is_where_the_optimum_leaves_zero(ml, test100):
    # Closed balls: conflicts start exactly at eps0 = (min cross-digit distance) / 2.
    for norm in ("linf", "l2"):
        p = ml.P[norm]
        (row,) = ml.run(test100, norm, [0.5 if norm == "l2" else 0.05], time_limit=None)
        eps0 = row["eps0"]
        # eps0 is rounded down by a relative 4 (d + 2) 2^-53 < 1e-12: 0 at eps0 itself,
        # positive just above it.
        assert optimal_robust_error(test100, eps=eps0, p=p).error == 0.0
        sol = optimal_robust_error(test100, eps=eps0 * (1 + 1e-11), p=p)
        assert sol.n_conflicts >= 1 and sol.error >= 0.01


def test_script_small_run_writes_json(ml, tmp_path, capsys):
    out = tmp_path / "r.json"
    rc = ml.main(["--data-root", str(SHARED_DATA), "--n", "30", "--norm", "l2",
                  "--eps", "4,5", "--time-limit", "30", "--json-out", str(out)])
    assert rc == 0
    payload = json.loads(out.read_text())
    rows = payload["rows"]
    assert [(r["eps"], r["status"]) for r in rows] == [(4.0, "exact"), (5.0, "exact")]
    assert all(r["check_ok"] for r in rows) and payload["peak_rss_mb"] > 0
    assert "0 outside their interval" in capsys.readouterr().out


def test_script_rejects_bad_input(ml, tmp_path, capsys):
    for argv in (["--n", "1"], ["--eps", "0.3"], ["--classes", "3"],
                 ["--norm", "l1"], ["--time-limit", "0"]):
        with pytest.raises(SystemExit) as exc:
            ml.main(argv)
        assert exc.value.code == 2, argv
    assert ml.main(["--data-root", str(tmp_path)]) == 2
    assert "MNIST not found" in capsys.readouterr().err
