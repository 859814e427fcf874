"""``optrobust-empirical`` CLI: train / evaluate, JSON keys, one-line errors with exit 2."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from empirical import train as train_mod  # noqa: E402
from empirical.checkpoint import load_checkpoint  # noqa: E402
from empirical.cli import main  # noqa: E402

pytestmark = pytest.mark.empirical
MNIST_ROOT = Path(__file__).resolve().parents[2].parent / "shared" / "data"
GAUSS = ["--data", "gaussian", "--dim", "4", "--distance", "3", "--sigma", "1",
         "--train-size", "256", "--test-size", "128", "--model", "mlp", "--batch-size", "64",
         "--seed", "0", "--device", "cpu", "--quiet"]


def run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(capsys, argv, match):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert match in lines[0], lines[0]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "g"
    code = main(["train", *GAUSS, "--method", "adversarial", "--eps", "0.5", "--norm", "l2",
                 "--epochs", "2", "--pgd-steps", "5", "--out", str(out), "--json"])
    assert code == 0
    return out


def test_train_json_and_files(run_dir, capsys, tmp_path):
    assert {p.name for p in run_dir.iterdir()} >= {"config.json", "metrics.jsonl",
                                                   "checkpoint.pt", "best.pt"}
    code, out, _ = run(capsys, ["train", *GAUSS, "--method", "iterative", "--eps", "8/255",
                                "--eps-start", "0", "--epochs", "2", "--pgd-steps", "2",
                                "--out", str(tmp_path / "it"), "--json"])
    assert code == 0
    payload = json.loads(out)
    assert payload["epochs_completed"] == 2
    assert payload["final"]["eps"] == pytest.approx(8 / 255)  # parsed exactly as a Fraction
    cfg = json.loads((tmp_path / "it" / "config.json").read_text())
    assert cfg["eps"] == 8 / 255 and cfg["method"] == "iterative"


def test_evaluate_json_keys(run_dir, capsys):
    ckpt = str(run_dir / "checkpoint.pt")
    code, out, _ = run(capsys, ["evaluate", "--checkpoint", ckpt, "--attack", "pgd", "--eps",
                                "0.5", "--norm", "l2", "--steps", "10", "--restarts", "2",
                                "--device", "cpu", "--json"])
    assert code == 0
    p = json.loads(out)
    assert {"clean_accuracy", "robust_accuracy", "n", "attack", "eps"} <= set(p)
    assert p["n"] == 128 and p["attack"] == "pgd" and p["eps"] == 0.5
    assert 0 <= p["robust_accuracy"] <= p["clean_accuracy"] <= 1
    code, out, _ = run(capsys, ["evaluate", "--checkpoint", ckpt, "--attack", "pgd,fgsm",
                                "--eps", "0.5", "--norm", "l2", "--steps", "10", "--json"])
    q = json.loads(out)
    assert q["robust_accuracy"] <= min(q["per_attack"].values())
    code, out, _ = run(capsys, ["evaluate", "--checkpoint", ckpt, "--eps", "inf", "--norm",
                                "l2", "--steps", "50", "--step-size", "1", "--json"])
    u = json.loads(out)
    assert code == 0 and u["eps"] == "inf" and u["robust_accuracy"] == 0.0
    code, out, _ = run(capsys, ["evaluate", "--checkpoint", ckpt, "--eps", "0.5", "--norm",
                                "l2", "--test-size", "32"])
    assert code == 0 and out.startswith("n=32 ")


def test_bad_input_exits_2_with_one_line(run_dir, capsys, tmp_path):
    ckpt = str(run_dir / "checkpoint.pt")
    one_line_error(capsys, ["evaluate", "--checkpoint", ckpt, "--eps", "abc"], "8/255")
    one_line_error(capsys, ["evaluate", "--checkpoint", ckpt, "--eps", "0.1", "--norm", "l3"],
                   "--norm")
    one_line_error(capsys, ["evaluate", "--checkpoint", str(tmp_path / "no.pt"), "--eps",
                            "0.1"], "checkpoint not found")
    one_line_error(capsys, ["evaluate", "--checkpoint", ckpt, "--eps", "0.1", "--attack",
                            "cw"], "attack must be one of")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    one_line_error(capsys, ["evaluate", "--checkpoint", str(tmp_path / "junk.pt"), "--eps",
                            "0.1"], "could not be read")
    one_line_error(capsys, ["train", "--out", str(tmp_path / "x")], "--data is required")
    one_line_error(capsys, ["train", *GAUSS, "--method", "extended", "--eps", "0.5", "--out",
                            str(tmp_path / "x")], "init_from")
    one_line_error(capsys, ["train", *GAUSS, "--method", "adversarial", "--out",
                            str(tmp_path / "x")], "eps must be > 0")
    one_line_error(capsys, ["train", *GAUSS, "--eps", "0.5", "--norm", "l2", "--out",
                            str(run_dir), "--method", "adversarial", "--epochs", "2",
                            "--pgd-steps", "5"], "--resume")
    one_line_error(capsys, ["train", *GAUSS, "--eps", "0.4", "--norm", "l2", "--out",
                            str(run_dir), "--method", "adversarial", "--epochs", "2",
                            "--pgd-steps", "5", "--resume"], "config differs")
    one_line_error(capsys, ["train", "--data", "mnist", "--data-root", str(tmp_path / "nodata"),
                            "--out", str(tmp_path / "m")], "MNIST")


def test_nan_loss_exit_2(capsys, tmp_path, monkeypatch):
    class NaNF:
        pad = staticmethod(torch.nn.functional.pad)

        @staticmethod
        def cross_entropy(logits, y):
            return torch.nn.functional.cross_entropy(logits, y) * math.nan

    monkeypatch.setattr(train_mod, "F", NaNF)
    one_line_error(capsys, ["train", *GAUSS, "--epochs", "1", "--out", str(tmp_path / "n")],
                   "training loss became non-finite (nan)")


@pytest.mark.skipif(not (MNIST_ROOT / "MNIST" / "raw").is_dir(), reason="offline MNIST absent")
def test_paper_mnist_preset_on_real_mnist(capsys, tmp_path):
    code, out, _ = run(capsys, ["train", "--preset", "paper-mnist", "--method", "adversarial",
                                "--eps", "0.1", "--epochs", "1", "--train-size", "256",
                                "--test-size", "64", "--data-root", str(MNIST_ROOT),
                                "--device", "cpu", "--out", str(tmp_path / "m"), "--json"])
    assert code == 0, out
    ck = load_checkpoint(tmp_path / "m" / "checkpoint.pt")
    c = ck["config"]
    # paper Sec. 3.1.1 settings, steps = 2.5 * 0.1 / 0.05 = 5
    assert (c["model"], c["optimizer"], c["lr"], c["batch_size"], c["pgd_step_size"]) == (
        "paper-cnn", "adam", 1e-3, 128, 0.05)
    assert c["data"]["name"] == "mnist" and c["preset"] == "paper-mnist"
    row = json.loads(out)["final"]
    assert 0 <= row["test_adv_acc"] <= row["test_clean_acc"] <= 1


# ------------------------------------------------------------------ issue 14: first hour


def test_evaluate_defaults_follow_the_checkpoint(run_dir, capsys):
    """No silent l_inf: an l2 run evaluated without --norm/--eps is evaluated at l2, eps 0.5.

    The defaulted call must equal the explicit ``--norm l2 --eps 0.5`` call exactly and
    differ from an explicit ``--norm linf`` call (so the equality can fail).
    """
    ckpt = str(run_dir / "checkpoint.pt")
    common = ["evaluate", "--checkpoint", ckpt, "--steps", "5", "--device", "cpu", "--json"]
    code, out, _ = run(capsys, common)
    assert code == 0
    d = json.loads(out)
    assert (d["norm"], d["eps"]) == ("l2", 0.5)
    assert d["threat_model_source"] == "norm and eps from the checkpoint"
    code, out, _ = run(capsys, [*common, "--norm", "l2", "--eps", "0.5"])
    e = json.loads(out)
    assert e["robust_accuracy"] == d["robust_accuracy"] and e["threat_model_source"] == "as given"
    code, out, _ = run(capsys, [*common, "--p", "inf", "--eps", "0.5"])  # --p is the alias
    f = json.loads(out)
    assert f["norm"] == "linf" and f["robust_accuracy"] < d["robust_accuracy"]
    code, out, _ = run(capsys, common[:-1])
    assert "l2, eps=0.5; norm and eps from the checkpoint" in out


def test_evaluate_standard_run_needs_eps(capsys, tmp_path):
    out = tmp_path / "s"
    assert main(["train", *GAUSS, "--epochs", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "None" not in text and "standard training: no adversarial evaluation" in text
    one_line_error(capsys, ["evaluate", "--checkpoint", str(out / "checkpoint.pt")],
                   "--eps is required")


def test_bad_checkpoint_files_one_line(tmp_path, capsys):
    """Empty and text files say what they are, not EOFError / UnpicklingError."""
    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "text.pt").write_text("hello, this is not a checkpoint\n")
    for name, match in (("empty.pt", "the file is empty"), ("text.pt", "a text file")):
        one_line_error(capsys, ["evaluate", "--checkpoint", str(tmp_path / name), "--eps",
                                "0.1"], match)
        err = capsys.readouterr().err
        assert "EOFError" not in err and "allow_pickle" not in err


def _help(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def test_help_lists_choices_and_defaults(capsys):
    from empirical import choices

    text = _help(capsys, ["train"])
    for name in (*choices.MODEL_NAMES, *choices.DATA_NAMES, *choices.METHODS):
        assert name in text, name
    for needle in ("default mlp", "default 3, or the preset's", "default linf",
                   "--norm NORM, --p NORM", "--threads N"):
        assert needle in text, needle
    text = _help(capsys, ["evaluate"])
    assert "default: the norm the run was trained with" in text
    assert "default: the run's training eps" in text
    text = _help(capsys, ["landscape"])
    assert all(k in text for k in choices.LANDSCAPE_KINDS)
    text = _help(capsys, ["compare"])
    assert all(t in text for t in (*choices.COMPARE_TASKS, *choices.COMPARE_METHODS))
    assert "about 35 minutes on one core" in _help(capsys, ["reproduce"])


def test_every_option_has_help_text():
    """``train --help`` had about 30 options without any (issue 14)."""
    import argparse

    from empirical.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = [f"{cmd} {a.option_strings[0]}" for cmd, p in sub.choices.items()
               for a in p._actions if a.option_strings and not a.help]
    assert not missing, missing


def test_choices_mirror_the_registries():
    """The torch-free name lists (for --help) equal the registries they stand for."""
    from empirical import choices, compare, config, data, evaluate, landscape, models, reproduce

    assert choices.DATA_NAMES == data.DATA_NAMES
    assert choices.MODEL_NAMES == models.MODEL_NAMES
    assert choices.METHODS == config.METHODS
    assert choices.NORM_NAMES == tuple(config.NORMS)
    assert choices.PRESETS == tuple(config.PRESETS)
    assert choices.ATTACKS == evaluate.ATTACKS
    assert choices.COMPARE_TASKS == tuple(compare.TASKS)
    assert choices.COMPARE_METHODS == compare.METHODS
    assert choices.SETUPS == tuple(reproduce.SETUPS)
    assert choices.EXPERIMENTS == reproduce.EXPERIMENTS
    assert choices.LANDSCAPE_KINDS == landscape.KINDS
    audit = pytest.importorskip("empirical.audit")
    assert choices.AUTOATTACK_MODES == audit.AUTOATTACK_MODES


def test_shown_train_defaults_are_the_real_ones():
    import dataclasses

    from empirical._cli_train import SHOWN_DEFAULTS
    from empirical.config import TrainConfig
    from empirical.data import DataSpec

    real = {f.name: f.default for cls in (TrainConfig, DataSpec)
            for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}
    assert {k: real[k] for k in SHOWN_DEFAULTS} == SHOWN_DEFAULTS


def test_threads_option_and_auto_default(run_dir, capsys, monkeypatch):
    from empirical import _cli_common

    before = torch.get_num_threads()
    seen = []
    real = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (seen.append(n), real(n)))
    code, _, _ = run(capsys, ["evaluate", "--checkpoint", str(run_dir / "checkpoint.pt"),
                              "--steps", "2", "--threads", "1", "--json"])
    assert code == 0 and seen[0] == 1 and torch.get_num_threads() == before  # restored
    one_line_error(capsys, ["evaluate", "--checkpoint", "x", "--threads", "0"], "--threads")
    # auto: OMP_NUM_THREADS wins; else idle cores (cpus - load), 1..8
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert _cli_common.auto_threads() == 3
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setattr(_cli_common.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(_cli_common.os, "getloadavg", lambda: (2.3, 2.0, 2.0))
    assert _cli_common.auto_threads() == 1  # the loaded 2-core machine of issue 14
    monkeypatch.setattr(_cli_common.os, "sched_getaffinity", lambda pid: set(range(16)),
                        raising=False)
    monkeypatch.setattr(_cli_common.os, "getloadavg", lambda: (0.2, 0.1, 0.1))
    assert _cli_common.auto_threads() == 8
    monkeypatch.setattr(_cli_common.os, "getloadavg", lambda: (12.5, 9.0, 9.0))
    assert _cli_common.auto_threads() == 3
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")  # two torchrun processes share the cores
    assert _cli_common.auto_threads() == 1
    monkeypatch.setattr(_cli_common.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert _cli_common.auto_threads() == 8


def test_bugs_surface_instead_of_exit_2(monkeypatch):
    """Only the library's user errors exit 2; a KeyError/TypeError in a command is a bug."""
    from empirical import _cli_train

    for exc in (KeyError("x"), TypeError("y")):
        def boom(args, exc=exc):
            raise exc

        monkeypatch.setattr(_cli_train, "run", boom)
        with pytest.raises(type(exc)):
            main(["train", "--out", "o", "--data", "gaussian"])


def test_run_files_follow_the_umask(tmp_path):
    """Run files were 0600 (mkstemp) beside 0644 PNGs; now both follow the umask."""
    import os

    from empirical.checkpoint import atomic_write_text

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.json", "{}")
        assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644
        os.umask(0o077)
        atomic_write_text(tmp_path / "b.json", "{}")
        assert (tmp_path / "b.json").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_download_hint_only_when_not_tried(tmp_path, capsys, monkeypatch):
    """Offline --download must not suggest --download again; without it, the CLI names it."""
    from torchvision import datasets

    class Offline:
        def __init__(self, root, train, download):
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz" if download
                               else "Dataset not found. You can use download=True")

    monkeypatch.setattr(datasets, "MNIST", Offline)
    base = ["train", "--data", "mnist", "--data-root", str(tmp_path), "--out",
            str(tmp_path / "m"), "--device", "cpu", "--quiet"]
    one_line_error(capsys, base, "--download")
    assert main([*base, "--download"]) == 2
    err = capsys.readouterr().err
    assert "the download failed" in err and err.count("\n") == 1
    assert "--download" not in err and "download=True" not in err


def test_default_data_root_does_not_depend_on_cwd(tmp_path, monkeypatch):
    from empirical import data

    monkeypatch.delenv("OPTROBUST_DATA_ROOT", raising=False)
    here = data.default_data_root()
    monkeypatch.chdir(tmp_path)
    assert data.default_data_root() == here == MNIST_ROOT
    monkeypatch.setenv("OPTROBUST_DATA_ROOT", str(tmp_path))
    assert data.default_data_root() == tmp_path


def test_unwritable_out_is_a_one_line_error(tmp_path, capsys):
    """An --out under a file (or a read-only folder) is refused before any work."""
    (tmp_path / "f").write_text("x")
    for cmd in (["train", *GAUSS], ["compare", "--task", "gaussian-l2"],
                ["reproduce"], ["landscape", "--checkpoint", "c.pt", "--eps", "0.1"]):
        one_line_error(capsys, [*cmd, "--out", str(tmp_path / "f")], "not a directory")
        one_line_error(capsys, [*cmd, "--out", str(tmp_path / "f" / "sub")],
                       "is not a writable directory")


def test_npz_passed_as_checkpoint_says_so(tmp_path, capsys):
    import numpy as np

    np.savez(tmp_path / "points.npz", points=np.zeros((2, 2)), labels=np.array([0, 1]))
    one_line_error(capsys, ["evaluate", "--checkpoint", str(tmp_path / "points.npz"), "--eps",
                            "0.1"], "a numpy .npz archive")


def test_default_eps_is_the_eps_the_weights_were_trained_at():
    """An iterative run stopped (or its best.pt) below its target: the last row's eps."""
    from empirical.checkpoint import trained_eps

    cfg = {"eps": 0.4, "method": "iterative"}
    rows = [{"epoch": 1, "eps": 0.1}, {"epoch": 2, "eps": 0.2}, {"epoch": 3, "eps": 0.3}]
    assert trained_eps({"config": cfg, "epoch": 2, "metrics": rows}) == 0.2
    assert trained_eps({"config": cfg, "epoch": 3, "metrics": rows}) == 0.3
    assert trained_eps({"config": cfg, "epoch": 5, "metrics": rows}) == 0.4  # no row: target
    assert trained_eps({"config": cfg, "epoch": 1, "metrics": []}) == 0.4


def test_auto_threads_bounds_property(monkeypatch):
    """Property: ``1 <= auto_threads() <= min(8, cores)`` and it never grows with the load.

    Statement of :func:`empirical._cli_common.auto_threads` (issue 14: a default that does
    not oversubscribe a loaded machine).
    """
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from empirical import _cli_common

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)

    @settings(max_examples=200, deadline=None)
    @given(cpus=st.integers(1, 256), load=st.floats(0, 500), extra=st.floats(0, 50),
           local=st.integers(1, 16))
    def check(cpus, load, extra, local):
        def threads(avg):
            with monkeypatch.context() as m:
                m.setattr(_cli_common.os, "sched_getaffinity", lambda pid: set(range(cpus)),
                          raising=False)
                m.setattr(_cli_common.os, "getloadavg", lambda: (avg, avg, avg))
                m.setenv("LOCAL_WORLD_SIZE", str(local))
                return _cli_common.auto_threads()

        n = threads(load)
        assert 1 <= n <= min(8, cpus)
        assert threads(load + extra) <= n

    check()


def test_typed_data_root_is_relative_to_the_cwd(tmp_path, monkeypatch, capsys):
    """A typed ``--data-root ../shared/data`` means that folder from here, not the default."""
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    one_line_error(capsys, ["train", "--data", "mnist", "--data-root", "../shared/data",
                            "--out", str(tmp_path / "m"), "--device", "cpu"],
                   f"mnist not found under {tmp_path / 'shared' / 'data'}")
