"""Hypothesis strategies for optrobust objects (models, graphs, finite distributions).

Import the submodules: :mod:`optrobust.testing.models` (Gaussian and Bernoulli
models), :mod:`optrobust.testing.finite` (``finite_distributions`` and the
independent oracles ``brute_force_box_cells_error``,
``brute_force_support_error``, ``check_certificate``) and
:mod:`optrobust.testing.graphs` (graphs for the hardness reduction).  Requires
``hypothesis`` (the ``test`` extra).
"""
