"""The names a user can type, kept free of torch so that ``--help`` stays instant.

``optrobust-empirical --help`` and every argument error are answered before torch is
imported (importing it takes seconds).  The command-line choices therefore live here, as
plain tuples; ``tests/empirical/test_cli.py`` checks that each equals the registry it
mirrors (:data:`empirical.models.MODEL_NAMES`, :data:`empirical.compare.TASKS`, ...).
"""

from __future__ import annotations

__all__ = [
    "ATTACKS",
    "AUTOATTACK_MODES",
    "COMPARE_METHODS",
    "COMPARE_TASKS",
    "DATA_NAMES",
    "EXPERIMENTS",
    "LANDSCAPE_KINDS",
    "METHODS",
    "MODEL_NAMES",
    "NORM_NAMES",
    "PRESETS",
    "SETUPS",
]

#: :data:`empirical.data.DATA_NAMES`
DATA_NAMES = ("mnist", "cifar10", "gaussian", "bernoulli")
#: :data:`empirical.models.MODEL_NAMES`
MODEL_NAMES = ("paper-cnn", "small-cnn", "mlp", "resnet18", "resnet50")
#: :data:`empirical.config.METHODS`
METHODS = ("standard", "adversarial", "extended", "iterative")
#: keys of :data:`empirical.config.NORMS`
NORM_NAMES = ("l0", "l2", "linf")
#: keys of :data:`empirical.config.PRESETS`
PRESETS = ("paper-mnist", "paper-cifar10")
#: :data:`empirical.evaluate.ATTACKS`
ATTACKS = ("pgd", "fgsm", "noise", "autoattack")
#: :data:`empirical.audit.AUTOATTACK_MODES`
AUTOATTACK_MODES = ("full", "reduced", "torchattacks", "off")
#: keys of :data:`empirical.compare.TASKS`
COMPARE_TASKS = ("gaussian-l2", "gaussian-linf", "bernoulli-l0", "bernoulli-linf",
                 "mnist-linf", "mnist-l2", "cifar10-linf")
#: :data:`empirical.compare.METHODS`
COMPARE_METHODS = ("adversarial", "extended", "iterative")
#: keys of :data:`empirical.reproduce.SETUPS`
SETUPS = ("mnist", "mnist-long", "paper-mnist", "bernoulli")
#: :data:`empirical.reproduce.EXPERIMENTS`
EXPERIMENTS = ("figure1", "figure2", "figure7", "table1")
#: :data:`empirical.landscape.KINDS`
LANDSCAPE_KINDS = ("interpolation", "surface", "saliency")
