"""The robustness-evaluation checklist (paper Appendix C): numbers, verdicts, masking, CLI."""

from __future__ import annotations

import json
import math
import re

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
    return run_checklist(gaussian_mlp, *test_batch, eps=0.3, p="linf", box=None, steps=10)


@pytest.fixture(scope="module")
def masked(gaussian_mlp, test_batch):
    return run_checklist(Quantized(gaussian_mlp), *test_batch, eps=0.3, p="linf", box=None,
                         steps=10)


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
    rows = [line for line in text[1:-1] if not line.startswith(" ")]
    assert [line.split()[0] for line in rows] == NAMES
    assert all(line[col:col + 4] in ("PASS", "FAIL", "SKIP") for line in rows)
    # issue 14: lines of at most 100 characters, numbers to 4 significant digits
    assert max(len(line) for line in text) <= 100, max(text, key=len)
    assert not re.search(r"\d\.\d{5,}", masked.to_text()), masked.to_text()


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
    res = run_checklist(model, x[:60], y[:60], eps=0.1, p="l2", lower=0.0, upper=1.0,
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
    ({"eps": math.inf}, "eps"), ({"eps": 0.0}, "eps"), ({"p": "l3"}, "p"), ({"eps": 8}, "0-255"),
    ({"steps": 0}, "steps"), ({"restarts": 0}, "restarts"), ({"autoattack": "yes"}, "autoattack"),
    ({"acc_tol": 1.0}, "acc_tol"), ({"acc_tol": -0.01}, "acc_tol"),
    ({"acc_tol": math.nan}, "acc_tol"), ({"autoattack_max_iter": 0}, "autoattack_max_iter"),
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


def _train(out, *extra: str) -> None:
    argv = ["train", "--data", "gaussian", "--dim", "4", "--distance", "3", "--sigma", "1",
            "--train-size", "256", "--test-size", "64", "--model", "mlp", "--epochs", "1",
            "--seed", "0", "--device", "cpu", "--quiet", "--out", str(out), "--json", *extra]
    assert main(argv) == 0, argv


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    """Three tiny Gaussian runs: the evaluated one, an independent source on the same data
    (another seed) and one on other data (dim 5)."""
    root = tmp_path_factory.mktemp("cli_runs")
    _train(root / "target")
    _train(root / "source", "--seed", "1")
    _train(root / "other", "--dim", "5")
    return {k: str(root / k / "checkpoint.pt") for k in ("target", "source", "other")}


def _evaluate(capsys, ckpt: str, *extra: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(["evaluate", "--checkpoint", ckpt, "--eps", "0.3", "--steps", "5",
                     "--device", "cpu", *extra])
    except SystemExit as exc:  # argparse's own errors (a non-integer, ...)
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_cli_checklist(cli_runs, capsys):
    code, out, _ = _evaluate(capsys, cli_runs["target"], "--checklist", "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["passed"] + payload["failed"] + payload["skipped"] == len(NAMES)
    assert [c["name"] for c in payload["checklist"]] == NAMES
    assert payload["settings"]["n"] == 64
    assert payload["settings"]["transfer_source"] == "surrogate"
    assert payload["transfer_from"] is None
    by = {c["name"]: c for c in payload["checklist"]}
    assert by["transfer_vs_whitebox"]["numbers"]["source"].startswith("surrogate MLP")
    code, out, _ = _evaluate(capsys, cli_runs["target"], "--checklist")
    assert code == 0
    assert out.splitlines()[0].startswith("check") and "SKIP" in out
    code, _, err = _evaluate(capsys, cli_runs["target"], "--checklist", "--eps", "inf")
    _one_line_error(code, err, "eps")


def test_cli_knobs_reach_the_checklist(cli_runs, capsys):
    """--steps, --restarts, --seed, --tol, --test-size, --autoattack(-iter) end up in the
    settings and the thresholds; tol = max(--tol, 1/n)."""
    code, out, _ = _evaluate(capsys, cli_runs["target"], "--checklist", "--json",
                             "--steps", "3", "--restarts", "2", "--seed", "4", "--tol", "0.25",
                             "--test-size", "40", "--autoattack", "off",
                             "--autoattack-iter", "3")
    assert code == 0
    payload = json.loads(out)
    st = payload["settings"]
    assert (st["steps"], st["restarts"], st["seed"], st["n"]) == (3, 2, 4, 40)
    assert (st["acc_tol"], st["autoattack"], st["autoattack_max_iter"]) == (0.25, "off", 3)
    by = {c["name"]: c for c in payload["checklist"]}
    assert by["pgd_vs_fgsm"]["numbers"]["tol"] == pytest.approx(0.25)
    assert by["autoattack_gap"]["verdict"] == "SKIP"
    # tiny tolerance: floored at one sample (1/40)
    code, out, _ = _evaluate(capsys, cli_runs["target"], "--checklist", "--json", "--tol", "0",
                             "--test-size", "40", "--transfer-from", "off")
    assert code == 0
    tol = {c["name"]: c for c in json.loads(out)["checklist"]}["monotone_eps"]["numbers"]["tol"]
    assert tol == pytest.approx(1 / 40)


def test_cli_transfer_from_own_checkpoint_equals_whitebox(cli_runs, capsys):
    """Oracle: with the evaluated weights as the source, the transfer attack is the very same
    seeded PGD, so its accuracy equals the white-box PGD accuracy exactly."""
    code, out, _ = _evaluate(capsys, cli_runs["target"], "--checklist", "--json",
                             "--transfer-from", cli_runs["target"], "--autoattack", "off")
    assert code == 0
    payload = json.loads(out)
    tr = {c["name"]: c for c in payload["checklist"]}["transfer_vs_whitebox"]
    assert tr["numbers"]["source"] == "given" and tr["verdict"] == "PASS"
    assert tr["numbers"]["transfer_acc"] == tr["numbers"]["pgd_acc"]
    assert payload["transfer_from"] == cli_runs["target"]
    assert payload["settings"]["transfer_source"] == "given"


def test_cli_transfer_from_other_run_matches_library(cli_runs, capsys):
    """The CLI's transfer check with another run as source equals run_checklist called
    directly with that run's model (loaded by load_source_model) on the same test set."""
    from empirical.checklist import load_source_model
    from empirical.evaluate import load_run

    code, out, _ = _evaluate(capsys, cli_runs["target"], "--checklist", "--json",
                             "--transfer-from", cli_runs["source"])
    assert code == 0
    got = {c["name"]: c for c in json.loads(out)["checklist"]}["transfer_vs_whitebox"]
    run = load_run(cli_runs["target"])
    src = load_source_model(cli_runs["source"], input_shape=(4,), num_classes=2,
                            data=run.config["data"])
    assert not src.training
    x, y = run.bundle.test.tensors
    res = run_checklist(run.model, x, y, eps=0.3, box=None, steps=5, restarts=1,
                        transfer_source=src)
    want = {c.name: c for c in res.checks}["transfer_vs_whitebox"]
    assert got["numbers"]["transfer_acc"] == want.numbers["transfer_acc"]
    assert got["numbers"]["source_clean_acc"] == want.numbers["source_clean_acc"]
    assert got["verdict"] == want.verdict


def test_cli_transfer_off(cli_runs, capsys):
    code, out, _ = _evaluate(capsys, cli_runs["target"], "--checklist", "--json",
                             "--transfer-from", "off", "--autoattack", "off")
    assert code == 0
    tr = {c["name"]: c for c in json.loads(out)["checklist"]}["transfer_vs_whitebox"]
    assert tr["verdict"] == "SKIP" and tr["detail"] == "skipped: transfer_source='off'"


def test_cli_bad_transfer_source(cli_runs, capsys, tmp_path):
    missing = str(tmp_path / "nope.pt")
    code, _, err = _evaluate(capsys, cli_runs["target"], "--checklist", "--transfer-from",
                             missing)
    _one_line_error(code, err, "not found", missing)
    junk = tmp_path / "junk.pt"
    junk.write_text("not a checkpoint")
    code, _, err = _evaluate(capsys, cli_runs["target"], "--checklist", "--transfer-from",
                             str(junk))
    _one_line_error(code, err, "could not be read")
    code, _, err = _evaluate(capsys, cli_runs["target"], "--checklist", "--transfer-from",
                             cli_runs["other"])
    _one_line_error(code, err, "other data", "dim=5")
    code, _, err = _evaluate(capsys, cli_runs["target"], "--checklist", "--transfer-from", "")
    _one_line_error(code, err, "--transfer-from")


@pytest.mark.parametrize("extra, needle", [
    (["--checklist", "--autoattack-iter", "0"], "--autoattack-iter"),
    (["--checklist", "--autoattack-iter", "-2"], "--autoattack-iter"),
    (["--checklist", "--autoattack-iter", "two"], "--autoattack-iter"),
    (["--checklist", "--tol", "1"], "--tol"),
    (["--checklist", "--tol", "-0.1"], "--tol"),
    (["--checklist", "--tol", "nan"], "--tol"),
    (["--checklist", "--restarts", "0"], "restarts"),
    (["--checklist", "--steps", "0"], "steps"),
    (["--checklist", "--step-size", "0.1"], "--step-size"),
    (["--checklist", "--autoattack", "on"], "autoattack='on'"),
    (["--autoattack-iter", "5"], "--checklist"),
    (["--transfer-from", "off", "--tol", "0.1"], "--transfer-from, --tol"),
])
def test_cli_bad_checklist_options(cli_runs, capsys, extra, needle):
    code, _, err = _evaluate(capsys, cli_runs["target"], *extra)
    _one_line_error(code, err, needle)


def test_load_source_model_checks(cli_runs):
    from empirical.checklist import load_source_model

    with pytest.raises(ValueError, match="does not fit"):
        load_source_model(cli_runs["source"], input_shape=(4,), num_classes=3)
    with pytest.raises(ValueError, match="does not fit"):
        load_source_model(cli_runs["other"], input_shape=(4,), num_classes=2)
    with pytest.raises(ValueError, match="other data"):
        load_source_model(cli_runs["source"], input_shape=(4,), num_classes=2,
                          data={"name": "bernoulli", "dim": 4})
    with pytest.raises(FileNotFoundError):
        load_source_model(cli_runs["source"] + ".missing", input_shape=(4,), num_classes=2)


def test_dataclasses_frozen():
    c = CheckResult(name="x", passed=True, numbers={"a": 1.0}, detail="d")
    with pytest.raises(AttributeError):
        c.passed = False  # type: ignore[misc]
    assert Checklist(checks=[c], settings={}).count("PASS") == 1


@pytest.mark.parametrize("norm, eps", [("l0", 2), ("linf", 0.1)])
def test_box_model_l0_linf(box_mlp, norm, eps):
    """In the box [0, 1] the unbounded attack (box-diameter steps; l0: one coordinate per
    step) reaches 0% on the 3-class box MLP, and no check fails on this smooth model."""
    model, x, y = box_mlp
    res = run_checklist(model, x[:60], y[:60], eps=eps, p=norm, lower=0.0, upper=1.0,
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
    res = run_checklist(model, x, y, eps=eps, p="linf", box=None, steps=10,
                        transfer_source="off")
    by = {c.name: c for c in res.checks}
    sweep = by["monotone_eps"].numbers
    exact = [float((margin > e * w.abs().sum()).float().mean()) for e in sweep["eps"]]
    assert sweep["acc"] == pytest.approx(exact, abs=1.5 / len(x))
    n = by["pgd_vs_fgsm"].numbers
    assert n["pgd_acc"] == pytest.approx(n["fgsm_acc"], abs=1.5 / len(x))
    assert 0.3 < n["pgd_acc"] < 0.7
    assert by["unbounded"].numbers["unbounded_acc"] == 0.0
    assert by["gradient_masking"].numbers["median_roughness"] < 0.1  # CE of a linear map


def test_norm_keyword_is_deprecated_but_works(box_mlp):
    """issue 12: the threat model is ``p``; ``norm=`` works for one release with a warning."""
    model, x, y = box_mlp
    kw = dict(eps=0.1, steps=2, transfer_source="off", autoattack="off")
    new = run_checklist(model, x[:16], y[:16], p="l2", **kw)
    with pytest.warns(DeprecationWarning, match="norm= is deprecated"):
        old = run_checklist(model, x[:16], y[:16], norm="l2", **kw)
    assert [c.numbers for c in old.checks] == [c.numbers for c in new.checks]
    assert new.settings["p"] == "l2"
    with pytest.raises(ValueError, match="not both"), pytest.warns(DeprecationWarning):
        run_checklist(model, x[:16], y[:16], p="l2", norm="l2", **kw)


def test_each_check_is_its_own_function():
    """issue 12: run_checklist is a sequence of small check functions, one per CHECKS name."""
    assert list(cl_mod.CHECKS) == NAMES
    for name in NAMES:
        assert callable(getattr(cl_mod, f"check_{name}"))
