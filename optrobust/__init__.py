"""optrobust: exact optimal Bayes and optimal robust classifiers.

How large can an adversarial perturbation be before robust learning becomes
impossible?  This package answers it exactly for the Gaussian and Bernoulli
models, for any finite distribution, and shows why no efficient answer exists
in general (NP-hardness).  It never imports torch or :mod:`empirical`.

``import optrobust`` is cheap: the names below are loaded on first use (PEP 562
module ``__getattr__``), so scipy, networkx and python-sat are imported only by
the parts that need them.  ``from optrobust import X`` and ``optrobust.X`` work
as with eager imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it (a sub-module maps to itself).
_LAZY: dict[str, str] = {
    "BernoulliModel": "optrobust.bernoulli",
    "BernoulliRobustSolution": "optrobust.bernoulli",
    "DatasetLimit": "optrobust.finite",
    "FiniteDistribution": "optrobust.finite",
    "HeldOutEstimate": "optrobust.finite",
    "PrunedNearestNeighbor": "optrobust.finite",
    "dataset_limits": "optrobust.finite",
    "held_out_estimate": "optrobust.finite",
    "soft_robust_error_lower_bound": "optrobust.finite",
    "RobustSolution": "optrobust.finite",
    "optimal_robust_error": "optrobust.finite",
    "GaussianModel": "optrobust.gaussian",
    "GaussianRobustSolution": "optrobust.gaussian",
    "LinearClassifier": "optrobust.gaussian",
    "feasible_eps_table": "optrobust.limits",
    "parse_p": "optrobust.norms",
    "hardness": "optrobust.hardness",
}

__all__ = [
    "BernoulliModel",
    "BernoulliRobustSolution",
    "DatasetLimit",
    "FiniteDistribution",
    "GaussianModel",
    "GaussianRobustSolution",
    "HeldOutEstimate",
    "LinearClassifier",
    "PrunedNearestNeighbor",
    "RobustSolution",
    "__version__",
    "dataset_limits",
    "feasible_eps_table",
    "hardness",
    "held_out_estimate",
    "optimal_robust_error",
    "parse_p",
    "soft_robust_error_lower_bound",
]

if TYPE_CHECKING:  # static analysers see the eager imports
    from optrobust import hardness
    from optrobust.bernoulli import BernoulliModel, BernoulliRobustSolution
    from optrobust.finite import (
        DatasetLimit,
        FiniteDistribution,
        HeldOutEstimate,
        PrunedNearestNeighbor,
        RobustSolution,
        dataset_limits,
        held_out_estimate,
        optimal_robust_error,
        soft_robust_error_lower_bound,
    )
    from optrobust.gaussian import GaussianModel, GaussianRobustSolution, LinearClassifier
    from optrobust.limits import feasible_eps_table
    from optrobust.norms import parse_p


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'optrobust' has no attribute {name!r}")
    mod = importlib.import_module(module)
    value = mod if module == f"optrobust.{name}" else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
