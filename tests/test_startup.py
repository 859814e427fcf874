"""Start-up cost: ``import optrobust`` and ``optrobust-empirical --help`` load only what they need.

Issue 14: ``import optrobust`` took 1.4-1.6 s (eager imports of hardness/networkx/scipy)
and every ``optrobust-empirical`` call imported torch first, even ``--help`` (3-17 s).
These tests check *which modules* get imported (in a fresh interpreter), not the time
(measured in ``benchmarks/bench_startup.py``), so they hold on any machine.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import optrobust

HEAVY_THEORY = ("scipy", "scipy.optimize", "scipy.stats", "networkx", "pysat")


def _loaded_after(code: str, modules: tuple[str, ...]) -> dict[str, bool]:
    """Run ``code`` in a fresh interpreter; which of ``modules`` are in sys.modules after."""
    probe = (f"import json, sys\n{code}\n"
             f"print(json.dumps({{m: m in sys.modules for m in {list(modules)!r}}}))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_optrobust_loads_no_scipy_networkx_pysat():
    loaded = _loaded_after("import optrobust", HEAVY_THEORY)
    assert not any(loaded.values()), loaded


def test_public_names_still_resolve_lazily():
    """Every name of ``__all__`` resolves, and to the object of its defining module."""
    from optrobust import bernoulli, finite, gaussian, hardness, limits, norms

    where = {"BernoulliModel": bernoulli, "BernoulliRobustSolution": bernoulli,
             "FiniteDistribution": finite, "RobustSolution": finite,
             "optimal_robust_error": finite, "GaussianModel": gaussian,
             "GaussianRobustSolution": gaussian, "LinearClassifier": gaussian,
             "feasible_eps_table": limits, "parse_p": norms,
             **{n: finite for n in ("DatasetLimit", "HeldOutEstimate", "PrunedNearestNeighbor",
                                    "dataset_limits", "held_out_estimate",
                                    "soft_robust_error_lower_bound")}}
    assert set(optrobust.__all__) == {*where, "hardness", "__version__"}
    for name, mod in where.items():
        assert getattr(optrobust, name) is getattr(mod, name)
    assert optrobust.hardness is hardness
    assert set(optrobust.__all__) <= set(dir(optrobust))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        optrobust.nope  # noqa: B018


def test_lazy_name_loads_its_module_on_first_use():
    loaded = _loaded_after("import optrobust; optrobust.hardness", ("networkx",))
    assert loaded["networkx"]  # so the check above is not vacuous


@pytest.mark.parametrize("argv", [
    ["--help"],
    ["train", "--help"],
    ["evaluate", "--help"],
    ["evaluate", "--checkpoint", "x.pt", "--eps", "abc"],   # argument error
    ["train", "--out", "o", "--model", "nope"],              # argument error
    ["landscape", "--checkpoint", "x.pt", "--eps", "0.1", "--out", "o", "--alphas", "1"],
])
def test_empirical_help_and_argument_errors_do_not_import_torch(argv):
    pytest.importorskip("torch")  # the empirical extra is installed, so the check can fail
    code = (f"from empirical.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit as exc:\n    assert exc.code in (0, 2)")
    loaded = _loaded_after(code, ("torch", "numpy", "scipy", "networkx"))
    assert not any(loaded.values()), loaded
