"""Audit any model (issue 11): end to end from the CLI, the API, and bad input.

The model class is defined here, in the test module (not in the package), as a user's own
script would; the CLI imports it by file path (``--model this_file.py:UserNet``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from empirical.audit import audit  # noqa: E402
from empirical.cli import main  # noqa: E402
from empirical.data import DataSpec, build_data  # noqa: E402

pytestmark = pytest.mark.empirical

DATA_ROOT = Path(__file__).resolve().parents[3] / "shared" / "data"
HAS_MNIST = (DATA_ROOT / "MNIST" / "raw").is_dir()
needs_mnist = pytest.mark.skipif(not HAS_MNIST, reason="MNIST not under ../shared/data")

ROW_FIELDS = {"eps", "p", "n", "clean_accuracy", "robust_accuracy", "per_attack", "per_sample",
              "optimal_error_lower", "optimal_error_upper", "optimal_status", "optimal_source",
              "optimal_solver", "optimal_accuracy_low", "optimal_accuracy_high",
              "optimal_robust_accuracy", "eps0", "constant_error", "held_out", "gap",
              "gap_low", "broken_evaluation", "checklist", "seconds"}


class UserNet(nn.Module):
    """A user's MNIST network: BatchNorm and Dropout, nothing from the package."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 5, stride=2), nn.BatchNorm2d(8),
                                      nn.ReLU(), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(8 * 12 * 12, 32), nn.ReLU(), nn.Dropout(0.2),
                                  nn.Linear(32, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _subset(n_test: int, n_train: int) -> tuple:
    """The images the CLI selects: a class-stratified subset, seed 0."""
    b = build_data(DataSpec(name="mnist", data_root=str(DATA_ROOT), test_size=n_test,
                            train_size=n_train, seed=0))
    return (*b.test.tensors, *b.train.tensors)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """UserNet trained for a few full-batch steps, saved as a plain state_dict."""
    _, _, xt, yt = _subset(10, 300)
    torch.manual_seed(0)
    model = UserNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(15):
        opt.zero_grad()
        nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()
    path = tmp_path_factory.mktemp("user") / "usernet.pt"
    torch.save(model.state_dict(), path)
    return path


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(["audit", *argv])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@needs_mnist
def test_cli_end_to_end(weights, tmp_path, capsys):
    out_dir = tmp_path / "audit"
    code, out, err = _run(
        capsys, "--model", f"{__file__}:UserNet", "--weights", str(weights),
        "--dataset", "mnist", "--data-root", str(DATA_ROOT), "--norm", "linf",
        "--eps", "0.05,0.1", "--n", "30", "--train-n", "60", "--autoattack", "reduced",
        "--steps", "5", "--restarts", "2", "--checklist-n", "12", "--seed", "0",
        "--out", str(out_dir), "--device", "cpu", "--quiet", "--json")
    assert code == 0, err
    payload = json.loads(out)
    on_disk = json.loads((out_dir / "audit.json").read_text())
    assert on_disk["rows"] == payload["rows"]
    assert (out_dir / "audit.png").stat().st_size > 1000
    assert "| eps |" in (out_dir / "audit.md").read_text()
    x, y, xt, yt = _subset(30, 60)
    import optrobust as orb

    for row in payload["rows"]:
        assert set(row) == ROW_FIELDS
        assert row["n"] == 30 and row["p"] == "linf"
        assert set(row["per_attack"]) == {"pgd", "autoattack"}
        assert row["robust_accuracy"] <= min(row["per_attack"].values()) <= row["clean_accuracy"]
        ps = row["per_sample"]
        for i in range(30):  # per sample: worst case <= each attack <= clean
            assert ps["worst_case"][i] <= ps["pgd"][i] <= ps["clean"][i]
            assert ps["worst_case"][i] <= ps["autoattack"][i] <= ps["clean"][i]
            assert ps["worst_case"][i] == (ps["pgd"][i] and ps["autoattack"][i])
        # the optimum comes from optrobust: the same value from an independent call
        assert row["optimal_source"].startswith("optrobust")
        exact = orb.optimal_robust_error(
            orb.FiniteDistribution(x.reshape(30, -1).double().numpy(), y.numpy()),
            eps=row["eps"], p=math.inf).error
        assert row["optimal_error_lower"] - 1e-9 <= exact <= row["optimal_error_upper"] + 1e-9
        assert row["gap"] == pytest.approx(row["optimal_accuracy_high"]
                                           - row["robust_accuracy"])
        assert row["broken_evaluation"] == (row["robust_accuracy"]
                                            > row["optimal_accuracy_high"] + 1e-9)
        assert row["checklist"]["n"] == 12
        assert set(row["checklist"]["verdicts"]) >= {"pgd_vs_fgsm", "unbounded"}
        if "dataset_limits" in row["optimal_source"]:
            ho = row["held_out"]
            assert ho["n_train"] == 60 and 0 <= ho["ci_low"] <= ho["error"] <= ho["ci_high"]


@needs_mnist
def test_api_with_a_dataloader_and_normalization(weights):
    """The API on a DataLoader with the normalization inside the model equals the API on
    tensors with the same normalization given as normalize= (same pixel-space attack)."""
    x, y, _, _ = _subset(20, 10)
    base = UserNet()
    base.load_state_dict(torch.load(weights, weights_only=True))
    mean, std = 0.1307, 0.3081

    class Inline(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = base

        def forward(self, z):
            return self.net((z - mean) / std)

    # the same weights, trained on pixels: feeding normalized pixels changes the
    # decisions, but both spellings attack the same function of the pixels
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=7)
    kw = dict(eps=[0.1], autoattack="off", steps=4, restarts=1, checklist=False,
              progress=False)
    a = audit(Inline(), loader, **kw)
    b = audit(base, x, y, normalize=(mean, std), **kw)
    assert a.rows[0].per_sample == b.rows[0].per_sample
    assert a.rows[0].optimal_error_lower == b.rows[0].optimal_error_lower


class Threshold(nn.Module):
    """Class 1 iff the first pixel exceeds 0.5: a step function, zero input gradient."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        one = (z.reshape(len(z), -1)[:, 0] > 0.5).to(z.dtype)
        return torch.stack([1 - one, one], dim=1)


def test_api_flags_a_broken_evaluation():
    """FGSM on a zero-gradient model returns the clean inputs, so the model looks perfectly
    robust; at an eps where the balls of different classes meet the optimum is 1/2, and the
    audit must flag the evaluation as broken (at a small eps it must not)."""
    # two 1x2x2 images per class, the classes 0.25 apart in l_inf: at eps 0.2 every ball
    # of class 0 meets every ball of class 1 (0.25 <= 2 eps): optimal robust accuracy 1/2
    x = torch.tensor([[0.40, 0.40, 0.40, 0.40], [0.40, 0.41, 0.40, 0.40],
                      [0.65, 0.65, 0.65, 0.65], [0.65, 0.66, 0.65, 0.65]]).reshape(4, 1, 2, 2)
    y = torch.tensor([0, 0, 1, 1])
    res = audit(Threshold(), x, y, eps=[0.01, 0.2], autoattack="off", attacks=("fgsm",),
                checklist=False, progress=False)
    low, high = res.rows
    assert low.optimal_robust_accuracy == 1.0
    assert low.robust_accuracy == 1.0 and not low.broken_evaluation
    assert high.optimal_robust_accuracy == 0.5 and high.optimal_status == "exact"
    assert high.robust_accuracy == 1.0 and high.broken_evaluation and res.broken_evaluation
    assert high.gap == -0.5
    # a real attack (PGD's random starts reach past 0.5 from both sides) is not broken
    pgd = audit(Threshold(), x, y, eps=[0.2], autoattack="off", attacks=("pgd",), steps=2,
                restarts=20, checklist=False, progress=False)
    assert not pgd.broken_evaluation


@pytest.mark.parametrize("kw, match", [
    ({"eps": [8]}, "0-255"), ({"eps": [-0.1]}, "eps"), ({"p": "l3"}, "p"),
    ({"autoattack": "yes"}, "autoattack"), ({"attacks": ("cw",)}, "attacks"),
    ({"steps": 0}, "steps"), ({"time_limit": 0}, "time_limit"),
    ({"train_points": torch.zeros(2, 4)}, "together"), ({"box": (1, 0)}, "box"),
])
def test_api_bad_input(kw, match):
    x = torch.rand(4, 1, 2, 2)
    y = torch.tensor([0, 1, 0, 1])
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    args = {"eps": [0.1], "autoattack": "off", "checklist": False, "progress": False, **kw}
    with pytest.raises(ValueError, match=match):
        audit(model, x, y, **args)


def test_api_inputs_outside_the_box_and_shape_mismatch():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    y = torch.tensor([0, 1])
    kw = {"eps": [0.1], "autoattack": "off", "checklist": False, "progress": False}
    with pytest.raises(ValueError, match="outside the box"):
        audit(model, 255 * torch.rand(2, 1, 2, 2) + 2, y, **kw)
    with pytest.raises(ValueError, match="does not accept inputs of shape"):
        audit(model, torch.rand(2, 1, 3, 3), y, **kw)
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        audit(model, torch.rand(2, 1, 2, 2), torch.tensor([0, 5]), **kw)


def _one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture()
def bad_files(tmp_path, weights):
    f = {}
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom at import')\n")
    f["broken_py"] = tmp_path / "broken.py"
    torch.save(nn.Linear(3, 3).state_dict(), tmp_path / "other.pt")
    f["other_weights"] = tmp_path / "other.pt"
    torch.save(UserNet(), tmp_path / "pickled.pt")
    f["pickled"] = tmp_path / "pickled.pt"
    (tmp_path / "text.pt").write_text("not a torch file\n")
    f["text"] = tmp_path / "text.pt"
    import numpy as np

    np.savez(tmp_path / "cifar_like.npz", x_test=np.random.default_rng(0).random(
        (6, 3, 32, 32)).astype(np.float32), y_test=np.arange(6) % 2)
    f["cifar_like"] = tmp_path / "cifar_like.npz"
    np.savez(tmp_path / "nokeys.npz", images=np.zeros((2, 28, 28)))
    f["nokeys"] = tmp_path / "nokeys.npz"
    f["weights"] = weights
    return f


@needs_mnist
@pytest.mark.parametrize("case, needles", [
    ("missing_py", ["--model", "no such Python file"]),
    ("missing_module", ["--model", "cannot import module"]),
    ("broken_py", ["--model", "boom at import"]),
    ("missing_attr", ["--model", "no attribute"]),
    ("weights_do_not_fit", ["--weights", "do not fit the model"]),
    ("pickled_weights", ["--weights", "state_dict"]),
    ("text_weights", ["--weights", "not a torch file"]),
    ("shape_mismatch", ["does not accept inputs of shape (3, 32, 32)"]),
    ("eps_scale", ["--eps", "0-255", "--force"]),
    ("missing_data_root", ["--data-root"]),
    ("npz_keys", ["--dataset", "x_test"]),
    ("no_model", ["--model is required"]),
    ("bad_normalize", ["--normalize"]),
])
def test_cli_bad_input_one_line_exit_2(case, needles, bad_files, tmp_path, capsys):
    here = f"{__file__}:UserNet"
    base = {"--model": here, "--weights": str(bad_files["weights"]), "--dataset": "mnist",
            "--data-root": str(DATA_ROOT), "--eps": "0.1", "--n": "10",
            "--autoattack": "off", "--no-checklist": None, "--out": str(tmp_path / "o"),
            "--quiet": None, "--device": "cpu"}
    change = {
        "missing_py": {"--model": str(tmp_path / "nope.py") + ":Net"},
        "missing_module": {"--model": "no_such_module_xyz:Net"},
        "broken_py": {"--model": f"{bad_files['broken_py']}:Net"},
        "missing_attr": {"--model": f"{__file__}:NoSuchNet"},
        "weights_do_not_fit": {"--weights": str(bad_files["other_weights"])},
        "pickled_weights": {"--weights": str(bad_files["pickled"])},
        "text_weights": {"--weights": str(bad_files["text"])},
        "shape_mismatch": {"--dataset": str(bad_files["cifar_like"])},
        "eps_scale": {"--eps": "8"},
        "missing_data_root": {"--data-root": str(tmp_path / "no_data_here")},
        "npz_keys": {"--dataset": str(bad_files["nokeys"])},
        "no_model": {"--model": None, "--weights": None},
        "bad_normalize": {"--normalize": "0.1,0.2,0.3"},
    }[case]
    opts = {**base, **change}
    argv = []
    for k, v in opts.items():
        if k in change and v is None:
            continue
        argv += [k] if v is None else [k, v]
    code, _, err = _run(capsys, *argv)
    _one_line_error(code, err, *needles)


@needs_mnist
def test_cli_torchscript_model(weights, tmp_path, capsys):
    """--model FILE.pt (TorchScript, weights inside) gives the same audit as the factory with
    the state_dict."""
    model = UserNet()
    model.load_state_dict(torch.load(weights, weights_only=True))
    model.eval()
    script = tmp_path / "usernet_script.pt"
    torch.jit.save(torch.jit.trace(model, torch.rand(2, 1, 28, 28)), str(script))
    common = ["--dataset", "mnist", "--data-root", str(DATA_ROOT), "--eps", "0.05",
              "--n", "12", "--autoattack", "off", "--no-checklist", "--steps", "3",
              "--restarts", "1", "--device", "cpu", "--quiet", "--json"]
    code_a, out_a, err_a = _run(capsys, "--model", str(script), "--out", str(tmp_path / "a"),
                                *common)
    code_b, out_b, err_b = _run(capsys, "--model", f"{__file__}:UserNet", "--weights",
                                str(weights), "--out", str(tmp_path / "b"), *common)
    assert code_a == 0 and code_b == 0, err_a + err_b
    a, b = json.loads(out_a)["rows"][0], json.loads(out_b)["rows"][0]
    assert a["per_sample"] == b["per_sample"]
