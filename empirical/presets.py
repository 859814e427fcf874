"""The paper's training settings as presets, and the names of methods and norms.

``paper-mnist`` follows Section 3.1.1 of the paper: the TensorFlow-tutorial
CNN, inputs in [0, 1], Adam with learning rate 1e-3, batch 128, signed PGD
(l_inf) with random start, step 0.05 and ``steps = 2.5 * eps / 0.05``;
5 epochs of standard training, 30 of adversarial training, 5 of extended
training; IAT grows eps by 0.01 per epoch (Section 3.4).

``paper-cifar10``: ResNet-50, SGD with learning rate 0.1 / 0.01 / 0.001 for
epochs 1-50 / 51-100 / 101-150, weight decay 5e-4, batch 128, data
augmentation, signed PGD with random start, step 2/255 and
``steps = 2.5 * eps / (2/255)``; extended training: 5 epochs *without*
augmentation.  The paper does not state SGD momentum; we use 0.9 (the
setting of Engstrom et al.'s robustness library, which the paper says it
follows).  The authors' public code could not be checked offline; where it
differs from the text, the text is what these presets implement.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["METHODS", "NORMS", "PRESETS", "apply_preset"]

METHODS = ("standard", "adversarial", "extended", "iterative")
NORMS: dict[str, float] = {"l0": 0, "l2": 2, "linf": math.inf}

#: Per preset: config defaults, then per-method overrides (``"by_method"``).
PRESETS: dict[str, dict[str, Any]] = {
    "paper-mnist": {
        "data": {"name": "mnist"},
        "model": "paper-cnn",
        "norm": "linf",
        "optimizer": "adam",
        "lr": 1e-3,
        "batch_size": 128,
        "pgd_steps": None,
        "pgd_step_size": 0.05,
        "random_start": True,
        "by_method": {
            "standard": {"epochs": 5},
            "adversarial": {"epochs": 30},
            "extended": {"epochs": 5},
            "iterative": {"epochs": 30, "eps_increment": 0.01},
        },
    },
    "paper-cifar10": {
        "data": {"name": "cifar10"},
        "model": "resnet50",
        "norm": "linf",
        "optimizer": "sgd",
        "lr": 0.1,
        "momentum": 0.9,
        "weight_decay": 5e-4,
        "lr_milestones": (50, 100),
        "lr_gamma": 0.1,
        "batch_size": 128,
        "pgd_steps": None,
        "pgd_step_size": 2 / 255,
        "random_start": True,
        "augment": True,
        "by_method": {
            "standard": {"epochs": 150},
            "adversarial": {"epochs": 150},
            "extended": {"epochs": 5, "augment": False},
            "iterative": {"epochs": 150},
        },
    },
}


def apply_preset(name: str | None, method: str, explicit: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a preset's defaults with explicitly given settings (explicit wins).

    Parameters
    ----------
    name : str or None
        A key of :data:`PRESETS`, or ``None`` for no preset.
    method : str
        Training method (selects the per-method overrides).
    explicit : mapping
        Settings given by the user; ``"data"`` is merged key by key.

    Returns
    -------
    dict
        Keyword arguments for :class:`empirical.train.TrainConfig` (``data``
        as a dict of :class:`empirical.data.DataSpec` fields).
    """
    if name is None:
        merged: dict[str, Any] = {}
    else:
        if name not in PRESETS:
            raise ValueError(f"preset must be one of {', '.join(PRESETS)}, got {name!r}")
        preset = dict(PRESETS[name])
        by_method = preset.pop("by_method", {})
        merged = {**preset, **by_method.get(method, {})}
        merged["data"] = dict(preset.get("data", {}))
        merged["preset"] = name
    data = {**merged.get("data", {}), **dict(explicit.get("data", {}))}
    merged.update({k: v for k, v in explicit.items() if k != "data"})
    merged["data"] = data
    merged["method"] = method
    return merged
