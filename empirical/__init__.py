"""Experiments for optrobust: adversarial training, attacks and evaluation in PyTorch.

Installed with the ``empirical`` extra (``pip install -e .[empirical]``).  Importing
this package is cheap: torch is only loaded when one of the names below is first
used (PEP 562 lazy attributes).  ``train`` and ``evaluate`` are sub-modules
(``from empirical.train import train``), so they are not re-exported as functions.

Modules
-------
data        MNIST / CIFAR-10 / synthetic Gaussian and Bernoulli data
models      paper CNN, small CNN, MLP, ResNet-18/50
threat      l_p balls with box bounds
attacks     PGD, FGSM, random noise, transfer, AutoAttack adapter
train       standard / adversarial / extended / iterative training, checkpoints, resume, DDP
evaluate    clean and per-sample worst-case robust accuracy
checklist   the Appendix-C sanity checks of an evaluation
audit       audit any model against the exact optimum of its test images
limits      the data set's exact (and held-out) robust-error limits
compare     learned vs exact optimal robust error over an eps grid
reproduce   the paper's Figures 1, 2, 7 and Table 1
landscape   loss landscapes and saliency maps (``run_landscape``)
errors      MissingFileError, CheckpointError (both ``optrobust.errors.OptrobustError``)
cli         ``optrobust-empirical`` (also ``python -m empirical``): a frame over ``_cli_*.py``
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "DataSpec",
    "build_data",
    "build_model",
    "pgd",
    "fgsm",
    "TrainConfig",
    "TrainResult",
    "EvalResult",
    "load_run",
    "make_attack",
]

_LAZY = {
    "DataSpec": "empirical.data",
    "build_data": "empirical.data",
    "build_model": "empirical.models",
    "pgd": "empirical.attacks",
    "fgsm": "empirical.attacks",
    "TrainConfig": "empirical.train",
    "TrainResult": "empirical.train",
    "EvalResult": "empirical.evaluate",
    "load_run": "empirical.evaluate",
    "make_attack": "empirical.evaluate",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'empirical' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
