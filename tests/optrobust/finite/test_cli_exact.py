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
    assert main(["exact", "--data", str(data), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err


def test_missing_or_corrupt_file(tmp_path, capsys):
    assert main(["exact", "--data", str(tmp_path / "nope.npz"), "--eps", "1", "--p", "2"]) == 2
    assert "not found" in capsys.readouterr().err
    bad = tmp_path / "bad.npz"
    bad.write_text("not a zip")
    assert main(["exact", "--data", str(bad), "--eps", "1", "--p", "2"]) == 2
    assert "npz" in capsys.readouterr().err
