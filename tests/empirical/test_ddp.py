"""DistributedDataParallel with 2 gloo CPU processes under torchrun.

Cross-check: each rank takes ``order[rank::2]`` with local batch ``B/2``, so the union of
the ranks' batch ``i`` is the single-process batch ``i``; with gradient averaging (equal
local batch sizes, no batch norm, no random start) the two runs follow the same
trajectory up to float rounding of the all-reduce.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from empirical.checkpoint import load_checkpoint, read_jsonl  # noqa: E402

pytestmark = pytest.mark.empirical
ROOT = Path(__file__).resolve().parents[2]
TORCHRUN = shutil.which("torchrun") or str(Path(sys.executable).with_name("torchrun"))

ARGS = ["train", "--data", "gaussian", "--dim", "5", "--train-size", "512", "--test-size",
        "128", "--model", "mlp", "--method", "adversarial", "--eps", "0.5", "--norm", "l2",
        "--pgd-steps", "5", "--no-random-start", "--epochs", "2", "--batch-size", "64",
        "--device", "cpu", "--json"]


@pytest.mark.skipif(not Path(TORCHRUN).exists(), reason="torchrun not installed")
def test_ddp_two_gloo_processes_match_single_process(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    ddp = subprocess.run(
        [TORCHRUN, "--standalone", "--nproc_per_node=2", "-m", "empirical", *ARGS,
         "--out", str(tmp_path / "ddp")],
        cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert ddp.returncode == 0, ddp.stderr.decode()[-2000:]
    # rank 0 alone reports: one JSON line
    assert len([ln for ln in ddp.stdout.decode().splitlines() if ln.startswith("{")]) == 1
    single = subprocess.run([sys.executable, "-m", "empirical", *ARGS, "--out",
                             str(tmp_path / "one")], cwd=ROOT, env=env, capture_output=True,
                            timeout=120)
    assert single.returncode == 0, single.stderr.decode()[-2000:]
    a = load_checkpoint(tmp_path / "ddp" / "checkpoint.pt")
    b = load_checkpoint(tmp_path / "one" / "checkpoint.pt")
    assert a["epoch"] == b["epoch"] == 2
    diff = max((a["model"][k] - b["model"][k]).abs().max().item() for k in a["model"])
    assert diff < 1e-5
    ra, rb = read_jsonl(tmp_path / "ddp" / "metrics.jsonl"), read_jsonl(tmp_path / "one" /
                                                                        "metrics.jsonl")
    for x, y in zip(ra, rb, strict=True):
        assert x["train_acc"] == y["train_acc"] and x["test_clean_acc"] == y["test_clean_acc"]
        assert abs(x["train_adv_loss"] - y["train_adv_loss"]) < 1e-5
    # no stray files from rank 1
    assert sorted(p.name for p in (tmp_path / "ddp").iterdir()) == [
        "best.pt", "checkpoint.pt", "config.json", "metrics.jsonl"]
