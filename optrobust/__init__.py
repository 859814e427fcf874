"""optrobust: exact optimal Bayes and optimal robust classifiers.

How large can an adversarial perturbation be before robust learning becomes
impossible?  This package answers it exactly for the Gaussian and Bernoulli
models, for any finite distribution, and shows why no efficient answer exists
in general (NP-hardness).  It never imports torch or :mod:`empirical`.
"""

from __future__ import annotations

from optrobust import hardness
from optrobust.bernoulli import BernoulliModel, BernoulliRobustSolution
from optrobust.finite import FiniteDistribution, RobustSolution, optimal_robust_error
from optrobust.gaussian import GaussianModel, GaussianRobustSolution, LinearClassifier
from optrobust.limits import feasible_eps_table
from optrobust.norms import parse_p

__version__ = "0.1.0"

__all__ = [
    "BernoulliModel",
    "BernoulliRobustSolution",
    "FiniteDistribution",
    "GaussianModel",
    "GaussianRobustSolution",
    "LinearClassifier",
    "RobustSolution",
    "__version__",
    "feasible_eps_table",
    "hardness",
    "optimal_robust_error",
    "parse_p",
]
