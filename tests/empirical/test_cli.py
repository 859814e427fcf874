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
