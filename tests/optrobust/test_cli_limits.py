"""The `optrobust limits` and `table` commands, run as a user would."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from optrobust.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optrobust", *args], capture_output=True,
                          text=True, timeout=120)


def test_limits_bernoulli_json_keys_and_values():
    r = run("limits", "bernoulli", "--k", "50", "--t", "0.3", "--norm", "l0", "--eps", "10", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {"model", "norm", "eps", "bayes_error", "robust_error", "feasible_eps",
            "threshold"} <= set(out)
    assert out["model"] == "bernoulli" and out["norm"] == "l0" and out["feasible_eps"] == 16
    assert math.isclose(out["robust_error"], 0.04576275120699858, rel_tol=1e-9)


def test_limits_gaussian_json(capsys):
    assert main(["limits", "gaussian", "--distance", "2", "--sigma", "1", "--norm", "l2",
                 "--eps", "0.5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"model", "norm", "eps", "bayes_error", "robust_error", "feasible_eps"}
    assert "threshold" not in out
    assert math.isclose(out["robust_error"], 0.3085375387259869, rel_tol=1e-12)
    assert out["feasible_eps"] == 1.0


def test_limits_gaussian_mu_lists_with_negative_values(capsys):
    assert main(["limits", "gaussian", "--mu-pos", "1,0.5", "--mu-neg", "-1,0", "--norm", "linf",
                 "--eps", "1/4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["norm"] == "linf" and out["eps"] == 0.25 and out["feasible_eps"] == 1.0


def test_table_text_json_and_plot(tmp_path, capsys):
    png = tmp_path / "fig12.png"
    assert main(["table", "bernoulli", "--k", "10,50", "--t", "0.1,0.3", "--norm", "l0",
                 "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "k \\ t" in text and "16" in text
    assert png.stat().st_size > 10_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["table", "bernoulli", "--k", "10,50", "--t", "0.1,0.3", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [r["feasible_eps"] for r in rows] == [2, 4, 6, 16]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["limits", "bernoulli", "--k", "50", "--t", "0.7", "--eps", "1"], "t must lie in [0, 1/2]"),
        (["limits", "bernoulli", "--k", "50", "--t", "nan", "--eps", "1"], "--t"),
        (["limits", "bernoulli", "--k", "50", "--t", "0.3", "--eps", "-2"], "eps"),
        (["limits", "bernoulli", "--k", "50", "--t", "0.3", "--eps", "1", "--norm", "l7"], "--norm"),
        (["limits", "bernoulli", "--k", "2.5", "--t", "0.3", "--eps", "1"], "--k"),
        (["limits", "gaussian", "--distance", "2", "--norm", "linf", "--eps", "1"], "--mu-pos"),
        (["limits", "gaussian", "--mu-pos", "1,2", "--mu-neg", "0", "--eps", "1"], "same shape"),
        (["limits", "gaussian", "--distance", "2", "--sigma", "0", "--eps", "1"], "sigma"),
        (["table", "bernoulli", "--k", "10", "--t", "0.1,0.9"], "t must lie"),
        (["limits", "bernoulli", "--t", "0.3", "--eps", "1"], "--k"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, needle):
    r = run(*args)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert needle in lines[0] and "Traceback" not in r.stderr


def test_import_optrobust_does_not_import_torch():
    code = (
        "import sys, optrobust, optrobust.cli, optrobust.limits, optrobust.plotting\n"
        "import importlib, pkgutil\n"
        "for m in pkgutil.walk_packages(optrobust.__path__, 'optrobust.'):\n"
        "    if not m.name.startswith(('optrobust.testing', 'optrobust.__main__')):\n"
        "        importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith(('torch.', 'empirical'))]\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
