"""CLI ``optrobust exact``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from optrobust.cli import main


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "pts.npz"
    # 0 and 0.6 touch at eps = 0.3 (closed balls) -> error 1/3 with 3 pairs.
    np.savez(path, points=np.array([[0.0, 0.0], [0.6, 0.0], [5.0, 5.0]]),
             labels=np.array([0, 1, 1]))
    return path


def test_json_output(data, capsys):
    assert main(["exact", "--data", str(data), "--eps", "3/10", "--p", "linf", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["robust_error"] == pytest.approx(1 / 3)
    assert out["solver"] == "flow" and out["n_conflicts"] == 1 and out["norm"] == "linf"
    assert out["n_robust"] == 2 and len(out["robust"]) == 2


def test_text_output_and_options(data, capsys):
    assert main(["exact", "--data", str(data), "--eps", "0.29", "--p", "2",
                 "--domain", "support", "--solver", "milp"]) == 0
    out = capsys.readouterr().out
    assert "optimal robust error = 0" in out and "milp" in out


def _write(tmp_path, **arrays):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    return str(path)


@pytest.mark.parametrize(("arrays", "match"), [
    ({"points": np.zeros((2, 2)), "labels": np.zeros(3)}, "labels"),
    ({"points": np.zeros((2, 2)), "labels": np.zeros(2), "weights": np.array([1.0, -1])},
     "weights"),
    ({"points": np.array([[np.nan, 0.0], [0.0, 0.0]]), "labels": np.zeros(2)}, "points"),
    ({"points": np.zeros((2, 2))}, "labels"),
])
def test_bad_data_exit_2_one_line(tmp_path, capsys, arrays, match):
    assert main(["exact", "--data", _write(tmp_path, **arrays), "--eps", "0.3",
                 "--p", "inf"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err and "Traceback" not in err


@pytest.mark.parametrize(("args", "match"), [
    (["--eps", "0.3", "--p", "3"], "p must be"),
    (["--eps", "-1", "--p", "2"], "eps"),
    (["--eps", "abc", "--p", "2"], "eps"),
    (["--eps", "0.3", "--p", "2", "--domain", "grid"], "domain"),
    (["--eps", "0.3", "--p", "2", "--solver", "magic"], "solver"),
])
def test_bad_options_exit_2(data, capsys, args, match):
    try:
        status = main(["exact", "--data", str(data), *args])
    except SystemExit as exc:  # argparse choices (--domain) exit from the parser
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err


def test_missing_or_corrupt_file(tmp_path, capsys):
    assert main(["exact", "--data", str(tmp_path / "nope.npz"), "--eps", "1", "--p", "2"]) == 2
    assert "not found" in capsys.readouterr().err
    bad = tmp_path / "bad.npz"
    bad.write_text("not a zip")
    assert main(["exact", "--data", str(bad), "--eps", "1", "--p", "2"]) == 2
    assert "npz" in capsys.readouterr().err


# ------------------------------------------------------------------ eps grid, --train, limits
@pytest.fixture
def grid_data(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((40, 2))
    test = tmp_path / "test.npz"
    np.savez(test, points=x, labels=(x[:, 0] > 0.5).astype(int))
    x = rng.random((50, 2))
    train = tmp_path / "train.npz"
    np.savez(train, points=x, labels=(x[:, 0] > 0.5).astype(int))
    return test, train


def test_eps_list_json_is_a_list_with_the_documented_keys(grid_data, capsys):
    test, _ = grid_data
    assert main(["exact", "--data", str(test), "--eps", "0.01,0.1,1", "--norm", "l2",
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert isinstance(rows, list) and [r["eps"] for r in rows] == [0.01, 0.1, 1.0]
    for r in rows:
        assert {"eps", "status", "lower", "upper", "held_out", "eps0", "constant_error",
                "conflicts", "seconds"} <= set(r)
        assert r["status"] == "exact" and r["lower"] == r["upper"] and r["held_out"] is None
    assert rows[-1]["upper"] == rows[-1]["constant_error"]  # diameter < 2: label-complete


def test_train_gives_held_out_and_plot(grid_data, tmp_path, capsys):
    test, train = grid_data
    png = tmp_path / "limits.png"
    assert main(["exact", "--data", str(test), "--eps", "0.05", "--p", "2", "--train",
                 str(train), "--time-limit", "5", "--plot", str(png), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1
    h = rows[0]["held_out"]
    assert 0.0 <= h["ci_low"] <= h["error"] <= h["ci_high"] <= 1.0
    assert png.stat().st_size > 1000
    assert main(["exact", "--data", str(test), "--eps", "0.05,0.1", "--p", "2",
                 "--train", str(train)]) == 0
    out = capsys.readouterr().out
    assert "held-out" in out and "feasible eps" in out


def test_time_limit_single_eps_reports_status(data, capsys):
    assert main(["exact", "--data", str(data), "--eps", "0.3", "--norm", "linf",
                 "--time-limit", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "exact" and out["lower"] == out["upper"] == out["robust_error"]


@pytest.mark.parametrize(("arrays", "extra", "match"), [
    ({"points": np.zeros((0, 2)), "labels": np.zeros(0, int)}, [], "points"),
    ({"points": np.zeros((3, 2)), "labels": np.array([0, 1])}, ["--eps", "1,2"], "labels"),
    ({"points": np.array([[np.nan, 0.0], [0.0, 1.0]]), "labels": np.array([0, 1])},
     ["--eps", "1,2"], "points"),
    ({"points": np.zeros((3, 2)), "labels": np.array([1, 1, 1])}, [], "two classes"),
    ({"points": np.eye(2), "labels": np.array([0, 1])}, ["--time-limit", "0"], "time-limit"),
    ({"points": np.eye(2), "labels": np.array([0, 1])}, ["--time-limit=-2"], "time-limit"),
    ({"points": np.eye(2), "labels": np.array([0, 1])}, ["--time-limit", "nan"],
     "time-limit"),
    ({"points": np.eye(2), "labels": np.array([0, 1])}, ["--eps", "1,-2"], "eps"),
    ({"points": np.eye(2), "labels": np.array([0, 1]), "weights": np.array([1.0, 2.0])},
     ["--eps", "1,2"], "weights"),
])
def test_grid_bad_input_exit_2_one_line(tmp_path, capsys, arrays, extra, match):
    args = ["exact", "--data", _write(tmp_path, **arrays), "--eps", "0.3", "--p", "2"]
    assert main(args + extra) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err and "Traceback" not in err


def test_text_file_and_missing_train(grid_data, tmp_path, capsys):
    test, _ = grid_data
    txt = tmp_path / "points.npz"
    txt.write_text("0 1\n1 0\n")
    assert main(["exact", "--data", str(txt), "--eps", "1", "--p", "2"]) == 2
    err = capsys.readouterr().err
    assert "not an .npz archive" in err and "allow_pickle" not in err
    assert main(["exact", "--data", str(test), "--eps", "1", "--p", "2", "--train",
                 str(tmp_path / "missing.npz")]) == 2
    assert "--train: file not found" in capsys.readouterr().err
    other = tmp_path / "other.npz"
    np.savez(other, points=np.zeros((4, 3)), labels=np.array([0, 1, 0, 1]))
    assert main(["exact", "--data", str(test), "--eps", "1", "--p", "2", "--train",
                 str(other)]) == 2
    assert "dimension" in capsys.readouterr().err
