"""Hypothesis strategies for optrobust objects (models, graphs, finite distributions).

Import the submodules: :mod:`optrobust.testing.models` (Gaussian and Bernoulli
models); finite distributions and graphs live beside it.  Requires
``hypothesis`` (the ``test`` extra).
"""
