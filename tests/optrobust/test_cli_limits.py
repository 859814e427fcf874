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
def test_bad_input_exits_2_with_one_line(args, needle, capsys):
    """In process (fast); the same rule through a real interpreter is checked below."""
    try:
        status = main(args)
    except SystemExit as exc:  # argparse usage errors
        status = exc.code
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert needle in lines[0] and "Traceback" not in err


def test_bad_input_exits_2_with_one_line_in_a_subprocess():
    r = run("limits", "bernoulli", "--k", "50", "--t", "0.7", "--eps", "1")
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "t must lie in [0, 1/2]" in lines[0], r.stderr


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


def test_norm_alias_p_and_defaults_in_help(capsys):
    """Issue 14: --norm and --p both work; defaults and the meaning of k and t show in --help."""
    assert main(["limits", "bernoulli", "--k", "50", "--t", "0.3", "--p", "0", "--eps", "10",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["feasible_eps"] == 16
    assert main(["limits", "gaussian", "--distance", "2", "--p", "2", "--eps", "0.5"]) == 0
    capsys.readouterr()
    for cmd in (["limits", "bernoulli"], ["table", "bernoulli"], ["limits", "gaussian"]):
        with pytest.raises(SystemExit) as exc:
            main([*cmd, "--help"])
        assert exc.value.code == 0
        text = " ".join(capsys.readouterr().out.split())
        assert "--norm NORM, --p NORM" in text
        assert ("default l0" if cmd[1] == "bernoulli" else "default l2") in text
        if cmd[1] == "bernoulli":
            assert "number of effective pixels" in text and "bias in [0, 1/2]" in text
            assert "default pm1" in text


def test_limits_text_columns_are_aligned(capsys):
    assert main(["limits", "bernoulli", "--k", "50", "--t", "0.3", "--eps", "10"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    starts = {len(line) - len(line.lstrip(" ").split("  ", 1)[1].lstrip()) for line in lines}
    assert len(starts) == 1, lines  # every value starts in the same column
    assert main(["limits", "gaussian", "--distance", "2", "--eps", "0.5"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    starts = {len(line) - len(line.lstrip(" ").split("  ", 1)[1].lstrip()) for line in lines}
    assert len(starts) == 1, lines


def test_billion_k_is_instant_and_exact_integers(capsys):
    """Issue 14: --k 1e9 grew to 18 GB; now O(1) memory, and the l0 eps prints in full."""
    assert main(["limits", "bernoulli", "--k", "1e9", "--t", "0.3", "--eps", "10"]) == 0
    out = capsys.readouterr().out
    fe = int(out.split("feasible eps (l0)")[1].split()[0])
    assert abs(fe - 300_000_000) < 50_000 and "e+" not in out
    assert main(["limits", "bernoulli", "--k", "1e9", "--t", "3/10", "--eps", "10", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["exact"] is False


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["table", "bernoulli", "--k", ",".join(map(str, range(1, 202))), "--t",
          ",".join(f"0.{i:03d}" for i in range(1, 52))], "limit"),
        (["limits", "bernoulli", "--k", "1e30", "--t", "0.3", "--eps", "1"], "k must be <="),
        (["limits", "bernoulli", "--k", "50", "--t", "0.3", "--eps", "1", "--dim", "10"], "d must"),
        (["limits", "bernoulli", "--k", "50", "--t", "0.3", "--eps", "1", "--dim", "x"], "--dim"),
        (["limits", "bernoulli", "--k", "inf", "--t", "0.3", "--eps", "1"], "--k"),
        (["limits", "bernoulli", "--k", "9007199254740993", "--t", "0.3", "--eps", "1"],
         "k must be <= 2**53"),
        (["limits", "bernoulli", "--k", "1e999999999", "--t", "0.3", "--eps", "1"], "--k"),
        (["limits", "bernoulli", "--k", "10,20", "--t", "0.3", "--eps", "1"], "single integer"),
        (["limits", "bernoulli", "--k", "50", "--t", "0.3", "--eps", "1e999"], "--eps"),
        (["table", "bernoulli", "--k", "10", "--t", "0.1", "--plot", "/nonexistent/dir/x.png"],
         "directory"),
    ],
)
def test_more_bad_input_one_line_in_process(args, needle, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err


def test_frame_maps_only_library_errors(monkeypatch):
    """Issue 12: a bug (TypeError, KeyError, ValueError) in a command surfaces; it is not
    reported as bad input."""
    import optrobust._cli_limits as cl

    for exc in (TypeError("bug"), KeyError("bug"), ValueError("bug"), ZeroDivisionError()):
        def boom(args, exc=exc):
            raise exc
        monkeypatch.setattr(cl, "_limits_bernoulli", boom)
        with pytest.raises(type(exc)):
            main(["limits", "bernoulli", "--k", "5", "--t", "0.1", "--eps", "1"])


def test_subcommands_are_plain_imports():
    import inspect

    import optrobust.cli as cli

    src = inspect.getsource(cli)
    assert "importlib" not in src and "from optrobust import _cli_exact, _cli_hardness, _cli_limits" in src
