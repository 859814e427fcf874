"""Loss landscapes and saliency maps (empirical/landscape.py) and ``landscape`` CLI.

Independent checks: end points of the weight segment against the two models' own losses;
the surface centre against the clean loss and an off-centre cell recomputed by hand; the
saliency map against central finite differences in float64; the seed-rebuilt initial weights
against a run trained with a negligible learning rate.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402

from empirical import landscape as land  # noqa: E402
from empirical.attacks import pgd  # noqa: E402
from empirical.checkpoint import load_checkpoint  # noqa: E402
from empirical.cli import main  # noqa: E402
from empirical.data import DataSpec  # noqa: E402
from empirical.evaluate import load_run  # noqa: E402
from empirical.models import build_model  # noqa: E402
from empirical.schedules import derive_seed  # noqa: E402
from empirical.train import TrainConfig, train  # noqa: E402
from optrobust.errors import InvalidInputError  # noqa: E402

pytestmark = pytest.mark.empirical
GAUSS = ["--data", "gaussian", "--dim", "4", "--distance", "3", "--sigma", "1",
         "--train-size", "256", "--test-size", "64", "--model", "mlp", "--batch-size", "64",
         "--seed", "0", "--device", "cpu", "--quiet"]


def _mlp(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model("mlp", input_shape=(12,), num_classes=3).eval()


def _ce(model, x, y):
    with torch.no_grad():
        return float(F.cross_entropy(model(x), y))


def test_interpolate_state_end_points_bitwise(box_mlp):
    a, b = _mlp(5).state_dict(), box_mlp[0].state_dict()
    for alpha, ref in ((0.0, a), (1.0, b)):
        mid = land.interpolate_state(a, b, alpha)
        assert all(torch.equal(mid[k], ref[k]) for k in a)
    half = land.interpolate_state(a, b, 0.5)
    assert all(torch.allclose(half[k], (a[k] + b[k]) / 2) for k in a)
    with pytest.raises(ValueError, match="same parameter names"):
        land.interpolate_state(a, {k: v for k, v in b.items() if k != "1.bias"}, 0.5)


def test_interpolation_curve_end_points_reproduce_model_losses(box_mlp):
    """alpha = 0 / 1 give exactly model a's / model b's clean and PGD losses."""
    model_b, x, y = box_mlp
    model_a = _mlp(5)
    x, y = x[:64], y[:64]
    eps, steps = 0.2, 5
    curve = land.interpolation_curve(
        model_a.state_dict(), model_b.state_dict(), lambda: _mlp(0), x, y,
        eps_list=[0.0, eps], p="linf", alphas=[0.0, 0.5, 1.0], steps=steps, lower=0.0,
        upper=1.0, seed=3)
    assert curve["alpha"] == [0.0, 0.5, 1.0] and curve["n"] == 64
    for i, model in ((0, model_a), (2, model_b)):
        assert curve["clean_loss"][i] == pytest.approx(_ce(model, x, y), rel=1e-6)
        gen = torch.Generator().manual_seed(derive_seed(3, "landscape", 0))
        xa = pgd(model, x, y, eps=eps, p=math.inf, steps=steps, step_size=2.5 * eps / steps,
                 lower=0.0, upper=1.0, generator=gen)
        assert curve["adv_loss"][eps][i] == pytest.approx(_ce(model, xa, y), rel=1e-6)
    assert curve["adv_loss"][0.0] == curve["clean_loss"]
    # the midpoint is the model with hand-averaged parameters
    mid = _mlp(0)
    with torch.no_grad():
        for pm, pa, pb in zip(mid.parameters(), model_a.parameters(), model_b.parameters(),
                              strict=True):
            pm.copy_((pa + pb) / 2)
    assert curve["clean_loss"][1] == pytest.approx(_ce(mid, x, y), rel=1e-5)
    # the trained end has lower clean loss than the random start, PGD raises the loss
    assert curve["clean_loss"][2] < curve["clean_loss"][0]
    assert curve["adv_loss"][eps][2] > curve["clean_loss"][2]


def test_interpolation_curve_rejects_bad_input(box_mlp):
    model, x, y = box_mlp
    s = model.state_dict()
    kw = dict(p="linf", steps=2)
    with pytest.raises(ValueError, match="alphas"):
        land.interpolation_curve(s, s, lambda: _mlp(0), x, y, eps_list=[0.1], alphas=1, **kw)
    with pytest.raises(ValueError, match="eps_list"):
        land.interpolation_curve(s, s, lambda: _mlp(0), x, y, eps_list=[-1], **kw)
    with pytest.raises(InvalidInputError, match="p must be one of"):
        land.interpolation_curve(s, s, lambda: _mlp(0), x, y, eps_list=[0.1], p="l7")


def test_norm_keyword_is_deprecated_and_means_p(box_mlp):
    """``norm=`` (the old spelling) warns and gives exactly the ``p=`` result (issue 12)."""
    model, x, y = box_mlp
    new = land.input_loss_surface(model, x[0], int(y[0]), eps=0.3, grid=3, p=2)
    with pytest.warns(DeprecationWarning, match="norm= is deprecated"):
        old = land.input_loss_surface(model, x[0], int(y[0]), eps=0.3, grid=3, norm="l2")
    assert np.array_equal(new, old)
    other = land.input_loss_surface(model, x[0], int(y[0]), eps=0.3, grid=3, p="linf")
    assert not np.array_equal(new, other)  # p matters, so the equality above can fail


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_surface_centre_is_clean_loss_and_cells_match_by_hand(box_mlp, norm):
    model, x, y = box_mlp
    eps, grid, seed = 0.3, 7, 4
    s = land.input_loss_surface(model, x[0], int(y[0]), eps=eps, grid=grid, p=norm,
                                seed=seed)
    assert s.shape == (grid, grid) and np.all(np.isfinite(s))
    assert s[3, 3] == pytest.approx(_ce(model, x[:1], y[:1]), rel=1e-5)
    # recompute the corner (+eps along the adversarial, -eps along the random direction)
    g = land.saliency(model, x[:1], y[:1])[0]
    r = torch.randn(g.shape, generator=torch.Generator().manual_seed(seed))
    if norm == "linf":
        d_adv, d_rand = g.sign(), r.sign()
    else:
        d_adv, d_rand = g / g.norm(), r / r.norm()
    corner = x[0] + eps * d_adv - eps * d_rand
    assert s[-1, 0] == pytest.approx(_ce(model, corner[None], y[:1]), rel=1e-5)
    # moving along the ascent direction increases the loss
    assert s[6, 3] > s[5, 3] > s[4, 3] > s[3, 3]


def test_surface_clips_to_box_and_validates(box_mlp):
    model, x, y = box_mlp
    free = land.input_loss_surface(model, x[0], int(y[0]), eps=2.0, grid=5)
    boxed = land.input_loss_surface(model, x[0], int(y[0]), eps=2.0, grid=5, lower=0.0,
                                    upper=1.0)
    assert boxed[2, 2] == pytest.approx(free[2, 2])
    assert not np.allclose(boxed, free)  # eps=2 leaves the unit box; clipping changes losses
    with pytest.raises(InvalidInputError, match="p must be one of l2, linf"):
        land.input_loss_surface(model, x[0], 0, eps=1.0, p="l0")
    with pytest.raises(ValueError, match="grid"):
        land.input_loss_surface(model, x[0], 0, eps=1.0, grid=1)


def test_saliency_matches_finite_differences():
    torch.manual_seed(2)
    model = build_model("mlp", input_shape=(6,), num_classes=3).double().train()
    x = torch.randn(4, 6, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 1])
    g = land.saliency(model, x, y)
    assert g.shape == x.shape and model.training  # mode restored
    h = 1e-6
    for i in range(4):
        for j in range(6):
            e = torch.zeros_like(x[i])
            e[j] = h
            with torch.no_grad():
                up = F.cross_entropy(model((x[i] + e)[None]), y[i:i + 1])
                dn = F.cross_entropy(model((x[i] - e)[None]), y[i:i + 1])
            assert float(g[i, j]) == pytest.approx(float(up - dn) / (2 * h), abs=1e-7)


def test_interpretability_maps_shapes_budgets_and_summary():
    torch.manual_seed(0)
    x = torch.rand(3, 1, 8, 8)
    y = torch.tensor([0, 1, 0])
    models = {"a": build_model("small-cnn", input_shape=(1, 8, 8), num_classes=2).eval(),
              "b": build_model("small-cnn", input_shape=(1, 8, 8), num_classes=2).eval()}
    maps = land.interpretability_maps(models, x, y, eps=0.1, attack_eps=0.25, p="linf",
                                      steps=5, lower=0.0, upper=1.0)
    for m in maps.values():
        assert m["saliency"].shape == x.shape == m["perturbation"].shape
        assert float(m["perturbation"].abs().max()) <= 0.25 + 1e-6
        assert torch.all((x + m["perturbation"] >= -1e-6) & (x + m["perturbation"] <= 1 + 1e-6))
        summ = land.map_summary(m)
        assert 0.1 - 1e-6 <= summ["saliency_top10_mass"] <= 1 + 1e-6
        assert 0 < summ["perturbation_linf"] <= 0.25 + 1e-6
    # known values: all mass on one of 20 coordinates -> 1; a flat map -> 2/20
    one = torch.zeros(1, 20)
    one[0, 3] = -5.0
    assert land.map_summary({"saliency": one, "perturbation": one})[
        "saliency_top10_mass"] == pytest.approx(1.0)
    assert land.map_summary({"saliency": torch.ones(1, 20), "perturbation": one})[
        "saliency_top10_mass"] == pytest.approx(0.1)


def _png_ok(path, min_shape=(200, 300)):
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    assert img.shape[0] >= min_shape[0] and img.shape[1] >= min_shape[1]
    assert float(img[..., :3].std()) > 0.05  # not blank
    return img


def test_plots_write_readable_pngs(tmp_path, box_mlp):
    model, x, y = box_mlp
    curve = land.interpolation_curve(_mlp(5).state_dict(), model.state_dict(), lambda: _mlp(0),
                                     x[:32], y[:32], eps_list=[0.1], alphas=4, steps=2)
    land.plot_interpolation(curve, tmp_path / "i.png")
    surf = {"m": land.input_loss_surface(model, x[0], int(y[0]), eps=0.5, grid=9)}
    land.plot_surfaces(surf, tmp_path / "s.png", eps=0.5)
    for name in ("i.png", "s.png"):
        _png_ok(tmp_path / name)
    torch.manual_seed(0)
    for shape in ((1, 8, 8), (3, 8, 8), (12,)):
        xi = torch.rand(2, *shape)
        maps = {"m": {"saliency": torch.randn(2, *shape), "perturbation": torch.randn(2, *shape)}}
        land.plot_maps(xi, maps, tmp_path / "m.png", eps=0.1, attack_eps=0.2)
        _png_ok(tmp_path / "m.png", (150, 300))


def test_initial_state_is_the_weights_training_started_from(tmp_path):
    """A run with a negligible learning rate ends where it started: at the seed rebuild."""
    data = DataSpec("gaussian", dim=4, distance=3.0, sigma=1.0, train_size=64, test_size=16)
    cfg = TrainConfig(data=data, model="mlp", method="standard", epochs=1, batch_size=32,
                      optimizer="sgd", lr=1e-12, momentum=0.0, seed=7)
    train(cfg, tmp_path / "r", device="cpu", quiet=True)
    init = land.initial_state(str(tmp_path / "r" / "checkpoint.pt"))
    final = load_checkpoint(tmp_path / "r" / "checkpoint.pt")["model"]
    assert set(init) == set(final)
    assert all(torch.allclose(init[k], final[k], atol=1e-9) for k in init)
    # a different seed gives different weights, so the check above can fail
    other = TrainConfig(data=data, model="mlp", method="standard", epochs=1, batch_size=32,
                        optimizer="sgd", lr=1e-12, momentum=0.0, seed=8)
    train(other, tmp_path / "o", device="cpu", quiet=True)
    o = land.initial_state(str(tmp_path / "o" / "checkpoint.pt"))
    assert not torch.allclose(o["1.weight"], init["1.weight"])
    # an extended run started from its init_from checkpoint's weights
    ext = TrainConfig(data=data, model="mlp", method="extended", eps=0.5, norm="l2", epochs=1,
                      batch_size=32, seed=7, pgd_steps=2,
                      init_from=str(tmp_path / "o" / "checkpoint.pt"))
    train(ext, tmp_path / "e", device="cpu", quiet=True)
    e = land.initial_state(str(tmp_path / "e" / "checkpoint.pt"))
    src = load_checkpoint(tmp_path / "o" / "checkpoint.pt")["model"]
    assert all(torch.equal(e[k], src[k]) for k in e)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("land")
    for name, extra in (("adv", ["--method", "adversarial", "--eps", "0.5"]),
                        ("std", ["--method", "standard"])):
        assert main(["train", *GAUSS, *extra, "--norm", "l2", "--epochs", "2", "--pgd-steps",
                     "3", "--out", str(root / name), "--json"]) == 0
    assert main(["train", *GAUSS, "--method", "extended", "--eps", "0.5", "--norm", "l2",
                 "--epochs", "1", "--pgd-steps", "3", "--init-from",
                 str(root / "std" / "checkpoint.pt"), "--out", str(root / "ext"), "--json"]) == 0
    return root


def test_cli_landscape_end_to_end(runs, capsys):
    out = runs / "out"
    ckpt = str(runs / "adv" / "checkpoint.pt")
    capsys.readouterr()
    code = main(["landscape", "--checkpoint", ckpt, "--compare",
                 str(runs / "std" / "checkpoint.pt"), "--eps", "0.25,0.5", "--out", str(out),
                 "--alphas", "5", "--samples", "128", "--steps", "3", "--grid", "9",
                 "--images", "2", "--device", "cpu", "--json"])
    text, err = capsys.readouterr()
    assert code == 0, err
    payload = json.loads(text)
    assert json.loads((out / "landscape.json").read_text())["eps"] == [0.25, 0.5]
    for name in ("interpolation.png", "surface.png", "saliency.png"):
        _png_ok(out / name)
    interp = payload["interpolation"]
    assert interp["init"] == "seed-rebuilt initial weights" and len(interp["alpha"]) == 5
    # end points: the seed-rebuilt initial model and the trained checkpoint, recomputed here
    run = load_run(ckpt)
    x, y = (t[:128] for t in run.bundle.train.tensors)
    assert interp["clean_loss"][-1] == pytest.approx(_ce(run.model, x, y), rel=1e-6)
    m0 = build_model("mlp", input_shape=(4,), num_classes=2)
    m0.load_state_dict(land.initial_state(ckpt))
    assert interp["clean_loss"][0] == pytest.approx(_ce(m0.eval(), x, y), rel=1e-6)
    surf = payload["surface"]["loss"]
    assert len(surf) == 2 and all(np.asarray(s).shape == (9, 9) for s in surf.values())
    centre = np.asarray(next(iter(surf.values())))[4, 4]
    xt, yt = run.bundle.test.tensors
    assert centre == pytest.approx(_ce(run.model, xt[:1], yt[:1]), rel=1e-5)
    assert set(payload["saliency"]["models"]) == set(surf)


def test_cli_landscape_init_from_and_errors(runs, capsys):
    ckpt = str(runs / "adv" / "checkpoint.pt")
    code = main(["landscape", "--checkpoint", ckpt, "--init-from",
                 str(runs / "std" / "checkpoint.pt"), "--eps", "0.5", "--out",
                 str(runs / "o2"), "--kind", "interpolation", "--alphas", "2", "--steps", "2",
                 "--samples", "64", "--device", "cpu", "--json"])
    text, err = capsys.readouterr()
    assert code == 0, err
    payload = json.loads(text)
    run = load_run(str(runs / "std" / "checkpoint.pt"))
    x, y = (t[:64] for t in run.bundle.train.tensors)
    assert payload["interpolation"]["clean_loss"][0] == pytest.approx(_ce(run.model, x, y),
                                                                      rel=1e-6)
    assert not (runs / "o2" / "surface.png").exists()
    base = ["landscape", "--checkpoint", ckpt, "--out", str(runs / "o3"), "--device", "cpu"]
    for extra, match in ((["--eps", "0.5", "--kind", "bogus"], "--kind"),
                         (["--eps", "x"], "--eps"),
                         (["--eps", "0.5", "--kind", "surface", "--norm", "l0"], "l0"),
                         (["--eps", "0.5", "--alphas", "1"], "--alphas")):
        try:
            code = main(base + extra)
        except SystemExit as exc:  # argparse's own checks (--alphas >= 2)
            code = exc.code
        assert code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and match in err[0], err
    assert main(["landscape", "--checkpoint", str(runs / "nope.pt"), "--eps", "0.5", "--out",
                 str(runs / "o3")]) == 2
    assert "not found" in capsys.readouterr().err


def test_cli_landscape_extended_run_starts_at_its_init_from(runs, capsys):
    """Figure 4: for an extended run theta_0 is the init_from model (here the standard run)."""
    capsys.readouterr()
    code = main(["landscape", "--checkpoint", str(runs / "ext" / "checkpoint.pt"), "--eps",
                 "0.5,0.25", "--out", str(runs / "o4"), "--kind", "interpolation",
                 "--alphas", "3", "--steps", "2", "--samples", "64", "--device", "cpu",
                 "--json"])
    text, err = capsys.readouterr()
    assert code == 0, err
    interp = json.loads(text)["interpolation"]
    assert interp["init"] == "init_from of the run"
    assert set(interp["adv_loss"]) == {"0.5", "0.25"}
    std = load_run(str(runs / "std" / "checkpoint.pt"))
    x, y = (t[:64] for t in std.bundle.train.tensors)
    assert interp["clean_loss"][0] == pytest.approx(_ce(std.model, x, y), rel=1e-6)


def test_saliency_figure_title_is_not_cut_off(tmp_path, monkeypatch):
    """The saliency figure's title ran past the figure's edges with one model (issue 14)."""
    from matplotlib.figure import Figure

    saved = []
    real = Figure.savefig
    monkeypatch.setattr(Figure, "savefig",
                        lambda self, *a, **k: (saved.append(self), real(self, *a, **k)))
    x = torch.rand(2, 1, 8, 8)
    maps = {"runs: adversarial eps=0.3": {"saliency": torch.randn(2, 1, 8, 8),
                                          "perturbation": torch.randn(2, 1, 8, 8)}}
    land.plot_maps(x, maps, tmp_path / "s.png", eps=0.3, attack_eps=0.45)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = saved[0]
    renderer = FigureCanvasAgg(fig).get_renderer()
    box, title = fig.bbox, fig._suptitle.get_window_extent(renderer)
    assert box.x0 <= title.x0 and title.x1 <= box.x1 and title.y1 <= box.y1, (title, box)
    for ax in fig.axes:  # no panel title reaches into the figure title
        t = ax.title.get_window_extent(renderer)
        assert not ax.title.get_text() or t.y1 <= title.y0 + 1, (t, title)
    _png_ok(tmp_path / "s.png")


def test_cli_landscape_eps_and_norm_default_to_the_run(runs, capsys):
    """No --eps/--norm: the run's own l2, eps 0.5 (issue 14: defaults from the checkpoint)."""
    capsys.readouterr()
    code = main(["landscape", "--checkpoint", str(runs / "adv" / "checkpoint.pt"), "--out",
                 str(runs / "o5"), "--kind", "interpolation", "--alphas", "2", "--steps", "2",
                 "--samples", "32", "--device", "cpu", "--json"])
    text, err = capsys.readouterr()
    assert code == 0, err
    payload = json.loads(text)
    assert payload["eps"] == [0.5] and payload["norm"] == "l2"
    assert main(["landscape", "--checkpoint", str(runs / "std" / "checkpoint.pt"), "--out",
                 str(runs / "o6"), "--device", "cpu"]) == 2
    assert "--eps is required" in capsys.readouterr().err
