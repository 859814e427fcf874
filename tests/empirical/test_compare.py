"""The learned-vs-optimal comparison, end to end on a tiny synthetic task."""

from __future__ import annotations

import json
import math

import pytest

torch = pytest.importorskip("torch")

import empirical.compare as cmp  # noqa: E402
from empirical.compare import compare  # noqa: E402


def test_compare_gaussian_end_to_end(tmp_path):
    res = compare("gaussian-l2", tmp_path, eps_grid=[0.5, 1.0], epochs=1, train_size=300,
                  test_size=300, eval_steps=10, eval_restarts=1, use_autoattack=False)
    rows = res["rows"]
    assert [(r["eps"], r["method"]) for r in rows] == [
        (e, m) for e in (0.5, 1.0) for m in ("adversarial", "extended", "iterative")]
    for r in rows:
        # Exact optimum of the population: Phi((2 eps - 3) / 2) for distance 3, sigma 1.
        assert math.isclose(r["optimal_error"], 0.5 * math.erfc((3 - 2 * r["eps"]) / 2 / math.sqrt(2)),
                            rel_tol=1e-9)
        assert r["n_test"] == 300 and 0 <= r["learned_error"] <= 1
        # A learned error below the optimum by > 3 se would be a bug (and is flagged).
        assert not r["below_optimum"], r
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["rows"][0].keys() >= {"eps", "method", "optimal_error", "learned_error", "n_test"}
    assert "| eps | method |" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "results.png").read_bytes()[:4] == b"\x89PNG"
    # A second call reuses the finished runs instead of training again.
    again = compare("gaussian-l2", tmp_path, eps_grid=[0.5, 1.0], epochs=1, train_size=300,
                    test_size=300, eval_steps=10, eval_restarts=1, use_autoattack=False)
    assert [r["learned_error"] for r in again["rows"]] == [r["learned_error"] for r in rows]


def test_error_below_optimum_is_flagged(tmp_path, monkeypatch):
    def too_good(*args, **kwargs):
        return {"learned_error": 0.0, "learned_clean_error": 0.0, "per_attack_error": {},
                "n_test": 1000, "se": math.sqrt(1 / 1000) / math.sqrt(1000), "attacks": ["pgd"]}

    monkeypatch.setattr(cmp, "_evaluate_row", too_good)
    res = compare("gaussian-l2", tmp_path, eps_grid=[1.0], methods=["adversarial"], epochs=1,
                  train_size=100, test_size=100, use_autoattack=False)
    assert res["rows"][0]["below_optimum"] is True
    assert "BELOW OPTIMUM" in (tmp_path / "results.md").read_text()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"task": "nope"}, "task must be"), ({"task": "gaussian-l2", "methods": ["magic"]}, "methods"),
     ({"task": "gaussian-l2", "eps_grid": [-1.0]}, "eps_grid"),
     ({"task": "bernoulli-l0", "eps_grid": [1.5]}, "integers")],
)
def test_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        compare(out=tmp_path, **kwargs)


def test_optimal_curve_is_the_exact_step():
    """The plotted optimum is the exact one, not a line through the grid points.

    Bernoulli model on {-1,1}^d under l_inf: a perturbation below 1 never changes a sign, so the
    optimum is the Bayes error for every eps < 1 and 1/2 from eps = 1 on (paper Remark 2).
    Gaussian l2: Phi(-(||Delta||_2 / 2 - eps) / sigma) (paper Theorem 2) up to ||Delta||_2 / 2.
    """
    from scipy.stats import norm as normal

    from empirical.compare import optimal_curve
    from empirical.data import DataSpec, build_data

    theory = build_data(DataSpec(name="bernoulli", dim=20, k=10, t=0.1, train_size=10,
                                 test_size=10)).theory
    curve = optimal_curve(theory, "linf", 1.0)
    bayes = float(theory.bayes_error())
    assert curve[0] == [0.0, pytest.approx(bayes)]
    for e, v in curve:
        assert v == pytest.approx(bayes if e < 1 else 0.5), e
    assert any(e >= 1 for e, _ in curve) and len(curve) == 121
    steps = optimal_curve(theory, "l0", 4.0)
    assert [e for e, _ in steps] == [0.0, 1.0, 2.0, 3.0, 4.0]
    g = build_data(DataSpec(name="gaussian", dim=4, distance=3.0, sigma=1.0, train_size=10,
                            test_size=10)).theory
    for e, v in optimal_curve(g, "l2", 1.2, points=7):
        assert v == pytest.approx(normal.cdf(-(1.5 - e)), abs=1e-9)
