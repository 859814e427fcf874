"""Two Gaussian classes with a shared covariance: exact Bayes and optimal robust error.

The model (paper Definition 6, generalized): ``y`` is ``+1`` or ``-1`` with
probability 1/2 each and ``x | y ~ N(mu_y, Sigma)`` in ``R^d``, with arbitrary
means and one covariance ``Sigma`` shared by both classes (isotropic
``sigma**2 I``, diagonal, or full).

The optimal robust error over *all* (measurable, deterministic) classifiers
under a closed ``l_p`` ball of radius ``eps`` is, for ``p`` in ``{1, 2, inf}``,

.. math::

    R^*_{p,\\epsilon} = \\Phi\\left(-\\tfrac12 D\\right), \\qquad
    D = \\min_{\\|z\\|_p \\le \\epsilon} \\|\\Delta - 2z\\|_{\\Sigma^{-1}},
    \\qquad \\Delta = \\mu_+ - \\mu_-,

and it is attained by the linear classifier
``sign(w . x - w . (mu_+ + mu_-)/2)`` with ``w = Sigma^{-1} (Delta - 2 z*)``.
Both halves of this statement are returned as a certificate (see
:class:`GaussianRobustSolution`): the *lower bound* comes from an attacker that
shifts every ``+`` sample by ``-z`` and every ``-`` sample by ``+z`` (no
classifier can beat the Bayes error of the shifted pair), the *upper bound* is
the exact adversarial error of the linear classifier.  See ``docs/theory.md``
("Numerical guarantees: Gaussian").

Numerics.  Everything is solved in normalized coordinates: ``c = Delta/2`` and
the covariance are scaled by exact powers of two (``c = 2^e_c c~`` with
``max |c~|`` in ``[1/2, 1)``, ``Sigma = 4^h Sigma~`` with ``max diag Sigma~`` in
``[1/4, 1]``), so the answer is invariant under ``(s mu, s^2 Sigma, s eps)``.
The minimization is solved in its dual form
``min_w 1/2 w' Sigma~ w - c~ . w + eps~ ||w||_q`` (no inverse of ``Sigma``):
closed forms for a diagonal covariance, a monotone Newton iteration on the
secular equation for ``p = 2``, and an exact active-set (KKT) method for a full
covariance with ``p in {1, inf}``.  The residual ``r = c - z`` is computed
without cancellation (``r = Sigma w`` or ``c_i - eps s_i``), so the
near-feasible regime ``eps -> feasible_eps`` tends to 1/2 from below.  A result
is accepted only when its certificate closes, ``(upper - lower) <= rtol * upper``
with ``rtol = GAUSSIAN_RTOL max(1, (D/2)^2)`` (the margin ``D/2`` certified to
``GAUSSIAN_RTOL``); otherwise a slower method is tried, and then
:class:`~optrobust.errors.NumericalError`.

Layout.  :mod:`~optrobust.gaussian.model` (:class:`GaussianModel`),
:mod:`~optrobust.gaussian.results` (:class:`LinearClassifier`,
:class:`GaussianRobustSolution`) and the private parts of the model: ``_normalized``
(constants, validation, exact scalings), ``_diagonal`` (clipping, water-filling, the
secular equation), ``_full`` (active sets, homotopy, continuation, fallbacks),
``_certificate`` (both bounds of a candidate) and ``_accurate`` (exact products,
Dot2 sums, updated Cholesky factors).
"""

from __future__ import annotations

from optrobust.gaussian._normalized import GAUSSIAN_MAX_CONDITION, GAUSSIAN_RTOL
from optrobust.gaussian.model import GaussianModel
from optrobust.gaussian.results import GaussianRobustSolution, LinearClassifier

__all__ = [
    "GAUSSIAN_MAX_CONDITION",
    "GAUSSIAN_RTOL",
    "GaussianModel",
    "GaussianRobustSolution",
    "LinearClassifier",
]
