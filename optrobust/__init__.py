"""optrobust: exact optimal Bayes and optimal robust classifiers.

How large can an adversarial perturbation be before robust learning becomes
impossible?  This package answers it exactly for the Gaussian and Bernoulli
models, for any finite distribution, and shows why no efficient answer exists
in general (NP-hardness).  It never imports torch or :mod:`empirical`.
"""

from __future__ import annotations

from optrobust.bernoulli import BernoulliModel, BernoulliRobustSolution
from optrobust.gaussian import GaussianModel, GaussianRobustSolution, LinearClassifier
from optrobust.limits import feasible_eps_table
from optrobust.norms import parse_p

__version__ = "0.1.0"

__all__ = [
    "BernoulliModel",
    "BernoulliRobustSolution",
    "GaussianModel",
    "GaussianRobustSolution",
    "LinearClassifier",
    "__version__",
    "feasible_eps_table",
    "parse_p",
]
