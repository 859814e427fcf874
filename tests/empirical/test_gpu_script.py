"""The full-scale GPU script (benchmarks/gpu_paper_mnist.py) at its --tiny size on the CPU.

What a GPU session cannot afford to find out there: the pipeline runs end to end and writes
its eight files, a rerun resumes from the checkpoints instead of retraining, and the fast
loop it trains with repeats :func:`empirical.train.train` exactly (same seeds, same PGD with
best-iterate tracking, same Adam steps) -- on the CPU bit for bit.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from empirical.checkpoint import load_checkpoint  # noqa: E402
from empirical.data import DataSpec, build_data  # noqa: E402
from empirical.train import TrainConfig, train  # noqa: E402

pytestmark = pytest.mark.empirical

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
needs_mnist = pytest.mark.skipif(
    not (SHARED_DATA / "MNIST" / "raw" / "train-images-idx3-ubyte").exists(),
    reason="MNIST not in ../shared/data")


def _script():
    """The script as a module (registered, as its dataclasses need)."""
    if "gpu_paper_mnist" in sys.modules:
        return sys.modules["gpu_paper_mnist"]
    spec = importlib.util.spec_from_file_location("gpu_paper_mnist",
                                                  ROOT / "benchmarks" / "gpu_paper_mnist.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["gpu_paper_mnist"] = mod
    spec.loader.exec_module(mod)
    return mod


OUT_FILES = {"summary.json", "log.jsonl", "table1.json", "table1.md", "figure1.png",
             "figure2.png", "figure7.png"}


@needs_mnist
@pytest.mark.slow
def test_tiny_run_writes_the_table_and_resumes(tmp_path):
    """End to end at --tiny; then a rerun after losing one run's checkpoint retrains only
    that run and re-evaluates only its rows (every other run is resumed as finished)."""
    gpm = _script()
    out, work = tmp_path / "out", tmp_path / "work"
    argv = ["--out", str(out), "--work", str(work), "--budget-s", "600", "--tiny",
            "--device", "cpu", "--data-root", str(SHARED_DATA), "--quiet"]
    assert gpm.main(argv) == 0
    assert {p.name for p in out.iterdir()} == OUT_FILES  # what a device session fetches
    table = json.loads((out / "table1.json").read_text())["table"]
    assert [r["run"] for r in table] == list(gpm.RUN_ORDER)
    for r in table:
        for eps in gpm.TABLE_EPS:
            # worst case over PGD and AutoAttack never above PGD alone on the same images
            assert 0.0 <= r[f"pgd_acc@{eps:g}"] <= r["clean_acc"] <= 1.0
            if f"worst_acc@{eps:g}" in r:
                assert r[f"worst_acc@{eps:g}"] <= r[f"pgd_acc_same_images@{eps:g}"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["training"]["complete"]
    assert set(summary["metrics"]) == set(gpm.RUN_ORDER)
    assert any("--tiny" in c for c in summary["plan"]["cuts"])  # says what it cut
    iat = summary["metrics"]["iat-0-0.4"]
    assert [r["eps"] for r in iat] == [0.0, 0.4]
    # the checkpoints are the library's: load_run / train(resume=True) read them
    ck = load_checkpoint(work / "runs" / "ext-0.3-0.4" / "checkpoint.pt")
    assert ck["epoch"] == 1 and ck["config"]["method"] == "extended"

    before = {n: load_checkpoint(work / "runs" / n / "checkpoint.pt")["model"]
              for n in gpm.RUN_ORDER}
    (work / "runs" / "ext-0.3-0.4" / "checkpoint.pt").unlink()
    for p in (work / "eval").glob("ext-0.3-0.4@*.json"):
        p.unlink()
    n_log = len((out / "log.jsonl").read_text().splitlines())
    assert gpm.main(argv) == 0
    events = [json.loads(line) for line in
              (out / "log.jsonl").read_text().splitlines()[n_log:]]
    trained = {e["run"] for e in events if e["event"] == "epoch"}
    assert trained == {"ext-0.3-0.4"}
    assert {e["run"] for e in events if e["event"] == "eval_pgd"} == {"ext-0.3-0.4"}
    assert any(e["event"] == "plan_reused" for e in events)
    after = load_checkpoint(work / "runs" / "ext-0.3-0.4" / "checkpoint.pt")["model"]
    for k, v in before["ext-0.3-0.4"].items():  # retrained from the same seeds: the same
        assert torch.equal(v, after[k])


def _small(data_root: Path, epochs: int) -> TrainConfig:
    spec = DataSpec(name="mnist", data_root=str(data_root), train_size=200, test_size=64,
                    seed=0)
    return TrainConfig(data=spec, model="small-cnn", method="adversarial", eps=0.1,
                       epochs=epochs, pgd_steps=None, pgd_step_size=0.05, eval_size=64,
                       seed=3)


def _tensors(cfg: TrainConfig) -> dict[str, torch.Tensor]:
    b = build_data(cfg.data)
    (xtr, ytr), (xte, yte) = b.train.tensors, b.test.tensors
    return {"x_train": xtr, "y_train": ytr, "x_test": xte, "y_test": yte}


@needs_mnist
def test_fast_loop_repeats_the_library_loop_exactly_on_cpu(tmp_path):
    """Same seeds -> the same training: every metric of every epoch and every weight equal
    to :func:`empirical.train.train`'s (200 images, 2 batches of which one partial, eps 0.1,
    5-step PGD from a random start, 2 epochs)."""
    gpm = _script()
    cfg = _small(SHARED_DATA, 2)
    lib = train(cfg, tmp_path / "lib", device="cpu", quiet=True)
    fast = gpm.FastRun("fast", cfg, tmp_path / "fast", _tensors(cfg), torch.device("cpu"))
    assert gpm.train_interleaved([fast], math.inf)
    for a, b in zip(lib.metrics, fast.history, strict=True):
        assert {k: v for k, v in a.items() if k != "seconds"} == \
            {k: v for k, v in b.items() if k != "seconds"}
    lib_w = load_checkpoint(tmp_path / "lib" / "checkpoint.pt")["model"]
    for k, v in fast.model.state_dict().items():
        assert torch.equal(v, lib_w[k]), k
    # and the library resumes the fast loop's checkpoint as its own
    more = train(_small(SHARED_DATA, 3), tmp_path / "fast", device="cpu", quiet=True,
                 resume=True)
    assert more.epochs_completed == 3


@needs_mnist
def test_fast_loop_resume_and_interleaving_change_nothing(tmp_path):
    """A run cut after one epoch and resumed, trained interleaved with another run, ends with
    the weights of an uninterrupted solo run (all randomness is derived per epoch)."""
    gpm = _script()
    cfg = _small(SHARED_DATA, 2)
    data = _tensors(cfg)
    cpu = torch.device("cpu")
    solo = gpm.FastRun("solo", cfg, tmp_path / "solo", data, cpu)
    assert gpm.train_interleaved([solo], math.inf)
    killed = gpm.FastRun("killed", cfg, tmp_path / "run", data, cpu)
    for _ in killed.epoch_iter():  # epoch 1, checkpointed
        pass
    next(killed.epoch_iter())  # one batch of epoch 2, then "killed"
    del killed
    other = gpm.FastRun("other", _small(SHARED_DATA, 1), tmp_path / "other", data, cpu)
    resumed = gpm.FastRun("resumed", cfg, tmp_path / "run", data, cpu)
    assert resumed.epoch == 1
    assert gpm.train_interleaved([resumed, other], math.inf)
    assert resumed.epoch == 2 and other.epoch == 1
    for k, v in solo.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k
    assert [r["train_adv_loss"] for r in resumed.history] == \
        [r["train_adv_loss"] for r in solo.history]


@needs_mnist
def test_plan_cuts_epochs_to_fit_and_says_so(tmp_path):
    """Sizing: with a probe that makes the paper's protocol ~4x too long, the plan cuts the
    epochs by one factor, keeps extended and standard training, and names the cut."""
    gpm = _script()
    spec = DataSpec(name="mnist", data_root=str(SHARED_DATA))
    data = {"spec": spec, "x_train": torch.zeros(60000, 1, 1, 1)}
    probe = {"chosen": "eager-fp32", "interleave_speedup": 1.0,
             "modes": {"eager-fp32": {"s_per_batch_15_steps": 0.017,
                                      "s_per_batch_standard": 0.001}}}
    full = gpm.make_plan(data, tmp_path, probe, 1e9, gpm.FULL, tiny=False, seed=0, model=None)
    assert full["factor"] == 1.0 and full["cuts"] == []
    assert json.dumps(full)  # plain JSON
    adv = full["configs"]["adv-0.3"]
    assert (adv["epochs"], adv["eps"], adv["batch_size"], adv["lr"], adv["pgd_step_size"],
            adv["model"]) == (30, 0.3, 128, 1e-3, 0.05, "paper-cnn")
    iat = full["configs"]["iat-0-0.4"]
    assert (iat["eps_increment"], iat["epochs"]) == (0.01, 43)  # 41 to reach 0.4, then 2
    budget = full["predicted_wall_s"] / 4
    cut = gpm.make_plan(data, tmp_path, probe, budget, gpm.FULL, tiny=False, seed=0,
                        model=None)
    assert cut["factor"] < 1 and cut["predicted_wall_s"] <= budget
    assert cut["configs"]["adv-0.3"]["epochs"] < 30
    assert cut["configs"]["ext-0.3-0.4"]["epochs"] == 5
    assert cut["configs"]["standard"]["epochs"] == 5
    assert "adversarial 30 ->" in cut["cuts"][0]


@needs_mnist
def test_hard_budget_stops_cleanly_and_says_what_ran_out(tmp_path):
    """A budget too small for the pipeline: the command still exits 0 within about the
    budget, with a summary that says the budget ran out and which phases had finished."""
    import time

    gpm = _script()
    out = tmp_path / "out"
    t0 = time.perf_counter()
    # 0.5 s: less than the throughput probe alone needs (hundreds of optimizer steps), also
    # with the data already cached by an earlier test on an idle machine (3 s was enough
    # there for the whole tiny pipeline to finish, so the budget never ran out)
    rc = gpm.main(["--out", str(out), "--work", str(tmp_path / "work"), "--budget-s", "0.5",
                   "--tiny", "--device", "cpu", "--data-root", str(SHARED_DATA), "--quiet"])
    assert rc == 0
    assert time.perf_counter() - t0 < 0.5 + 30  # the deadline interrupts, not the end of work
    summary = json.loads((out / "summary.json").read_text())
    assert any("hard budget of 0.5 s ran out" in c for c in summary["plan"]["cuts"])
    events = [json.loads(line)["event"] for line in (out / "log.jsonl").read_text().splitlines()
              if line]
    assert "budget_exceeded" in events and "done" in events
