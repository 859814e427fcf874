"""Resume == uninterrupted (bit for bit on CPU), and a SIGKILLed run resumes cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from empirical.checkpoint import load_checkpoint, read_jsonl  # noqa: E402
from empirical.data import DataSpec  # noqa: E402
from empirical.train import TrainConfig, train  # noqa: E402

pytestmark = pytest.mark.empirical
ROOT = Path(__file__).resolve().parents[2]


def _same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _strip_seconds(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


@pytest.mark.parametrize("method", ["adversarial", "iterative"])
def test_resume_equals_uninterrupted(tmp_path, method):
    extra = {"eps_start": 0.1} if method == "iterative" else {}
    c = TrainConfig(data=DataSpec("gaussian", dim=5, train_size=512, test_size=128),
                    model="mlp", method=method, eps=0.5, epochs=3, batch_size=64,
                    pgd_steps=5, optimizer="sgd", lr=0.05, lr_milestones=(2,), **extra)
    full = train(c, tmp_path / "full", quiet=True)
    part = train(c, tmp_path / "part", quiet=True, stop_after=1)
    assert part.epochs_completed == 1
    part = train(c, tmp_path / "part", quiet=True, resume=True, stop_after=1)
    assert part.epochs_completed == 2
    done = train(c, tmp_path / "part", quiet=True, resume=True)
    a = load_checkpoint(tmp_path / "full" / "checkpoint.pt")
    b = load_checkpoint(tmp_path / "part" / "checkpoint.pt")
    assert _same_weights(a["model"], b["model"])  # exact, not approximate
    assert a["optimizer"]["param_groups"][0]["lr"] == b["optimizer"]["param_groups"][0]["lr"]
    assert _strip_seconds(full.metrics) == _strip_seconds(done.metrics)
    assert _strip_seconds(read_jsonl(tmp_path / "part" / "metrics.jsonl")) == _strip_seconds(
        full.metrics)


def test_resume_can_extend_a_constant_schedule(tmp_path):
    base = dict(data=DataSpec("gaussian", dim=5, train_size=256, test_size=64), model="mlp",
                method="adversarial", eps=0.5, batch_size=64, pgd_steps=3)
    train(TrainConfig(epochs=1, **base), tmp_path / "r", quiet=True)
    r = train(TrainConfig(epochs=2, **base), tmp_path / "r", quiet=True, resume=True)
    assert [m["epoch"] for m in r.metrics] == [1, 2]
    ref = train(TrainConfig(epochs=2, **base), tmp_path / "ref", quiet=True)
    assert _same_weights(load_checkpoint(tmp_path / "r" / "checkpoint.pt")["model"],
                         load_checkpoint(tmp_path / "ref" / "checkpoint.pt")["model"])
    assert ref.epochs_completed == 2


def test_sigkill_mid_epoch_then_resume(tmp_path):
    out = tmp_path / "killed"
    args = [sys.executable, "-m", "empirical", "train", "--data", "gaussian", "--dim", "20",
            "--train-size", "3000", "--test-size", "200", "--model", "mlp",
            "--method", "adversarial", "--eps", "0.3", "--pgd-steps", "10",
            "--batch-size", "32", "--epochs", "3", "--seed", "1", "--device", "cpu",
            "--quiet", "--out"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(args + [str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ckpt = out / "checkpoint.pt"
    deadline = time.monotonic() + 90
    try:
        while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ckpt.exists(), proc.stderr.read().decode() if proc.poll() is not None else ""
        t_first = time.monotonic()
        while time.monotonic() - t_first < 0.2:  # inside epoch 2 (an epoch takes ~1 s)
            assert load_checkpoint(ckpt)["epoch"] >= 1  # readable at any instant
        assert proc.poll() is None, "run finished before it could be killed; make it longer"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert time.monotonic() - t_first < 30
    st = load_checkpoint(ckpt)  # loads: never a torn file
    assert st["epoch"] in (1, 2)  # 1 unless the machine ran epoch 2 within 0.2 s
    # metrics.jsonl is written right after the checkpoint: at most one row behind it
    assert len(read_jsonl(out / "metrics.jsonl")) in (st["epoch"] - 1, st["epoch"])
    res = subprocess.run(args + [str(out), "--resume"], cwd=ROOT, env=env,
                         capture_output=True, timeout=120)
    assert res.returncode == 0, res.stderr.decode()
    st = load_checkpoint(ckpt)
    rows = read_jsonl(out / "metrics.jsonl")
    assert st["epoch"] == 3 and [r["epoch"] for r in rows] == [1, 2, 3]
    # the same command run without interruption (same process settings) gives the same weights
    ref = tmp_path / "ref"
    res = subprocess.run(args + [str(ref)], cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert res.returncode == 0, res.stderr.decode()
    assert _same_weights(st["model"], load_checkpoint(ref / "checkpoint.pt")["model"])
    assert _strip_seconds(rows) == _strip_seconds(read_jsonl(ref / "metrics.jsonl"))
