"""The robustness-evaluation checklist (paper Appendix C): numbers, verdicts, masking, CLI."""

from __future__ import annotations

import json
import math

import pytest

torch = pytest.importorskip("torch")

from empirical import checklist as cl_mod  # noqa: E402
from empirical.checklist import Checklist, CheckResult, run_checklist  # noqa: E402
from empirical.cli import main  # noqa: E402
from empirical.models import build_model  # noqa: E402

pytestmark = pytest.mark.empirical

NAMES = ["pgd_vs_fgsm", "unbounded", "monotone_eps", "restarts_steps", "targeted_all",
         "noise_vs_pgd", "transfer_vs_whitebox", "autoattack_gap", "gradient_masking"]


class Quantized(torch.nn.Module):
    """Rounds the input to multiples of 1/2 first: the input gradient is exactly zero, so every
    gradient attack is blind while the decision is (nearly) that of the inner model."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.inner(torch.round(z * 2) / 2)


@pytest.fixture(scope="module")
def test_batch(gaussian_bundle):
    x, y = gaussian_bundle.test.tensors
    return x[:64], y[:64]


@pytest.fixture(scope="module")
def honest(gaussian_mlp, test_batch):
    return run_checklist(gaussian_mlp, *test_batch, eps=0.3, norm="linf", steps=10)


@pytest.fixture(scope="module")
def masked(gaussian_mlp, test_batch):
    return run_checklist(Quantized(gaussian_mlp), *test_batch, eps=0.3, norm="linf", steps=10)


def test_every_check_has_numbers(honest):
    assert [c.name for c in honest.checks] == NAMES
    for c in honest.checks:
        if c.passed is None:
            assert c.detail.startswith("skipped"), c
            continue
        assert c.numbers, c.name
        for v in c.numbers.values():
            if isinstance(v, float):
                assert math.isfinite(v)
    by = {c.name: c for c in honest.checks}
    n = by["pgd_vs_fgsm"].numbers
    assert 0.85 < n["clean_acc"] <= 1 and n["pgd_acc"] <= n["clean_acc"]
    assert by["monotone_eps"].numbers["acc"][0] == n["clean_acc"]
    assert by["autoattack_gap"].passed is None  # not image-shaped
    assert "image" in by["autoattack_gap"].detail


def test_honest_model_passes(honest):
    """A plainly trained smooth MLP shows no masking sign; the unbounded attack reaches 0%."""
    by = {c.name: c for c in honest.checks}
    assert by["unbounded"].numbers["unbounded_acc"] == 0.0
    failed = [c.name for c in honest.checks if c.passed is False]
    assert failed == [], honest.to_text()
    assert by["gradient_masking"].numbers["zero_grad_fraction"] == 0.0


def test_gradient_masked_model_fails(masked, honest):
    """Zero-gradient quantization: PGD sees nothing, noise and transfer do better."""
    by = {c.name: c for c in masked.checks}
    pgd_acc = by["noise_vs_pgd"].numbers["pgd_acc"]
    assert by["noise_vs_pgd"].passed is False
    assert by["noise_vs_pgd"].numbers["noise_acc"] < pgd_acc
    assert by["transfer_vs_whitebox"].passed is False
    assert by["unbounded"].passed is False and by["unbounded"].numbers["unbounded_acc"] > 0.5
    gm = by["gradient_masking"]
    assert gm.passed is False and gm.numbers["zero_grad_fraction"] == 1.0
    assert {"unbounded", "noise_vs_pgd"} <= set(gm.numbers["failed_checks"])
    # PGD on the masked model is far weaker than on the same decision rule unmasked
    assert pgd_acc > {c.name: c for c in honest.checks}["pgd_vs_fgsm"].numbers["pgd_acc"] + 0.1


def test_to_dict_and_text(masked):
    d = json.loads(json.dumps(masked.to_dict()))
    assert d["passed"] + d["failed"] + d["skipped"] == len(NAMES)
    assert d["failed"] >= 3 and d["skipped"] == 1
    assert [c["verdict"] for c in d["checklist"]] == [c.verdict for c in masked.checks]
    text = masked.to_text().splitlines()
    assert text[0].startswith("check") and "FAIL" in masked.to_text()
    col = text[0].index("verdict")
    assert all(line[col:col + 4] in ("PASS", "FAIL", "SKIP") for line in text[1:-1])


def test_roughness_measure():
    """Smooth surfaces score near 0, a step about 2 (grid independent), flat exactly 0."""
    t = torch.linspace(-1, 1, 11)
    a, b = torch.meshgrid(t, t, indexing="ij")
    assert cl_mod._roughness(a + 2 * b) < 1e-5
    assert cl_mod._roughness(a ** 2 + b ** 2) < 0.5
    assert cl_mod._roughness((a > 0.05).float()) > 1.5
    assert cl_mod._roughness(torch.zeros(11, 11)) == 0.0


def test_verdicts_follow_thresholds(box_mlp):
    model, x, y = box_mlp
    res = run_checklist(model, x[:60], y[:60], eps=0.1, norm="l2", lower=0.0, upper=1.0,
                        steps=5, transfer_source="off", autoattack="off")
    by = {c.name: c for c in res.checks}
    assert by["transfer_vs_whitebox"].passed is None
    assert by["autoattack_gap"].detail == "skipped: autoattack='off'"
    tol = by["pgd_vs_fgsm"].numbers["tol"]
    n = by["pgd_vs_fgsm"].numbers
    assert by["pgd_vs_fgsm"].passed == (n["pgd_acc"] <= n["fgsm_acc"] + tol)
    m = by["monotone_eps"].numbers
    assert by["monotone_eps"].passed == (m["max_rise"] <= tol)
    rises = [b - a for a, b in zip(m["acc"], m["acc"][1:], strict=False)]
    assert m["max_rise"] == max(rises + [0.0])


def test_autoattack_on_requires_images(box_mlp):
    model, x, y = box_mlp
    with pytest.raises((ValueError, ImportError), match="autoattack='on'"):
        run_checklist(model, x[:8], y[:8], eps=0.1, autoattack="on", transfer_source="off")


@pytest.mark.parametrize("kw, match", [
    ({"eps": math.inf}, "eps"), ({"eps": 0.0}, "eps"), ({"norm": "l3"}, "norm"),
    ({"steps": 0}, "steps"), ({"restarts": 0}, "restarts"), ({"autoattack": "yes"}, "autoattack"),
])
def test_bad_input(box_mlp, kw, match):
    model, x, y = box_mlp
    args = {"eps": 0.1, **kw}
    with pytest.raises(ValueError, match=match):
        run_checklist(model, x[:4], y[:4], **args)


def test_image_autoattack_runs_when_available():
    pytest.importorskip("art")
    torch.manual_seed(0)
    model = build_model("small-cnn", input_shape=(1, 8, 8), num_classes=3).eval()
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(12, 1, 8, 8, generator=gen)
    with torch.no_grad():
        y = model(x).argmax(1)
    res = run_checklist(model, x, y, eps=0.05, lower=0.0, upper=1.0, steps=3,
                        transfer_source="off", autoattack="on", autoattack_max_iter=2)
    aa = res.checks[NAMES.index("autoattack_gap")]
    assert aa.passed is not None and 0 <= aa.numbers["autoattack_acc"] <= 1
    assert math.isclose(aa.numbers["gap"], aa.numbers["pgd_acc"] - aa.numbers["autoattack_acc"])


def test_cli_checklist(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--data", "gaussian", "--dim", "4", "--distance", "3", "--sigma", "1",
                 "--train-size", "256", "--test-size", "64", "--model", "mlp", "--epochs", "1",
                 "--seed", "0", "--device", "cpu", "--quiet", "--out", str(out), "--json"])
    assert code == 0
    capsys.readouterr()
    argv = ["evaluate", "--checkpoint", str(out / "checkpoint.pt"), "--eps", "0.3",
            "--steps", "5", "--checklist", "--device", "cpu"]
    assert main(argv + ["--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["passed"] + payload["failed"] + payload["skipped"] == len(NAMES)
    assert [c["name"] for c in payload["checklist"]] == NAMES
    assert payload["settings"]["n"] == 64
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].startswith("check") and "SKIP" in text
    assert main(argv[:4] + ["inf", "--checklist", "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "eps" in err[0]


def test_dataclasses_frozen():
    c = CheckResult("x", True, {"a": 1.0}, "d")
    with pytest.raises(AttributeError):
        c.passed = False  # type: ignore[misc]
    assert Checklist([c], {}).count("PASS") == 1


@pytest.mark.parametrize("norm, eps", [("l0", 2), ("linf", 0.1)])
def test_box_model_l0_linf(box_mlp, norm, eps):
    """In the box [0, 1] the unbounded attack (box-diameter steps; l0: one coordinate per
    step) reaches 0% on the 3-class box MLP, and no check fails on this smooth model."""
    model, x, y = box_mlp
    res = run_checklist(model, x[:60], y[:60], eps=eps, norm=norm, lower=0.0, upper=1.0,
                        steps=5 if norm == "l0" else 10, autoattack="off")
    by = {c.name: c for c in res.checks}
    assert by["unbounded"].numbers["unbounded_acc"] == 0.0
    assert [c.name for c in res.checks if c.passed is False] == [], res.to_text()
    if norm == "l0":
        assert by["monotone_eps"].numbers["eps"] == [0.0, 1.0, 2.0, 3.0, 4.0]
        assert by["gradient_masking"].numbers["roughness"] == []  # no surface for l0


def test_linear_model_matches_closed_form():
    """Oracle: a binary linear classifier ``f(x) = Wx + b`` (no box) is l_inf-robust at x iff
    its margin ``|(w_1 - w_0) x + b_1 - b_0|`` exceeds ``eps * ||w_1 - w_0||_1`` (Holder).
    PGD and FGSM are exact here, so every accuracy of the eps sweep equals the closed form."""
    torch.manual_seed(3)
    model = torch.nn.Linear(10, 2)
    x = torch.randn(80, 10, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        y = model(x).argmax(1)
        w = model.weight[1] - model.weight[0]
        margin = (x @ w + model.bias[1] - model.bias[0]).abs()
    eps = float(margin.median()) / float(w.abs().sum())
    res = run_checklist(model, x, y, eps=eps, norm="linf", steps=10, transfer_source="off")
    by = {c.name: c for c in res.checks}
    sweep = by["monotone_eps"].numbers
    exact = [float((margin > e * w.abs().sum()).float().mean()) for e in sweep["eps"]]
    assert sweep["acc"] == pytest.approx(exact, abs=1.5 / len(x))
    n = by["pgd_vs_fgsm"].numbers
    assert n["pgd_acc"] == pytest.approx(n["fgsm_acc"], abs=1.5 / len(x))
    assert 0.3 < n["pgd_acc"] < 0.7
    assert by["unbounded"].numbers["unbounded_acc"] == 0.0
    assert by["gradient_masking"].numbers["median_roughness"] < 0.1  # CE of a linear map
